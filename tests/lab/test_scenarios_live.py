"""Every lab scenario re-run with real keepalived / ucarp now, then analysed.

The same checks as tests/test_scenarios.py (which reads the bundled captures), on fresh
traffic: timings move by tens of milliseconds between runs, findings must not. The
scenarios of the selected tests run three at a time (each in namespaces of its own),
~2 minutes for all of them.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.scenario_checks import CHECKS, Sidecar
from tests.lab.scenarios import SCENARIOS, ScenarioResult
from vrrpscope.analysis import analyze_files

PARALLEL = 3
# any-sll writes two captures; the SLL2 one (with interface indexes) is the one checked.
CAPTURE_OF = {"any-sll2": ("any-sll", "any-sll2.pcap")}


@pytest.fixture(scope="module")
def fresh_runs(lab_ok, request, tmp_path_factory) -> dict[str, ScenarioResult | BaseException]:
    out = tmp_path_factory.mktemp("scenarios")
    # only the scenarios of the selected tests (``-k many`` runs one lab, not all)
    selected = {
        item.callspec.params["name"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    names = sorted({CAPTURE_OF.get(name, (name,))[0] for name in selected})

    def run(name: str) -> ScenarioResult | BaseException:
        try:
            return SCENARIOS[name](out)
        except BaseException as exc:  # reported by the test of that scenario
            return exc

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(names, pool.map(run, names), strict=True))


@pytest.mark.lab
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_fresh_scenario(name: str, fresh_runs):
    scenario, *capture = CAPTURE_OF.get(name, (name,))
    result = fresh_runs[scenario]
    if isinstance(result, BaseException):
        raise result
    pcap = next(p for p in result.pcaps if not capture or p.name == capture[0])
    sidecar_path = pcap.with_name(pcap.name.replace(".pcap", ".events.json"))
    sidecar = Sidecar(json.loads(Path(sidecar_path).read_text()))
    analysis = analyze_files([str(pcap)])
    CHECKS[name](analysis, sidecar)
