"""GapStats: exact moments, histogram quantiles, missed adverts."""

from __future__ import annotations

import pytest

from vrrpscope.engine.gapstats import GapStats

S = 1_000_000_000


def test_moments_quantiles_and_max() -> None:
    g = GapStats(S)
    missed = [g.add(round(gap * S)) for gap in [1.0] * 90 + [1.2] * 9 + [2.0]]
    assert missed == [0] * 99 + [1]  # 2 intervals: one advert went missing
    assert g.count == 100
    assert g.mean_s == pytest.approx(1.028)
    assert g.median_s == pytest.approx(1.0, abs=0.005)
    assert g.p95_s == pytest.approx(1.2, abs=0.005)
    assert g.max_s == 2.0
    assert g.stdev_s == pytest.approx(0.113778, abs=1e-6)  # statistics.stdev
    assert g.missed == 1


def test_missed_adverts_rounded() -> None:
    g = GapStats(S)
    assert g.add(int(1.49 * S)) == 0
    assert g.add(int(1.5 * S)) == 1
    assert g.add(int(2.4 * S)) == 1
    assert g.add(int(2.6 * S)) == 2
    assert g.missed == 4


def test_empty_and_huge_gaps() -> None:
    g = GapStats(S)
    assert g.median_s is None and g.mean_s is None and g.stdev_s is None
    g.add(100 * S)
    assert g.median_s == 100.0 and g.to_dict()["max_s"] == 100.0
