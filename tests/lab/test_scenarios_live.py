"""Every lab scenario re-run with real keepalived / ucarp / FRR vrrpd now, then analysed.

The same checks as tests/test_scenarios.py (which reads the bundled captures), on fresh
traffic: timings move by tens of milliseconds between runs, findings must not. The
scenarios of the selected tests run seven at a time (each in namespaces of its own),
~70 s for all of them. Where a scenario's story is in its daemons' logs too, the
verdict from capture and logs together is checked on the fresh run as well.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.scenario_checks import CHECKS, Sidecar
from tests.lab.scenarios import SCENARIOS, ScenarioResult
from vrrpscope.analysis import analyze_files
from vrrpscope.findings import Kind
from vrrpscope.logs.attach import load_logs

PARALLEL = 7  # the labs mostly wait on VRRP timers: seven at once fit two cores
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


# scenario -> the verdicts capture + logs give: (kind, node)
LOG_VERDICTS = {
    "split-brain": {(Kind.INGRESS_DROPPED, "r2")},
    "master-blocked": {(Kind.EGRESS_BLOCKED, "r1")},
    "duplicate-vrid": {(Kind.LOGGED_REJECTS, f"r{n}") for n in range(1, 5)},
    "frr": {(Kind.INGRESS_DROPPED, "r1")},  # FRR vrrpd's own log files
    # keepalived's "vrrp packet too short" lines are ucarp's CARP packets (r3 logs too)
    "carp-collision": {(Kind.LOGGED_REJECTS, "r1"), (Kind.LOGGED_REJECTS, "r2")},
    # keepalived 2.2.7's "vrrp packet too long" lines are r2's auth_hmac-signed adverts
    "auth-hmac-legacy": {(Kind.LOGGED_REJECTS, "r1")},
}
# whom the rejections are matched to
SENDERS = {"carp-collision": ["198.18.1.3"], "auth-hmac-legacy": ["198.18.1.2"]}


@pytest.mark.lab
@pytest.mark.parametrize("name", sorted(LOG_VERDICTS))
def test_fresh_scenario_with_its_logs(name: str, fresh_runs, tmp_path: Path):
    result = fresh_runs[name]
    if isinstance(result, BaseException):
        raise result
    specs = []
    for who, text in sorted(result.logs.items()):
        node = who.split("-", 1)[0]
        path = tmp_path / f"{who}.log"
        path.write_text(text)
        specs.append(f"{node}:{path}")
    analysis = analyze_files([str(result.pcap)])
    logs = load_logs(specs, analysis)
    # one machine, one clock: every log that changed state lines up within a second or so
    # (duplicate-vrid's backups flip state many times at once: their one pairing can be
    # ambiguous, and then is declined rather than guessed, so only its masters' clocks
    # are checked)
    aligned = [log for log in logs if log.offset_s is not None]
    ambiguous = {"r2", "r4"} if name == "duplicate-vrid" else set()
    checked = [log for log in aligned if log.node not in ambiguous]
    offsets = [(log.node, log.offset_s, log.offset_from) for log in checked]
    assert checked and all(abs(log.offset_s) < 1.5 for log in checked), offsets
    changed = {
        log.node
        for log in logs
        if any(e.kind == "state" and not e.details.get("init") for e in log.events)
    }
    assert changed - ambiguous <= {log.node for log in aligned}
    verdicts = {
        (f.kind, f.details["node"])
        for f in analysis.findings
        if f.kind in (Kind.EGRESS_BLOCKED, Kind.INGRESS_DROPPED, Kind.LOGGED_REJECTS)
    }
    assert verdicts == LOG_VERDICTS[name]
    if name in SENDERS:
        rejects = [f for f in analysis.findings if f.kind == Kind.LOGGED_REJECTS]
        assert all(f.details["senders"] == SENDERS[name] for f in rejects)
