"""Findings grouped by cause: the bundled lab captures' stories and hand-made patterns."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.helpers.advertfactory import AdvertFactory, capture
from tests.helpers.advertfactory import run as run_engine
from tests.helpers.cli import run
from tests.helpers.findings import T0, S, drift, failover, finding, no_master
from vrrpscope.analysis import analyze_files
from vrrpscope.findings import Finding, Kind, Severity
from vrrpscope.incidents import Incident, correlate
from vrrpscope.incidents.story import lost_span

CAPTURES = Path(__file__).resolve().parents[2] / "captures"
A, B, C, D = "198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4"

# The bundled lab captures: their warning/critical incidents, worst first, as
# (kind, vrids, how many findings); informational notes follow.
BUNDLED = {
    "failover": [("node-stopped", (51,), 2), ("node-returned", (51,), 1)],
    "failover-kill": [("node-stopped", (51,), 1)],
    "no-master": [("node-stopped", (51,), 1)],
    "split-brain": [("split-brain", (51,), 1)],
    "master-blocked": [("split-brain", (51,), 3)],  # failover, split, preemption back
    "config-mismatch": [("split-brain", (53,), 4), ("split-brain", (52,), 2)],
    "v3-checksum-mismatch": [("split-brain", (57,), 4)],
    "duplicate-vrid": [("duplicate-vrid", (51,), 4)],
    "carp-collision": [("duplicate-vrid", (51,), 2)],
    "hijack": [("hijack", (51,), 4)],  # the claim, the VIP taken and back, its MAC note
    "mastership-flap": [("flapping", (51,), 6)],
    "priority-flap": [("flapping", (51,), 1)],
    "interval-drift": [
        ("single", (51,), 1),
        ("node-stopped", (51,), 1),
        ("node-returned", (51,), 1),
    ],
    "baseline": [],
}


def serious(incidents: list[Incident]) -> list[tuple[str, tuple[int, ...], int]]:
    return [(i.kind, i.vrids, len(i.findings)) for i in incidents if i.severity != "info"]


def assert_partition(findings: list[Finding], incidents: list[Incident]) -> None:
    """Every finding in exactly one incident, which it names; ids i1.. worst first."""
    placed = [id(f) for i in incidents for f in i.findings]
    assert sorted(placed) == sorted(id(f) for f in findings)
    assert [i.id for i in incidents] == [f"i{n}" for n in range(1, len(incidents) + 1)]
    assert all(f.incident == i.id for i in incidents for f in i.findings)
    assert incidents == sorted(incidents, key=Incident.sort_key)
    for i in incidents:
        worst = max(f.severity for f in i.findings)
        spans = [(f.first_ts_ns, f.last_ts_ns) for f in i.findings]
        if i.kind == "capture-gap":  # nobody failed: at most a warning, when the gaps were
            worst = min(worst, Severity.WARNING)
            spans = [lost_span(f) for f in i.findings]
            assert all(f.severity == "info" for f in i.findings if f.kind == Kind.INTERVAL_DRIFT)
        assert i.severity == worst
        assert i.first_ts_ns == min(a for a, _ in spans)
        assert i.last_ts_ns == max(b for _, b in spans)
        assert "\n" not in i.message and i.message


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_captures_tell_their_story(name: str):
    analysis = analyze_files([str(CAPTURES / f"{name}.pcap")])
    incidents = analysis.incidents
    assert serious(incidents) == BUNDLED[name]
    assert_partition(analysis.findings, incidents)


def test_split_brain_names_the_disagreement_that_caused_it():
    a = analyze_files([str(CAPTURES / "config-mismatch.pcap")]).incidents
    assert "disagree on auth data" in a[0].message and "VRID 53" in a[0].message
    assert "disagree on interval" in a[1].message and "VRID 52" in a[1].message
    b = analyze_files([str(CAPTURES / "v3-checksum-mismatch.pcap")]).incidents
    assert "disagree on checksum form" in b[0].message


def test_a_stop_and_its_return_are_linked():
    stopped, returned = analyze_files([str(CAPTURES / "failover.pcap")]).incidents[:2]
    assert stopped.message.startswith(f"{A} stopped: resigned VRID 51 (priority 0); {B} took")
    assert returned.details["after"] == stopped.id
    assert 5 < returned.details["away_s"] < 15
    assert f"after it stopped: {stopped.id})" in returned.message


def test_json_has_incident_records_and_findings_name_theirs():
    done = run("analyze", str(CAPTURES / "many-vrids.pcap"), "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    incidents = [r for r in rows if r["type"] == "incident"]
    findings = [r for r in rows if r["type"] == "finding"]
    assert [i["id"] for i in incidents] == [f"i{n}" for n in range(1, 7)]
    keys = {"id", "kind", "severity", "segment", "nodes", "vrids", "first_ts", "last_ts"}
    assert keys | {"findings", "message", "details", "open", "type"} == set(incidents[0])
    by_id = {f["id"]: f for f in findings}
    for incident in incidents:
        for fid in incident["findings"]:
            assert by_id.pop(fid)["incident"] == incident["id"]
    assert by_id == {}
    assert incidents[0]["kind"] == "node-stopped" and incidents[0]["vrids"] == list(range(2, 21, 2))


# --- hand-made patterns -----------------------------------------------------------------


def test_a_node_stopping_on_ten_vrids_is_one_incident_per_stop():
    found = []
    for at in (100.0, 900.0):  # two restarts, 800 s apart
        for n, vrid in enumerate(range(1, 11)):
            found.append(finding(Kind.RESIGNED, vrid, (A,), at + n * 0.005, was_master=True))
            found.append(failover(vrid, A, B, at + n * 0.005, "resigned"))
    incidents = correlate(found)
    assert [(i.kind, i.vrids, len(i.findings)) for i in incidents] == [
        ("node-stopped", tuple(range(1, 11)), 20)
    ] * 2
    assert incidents[0].message.startswith(f"{A} stopped: resigned VRIDs 1-10 (priority 0)")
    assert f"{B} took over all of them in 0.61 s (RFC Skew_Time: 0.61 s)" in incidents[0].message
    assert_partition(found, incidents)


def test_a_crash_with_no_backup_is_critical_and_says_nobody_took_over():
    found = [no_master(v, A, 50.0 + v * 0.1, 30.0, resumed_by=None) for v in (1, 2, 3)]
    (incident,) = correlate(found)
    assert (incident.kind, incident.severity, incident.vrids) == (
        "node-stopped",
        "critical",
        (1, 2, 3),
    )
    assert incident.message.startswith(f"{A} went silent on VRIDs 1-3; nobody took over")
    assert "30.0 s" in incident.message


def test_split_takeovers_and_slow_ones_are_named():
    found = [
        failover(1, A, B, 10.0, "silence", takeover_s=3.61, expected_s=3.61,
                 expected_rule="Master_Down_Interval"),
        failover(2, A, C, 10.3, "silence", takeover_s=6.0, expected_s=3.61,
                 expected_rule="Master_Down_Interval", slow=True),
    ]  # fmt: skip
    (incident,) = correlate(found)
    assert incident.message == (
        f"{A} went silent on VRIDs 1-2; {B} took over VRID 1 in 3.61 s, {C} took over "
        "VRID 2 in 6.00 s (RFC Master_Down_Interval: 3.61 s; slow on VRID 2)"
    )
    assert [t["slow"] for t in incident.details["takeovers"]] == [False, True]


def test_every_master_silent_at_once_is_a_capture_gap_not_failures():
    masters = [A, B, C, D]
    found = [no_master(v, masters[v % 4], 300 + v * 0.05, 8.0, masters[v % 4]) for v in range(20)]
    (incident,) = correlate(found)
    assert (incident.kind, len(incident.findings), len(incident.vrids)) == ("capture-gap", 20, 20)
    assert "(4 nodes)" in incident.message and "the capture (or the link) lost" in incident.message
    # one node's masters silent (its backups did not take over) is that node's event
    one = [no_master(v, A, 300 + v * 0.05, 8.0, A) for v in range(5)]
    assert [i.kind for i in correlate(one)] == ["node-stopped"]


def test_gaps_of_many_nodes_at_once_short_of_a_takeover_are_capture_loss_as_info():
    """The capture lost 2.6 s: every 1 s master's worst gap (3.2 s, 89 % of the
    Master_Down_Interval) lies in it; nobody could have taken over: one info, not a
    drift warning per VRID."""
    masters = [A, B, C, D]
    found = [drift(v, masters[v % 4], 600.0 - 0.1 * (v % 7), 3.2) for v in range(1, 13)]
    (incident,) = correlate(found)
    assert (incident.kind, incident.severity, len(incident.vrids)) == ("capture-gap", "info", 12)
    assert incident.message.startswith("adverts of VRIDs 1-12 from 4 nodes missing at once")
    assert "the capture lost those frames" in incident.message and not incident.open
    assert all(f.severity == "info" and f.details["capture_loss"] for f in found)
    assert (incident.first_ts_ns - T0) / S == pytest.approx(599.4)
    assert (incident.last_ts_ns - T0) / S == pytest.approx(603.2)
    assert_partition(found, [incident])
    # correlated again (live, every tick): the same; without the others, its own warning
    assert [i.severity for i in correlate(found)] == ["info"]
    alone = [f for f in found if f.speakers == (A,)]
    assert {(i.kind, i.severity) for i in correlate(alone)} == {("rollup", "warning")}
    assert all(f.severity == "warning" and "capture_loss" not in f.details for f in alone)


def test_gaps_of_one_pair_at_once_or_with_another_cause_stay_drifts():
    """Two nodes stalled together (VMs of one paused host) are not enough to blame the
    capture; a drift that also has a skewed median or lost more than its gap is its own."""
    pair = [drift(v, (A, B)[v % 2], 600.0, 3.2) for v in range(1, 9)]
    assert {i.kind for i in correlate(pair)} == {"rollup"}
    assert all(f.severity == "warning" for f in pair)
    skewed = drift(20, C, 600.0, 3.2, "median", "worst-gap")
    lossy = drift(21, D, 600.0, 3.2, "missed", "worst-gap", missed_in_window=9)
    others = [drift(v, "198.18.1.9", 600.0, 3.2) for v in (30, 31, 32)]
    incidents = correlate([*pair, skewed, lossy, *others])
    (gap,) = [i for i in incidents if i.kind == "capture-gap"]
    assert skewed not in gap.findings and lossy not in gap.findings
    assert skewed.severity == lossy.severity == "warning"
    assert set(gap.nodes) == {A, B, "198.18.1.9"}


def test_one_node_silent_past_the_takeover_while_others_gap_is_a_capture_gap():
    """Fast masters (0.5 s) of one node stay silent past their takeover time, slow ones
    of other nodes only gap: the same loss, not that node's failure."""
    silent = [no_master(v, A, 300 + v * 0.05, 2.5, A) for v in range(1, 6)]
    gaps = [drift(v, (B, C)[v % 2], 299.6, 3.4) for v in range(10, 16)]
    (incident,) = correlate(silent + gaps)
    assert (incident.kind, incident.severity) == ("capture-gap", "warning")
    assert incident.message.startswith(
        "every master of VRIDs 1-5 silent at once for up to 2.50 s and adverts of VRIDs "
        "10-15 missing meanwhile (3 nodes)"
    )
    assert_partition(silent + gaps, [incident])


def test_a_pair_in_split_brain_on_many_vrids_is_one_incident():
    split = [
        finding(Kind.SPLIT_BRAIN, v, (A, B), 10.0 + v, 40.0, evidence="overlap")
        for v in range(1, 9)
    ]
    other = [finding(Kind.SPLIT_BRAIN, 20, (C, D), 12.0, 30.0, evidence="overlap")]
    ended = [failover(v, B, A, 40.2, "preempted") for v in range(1, 9)]
    incidents = correlate(split + other + ended)
    assert [(i.kind, i.vrids, len(i.findings)) for i in incidents] == [
        ("split-brain", tuple(range(1, 9)), 16),
        ("split-brain", (20,), 1),
    ]
    assert incidents[0].message.startswith(f"{A} and {B} both master of VRIDs 1-8 for up to ")
    assert "they do not hear each other" in incidents[0].message


def test_one_foreign_cluster_on_several_vrids_is_one_duplicate():
    found = [finding(Kind.DUPLICATE_VRID, v, (A, "198.18.99.1"), 10.0, 70.0) for v in (5, 6, 7)]
    found += [
        finding(Kind.CONFIG_MISMATCH, v, (A, "198.18.99.1"), 10.0, 70.0, fields={"addresses": {}})
        for v in (5, 6, 7)
    ]
    found += [failover(6, A, B, 30.0, "resigned")]  # inside the cluster: its own event
    incidents = correlate(found)
    assert [(i.kind, i.vrids, len(i.findings)) for i in incidents] == [
        ("duplicate-vrid", (5, 6, 7), 6),
        ("node-stopped", (6,), 1),
    ]
    assert "claim VRIDs 5-7: two clusters on one VRID" in incidents[0].message


def test_a_flapping_tracker_takes_its_failovers_with_the_count_and_times():
    moves = [
        failover(51, A if n % 2 == 0 else B, B if n % 2 == 0 else A, 100.0 + 5 * n, "preempted")
        for n in range(6)
    ]
    flap = finding(Kind.FLAPPING, 51, (A, B), 115.0, 126.0, moves_total=6, window_s=60.0)
    prio = finding(Kind.PRIORITY_FLAP, 51, (A,), 99.0, 126.0, changes_total=6, min=90, max=150)
    later = failover(51, B, A, 900.0, "preempted")  # long after: a return, not the flap
    incidents = correlate([*moves, flap, prio, later])
    assert [(i.kind, len(i.findings)) for i in incidents] == [("flapping", 8), ("node-returned", 1)]
    first = incidents[0]
    assert first.message.startswith("VRID 51 flapping: mastership moved 6 times and ")
    assert f"{A}'s priority changed 6 times (90-150)" in first.message
    assert len(first.details["times"]) == 6


def test_configuration_disagreements_of_a_pair_are_one_incident():
    found = [
        finding(Kind.CONFIG_MISMATCH, v, (A, B), 5.0, 500.0, fields={"interval": {}})
        for v in (1, 2, 3)
    ]
    found += [finding(Kind.CHECKSUM_FORM_MISMATCH, 9, (A, B), 5.0, 500.0)]
    (incident,) = correlate(found)
    assert incident.kind == "mismatch" and incident.vrids == (1, 2, 3, 9)
    assert (
        incident.message == f"{A} and {B} on VRIDs 1-3,9: they disagree on interval, checksum form"
    )


def test_notes_roll_up_per_node_and_warnings_per_burst():
    notes = [
        finding(Kind.PLAINTEXT_AUTH, v, (A,), 0.0, 9000.0, auth_type="simple") for v in range(1, 41)
    ]
    notes += [finding(Kind.PLAINTEXT_AUTH, v, (B,), 0.0, 9000.0) for v in range(1, 3)]
    drift = [finding(Kind.INTERVAL_DRIFT, v, (A,), 100.0 + v, 200.0) for v in range(1, 6)]
    drift += [finding(Kind.INTERVAL_DRIFT, 3, (A,), 7000.0, 7100.0)]  # hours later
    incidents = correlate(notes + drift)
    assert sorted((i.kind, i.severity, len(i.findings)) for i in incidents) == [
        ("rollup", "info", 2),
        ("rollup", "info", 40),
        ("rollup", "warning", 5),
        ("single", "warning", 1),
    ]
    big = next(i for i in incidents if len(i.findings) == 40)
    assert big.message.startswith(f"{A} on VRIDs 1-40: simple-text authentication")


def test_segments_are_kept_apart():
    found = [
        failover(
            1,
            A,
            B,
            10.0,
            "resigned",
        ),
        failover(1, A, B, 10.0, "resigned"),
    ]
    found[1].segment = "vlan 20"
    incidents = correlate(found)
    assert sorted(i.segment for i in incidents) == ["default", "vlan 20"]


def test_any_mix_of_findings_is_partitioned():
    rng = random.Random(7)
    nodes = [f"198.18.{n // 250}.{n % 250 + 1}" for n in range(6)]
    kinds = list(Kind)
    found = []
    for _ in range(1500):
        kind = rng.choice(kinds)
        pair = tuple(rng.sample(nodes, 2))
        at = rng.uniform(0, 5000)
        vrid = (
            rng.choice([None, *range(1, 30)])
            if kind in (Kind.CAPACITY, Kind.TIMESTAMPS_BACKWARDS)
            else rng.randrange(1, 30)
        )
        if kind == Kind.FAILOVER:
            f = failover(
                vrid,
                pair[0],
                pair[1],
                at,
                rng.choice(["resigned", "silence", "preempted", "unknown"]),
            )
        elif kind == Kind.INTERVAL_DRIFT:
            f = finding(
                kind,
                vrid,
                pair[:1],
                at,
                at + 60,
                reasons=["worst-gap"],
                worst_gap_at=(T0 / S) + at + 1,
            )
        elif kind == Kind.NO_MASTER:
            f = no_master(
                vrid, pair[0], at, rng.uniform(4, 60), rng.choice([None, pair[0], pair[1]])
            )
        elif kind in (Kind.DUPLICATE_VRID, Kind.SPLIT_BRAIN, Kind.FLAPPING, Kind.CONFIG_MISMATCH,
                      Kind.CHECKSUM_FORM_MISMATCH, Kind.CARP_COLLISION):  # fmt: skip
            f = finding(kind, vrid, pair, at, at + rng.uniform(0, 600))
        else:
            f = finding(kind, vrid, pair[:1], at, at + rng.uniform(0, 600))
        found.append(f)
    incidents = correlate(found)
    assert_partition(found, incidents)
    assert len(incidents) < len(found)


def test_a_hijack_takes_the_moves_it_caused_and_says_how_long_it_held_the_vip():
    analysis = analyze_files([str(CAPTURES / "hijack.pcap")])
    (hijack,) = [i for i in analysis.incidents if i.kind == "hijack"]
    assert hijack.nodes[0] == C and hijack.details["master"] == A
    assert {f.kind for f in hijack.findings} == {
        Kind.HIJACK_SUSPECTED,
        Kind.FAILOVER,
        Kind.NON_STANDARD_MAC,
    }
    assert "claimed it with priority 255 while 198.18.1.1 was master" in hijack.message
    assert "then 198.18.1.1 took over again 3.41 s later" in hijack.message
    assert 4.9 < hijack.details["held_s"] < 5.1  # 6 injected adverts, 1 s apart
    assert_partition(analysis.findings, analysis.incidents)


def test_a_forged_priority_zero_takes_the_resignation_it_faked_not_later_stops():
    vip = ("198.18.3.100",)
    f = AdvertFactory(addresses=vip)
    master = f.train(A, 0, 200, priority=150, src_mac="02:00:00:00:03:01")
    forged = f.train(A, 90.3, 90.3, priority=0, src_mac="02:00:00:00:03:66")
    backup = f.train(B, 90.9, 92.9, priority=100, src_mac="02:00:00:00:03:02")
    real_stop = f.train(A, 200.5, 200.5, priority=0, src_mac="02:00:00:00:03:01")
    taker = f.train(B, 201.1, 230, priority=100, src_mac="02:00:00:00:03:02")
    engine = run_engine(capture(master, forged, backup, real_stop, taker), end=230.5)
    incidents = correlate(engine.findings)
    (hijack,) = [i for i in incidents if i.kind == "hijack"]
    assert {f.kind for f in hijack.findings} == {Kind.HIJACK_SUSPECTED, Kind.RESIGNED}
    assert hijack.message.startswith("a priority-0 advert in 198.18.1.1's name from another MAC")
    assert hijack.details["forged_mac"] == "02:00:00:00:03:66"
    (stop,) = [i for i in incidents if i.kind == "node-stopped"]
    assert stop.first_ts_ns > hijack.last_ts_ns and stop.details["node"] == A
    assert_partition(engine.findings, incidents)


def test_two_address_owners_incident_names_the_cause() -> None:
    from tests.helpers.advertfactory import AdvertFactory, capture, run
    from vrrpscope.incidents import correlate

    f = AdvertFactory()
    owner = f.train("10.0.0.1", 0, 30, priority=255, addresses=("10.0.0.1",))
    claimer = f.train("10.0.0.2", 10.3, 30, priority=255, addresses=("10.0.0.1",))
    engine = run(capture(owner, claimer), end=31)
    (incident,) = [i for i in correlate(engine.findings) if i.kind == "split-brain"]
    assert "two address owners" in incident.message
