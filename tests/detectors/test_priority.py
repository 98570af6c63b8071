"""priority-flap and resigned."""

from __future__ import annotations

from tests.helpers.advertfactory import AdvertFactory, at, of_kind, run
from vrrpscope.findings import Kind, Severity
from vrrpscope.thresholds import Thresholds

A = "10.0.0.1"


def _toggling(changes: int, every: float) -> list:
    f = AdvertFactory()
    out = []
    t = 0.0
    for i in range(changes + 1):
        out += f.train(A, t, t + every - 1, priority=(150, 100)[i % 2])
        t += every
    return out


def test_priority_flap_after_n_changes_within_window() -> None:
    engine = run(_toggling(5, 5.0), end=30.5)
    (pf,) = of_kind(engine, Kind.PRIORITY_FLAP)
    assert pf.severity == Severity.WARNING and pf.speakers == (A,)
    assert pf.details["changes_in_window"] == 5 and pf.details["changes_total"] == 5
    assert (pf.details["min"], pf.details["max"]) == (100, 150)
    assert pf.first_ts_ns == at(5) and pf.last_ts_ns == at(25)  # first and last change
    assert "track_script" in pf.message
    assert of_kind(engine, Kind.FAILOVER) == []  # the priority moved, the master did not


def test_few_changes_are_not_a_flap() -> None:
    engine = run(_toggling(2, 5.0), end=15.5)  # down and up again: 2 changes
    assert of_kind(engine, Kind.PRIORITY_FLAP) == []
    sp = next(iter(next(iter(engine.routers.values())).speakers.values()))
    assert sp.priority_changes == 2
    assert [v for _, v in sp.priority_history] == [150, 100, 150]


def test_slow_changes_are_not_a_flap() -> None:
    engine = run(_toggling(6, 20.0), end=140.5, thresholds=Thresholds(priority_flap_window_s=30))
    assert of_kind(engine, Kind.PRIORITY_FLAP) == []


def test_resigned_is_info_and_one_per_resignation() -> None:
    f = AdvertFactory()
    adverts = (
        f.train(A, 0, 5)
        + [f.advert(5.5, A, priority=0), f.advert(5.6, A, priority=0)]
        + f.train(A, 20, 30)
        + [f.advert(30.5, A, priority=0)]
    )
    engine = run(adverts, end=31)
    first, second = of_kind(engine, Kind.RESIGNED)
    assert first.severity == Severity.INFO
    assert first.details["count"] == 2 and first.first_ts_ns == at(5.5)
    assert not first.open and second.first_ts_ns == at(30.5)


def test_priority_flap_message_counts_the_changes_not_the_threshold() -> None:
    engine = run(_toggling(5, 5.0), end=30.5)
    (pf,) = of_kind(engine, Kind.PRIORITY_FLAP)
    assert pf.details["changes_in_window"] == 5
    assert "changed 5 times within 60 s (150 -> 100 -> 150 -> 100 -> 150 -> 100)" in pf.message
