"""Planning helpers: where a silence timer lands, stable orders, first-seen grouping."""

from __future__ import annotations

import random

import numpy as np

from vrrpscope.columnar.unique import unique_first
from vrrpscope.engine.bulk.planner import _stable_order, chain_ends
from vrrpscope.engine.bulk.runs import chain

S = 1_000_000_000


def test_chain_ends_match_the_timer_chain() -> None:
    rng = random.Random(2)
    parts, expiries = [], []
    for _ in range(60):
        n = rng.randint(1, 80)
        start = rng.randint(0, 10**6) * S
        times = [start]
        for _ in range(n - 1):
            times.append(times[-1] + rng.randint(S // 2, 3 * S))  # gaps up to 3 s
        parts.append(times)
        expiries.append(rng.choice([3 * S + S // 3, 4 * S, 2 * S]))
    ts = np.array([t for p in parts for t in p], np.int64)
    lengths = np.array([len(p) for p in parts])
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    expiry = np.repeat(np.array(expiries, np.int64), lengths)
    lands = chain_ends(ts, expiry, first, lengths)
    for k, times in enumerate(parts):
        e = expiries[k]
        arr = np.array(times, np.int64)
        nxt = (np.searchsorted(arr, arr + e, side="right") - 1).tolist()
        for i, t in enumerate(times):
            # Fired just after advert i (due in (t, t + e)): the chain from advert i.
            want = chain(times, nxt, e, t, times[-1])
            got = times[int(lands[first[k] + i])] + e
            assert got == want, (k, i)


def test_stable_order_is_argsort_stable() -> None:
    rng = np.random.default_rng(1)
    for keys in (rng.integers(0, 300, 5000), rng.integers(0, 1 << 20, 5000), np.array([])):
        assert np.array_equal(_stable_order(keys), np.argsort(keys, kind="stable"))


def test_unique_first_is_np_unique() -> None:
    rng = np.random.default_rng(4)
    for size in (50, 1 << 20):
        key = rng.integers(0, size, 20000)
        want = np.unique(key, return_index=True, return_inverse=True)
        got = unique_first(key, size)
        assert all(np.array_equal(w.ravel(), g) for w, g in zip(want, got, strict=True))
