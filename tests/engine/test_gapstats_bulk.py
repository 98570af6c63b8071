"""The bulk route's core invariant at unit level: gaps summed at once (as held runs of
regular adverts are applied) leave GapStats exactly as adding them one by one does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vrrpscope.engine.bulk.runs import summarize
from vrrpscope.engine.gapstats import GapStats, misses_adverts

INTERVAL = st.sampled_from([1_000_000, 10_000_000, 1_000_000_000, 2_550_000_000, 40_950_000_000])


def _state(g: GapStats) -> tuple:
    return (
        g.count,
        g.sum_ns,
        g.sumsq_ns2,
        g.max_ns,
        g.max_at_ns,
        g.missed,
        g.first_missed_at_ns,
        list(g.hist.items()),  # bins in the order adding them one by one inserts them
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, list[int], list[int], int]:
    """An interval, gaps added before (any length), then a run of regular gaps (and
    where the run is cut in two pieces)."""
    iv = draw(INTERVAL)
    before = draw(st.lists(st.integers(0, 9 * iv), max_size=20))
    regular = st.integers(0, (3 * iv - 1) // 2)  # 2 * gap < 3 * interval
    run = draw(st.lists(regular, min_size=1, max_size=200))
    cut = draw(st.integers(0, len(run)))
    return iv, before, run, cut


@settings(max_examples=300, deadline=None)
@given(histories())
def test_summed_gaps_equal_gaps_added_one_by_one(case) -> None:
    iv, before, run, cut = case
    one, bulk = GapStats(iv), GapStats(iv)
    t = 1_700_000_000_000_000_000
    for gap in before:
        t += gap
        one.add(gap, t)
        bulk.add(gap, t)
    gaps = np.array(run, np.int64)
    ts = t + np.cumsum(gaps)
    bins = np.minimum(gaps * 200 // iv, 8 * 200)
    for gap, end in zip(run, ts.tolist(), strict=True):
        assert not misses_adverts(gap, iv)
        assert one.add(gap, end) == 0
    for lo, hi in ((0, cut), (cut, len(run))):  # two pieces, as two bulk applies
        if hi > lo:
            s = summarize(gaps[lo:hi], bins[lo:hi], ts[lo:hi], bulk.hist)
            bulk.add_regular(s.count, s.sum_ns, s.sumsq_ns2, s.max_ns, s.max_end_ns, s.hist)
    assert _state(bulk) == _state(one)
    assert bulk.to_dict() == one.to_dict()


def test_the_regular_gap_rule_is_one_and_a_half_intervals() -> None:
    assert not misses_adverts(1_499_999_999, 1_000_000_000)
    assert misses_adverts(1_500_000_000, 1_000_000_000)
    assert list(misses_adverts(np.array([14, 15, 16]), 10)) == [False, True, True]
