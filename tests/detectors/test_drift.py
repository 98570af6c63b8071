"""interval-drift: median offset, jitter, missed adverts, worst gap against master-down."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.helpers.advertfactory import AdvertFactory, at, of_kind, run, write_pcap
from tests.helpers.routes import assert_same
from vrrpscope.findings import Kind

A = "10.0.0.1"


def test_steady_adverts_do_not_drift() -> None:
    engine = run(AdvertFactory().train(A, 0, 100), end=100.5)
    assert of_kind(engine, Kind.INTERVAL_DRIFT) == []


def test_median_offset() -> None:
    engine = run(AdvertFactory().train(A, 0, 100, every=1.25), end=100.5)
    (d,) = of_kind(engine, Kind.INTERVAL_DRIFT)
    assert d.details["reasons"] == ["median"]
    assert d.details["median_offset_s"] == pytest.approx(0.25, abs=0.005)
    assert d.details["advertised_s"] == 1.0 and d.details["missed"] == 0


def test_paused_master_missed_adverts_and_worst_gap() -> None:
    f = AdvertFactory()
    # SIGSTOP for ~2 s: one gap of 2.9 s, just under the 3.61 s Master_Down_Interval
    adverts = f.train(A, 0, 30) + f.train(A, 32.9, 60)
    engine = run(adverts, end=60.5)
    (d,) = of_kind(engine, Kind.INTERVAL_DRIFT)
    # two in a row are the near-takeover gap, not a loss rate (2 of 60 in the window)
    assert set(d.details["reasons"]) == {"worst-gap"}
    assert d.details["missed"] == 2
    assert d.details["worst_gap_s"] == pytest.approx(2.9)
    assert d.first_ts_ns == at(30)
    assert d.details["worst_gap_of_master_down"] == pytest.approx(2.9 / (3 + 156 / 256), abs=1e-3)
    assert of_kind(engine, Kind.FAILOVER) == [] and of_kind(engine, Kind.NO_MASTER) == []


def test_jitter() -> None:
    rng = random.Random(1)
    f = AdvertFactory()
    t, adverts = 0.0, []
    for _ in range(200):
        adverts.append(f.advert(t, A))
        t += 1.0 + rng.uniform(-0.4, 0.4)
    engine = run(adverts, end=t)
    (d,) = of_kind(engine, Kind.INTERVAL_DRIFT)
    assert "jitter" in d.details["reasons"] and "median" not in d.details["reasons"]
    assert d.details["p95_jitter_s"] > 0.2


def test_too_few_samples_are_not_judged() -> None:
    engine = run(AdvertFactory().train(A, 0, 13, every=1.3), end=13.5)  # median +30 %
    assert of_kind(engine, Kind.INTERVAL_DRIFT) == []


def test_missed_adverts_need_no_statistics() -> None:
    f = AdvertFactory()
    # a master paused three times for ~2.2 s in a short capture (the lab's SIGSTOP scenario)
    adverts = f.train(A, 0, 1) + f.train(A, 3.9, 5.9) + f.train(A, 9.1, 11.1)
    adverts += f.train(A, 14.3, 16.3, priority=150)
    engine = run(adverts, end=16.5)
    (d,) = of_kind(engine, Kind.INTERVAL_DRIFT)
    assert set(d.details["reasons"]) == {"missed", "worst-gap"}
    assert d.details["gaps"] < 20 and d.details["missed"] == 6
    assert d.first_ts_ns == at(1)  # the last advert before the first pause
    assert d.details["worst_gap_at"] == pytest.approx(at(5.9) / 1e9)  # first of the longest


def _with_losses(rng: random.Random, hours: float, loss: float, late: float) -> list:
    """A master at 1 s for ``hours``: ``loss`` of its adverts missing (single ones),
    ``late`` of them 10-300 ms late, a few ms of jitter."""
    f = AdvertFactory()
    out = []
    for k in range(int(hours * 3600)):
        if rng.random() < loss:
            continue
        delay = rng.uniform(0.01, 0.3) if rng.random() < late else 0.0
        out.append(f.advert(k + rng.gauss(0, 0.002) + delay, A))
    return out


def test_a_healthy_day_of_benign_losses_is_silent() -> None:
    """0.05 % of adverts lost (~20 over 12 hours, each alone), 0.3 % late: no drift,
    where counting misses over the capture flagged every long capture."""
    adverts = _with_losses(random.Random(3), 12, 0.0005, 0.003)
    engine = run(adverts, end=12 * 3600 + 1)
    assert of_kind(engine, Kind.INTERVAL_DRIFT) == []
    (router,) = engine.routers.values()
    (sp,) = router.speakers.values()
    assert sp.gaps is not None and 5 < sp.gaps.missed < 60


def test_a_burst_of_losses_opens_and_closes_a_drift() -> None:
    """An hour healthy, then 6 adverts lost within 30 s (singly), then healthy again: a
    drift for the loss rate over that minute, closed once the window holds none."""
    f = AdvertFactory()
    lost = {3600 + 5 * n for n in range(6)}
    adverts = [f.advert(k, A) for k in range(7200) if k not in lost]
    engine = run(adverts, end=7200.5)
    (d,) = of_kind(engine, Kind.INTERVAL_DRIFT)
    assert d.details["reasons"] == ["missed"] and d.details["missed_in_window"] >= 4
    assert at(3600) - 10**9 <= d.first_ts_ns <= at(3610)
    assert not d.open and d.last_ts_ns < at(3625 + 60 + 64)  # closed after the window


def test_losses_spread_thin_are_no_drift_but_a_run_is() -> None:
    f = AdvertFactory()
    lost = {600 * n + 17 for n in range(1, 12)}  # one every 10 min: 11 in 2 hours
    adverts = [f.advert(k, A) for k in range(7200) if k not in lost]
    assert of_kind(run(adverts, end=7200.5), Kind.INTERVAL_DRIFT) == []
    lost |= {5000, 5001}  # two in a row: a gap of 3 s against 3.61 s
    adverts = [f.advert(k, A) for k in range(7200) if k not in lost]
    (d,) = of_kind(run(adverts, end=7200.5), Kind.INTERVAL_DRIFT)
    assert d.details["reasons"] == ["worst-gap"] and d.details["worst_gap_s"] == pytest.approx(3)


def test_a_drift_kept_open_by_its_worst_gap_is_the_same_on_both_routes(tmp_path: Path) -> None:
    """A 2.9 s pause, then two hours of regular adverts: the finding stays open through
    the bulk route's summed runs (its worst gap only grows) and ends alike on both."""
    f = AdvertFactory()
    adverts = f.train(A, 0, 30) + f.train(A, 32.9, 7200)
    analysis = assert_same([str(write_pcap(tmp_path / "pause.pcap", adverts))])
    assert analysis is not None
    (d,) = [x for x in analysis.findings if x.kind == Kind.INTERVAL_DRIFT]
    assert d.details["reasons"] == ["worst-gap"] and d.details["gaps"] > 7000
