"""no-master: silence longer than the longest Master_Down_Interval, live and offline."""

from __future__ import annotations

import pytest

from tests.helpers.advertfactory import AdvertFactory, at, capture, of_kind, run
from vrrpscope.engine.core import Engine
from vrrpscope.findings import FindingEvent, Kind, Severity

A, B = "10.0.0.1", "10.0.0.2"
WAIT = 3 + 255 / 256 + 0.1  # v2, 1 s: Master_Down_Interval of priority 1, plus slack


def test_advance_without_packets_opens_no_master_and_adverts_close_it() -> None:
    f = AdvertFactory()
    events: list[FindingEvent] = []
    engine = Engine(on_event=events.append)
    for adv in f.train(A, 0, 10):
        engine.feed(adv)
    engine.advance(at(10 + WAIT - 0.05))
    assert events == []
    engine.advance(at(10 + WAIT + 0.05))  # the live timer, no packet at all
    ((action, nm),) = [(e.action, e.finding) for e in events]
    assert action == "open" and nm.kind == Kind.NO_MASTER and nm.open
    assert nm.severity == Severity.CRITICAL and nm.speakers == (A,)
    assert nm.first_ts_ns == at(10)
    assert nm.details["waited_s"] == pytest.approx(WAIT, abs=1e-3)
    assert nm.details["reason"] == "silence"
    engine.advance(at(25))
    engine.feed(f.advert(30, B))  # a backup finally advertises
    assert [(e.action, e.finding.kind) for e in events] == [
        ("open", Kind.NO_MASTER),
        ("close", Kind.NO_MASTER),
        ("open", Kind.FAILOVER),
        ("close", Kind.FAILOVER),
    ]
    assert not nm.open and nm.last_ts_ns == at(30)
    assert nm.details["resumed_by"] == B and nm.details["silence_s"] == pytest.approx(20.0)


def test_resignation_with_nobody_taking_over_is_no_master() -> None:
    f = AdvertFactory()
    adverts = f.train(A, 0, 10) + [f.advert(10.5, A, priority=0)]
    engine = run(adverts, end=30)
    (nm,) = of_kind(engine, Kind.NO_MASTER)
    assert nm.details["reason"] == "resigned" and nm.first_ts_ns == at(10.5)
    assert nm.last_ts_ns == at(30)  # still silent at the end of the capture
    assert "resigned" in nm.message


def test_no_master_not_opened_when_capture_ends_before_timer() -> None:
    f = AdvertFactory()
    engine = run(f.train(A, 0, 10), end=10 + WAIT - 0.1)
    assert of_kind(engine, Kind.NO_MASTER) == []


def test_normal_silence_failover_does_not_pass_through_no_master() -> None:
    f = AdvertFactory()
    # the lowest possible backup (priority 1) takes over at its own Master_Down_Interval
    adverts = capture(
        f.train(A, 0, 10, priority=200), f.train(B, 10 + 3 + 255 / 256, 30, priority=1)
    )
    engine = run(adverts, end=30.5)
    assert of_kind(engine, Kind.NO_MASTER) == []
    assert [x.details["cause"] for x in of_kind(engine, Kind.FAILOVER)] == ["silence"]


def _silence_with_claims(claimants: list[str], resume: bool) -> Engine:
    """A master goes silent at 10 s; `claimants` claim its VIP at 15 s and 20 s."""
    from vrrpscope.model import AddressClaim

    f = AdvertFactory()
    engine = Engine()
    for adv in f.train(A, 0, 10):
        engine.feed(adv)
    vip = adv.addresses[0]
    for t in (15, 20):
        for i, mac in enumerate(claimants):
            engine.feed_claim(AddressClaim(at(t), 100 + t + i, adv.segment, vip, mac))
    if resume:
        for adv in f.train(A, 25, 30):
            engine.feed(adv)
    engine.finish(at(30))
    return engine


def test_no_master_names_a_silent_backup_holding_the_vip_by_its_claims() -> None:
    engine = _silence_with_claims(["02:00:00:00:00:02"], resume=True)
    (nm,) = of_kind(engine, Kind.NO_MASTER)
    (vip,) = nm.details["addresses"]
    assert nm.details["holders"] == {vip: ["02:00:00:00:00:02"]}
    assert "02:00:00:00:00:02 (which never advertised here)" in nm.message
    assert "probably a split brain" in nm.message
    assert "probably unreachable" not in nm.message
    assert 115 in nm.frames  # the claim is evidence
    (segment,) = engine.inventory()
    (holder,) = segment.silent_claimants
    assert (holder["mac"], holder["vip"], holder["claims"]) == ("02:00:00:00:00:02", vip, 2)


def test_no_master_open_at_the_end_names_the_holders_too() -> None:
    engine = _silence_with_claims(["02:00:00:00:00:02"], resume=False)
    (nm,) = of_kind(engine, Kind.NO_MASTER)
    assert list(nm.details["holders"].values()) == [["02:00:00:00:00:02"]]


def test_no_master_gives_the_master_down_interval_the_plot_draws() -> None:
    from pathlib import Path

    from vrrpscope.analysis import analyze_files
    from vrrpscope.report.plot.data import AdvertIndex, router_data, takeover_threshold_ns

    pcap = Path(__file__).parents[2] / "captures" / "no-master.pcap"
    analysis = analyze_files([str(pcap)])
    (nm,) = [f for f in analysis.findings if f.kind == Kind.NO_MASTER]
    mdi = 3 + 106 / 256  # the only speaker seen, priority 150, as its own backup
    assert nm.details["master_down_s"] == pytest.approx(mdi, abs=1e-4)
    assert f"Master_Down_Interval ({mdi:.2f} s" in nm.message
    (router,) = analysis.routers.values()
    data = router_data(router, AdvertIndex(analysis.adverts), [], [])
    assert takeover_threshold_ns(data, 100)[0] / 1e9 == pytest.approx(mdi, abs=1e-4)
