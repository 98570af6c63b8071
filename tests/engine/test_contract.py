"""The engine -> detector contract: moments, declared finding kinds, the registry."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from vrrpscope.engine import contract
from vrrpscope.engine import core as engine
from vrrpscope.engine.bulk import held as heldruns
from vrrpscope.findings import SEVERITY, Kind, KindSpec, Severity, declare, registry

ROOT = Path(__file__).parents[2] / "vrrpscope"


def test_every_kind_is_declared_once_by_a_detector():
    specs = registry()
    assert set(specs) == set(Kind)
    owners = {spec.detector for spec in specs.values()}
    assert owners == {module.__name__ for module in contract.DETECTORS}
    for module in contract.DETECTORS:
        assert isinstance(module.EVERY_ADVERT, bool)
        assert all(spec.detector == module.__name__ for spec in module.KINDS)
        assert all(spec.summary and len(spec.summary) <= 90 for spec in module.KINDS)


def test_severities_come_from_the_registry():
    assert dict(SEVERITY) == {kind: spec.severity for kind, spec in registry().items()}
    assert SEVERITY[Kind.SPLIT_BRAIN] is Severity.CRITICAL


def test_a_kind_has_one_owner():
    with pytest.raises(ValueError, match="split-brain"):
        declare("elsewhere", KindSpec(Kind.SPLIT_BRAIN, Severity.INFO, "again"))


def test_each_moment_is_a_function_calling_what_it_lists():
    for moment, calls in contract.MOMENTS.items():
        function = getattr(contract, moment)
        called = {
            f"{node.func.value.id}.{node.func.attr}"
            for node in ast.walk(ast.parse(inspect.getsource(function)))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        }
        assert called == set(calls), moment


def _called_modules(module: object) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {
        node.func.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    }


def test_the_engine_calls_detectors_only_through_the_contract():
    detectors = {module.__name__.rsplit(".", 1)[1] for module in contract.DETECTORS}
    for module in (engine, heldruns):
        assert not _called_modules(module) & detectors, module.__name__
        assert "contract" in _called_modules(module)


def _private_reads(path: Path) -> list[str]:
    """``x._name`` where x is not self / cls (what ruff's SLF001 reports)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{path.name}:{node.lineno} {node.attr}")
    return found


def test_the_bulk_route_talks_to_the_engine_through_public_names():
    assert engine.Engine.__bases__ == (object,)  # no mixin
    imported = {
        node.module
        for node in ast.walk(ast.parse(inspect.getsource(heldruns)))
        if isinstance(node, ast.ImportFrom)
    }
    assert "vrrpscope.engine.core" not in imported  # no engine <-> heldruns cycle
    for name in (
        "analysis",
        "engine/bulk/planner",
        "engine/bulk/held",
        "engine/bulk/runs",
        "engine/core",
        "engine/contract",
    ):
        assert _private_reads(ROOT / f"{name}.py") == [], name
