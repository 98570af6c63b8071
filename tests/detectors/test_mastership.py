"""failover (cause, measured takeover against the RFC) and flapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.advertfactory import AdvertFactory, at, capture, of_kind, run, write_pcap
from tests.helpers.routes import assert_same
from vrrpscope.findings import Kind, Severity
from vrrpscope.thresholds import Thresholds

A, B = "10.0.0.1", "10.0.0.2"
SKEW_100 = 156 / 256  # VRRPv2 Skew_Time of priority 100
MDI_100 = 3 + SKEW_100


def test_failover_by_priority_zero_measures_takeover() -> None:
    f = AdvertFactory()
    injected = 0.85  # the backup answered a bit later than Skew_Time
    a = f.train(A, 0, 10, priority=200) + [f.advert(10.3, A, priority=0)]
    b = f.train(B, 10.3 + injected, 40, priority=100)
    engine = run(capture(a, b), end=40.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    d = fo.details
    assert fo.severity == Severity.WARNING and fo.speakers == (A, B) and not fo.open
    assert (d["from"], d["to"], d["cause"]) == (A, B, "resigned")
    assert d["takeover_s"] == pytest.approx(injected, abs=1e-4)
    assert d["expected_s"] == pytest.approx(SKEW_100, abs=1e-4)
    assert d["expected_rule"] == "Skew_Time"
    assert d["slow"] is False  # within half an interval of the RFC
    assert (d["from_priority"], d["to_priority"]) == (200, 100)
    assert fo.first_ts_ns == at(10.3) and fo.last_ts_ns == at(10.3 + injected)
    assert "Entering MASTER STATE" in fo.message
    assert of_kind(engine, Kind.NO_MASTER) == []
    (res,) = of_kind(engine, Kind.RESIGNED)
    assert res.first_ts_ns == at(10.3) and res.details["priority_before"] == 200


def test_failover_by_silence_measures_takeover_against_master_down() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 10, priority=200)
    b = f.train(B, 10 + MDI_100, 40, priority=100)
    engine = run(capture(a, b), end=40.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    d = fo.details
    assert d["cause"] == "silence"
    assert d["takeover_s"] == pytest.approx(MDI_100, abs=1e-4)
    assert d["expected_s"] == pytest.approx(MDI_100, abs=1e-4)
    assert d["expected_rule"] == "Master_Down_Interval"
    assert "send advert error 1 (Operation not permitted)" in fo.message
    assert of_kind(engine, Kind.NO_MASTER) == []  # the backup took over in time


def test_slow_takeover_is_marked() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 10, priority=200) + [f.advert(10.5, A, priority=0)]
    b = f.train(B, 12.5, 30, priority=100)  # 2 s after the resignation
    engine = run(capture(a, b), end=30.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["slow"] is True and fo.details["takeover_s"] == pytest.approx(2.0)


def test_preemption_by_higher_priority() -> None:
    f = AdvertFactory()
    b = f.train(B, 0, 21, priority=100)
    a = f.train(A, 20.4, 50, priority=200)
    engine = run(capture(a, b), end=50.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    d = fo.details
    assert (d["from"], d["to"], d["cause"]) == (B, A, "preempted")
    assert d["preempt_reason"] == "higher priority"
    assert d["overlap_s"] == pytest.approx(0.6)
    assert fo.first_ts_ns == at(20.4)
    assert "Entering BACKUP STATE" in fo.message


def test_chain_of_preemptions_reported_step_by_step() -> None:
    """tcpdump's vrrp.pcap, VRID 44: each better speaker preempts the last (10 s adverts).
    The preempted master stops at once; its silence timer (sized for a backup of
    priority 1: ~41 s) must not keep it master until the next preemption."""
    f = AdvertFactory(interval=10.0, version=3)
    c = "10.0.0.3"
    a = f.train(A, 0, 20, priority=191)
    b = f.train(B, 28, 48, priority=192)
    third = f.train(c, 57.8, 120, priority=193)
    engine = run(capture(a, b, third), end=121)
    moves = [(x.details["from"], x.details["to"], x.details["cause"]) for x in
             of_kind(engine, Kind.FAILOVER)]  # fmt: skip
    assert moves == [(A, B, "preempted"), (B, c, "preempted")]
    first = of_kind(engine, Kind.FAILOVER)[0]
    assert (first.first_ts_ns, first.last_ts_ns) == (at(20), at(28))
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []


def test_master_that_goes_on_after_a_better_one_starts_stays_master() -> None:
    f = AdvertFactory()  # A does not hear B (or ignores it): still master, both are
    a = f.train(A, 0, 30, priority=100)
    b = f.train(B, 10.5, 30, priority=200)
    engine = run(capture(a, b), end=30.5)
    assert of_kind(engine, Kind.FAILOVER) == []
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.first_ts_ns == at(10.5)


def test_first_master_is_not_a_failover() -> None:
    f = AdvertFactory()
    engine = run(f.train(B, 5, 20, priority=100), end=20.5)
    assert of_kind(engine, Kind.FAILOVER) == []


def _ping_pong(moves: int, every: float) -> list:
    """Mastership alternates A/B by resignation `moves` times, one move per `every` s."""
    f = AdvertFactory()
    streams = []
    t = 0.0
    for i in range(moves + 1):
        src = (A, B)[i % 2]
        stream = f.train(src, t, t + every - 1.5)
        stream.append(f.advert(t + every - 1.0, src, priority=0))
        streams.append(stream)
        t += every
    return capture(*streams)


def test_flapping_after_n_moves_within_window() -> None:
    engine = run(_ping_pong(5, 6.0), end=40)
    fos = of_kind(engine, Kind.FAILOVER)
    assert len(fos) == 5 and all(f.details["cause"] == "resigned" for f in fos)
    (flap,) = of_kind(engine, Kind.FLAPPING)
    assert flap.severity == Severity.WARNING
    assert flap.details["moves_in_window"] == 5
    assert flap.first_ts_ns == fos[0].last_ts_ns and flap.last_ts_ns == fos[-1].last_ts_ns
    assert set(flap.speakers) == {A, B}


def test_slow_moves_are_not_flapping() -> None:
    engine = run(_ping_pong(5, 35.0), end=220)  # 3 moves take 70 s > 60 s
    assert len(of_kind(engine, Kind.FAILOVER)) == 5
    assert of_kind(engine, Kind.FLAPPING) == []


def test_flapping_closes_after_a_quiet_window() -> None:
    th = Thresholds(flap_transitions=3, flap_window_s=30)
    f = AdvertFactory()
    moves = _ping_pong(3, 6.0)
    last = moves[-1].ts_ns
    tail = f.train(B, (last - at(0)) / 1e9 + 0.6, 200)
    engine = run(capture(moves, tail), end=200, thresholds=th)
    (flap,) = of_kind(engine, Kind.FLAPPING)
    assert not flap.open and flap.last_ts_ns < at(30)


def test_flapping_message_counts_the_moves_not_the_threshold() -> None:
    engine = run(_ping_pong(5, 6.0), end=40)
    (flap,) = of_kind(engine, Kind.FLAPPING)
    assert flap.details["moves_in_window"] == 5
    assert "mastership moved 5 times within 60 s" in flap.message


def test_a_node_changing_mac_is_printed_with_its_macs() -> None:
    f = AdvertFactory()
    m1, m2 = "02:00:00:00:00:01", "00:00:5e:00:01:01"  # use_vmac switched on
    a = f.train(A, 0, 10, src_mac=m1) + [f.advert(10.5, A, priority=0, src_mac=m1)]
    b = f.train(A, 11.1, 20, src_mac=m2)
    engine = run(capture(a, b), end=20.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert f"mastership moved {A} ({m1}) -> {A} ({m2})" in fo.message


def test_takeover_after_a_no_master_is_worded_as_a_recovery() -> None:
    f = AdvertFactory()
    engine = run(capture(f.train(A, 0, 10, priority=200), f.train(B, 25, 30)), end=30.5)
    (nm,) = of_kind(engine, Kind.NO_MASTER)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["cause"] == "silence" and fo.details["recovered"] is True
    assert fo.details["slow"] is True
    assert "recovered after 15.00 s without a master" in fo.message


def _start_up_race_then_resignation() -> list:
    """Daemons start together: A (100) times out first and sends one advert, B (150)
    preempts 0.11 s later and is master until it resigns at 3.5 s, before A's own
    silence timer (3.61 s after its one advert) runs out; A takes over at Skew_Time."""
    f = AdvertFactory()
    a_first = [f.advert(0.0, A, priority=100)]
    b = f.train(B, 0.113, 3.113, priority=150) + [f.advert(3.5, B, priority=0)]
    a_back = f.train(A, 3.5 + SKEW_100, 20, priority=100)
    return capture(a_first, b, a_back)


def test_start_up_race_then_resignation_is_one_failover_and_no_no_master() -> None:
    engine = run(_start_up_race_then_resignation(), end=20.5)
    assert of_kind(engine, Kind.NO_MASTER) == []  # B advertised all along
    assert of_kind(engine, Kind.FLAPPING) == []
    (fo,) = of_kind(engine, Kind.FAILOVER)  # the start-up race is an election, no move
    assert fo.details["from"] == B and fo.details["to"] == A
    assert fo.first_ts_ns == at(3.5)
    assert fo.details["takeover_s"] == pytest.approx(SKEW_100, abs=1e-3)
    (router,) = engine.routers.values()
    assert [(p.src, p.start_ns, p.end_ns) for p in router.periods] == [
        (A, at(0.0), at(0.0)),
        (B, at(0.113), at(3.5)),
    ]


def test_start_up_race_on_both_routes(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "race.pcap", _start_up_race_then_resignation())
    result = assert_same([str(path)])
    assert result is not None
    kinds = sorted(str(f.kind) for f in result.findings if f.severity >= Severity.WARNING)
    assert kinds == ["failover"]


def _tracker_flapping(return_after: float) -> list:
    """A (150) drops to 90 (a track_script weight) and B (100) preempts it 1 ms after
    A's priority-90 advert; 4 s later A is back at 150 and preempts B, ``return_after``
    seconds after B's last advert; six times over (a router that preempts at once on a
    lower-priority advert, e.g. Cisco's, not keepalived, which waits Master_Down)."""
    f = AdvertFactory()
    adverts, t = [], 0.0
    for _ in range(6):
        adverts += f.train(A, t, t + 3, priority=150) + [f.advert(t + 4, A, priority=90)]
        adverts += f.train(B, t + 4.001, t + 7.001, priority=100)
        t += 7.001 + return_after
    return capture(adverts, f.train(A, t, t + 10, priority=150))


@pytest.mark.parametrize("return_after", [1.0, 0.005])
def test_a_master_preempted_while_silent_comes_back_by_preemption_not_split_brain(
    return_after: float,
) -> None:
    """A fell silent as soon as B's better advert came (RFC 5798 6.4.3): its later
    advert at 150 begins a new episode. Before, A counted as master all along, ignoring
    B's better adverts: a split brain, and no failover at all."""
    engine = run(_tracker_flapping(return_after), end=60)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []
    moves = of_kind(engine, Kind.FAILOVER)
    assert [(m.details["from"], m.details["cause"]) for m in moves] == [
        (A, "preempted"),
        (B, "preempted"),
    ] * 6
    assert [m.details["to_priority"] for m in moves[:2]] == [100, 150]
    assert of_kind(engine, Kind.FLAPPING) and of_kind(engine, Kind.PRIORITY_FLAP)


def test_tracker_flapping_on_both_routes(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "flap.pcap", _tracker_flapping(1.0))
    result = assert_same([str(path)])
    assert result is not None
    assert len([f for f in result.findings if f.kind == Kind.FAILOVER]) == 12
