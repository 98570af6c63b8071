"""The report layer reads results: it imports the result type, never the orchestrator
or the engine (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPORT = Path(__file__).parents[2] / "vrrpscope" / "report"
FORBIDDEN = ("vrrpscope.analysis", "vrrpscope.engine.core", "vrrpscope.engine.bulk")


def runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


@pytest.mark.parametrize("path", sorted(REPORT.rglob("*.py")), ids=lambda p: p.name)
def test_report_modules_import_no_orchestrator_or_engine(path: Path) -> None:
    bad = {m for m in runtime_imports(path) if m.startswith(FORBIDDEN)}
    assert not bad, f"{path.relative_to(REPORT.parent)} imports {sorted(bad)}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from vrrpscope.engine.core import Engine\n")
    assert "vrrpscope.engine.core" in runtime_imports(module)
