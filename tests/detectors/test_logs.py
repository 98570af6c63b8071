"""Verdicts from the lab's captures and their keepalived logs together
(captures/with-logs: each capture with the console logs of its daemons)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.logwriter import FORMATS, FRR_FORMATS, write_log
from vrrpscope.analysis import analyze_files
from vrrpscope.findings import Kind, Severity
from vrrpscope.incidents.records import IncidentKind
from vrrpscope.logs.attach import load_logs
from vrrpscope.logs.formats import Clock, parse_line

WITH_LOGS = Path(__file__).parent.parent.parent / "captures" / "with-logs"
NODES = {
    "split-brain": 2,
    "master-blocked": 2,
    "duplicate-vrid": 4,
    "config-mismatch": 4,
    "priority-flap": 2,
    "mastership-flap": 2,
    "frr": 2,
    "carp-collision": 3,
    "auth-hmac-legacy": 1,  # r2 stands in for keepalived 2.4: no daemon, no log
}


def _run(scenario: str, logs: list[str] | None = None):
    analysis = analyze_files([str(WITH_LOGS / f"{scenario}.pcap")])
    if logs is None:
        logs = [f"r{n}:{WITH_LOGS / f'{scenario}.r{n}.log'}" for n in range(1, NODES[scenario] + 1)]
    load_logs(logs, analysis)
    return analysis


def _verdicts(analysis) -> set[tuple]:
    kinds = (Kind.EGRESS_BLOCKED, Kind.INGRESS_DROPPED, Kind.LOGGED_REJECTS)
    return {
        (str(f.kind), f.details["node"], f.vrid, f.details.get("reason"))
        for f in analysis.findings
        if f.kind in kinds
    }


def test_a_blocked_master_names_its_egress() -> None:
    analysis = _run("master-blocked")
    assert _verdicts(analysis) == {("egress-blocked", "r1", 51, None)}
    [f] = [f for f in analysis.findings if f.kind == Kind.EGRESS_BLOCKED]
    assert f.severity == Severity.CRITICAL and f.details["address"] == "198.18.1.1"
    assert f.details["send_errors"] >= 5 and f.details["error"] == "Operation not permitted"
    assert "OUTPUT" in f.message and "198.18.1.2 advertised as master" in f.message
    [split] = [i for i in analysis.incidents if i.kind == IncidentKind.SPLIT_BRAIN]
    assert f in split.findings and "its egress drops VRRP" in split.message


def test_a_backup_that_hears_nothing_names_its_ingress() -> None:
    analysis = _run("split-brain")
    assert _verdicts(analysis) == {("ingress-dropped", "r2", 51, None)}
    [f] = [f for f in analysis.findings if f.kind == Kind.INGRESS_DROPPED]
    assert f.details["masters_on_wire"] == ["198.18.1.1"] and "INPUT" in f.message
    [split] = [i for i in analysis.incidents if i.kind == IncidentKind.SPLIT_BRAIN]
    assert f in split.findings and "r2 timed out" in split.message


def test_a_duplicate_vrid_names_the_other_cluster_behind_the_rejections() -> None:
    analysis = _run("duplicate-vrid")
    rejects = {f.details["node"]: f for f in analysis.findings if f.kind == Kind.LOGGED_REJECTS}
    assert set(rejects) == {"r1", "r2", "r3", "r4"}
    assert rejects["r1"].details["senders"] == ["198.18.1.3"]
    assert rejects["r3"].details["senders"] == ["198.18.1.1"]
    assert "free VRIDs here" in rejects["r1"].message
    assert all(f.details["reason"] == "auth" for f in rejects.values())
    [dup] = [i for i in analysis.incidents if i.kind == IncidentKind.DUPLICATE_VRID]
    assert set(rejects.values()) <= set(dup.findings)


def test_a_config_mismatch_is_matched_to_the_peer_causing_it() -> None:
    analysis = _run("config-mismatch")
    verdicts = _verdicts(analysis)
    assert ("logged-rejects", "r2", 52, "interval") in verdicts
    assert ("logged-rejects", "r1", 52, "interval") in verdicts
    assert ("logged-rejects", "r3", 53, "auth") in verdicts
    by_node = {
        f.details["node"]: f
        for f in analysis.findings
        if f.kind == Kind.LOGGED_REJECTS and f.details["reason"] == "interval"
    }
    assert by_node["r2"].details["senders"] == ["198.18.1.1"]
    assert by_node["r1"].details["senders"] == ["198.18.1.2"]
    assert {log.address for log in analysis.logs} == {f"198.18.1.{n}" for n in range(1, 5)}
    # VRID 53: one cluster, two passwords: matched to the peer, and the fix is the password
    auth = {
        f.details["node"]: f
        for f in analysis.findings
        if f.kind == Kind.LOGGED_REJECTS and f.details["reason"] == "auth"
    }
    assert auth["r3"].details["senders"] == ["198.18.1.4"]
    assert auth["r4"].details["senders"] == ["198.18.1.3"]
    assert "make it the same" in auth["r3"].message and "free VRID" not in auth["r3"].message
    # r3 is silent while MASTER for 7 s with no send error: keepalived re-arms its advert
    # timer on each rejected advert, so no egress verdict
    assert not [f for f in analysis.findings if f.kind == Kind.EGRESS_BLOCKED]


def test_without_logs_there_is_no_such_verdict() -> None:
    for scenario in NODES:
        plain = analyze_files([str(WITH_LOGS / f"{scenario}.pcap")])
        assert _verdicts(plain) == set()


def _converted(
    tmp_path: Path, scenario: str, fmt: str, shift_ns: int, prog: str = "Keepalived_vrrp"
) -> list[str]:
    """The scenario's console logs rewritten in ``fmt``, their clocks moved by shift."""
    out = []
    for n in range(1, NODES[scenario] + 1):
        source = WITH_LOGS / f"{scenario}.r{n}.log"
        lines = []
        for text in source.read_text().splitlines():
            parsed = parse_line(text, Clock())
            if parsed is not None and parsed.ts_ns is not None:
                lines.append((parsed.ts_ns + shift_ns, parsed.message))
        path = write_log(tmp_path / f"{scenario}.r{n}.{fmt}", fmt, lines, host=f"r{n}", prog=prog)
        out.append(f"r{n}:{path}")
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_verdicts_from_every_format_with_shifted_clocks(tmp_path: Path, fmt) -> None:
    shift = 40 * 10**9 + 300_000_000
    for scenario in ("master-blocked", "split-brain"):
        expected = _verdicts(_run(scenario))
        analysis = _run(scenario, _converted(tmp_path, scenario, fmt, shift))
        assert _verdicts(analysis) == expected, (scenario, fmt)
        for log in analysis.logs:
            assert log.offset_s is not None and abs(log.offset_s + 40.3) < 1.0


def test_priority_changes_in_the_log_explain_the_flap_and_preemption_is_no_drop() -> None:
    for scenario in ("priority-flap", "mastership-flap"):
        analysis = _run(scenario)
        assert _verdicts(analysis) == set(), scenario  # r1 heard r2: it preempted
        flaps = [f for f in analysis.findings if f.kind in (Kind.PRIORITY_FLAP, Kind.FLAPPING)]
        explained = [f for f in flaps if f.details.get("logged_priority")]
        assert explained, scenario
        assert all("r1's log: effective priority" in f.message for f in explained)


def test_a_logged_fault_is_a_finding_of_its_own(tmp_path: Path) -> None:
    analysis = analyze_files([str(WITH_LOGS / "master-blocked.pcap")])
    [router] = analysis.routers.values()
    t = analysis.first_ts_ns + 5 * 10**9
    path = write_log(
        tmp_path / "r9.log",
        "rfc3339",
        [
            (t, "(VI_51): entering FAULT state (interface eth0 down)"),
            (t + 1000, "(VI_51) Entering FAULT STATE"),
            (t + 4 * 10**9, "(VI_51) Entering BACKUP STATE"),
        ],
        host="r9",
    )
    load_logs([str(path)], analysis)
    [fault] = [f for f in analysis.findings if f.kind == Kind.LOGGED_FAULT]
    assert fault.details["reason"] == "interface eth0 down" and fault.details["left_to"] == "BACKUP"
    assert fault.severity == Severity.WARNING and "r9 logged FAULT for VI_51" in fault.message
    assert fault.vrid == router.vrid


def test_frr_a_backup_that_hears_nothing_names_its_ingress() -> None:
    analysis = _run("frr")
    assert _verdicts(analysis) == {("ingress-dropped", "r1", 51, None)}
    [f] = [f for f in analysis.findings if f.kind == Kind.INGRESS_DROPPED]
    assert f.details["masters_on_wire"] == ["198.18.1.2"]
    assert "Master_Down_Timer expired" in f.message
    [split] = [i for i in analysis.incidents if i.kind == IncidentKind.SPLIT_BRAIN]
    assert f in split.findings and "r1 timed out" in split.message
    by_node = {log.node: log for log in analysis.logs}
    assert {log.format for log in analysis.logs} == {"frr"}
    assert by_node["r1"].address == "198.18.1.1" and by_node["r2"].address == "198.18.1.2"
    # r2's "Master -> Initialize" is its priority-0 advert: a second mark to align on
    assert by_node["r2"].offset_from.startswith("2 event(s) matched")


@pytest.mark.parametrize(("fmt", "prog"), FRR_FORMATS)
def test_frr_verdicts_from_every_format_with_shifted_clocks(tmp_path: Path, fmt, prog) -> None:
    shift = -75 * 10**9 - 600_000_000
    analysis = _run("frr", _converted(tmp_path, "frr", fmt, shift, prog))
    assert _verdicts(analysis) == {("ingress-dropped", "r1", 51, None)}
    for log in analysis.logs:
        assert log.offset_s is not None and abs(log.offset_s - 75.6) < 1.0


def test_a_ucarp_log_lines_up_with_its_carp_adverts() -> None:
    analysis = _run("carp-collision")
    [ucarp] = [log for log in analysis.logs if log.node == "r3"]
    assert ucarp.format == "ucarp" and ucarp.address == "198.18.1.3"
    assert ucarp.offset_s is not None and abs(ucarp.offset_s) < 0.1
    assert ucarp.offset_uncertainty_s is not None and ucarp.offset_uncertainty_s < 0.1
    states = [e.details["state"] for e in ucarp.events if e.kind == "state"]
    assert states == ["BACKUP", "MASTER"]


def test_an_old_keepalived_rejecting_signed_adverts_names_auth_hmac() -> None:
    """keepalived 2.2.7 logs "vrrp packet too long, length 60 and expect 32" for each
    advert r2 signs: the rejection is matched to r2 and explained by its trailer."""
    analysis = _run("auth-hmac-legacy")
    assert _verdicts(analysis) == {("logged-rejects", "r1", 51, "length")}
    [f] = [f for f in analysis.findings if f.kind == Kind.LOGGED_REJECTS]
    assert f.details["senders"] == ["198.18.1.2"]
    assert "198.18.1.2 signs its adverts" in f.message and "predates auth_hmac" in f.message
