"""timestamps-backwards and capacity findings."""

from __future__ import annotations

from tests.helpers.advertfactory import AdvertFactory, of_kind
from vrrpscope.engine.core import Engine
from vrrpscope.findings import Kind, Severity
from vrrpscope.thresholds import Thresholds


def test_backwards_steps_counted_per_segment() -> None:
    f = AdvertFactory()
    engine = Engine()
    for ts, seg in [(10, "eth0"), (9, "eth0"), (8.5, "eth0"), (11, "eth1"), (1, "eth1")]:
        engine.feed(f.advert(ts, "10.0.0.1", segment=seg))
    engine.finish()
    eth0, eth1 = sorted(of_kind(engine, Kind.TIMESTAMPS_BACKWARDS), key=lambda x: x.segment)
    assert eth0.severity == Severity.INFO
    assert eth0.details == {"count": 2, "max_step_back_s": 1.5}
    assert eth1.details == {"count": 1, "max_step_back_s": 10.0}
    assert engine.stats.backwards_ts == 3


def test_speaker_cap_finding() -> None:
    f = AdvertFactory()
    engine = Engine(Thresholds(max_speakers_per_router=4))
    for i in range(10):
        engine.feed(f.advert(i * 0.01, f"10.0.1.{i + 1}"))
    engine.finish()
    router = next(iter(engine.routers.values()))
    assert [sp.src for sp in router.speakers.values()] == [f"10.0.1.{i}" for i in range(7, 11)]
    (cap,) = of_kind(engine, Kind.CAPACITY)
    assert cap.details == {"limit": 4, "evicted": 6} and cap.vrid == 51
