"""no-master: silence longer than the longest Master_Down_Interval, live and offline."""

from __future__ import annotations

import pytest

from tests.advertfactory import AdvertFactory, at, capture, of_kind, run
from vrrpscope.engine import Engine
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
