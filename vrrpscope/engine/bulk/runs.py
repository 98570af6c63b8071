"""Regular adverts held back from the engine and applied in bulk (DESIGN §1, change points).

A *regular* advert repeats its speaker's previous advert on the same virtual router byte
for byte in every field the engine reads, less than 1.5 intervals later, valid and with a
priority above zero. Taken one at a time, such an advert only moves counters, last-seen
times, gap statistics and the speaker's silence deadline (and, while two masters advertise
at once, the end of their open split-brain finding). :class:`HeldRun` holds the regular
adverts that follow one change point of a router, per speaker (:class:`SpeakerRun`:
timestamps, frame numbers, positions in the item stream, gap tables), and the engine
applies them when something is about to read the router: its next other advert, an
address claim on its segment, one of its timers, the end of a block. When the run's
speakers are exactly the router's masters (two: with their split-brain finding open) and
no claim waits, that costs a few integer sums (:meth:`SpeakerRun.summary`); otherwise each
advert is fed as the general path would.

A master's silence timer keeps running meanwhile without the adverts being applied: on
the timer, the engine asks :meth:`SpeakerRun.next_due` for the first due time the timer
would reach, after the re-arms its adverts cause, at or past the run's last known advert
(:func:`chain`), exactly as firing it advert by advert would.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from vrrpscope.compiled import gap_summary
from vrrpscope.engine.gapstats import _LAST_BIN, BINS_PER_INTERVAL
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.model import Advert

_SPLIT = 20  # gaps split as hi * 2**20 + lo so squared sums stay inside int64


@dataclass(slots=True, eq=False)
class HeldRun:
    """Regular adverts on one router since its last change point, not yet applied: one
    part per speaker (two while a split brain goes on)."""

    router: RouterState
    parts: list[SpeakerRun]

    @property
    def left(self) -> int:
        return sum(part.left for part in self.parts)

    def part_of(self, sp: SpeakerState) -> SpeakerRun | None:
        for part in self.parts:
            if part.speaker is sp:
                return part
        return None


@dataclass(slots=True, eq=False)
class SpeakerRun:
    """One speaker's regular adverts in a :class:`HeldRun` (``speaker`` None: the
    engine forgot it, at its speaker cap; its adverts are then fed one by one)."""

    speaker: SpeakerState | None
    template: Advert  # the advert each of them repeats (ts_ns / frame aside)
    ts: np.ndarray  # int64 timestamps, non-decreasing
    frames: np.ndarray  # frame numbers
    ticks: np.ndarray  # engine ticks (positions in the item stream)
    anchor_ns: int  # the speaker's previous advert (the one the first gap ends)
    gaps: np.ndarray | None = None  # gap tables, computed here when not given
    bins: np.ndarray | None = None
    sums: np.ndarray | None = None
    whole: GapSummary | None = None  # summary of all the run's gaps, when given
    lands: np.ndarray | None = None  # planner.chain_ends for these adverts, when given
    done: int = 0  # adverts applied so far
    jumped_from: int | None = None  # due time of the last timer moved ahead by next_due
    _times: list[int] | None = field(default=None, repr=False)
    _next: list[int] | None = field(default=None, repr=False)

    @property
    def left(self) -> int:
        return len(self.ts) - self.done

    def count_until(self, t_ns: int) -> int:
        """Adverts (from the start of the run) at or before ``t_ns``."""
        return int(np.searchsorted(self.ts, t_ns, side="right"))

    def count_before_tick(self, tick: int) -> int:
        """Adverts (from the start of the run) before engine position ``tick``."""
        return int(np.searchsorted(self.ticks, tick, side="left"))

    # ----------------------------------------------------------------- the timer

    def _chain_tables(self) -> tuple[list[int], list[int]]:
        if self._times is None:
            times = np.concatenate([np.array([self.anchor_ns], np.int64), self.ts])
            expiry = self.speaker.expiry_ns
            nxt = np.searchsorted(times, times + expiry, side="right") - 1
            self._times, self._next = times.tolist(), nxt.tolist()
        assert self._next is not None
        return self._times, self._next

    def next_due(self, due: int) -> int | None:
        """The silence timer fired at ``due``: where it lands after its re-arms.

        None when the speaker fell silent for a whole expiry before ``due`` (the engine
        then applies the run up to ``due`` and lets the timer end the episode).
        """
        lands = self.lands
        if lands is not None:
            ts, expiry = self.ts, self.speaker.expiry_ns
            i = int(np.searchsorted(ts, due, side="right")) - 1
            if i >= 0:
                deadline = int(ts[i]) + expiry
                return None if deadline <= due else int(ts[lands[i]]) + expiry
        times, nxt = self._chain_tables()
        return chain(times, nxt, self.speaker.expiry_ns, due, times[-1])

    def due_at(self, now_ns: int) -> int | None:
        """Where the timer moved ahead from ``jumped_from`` stands at ``now_ns``."""
        assert self.jumped_from is not None
        times, nxt = self._chain_tables()
        return chain(times, nxt, self.speaker.expiry_ns, self.jumped_from, now_ns)

    # ----------------------------------------------------------------- bulk sums

    def gap_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per advert: gap, histogram bin; prefix sums of the gaps (:func:`gap_sums`)."""
        if self.gaps is None:
            self.gaps = np.diff(self.ts, prepend=np.int64(self.anchor_ns))
        if self.bins is None:
            sp = self.speaker
            assert sp is not None and sp.gaps is not None  # (summed: a known speaker's)
            interval = sp.gaps.interval_ns
            self.bins = np.minimum(self.gaps * BINS_PER_INTERVAL // interval, _LAST_BIN)
        if self.sums is None:
            self.sums = gap_sums(self.gaps)
        return self.gaps, self.bins, self.sums

    def summary(self, lo: int, hi: int, known: dict[int, int] | None = None) -> GapSummary:
        """Integer sums and histogram of the gaps ending at adverts ``lo`` .. ``hi - 1``.

        The histogram lists bins the speaker's histogram ``known`` lacks in order of
        their first gap (the order adding gaps one by one inserts them).
        """
        if lo == 0 and hi == len(self.ts) and self.whole is not None:
            return self.whole
        if self.gaps is not None and self.bins is not None:
            quick = _compiled(self.gaps[lo:hi], self.bins[lo:hi], self.ts[lo:hi], known)
            if quick is not None:
                return quick
        gaps, bins, sums = self.gap_tables()
        d = (sums[:, hi] - sums[:, lo]).tolist()
        return summarize(gaps[lo:hi], bins[lo:hi], self.ts[lo:hi], known, d)


def summarize(
    gaps: np.ndarray,
    bins: np.ndarray,
    ts: np.ndarray,
    known: dict[int, int] | None = None,
    sums: list[int] | None = None,
) -> GapSummary:
    """The :class:`GapSummary` of gaps ending at times ``ts`` (``sums``: their
    :func:`gap_sums` difference, when at hand); bins new to ``known`` in order of
    their first gap (the order adding gaps one by one inserts them)."""
    quick = _compiled(gaps, bins, ts, known)
    if quick is not None:
        return quick
    d = sums if sums is not None else gap_sums(gaps)[:, -1].tolist()
    top = int(np.argmax(gaps))
    low = int(bins.min())
    counts = np.bincount(bins - low)
    present = np.flatnonzero(counts)
    keys = (present + low).tolist()
    hist = dict(zip(keys, counts[present].tolist(), strict=True))
    new = list(keys) if known is None else [b for b in keys if b not in known]
    if len(new) > 1:
        new.sort(key=lambda b: int(np.argmax(bins == b)))
        hist = {b: hist[b] for b in [b for b in keys if b not in new] + new}
    return GapSummary(
        count=len(gaps),
        sum_ns=d[0],
        sumsq_ns2=squared(d),
        max_ns=int(gaps[top]),
        max_end_ns=int(ts[top]),
        low_bin=keys[0],
        high_bin=keys[-1],
        hist=hist,
    )


def _compiled(
    gaps: np.ndarray, bins: np.ndarray, ts: np.ndarray, known: dict[int, int] | None
) -> GapSummary | None:
    """:func:`summarize` by the compiled core (None without it or out of its range)."""
    pieces = gap_summary(gaps, bins, ts)
    if pieces is None:
        return None
    count, total, squares, top, top_end, firsts, counts = pieces
    keys = sorted(firsts)
    hist = dict(sorted(zip(firsts, counts, strict=True)))
    new = keys if known is None else [b for b in keys if b not in known]
    if len(new) > 1:
        fresh = set(new)
        hist = {
            b: hist[b]
            for b in [b for b in keys if b not in fresh] + [b for b in firsts if b in fresh]
        }
    return GapSummary(count, total, squares, top, top_end, keys[0], keys[-1], hist)


def gap_sums(gaps: np.ndarray) -> np.ndarray:
    """Prefix sums (a leading 0 column) of gaps and of the parts of their squares.

    A gap is split as ``high * 2**20 + low`` so that each squared part sums inside int64;
    :func:`squared` puts a difference of two columns back together exactly.
    """
    high, low = gaps >> _SPLIT, gaps & ((1 << _SPLIT) - 1)
    sums = np.zeros((4, len(gaps) + 1), np.int64)
    np.cumsum(gaps, out=sums[0, 1:])
    np.cumsum(high * high, out=sums[1, 1:])
    np.cumsum(high * low, out=sums[2, 1:])
    np.cumsum(low * low, out=sums[3, 1:])
    return sums


def squared(d: list[int]) -> int:
    """The sum of squared gaps from a difference of :func:`gap_sums` columns."""
    return (d[1] << (2 * _SPLIT)) + (d[2] << (_SPLIT + 1)) + d[3]


@dataclass(slots=True)
class GapSummary:
    """Gaps of a stretch of regular adverts, summed exactly."""

    count: int
    sum_ns: int
    sumsq_ns2: int
    max_ns: int
    max_end_ns: int  # end of the first longest gap
    low_bin: int  # lowest and highest histogram bin hit
    high_bin: int
    hist: dict[int, int]  # bin -> gaps, bins in order of first gap


def chain(times: list[int], nxt: list[int], expiry: int, due: int, until: int) -> int | None:
    """A silence timer that fired at ``due``, re-armed advert by advert up to ``until``.

    ``times``: the speaker's advert times; ``nxt[i]``: the last advert at or before
    ``times[i] + expiry``. At each firing the timer moves to the last advert's time plus
    the expiry; returns the first due time at or past ``until``, or None when the timer
    finds the speaker silent for a whole expiry (no advert in between).
    """
    i = bisect_right(times, due) - 1
    if i < 0:
        return None
    deadline = times[i] + expiry
    if deadline <= due:
        return None
    while deadline < until:
        j = nxt[i]
        if j == i:  # no advert after times[i]: it fires at `deadline` and finds silence
            return deadline
        i = j
        deadline = times[i] + expiry
    return deadline
