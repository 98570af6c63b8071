"""Reduce advert chunks to per-speaker change points plus running gap statistics.

A *speaker* is ``(segment, family, carp, vrid, src, src_mac)``. Across every chunk fed,
in order, a row is a change point when it is the speaker's first advert, or when it
differs from the speaker's previous advert in priority, interval, auth type, address set,
version, address count, checksum form, validity or issue mask, or when the gap since the
previous advert exceeds ``gap_threshold_ns``. ``finish()`` adds each speaker's last
advert. The same rows fed as one chunk or as many give the same change points and stats.

Running statistics per speaker: adverts, gap count, sum of the gaps (exact, ns), sum of
their squares (float, s²), the largest gap (ns), and a histogram of gap / advertised
interval with the fixed edges ``GAP_RATIO_EDGES`` (early, on time, late, one or two
adverts missed, past the master-down interval, long silence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vrrpscope.fastpath import FastChunk

SPEAKER_FIELDS = ("segment", "family", "carp", "vrid", "src", "src_mac")
WATCHED = ("priority", "interval_cs", "auth_type", "addresses", "version", "count")
# Reason bits of a change point.
FIRST, PRIORITY, INTERVAL, AUTH, ADDRESSES, VERSION, COUNT = (1 << i for i in range(7))
FORM, VALIDITY, ISSUES, GAP, LAST = (1 << i for i in range(7, 12))
REASONS = {
    FIRST: "first",
    PRIORITY: "priority",
    INTERVAL: "interval",
    AUTH: "auth",
    ADDRESSES: "addresses",
    VERSION: "version",
    COUNT: "count",
    FORM: "checksum-form",
    VALIDITY: "validity",
    ISSUES: "issues",
    GAP: "gap",
    LAST: "last",
}
_FIELD_BITS = dict(zip(WATCHED, (PRIORITY, INTERVAL, AUTH, ADDRESSES, VERSION, COUNT), strict=True))
GAP_RATIO_EDGES = np.array([0.0, 0.5, 0.9, 1.1, 1.5, 2.5, 3.5, 10.0, np.inf])

CHANGE_DTYPE = np.dtype(
    [("speaker", "i4"), ("reasons", "i4"), ("gap_ns", "i8"), ("form", "u1"), ("issues", "i4")]
)


@dataclass
class SpeakerStats:
    """Running statistics of one speaker's adverts."""

    adverts: int = 0
    gaps: int = 0
    gap_sum_ns: int = 0  # exact
    gap_sq: float = 0.0  # seconds squared (float: the last bits depend on chunking)
    max_gap_ns: int = 0
    histogram: np.ndarray = field(
        default_factory=lambda: np.zeros(len(GAP_RATIO_EDGES) - 1, np.int64)
    )


@dataclass
class _Last:
    row: np.void
    form: int
    issues: int


class ChangeTracker:
    """Feed :class:`FastChunk` s in order; collect change points and per-speaker stats."""

    def __init__(self, gap_threshold_ns: int = 3_000_000_000) -> None:
        self.gap_threshold_ns = gap_threshold_ns
        self.speakers: dict[tuple, int] = {}  # speaker key -> id
        self.stats: list[SpeakerStats] = []
        self._last: dict[int, _Last] = {}

    def feed(self, chunk: FastChunk) -> tuple[np.ndarray, np.ndarray]:
        """(advert rows that are change points, their CHANGE_DTYPE annotations), row order."""
        rows = chunk.table.rows
        n = len(rows)
        if n == 0:
            return rows[:0], np.zeros(0, CHANGE_DTYPE)
        speaker = self._speaker_ids(rows)
        order = np.argsort(speaker, kind="stable")  # each speaker's rows, in row order
        spk = speaker[order]
        cols = {name: rows[name][order] for name in (*WATCHED, "valid", "ts_ns", "interval_cs")}
        cols["form"], cols["issues"] = chunk.form[order], chunk.issues[order]
        starts = np.flatnonzero(np.r_[True, spk[1:] != spk[:-1]])
        same = np.r_[False, spk[1:] == spk[:-1]]  # row i-1 is the same speaker's previous
        reasons = np.zeros(n, np.int64)
        for name, bit in (*_FIELD_BITS.items(), ("form", FORM), ("valid", VALIDITY),
                          ("issues", ISSUES)):  # fmt: skip
            col = cols[name]
            changed = np.r_[False, col[1:] != col[:-1]] & same
            reasons |= np.where(changed, bit, 0)
        ts = cols["ts_ns"]
        gap = np.where(same, ts - np.r_[ts[:1], ts[:-1]], -1)
        for i in starts.tolist():  # one per speaker: compare with its last advert before
            last = self._last.get(int(spk[i]))
            if last is None:
                reasons[i] = FIRST
                continue
            for name, bit in _FIELD_BITS.items():
                reasons[i] |= bit if cols[name][i] != last.row[name] else 0
            reasons[i] |= FORM if cols["form"][i] != last.form else 0
            reasons[i] |= VALIDITY if cols["valid"][i] != last.row["valid"] else 0
            reasons[i] |= ISSUES if cols["issues"][i] != last.issues else 0
            gap[i] = int(ts[i]) - int(last.row["ts_ns"])
        reasons |= np.where(gap > self.gap_threshold_ns, GAP, 0)
        self._update_stats(spk, starts, gap, cols["interval_cs"])
        ends = np.r_[starts[1:] - 1, n - 1]
        for i in ends.tolist():
            j = int(order[i])
            self._last[int(spk[i])] = _Last(
                rows[j].copy(), int(cols["form"][i]), int(cols["issues"][i])
            )
        hit = np.flatnonzero(reasons)
        picked = order[hit]
        back = np.argsort(picked, kind="stable")
        picked, hit = picked[back], hit[back]
        notes = np.zeros(len(picked), CHANGE_DTYPE)
        notes["speaker"] = spk[hit]
        notes["reasons"] = reasons[hit]
        notes["gap_ns"] = gap[hit]
        notes["form"] = cols["form"][hit]
        notes["issues"] = cols["issues"][hit]
        return rows[picked], notes

    def finish(self) -> list[tuple[int, np.void]]:
        """Each speaker's last advert: (speaker id, row), in speaker id order."""
        return [(spk, last.row) for spk, last in sorted(self._last.items())]

    def _speaker_ids(self, rows: np.ndarray) -> np.ndarray:
        """Global speaker id of each row (keys: SPEAKER_FIELDS values, global indices)."""
        pair = (rows["src"].astype(np.int64) << 32) | (rows["src_mac"].astype(np.int64) + 1)
        pairs, pair_id = np.unique(pair, return_inverse=True)
        key = (
            (rows["segment"].astype(np.int64) << 34)
            | (pair_id.ravel().astype(np.int64) << 10)
            | (rows["vrid"].astype(np.int64) << 2)
            | ((rows["family"] == 6).astype(np.int64) << 1)
            | rows["carp"].astype(np.int64)
        )
        keys, local = np.unique(key, return_inverse=True)
        ids = np.empty(len(keys), np.int64)
        for j, k in enumerate(keys.tolist()):
            p = int(pairs[(k >> 10) & 0xFFFFFF])
            family = 6 if k >> 1 & 1 else 4
            speaker = (k >> 34, family, bool(k & 1), (k >> 2) & 0xFF, p >> 32, (p & 0xFFFFFFFF) - 1)
            ids[j] = self._speaker(speaker)
        return ids[local.ravel()]

    def _speaker(self, key: tuple) -> int:
        index = self.speakers.get(key)
        if index is None:
            index = self.speakers[key] = len(self.speakers)
            self.stats.append(SpeakerStats())
        return index

    def _update_stats(
        self, spk: np.ndarray, starts: np.ndarray, gap: np.ndarray, interval_cs: np.ndarray
    ) -> None:
        """Add one chunk's rows (sorted by speaker, ``starts`` of each run) to the stats."""
        nbins = len(GAP_RATIO_EDGES) - 1
        has = gap >= 0
        secs = np.where(has, gap, 0) / 1e9
        interval = interval_cs.astype(np.float64) / 100.0
        ratio = np.divide(secs, interval, out=np.full(len(secs), np.inf), where=interval > 0)
        bins = np.clip(np.searchsorted(GAP_RATIO_EDGES, ratio, side="right") - 1, 0, nbins - 1)
        run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(spk)]))
        counts = np.diff(np.r_[starts, len(spk)])
        n_gaps = np.add.reduceat(has.astype(np.int64), starts)
        sums = np.add.reduceat(np.where(has, gap, 0), starts)
        squares = np.add.reduceat(np.where(has, secs * secs, 0.0), starts)
        maxes = np.maximum.reduceat(np.where(has, gap, 0), starts)
        hist = np.bincount(run[has] * nbins + bins[has], minlength=len(starts) * nbins)
        hist = hist.reshape(len(starts), nbins)
        for r, i in enumerate(starts.tolist()):
            st = self.stats[int(spk[i])]
            st.adverts += int(counts[r])
            st.gaps += int(n_gaps[r])
            st.gap_sum_ns += int(sums[r])
            st.gap_sq += float(squares[r])
            st.max_gap_ns = max(st.max_gap_ns, int(maxes[r]))
            st.histogram += hist[r]


def change_points(
    chunk: FastChunk, gap_threshold_ns: int = 3_000_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Change points of one chunk on its own (a fresh tracker: every speaker starts here)."""
    return ChangeTracker(gap_threshold_ns).feed(chunk)
