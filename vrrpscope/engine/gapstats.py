"""Streaming statistics of inter-advert gaps: O(1) per gap, small bounded memory.

Gaps are kept exactly as count / sum / sum of squares / max (integer nanoseconds, so
gaps summed elsewhere and added at once, :meth:`GapStats.add_regular`, give the very
same state as adding them one by one), and as a sparse histogram in units of the
advertised interval (bins of 0.5 %), from which the median and p95 are read. Gaps beyond
8 intervals share the last bin, read as the maximum (the engine ends an advertising
episode after about 4 intervals of silence anyway).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

BINS_PER_INTERVAL = 200
_LAST_BIN = 8 * BINS_PER_INTERVAL
RECENT_MISSES = 64  # gaps that missed adverts, kept for windowed loss rates


def misses_adverts(gap_ns, interval_ns):  # (ints, or numpy arrays of them)
    """The regular-gap rule: a gap of 1.5 advertised intervals or more misses adverts; a
    shorter one is regular (the planner's regular adverts, the engine's peer gaps)."""
    return 2 * gap_ns >= 3 * interval_ns


@dataclass(slots=True)
class GapStats:
    """Gaps between consecutive adverts of one speaker at one advertised interval."""

    interval_ns: int
    count: int = 0
    sum_ns: int = 0
    sumsq_ns2: int = 0  # sum of squared gaps, ns^2 (exact: Python integers)
    max_ns: int = 0
    missed: int = 0  # adverts missing: a gap of g >= 1.5 intervals misses round(g) - 1
    hist: dict[int, int] = field(default_factory=dict)
    max_at_ns: int | None = None  # start of the longest gap
    first_missed_at_ns: int | None = None  # start of the first gap that missed adverts
    # (end of gap, adverts it missed) of the latest gaps that missed some (bounded)
    recent: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=RECENT_MISSES))

    def add(self, gap_ns: int, end_ns: int = 0) -> int:
        """Record one gap ending at `end_ns`; returns the adverts it missed (0 normally)."""
        self.count += 1
        self.sum_ns += gap_ns
        self.sumsq_ns2 += gap_ns * gap_ns
        if gap_ns > self.max_ns:
            self.max_ns = gap_ns
            self.max_at_ns = end_ns - gap_ns
        interval = self.interval_ns
        b = gap_ns * BINS_PER_INTERVAL // interval
        if b > _LAST_BIN:
            b = _LAST_BIN
        hist = self.hist
        hist[b] = hist.get(b, 0) + 1
        if misses_adverts(gap_ns, interval):
            missed = (2 * gap_ns + interval) // (2 * interval) - 1
            self.missed += missed
            if self.first_missed_at_ns is None:
                self.first_missed_at_ns = end_ns - gap_ns
            self.recent.append((end_ns, missed))
            return missed
        return 0

    def add_regular(
        self, count: int, sum_ns: int, sumsq_ns2: int, max_ns: int, max_end_ns: int, hist: dict
    ) -> None:
        """Gaps that missed no advert, already summed: ``hist`` bins in first-seen order,
        ``max_end_ns`` the end of the first gap of length ``max_ns``."""
        self.count += count
        self.sum_ns += sum_ns
        self.sumsq_ns2 += sumsq_ns2
        if max_ns > self.max_ns:
            self.max_ns = max_ns
            self.max_at_ns = max_end_ns - max_ns
        mine = self.hist
        for b, n in hist.items():
            mine[b] = mine.get(b, 0) + n

    def missed_since(self, since_ns: int) -> int:
        """Adverts missed by gaps ending after ``since_ns`` (among the latest kept)."""
        return sum(n for end, n in self.recent if end > since_ns)

    def copy(self) -> GapStats:
        """An independent snapshot (histogram and recent misses copied)."""
        from dataclasses import replace

        return replace(self, hist=dict(self.hist), recent=deque(self.recent, RECENT_MISSES))

    @property
    def mean_s(self) -> float | None:
        return self.sum_ns / self.count / 1e9 if self.count else None

    @property
    def stdev_s(self) -> float | None:
        if self.count < 2:
            return None
        n = self.count
        spread = n * self.sumsq_ns2 - self.sum_ns * self.sum_ns  # n^2 * variance, exact
        return math.sqrt(spread / (n * (n - 1))) / 1e9

    def quantile_s(self, q: float) -> float | None:
        """Approximate quantile (bin centre, 0.5 % of the interval wide), in seconds."""
        if not self.count:
            return None
        target = q * self.count
        seen = 0
        for b in sorted(self.hist):
            seen += self.hist[b]
            if seen >= target:
                if b == _LAST_BIN:  # the overflow bin: its width is unknown
                    return self.max_ns / 1e9
                return min((b + 0.5) / BINS_PER_INTERVAL * self.interval_ns, self.max_ns) / 1e9
        return self.max_ns / 1e9

    @property
    def median_s(self) -> float | None:
        return self.quantile_s(0.5)

    @property
    def p95_s(self) -> float | None:
        return self.quantile_s(0.95)

    @property
    def max_s(self) -> float | None:
        return self.max_ns / 1e9 if self.count else None

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "interval_s": self.interval_ns / 1e9,
            "gaps": self.count,
            "mean_s": _r(self.mean_s),
            "stdev_s": _r(self.stdev_s),
            "median_s": _r(self.median_s),
            "p95_s": _r(self.p95_s),
            "max_s": _r(self.max_s),
            "missed": self.missed,
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
