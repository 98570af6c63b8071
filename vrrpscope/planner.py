"""Change points of a block: which items the engine must take one by one, which it may not.

For one block of frames decoded by :class:`vrrpscope.fastfeed.FeedRun` (each distinct
frame decoded once, a template per group), :class:`Planner` splits the engine's items into

- *events*: everything that can change the state model: a router's first advert, any
  advert that differs from its router's previous one (another speaker, a new priority,
  configuration or validation issue), a gap of 1.5 intervals or more, priority 0, CARP,
  address claims, frames decoded one by one;
- *runs*: the regular adverts after each event (:mod:`vrrpscope.pendingrun`), handed to
  the engine as numpy columns and applied in bulk;
- other multicast counted per (segment, label) at once.

Blocks whose times go backwards, and blocks near the engine's router or findings caps (where
the least recently used router is evicted and the order of findings matters), come as a
plain list of items, fed one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vrrpscope.gapstats import _LAST_BIN, BINS_PER_INTERVAL
from vrrpscope.model import AddressClaim, Advert, OtherTraffic
from vrrpscope.pendingrun import GapSummary, gap_sums, squared

if TYPE_CHECKING:
    from vrrpscope.engine import Engine
    from vrrpscope.fastpath.records import RecordBlock

_NONE, _ADVERT, _OTHER, _CLAIM = 0, 1, 2, 3
_MAX_IDS = 1 << 16  # distinct contents / routers remembered between blocks


@dataclass(slots=True)
class RunSpec:
    """Regular adverts of one speaker after one event (or from the block's start)."""

    template: Advert
    ts: np.ndarray
    frames: np.ndarray
    rows: np.ndarray  # block rows
    gaps: np.ndarray  # gap before each advert (the first: since the advert it repeats)
    bins: np.ndarray  # histogram bin of each gap
    sums: np.ndarray  # prefix sums of the gaps and their squared parts (see gap_sums)
    whole: GapSummary  # all the run's gaps


@dataclass(slots=True)
class BlockPlan:
    """One block for the engine: events in frame order, runs, bulk counts."""

    rows: list[int]  # block row of each event
    items: list[Any]  # the events (Advert, OtherTraffic, AddressClaim)
    runs_after: dict[int, RunSpec]  # event row -> the run that follows it
    runs_first: list[RunSpec]  # runs that continue from the previous block
    others: list[tuple[str, str, int]]  # (segment, label, frames), in order of first frame
    first_ns: int  # first and last item of the block (events and runs)
    last_ns: int
    rows_total: int  # frames in the block (engine positions taken)


@dataclass
class Planner:
    """Plans blocks for one engine, remembering each router's last advert across blocks."""

    engine: Engine
    _contents: dict[tuple, int] = field(default_factory=dict)
    _next_content: int = 0
    _routers: dict[tuple, int] = field(default_factory=dict)
    _carry: dict[int, tuple[int, int]] = field(default_factory=dict)  # rid -> (cid, ts)

    def plan(
        self,
        block: RecordBlock,
        events: np.ndarray,
        tid: np.ndarray,
        makers: Sequence[tuple[type | None, tuple]],
        singles: dict[int, Any],
    ) -> BlockPlan | list[Any] | None:
        """The block's plan; a list of all its items where it cannot take runs."""
        kinds, rid_of, cid_of, limit_of, templates = self._templates(makers)
        ev_tid = tid[events]
        kind = np.zeros(len(events), np.int8)
        on_template = ev_tid >= 0
        kind[on_template] = kinds[ev_tid[on_template]]
        rid = np.full(len(events), -1, np.int64)
        rid[on_template] = rid_of[ev_tid[on_template]]
        for at in np.flatnonzero(~on_template).tolist():
            item = singles[int(events[at])]
            kind[at] = _kind(item)
            if kind[at] == _ADVERT:
                rid[at] = self._router_id(item)
        keep = kind != _NONE
        rows, kind, rid, ev_tid = events[keep], kind[keep], rid[keep], ev_tid[keep]
        if len(rows) == 0:
            return None
        ts = block.ts_ns[rows]
        if not self._can_run(ts, rid[kind == _ADVERT]):
            self._carry.clear()
            return self._items(block, rows, ev_tid, makers, singles)

        adverts = np.flatnonzero(kind == _ADVERT)
        regular = np.zeros(len(rows), bool)
        runs_after: dict[int, RunSpec] = {}
        runs_first: list[RunSpec] = []
        if len(adverts):
            a_tid = ev_tid[adverts]
            cid = np.where(a_tid >= 0, cid_of[a_tid], -1)
            limit = np.where(a_tid >= 0, limit_of[a_tid], 0)
            self._runs(block, rows, adverts, rid[adverts], cid, limit, templates, a_tid)
            regular[adverts] = self._regular
            for anchor, spec in self._found:
                if anchor < 0:
                    runs_first.append(spec)
                else:
                    runs_after[anchor] = spec

        bulk_other = self._bulk_others(kind, ev_tid, templates, rows, singles)
        others = self._others if bulk_other is not None else []
        event = ~regular
        if bulk_other is not None:
            event &= ~bulk_other
        ev_rows = rows[event]
        return BlockPlan(
            ev_rows.tolist(),
            self._items(block, ev_rows, ev_tid[event], makers, singles),
            runs_after,
            runs_first,
            others,
            int(ts[0]),
            int(ts.max()),
            len(block.start),
        )

    # ---------------------------------------------------------------- helpers

    def _can_run(self, ts: np.ndarray, rids: np.ndarray) -> bool:
        """Times never go back, and no router can be evicted nor findings capped."""
        engine = self.engine
        last = engine._last_packet_ns
        if last is not None and int(ts[0]) < last:
            return False
        if len(ts) > 1 and bool((ts[1:] < ts[:-1]).any()):
            return False
        th = engine.thresholds
        if len(engine._book) * 2 >= th.max_findings:
            return False
        return len(engine._routers) + len(np.unique(rids)) < th.max_routers

    def _templates(self, makers: Sequence[tuple[type | None, tuple]]) -> tuple:
        """Per template: item kind, router id, content id (-1: never regular), gap limit."""
        n = len(makers)
        kinds = np.zeros(max(n, 1), np.int8)
        rid = np.full(max(n, 1), -1, np.int64)
        cid = np.full(max(n, 1), -1, np.int64)
        limit = np.zeros(max(n, 1), np.int64)
        templates: list[Any] = [None] * n
        for k, (make, rest) in enumerate(makers):
            if make is None:
                continue
            item = make(0, 0, *rest)
            templates[k] = item
            kinds[k] = _kind(item)
            if kinds[k] != _ADVERT:
                continue
            rid[k] = self._router_id(item)
            if _may_repeat(item):
                cid[k] = self._content_id(rest)
                limit[k] = 3 * item.interval_cs * 10_000_000  # 2 * gap < 1.5 intervals
        return kinds, rid, cid, limit, templates

    def _router_id(self, advert: Advert) -> int:
        key = (advert.segment, advert.family, advert.proto, advert.vrid)
        rid = self._routers.get(key)
        if rid is None:
            if len(self._routers) >= _MAX_IDS:
                self._routers.clear()
                self._carry.clear()
            rid = self._routers[key] = len(self._routers)
        return rid

    def _content_id(self, rest: tuple) -> int:
        cid = self._contents.get(rest)
        if cid is None:
            if len(self._contents) >= _MAX_IDS:
                self._contents.clear()  # ids keep counting: old ones never match again
            cid = self._contents[rest] = self._next_content
            self._next_content += 1
        return cid

    def _runs(
        self,
        block: RecordBlock,
        rows: np.ndarray,
        adverts: np.ndarray,
        rid: np.ndarray,
        cid: np.ndarray,
        limit: np.ndarray,
        templates: list[Any],
        a_tid: np.ndarray,
    ) -> None:
        """Mark regular adverts (``self._regular``) and cut them into runs (``self._found``)."""
        a_rows = rows[adverts]
        order = np.argsort(rid, kind="stable")
        r, c, t = rid[order], cid[order], block.ts_ns[a_rows[order]].astype(np.int64)
        n = len(order)
        same = np.zeros(n, bool)
        same[1:] = r[1:] == r[:-1]
        prev_c = np.full(n, -1, np.int64)
        prev_t = np.zeros(n, np.int64)
        prev_c[1:], prev_t[1:] = c[:-1], t[:-1]
        heads = np.flatnonzero(~same)
        carry = self._carry
        for h in heads.tolist():
            got = carry.get(int(r[h]))
            if got is not None:
                prev_c[h], prev_t[h] = got
        regular = (c >= 0) & (prev_c == c) & (2 * (t - prev_t) < limit[order])
        tails = np.append(heads[1:] - 1, n - 1)
        for tail in tails.tolist():
            carry[int(r[tail])] = (int(c[tail]), int(t[tail]))

        self._regular = np.zeros(len(adverts), bool)
        self._regular[order] = regular
        self._found: list[tuple[int, RunSpec]] = []
        if not regular.any():
            return
        go_on = np.zeros(n, bool)
        go_on[1:] = regular[1:] & regular[:-1] & same[1:]
        starts = np.flatnonzero(regular & ~go_on)
        ends = np.flatnonzero(regular & ~np.append(go_on[1:], False)) + 1
        sorted_rows = a_rows[order]
        numbers = block.number[sorted_rows].astype(np.int64)
        tid_sorted = a_tid[order]
        # Gap tables of all runs at once (regular adverts of a run are consecutive).
        pos = np.flatnonzero(regular)
        gaps = (t - prev_t)[pos]
        bins = np.minimum(gaps * BINS_PER_INTERVAL // (limit[order][pos] // 3), _LAST_BIN)
        sums = gap_sums(gaps)
        lengths = ends - starts
        first = np.searchsorted(pos, starts)
        wholes = _summaries(gaps, bins, sums, t[pos], first, lengths)
        for k, (s, e, f) in enumerate(
            zip(starts.tolist(), ends.tolist(), first.tolist(), strict=True)
        ):
            g = slice(f, f + e - s)
            spec = RunSpec(
                templates[int(tid_sorted[s])],
                t[s:e],
                numbers[s:e],
                sorted_rows[s:e],
                gaps[g],
                bins[g],
                sums[:, f : f + e - s + 1],
                wholes[k],
            )
            anchor = int(sorted_rows[s - 1]) if s > 0 and same[s] else -1
            self._found.append((anchor, spec))

    def _bulk_others(
        self,
        kind: np.ndarray,
        ev_tid: np.ndarray,
        templates: list[Any],
        rows: np.ndarray,
        singles: dict[int, Any],
    ) -> np.ndarray | None:
        """Rows of other multicast counted at once (``self._others``), None if a cap is near.

        Labels are listed in order of their first frame, those of frames fed one by one
        included (with no count of their own here), so they are counted in the order the
        general path meets them.
        """
        mask = (kind == _OTHER) & (ev_tid >= 0)
        self._others: list[tuple[str, str, int]] = []
        if not mask.any():
            return mask
        at = np.flatnonzero(mask)
        uniq, first, counts = np.unique(ev_tid[at], return_index=True, return_counts=True)
        seen: list[tuple[int, tuple[str, str], int]] = []
        for k, i, n in zip(uniq.tolist(), at[first].tolist(), counts.tolist(), strict=True):
            item = templates[k]
            seen.append((i, (item.segment, item.label), n))
        for i in np.flatnonzero((kind == _OTHER) & (ev_tid < 0)).tolist():
            item = singles[int(rows[i])]
            seen.append((i, (item.segment, item.label), 0))
        seen.sort(key=lambda entry: entry[0])
        totals: dict[tuple[str, str], int] = {}
        for _i, pair, n in seen:
            totals[pair] = totals.get(pair, 0) + n
        per_segment: dict[str, int] = {}
        for segment, _label in totals:
            per_segment[segment] = per_segment.get(segment, 0) + 1
        if not all(self.engine.other_room(s, n) for s, n in per_segment.items()):
            return None
        self._others = [(s, label, n) for (s, label), n in totals.items()]
        return mask

    @staticmethod
    def _items(
        block: RecordBlock,
        rows: np.ndarray,
        tids: np.ndarray,
        makers: Sequence[tuple[type | None, tuple]],
        singles: dict[int, Any],
    ) -> list[Any]:
        """The items of ``rows`` (each with an item), built from templates or singles."""
        items: list[Any] = []
        append = items.append
        ts = block.ts_ns[rows].tolist()
        numbers = block.number[rows].tolist()
        for i, t, number, k in zip(rows.tolist(), ts, numbers, tids.tolist(), strict=True):
            if k >= 0:
                make, rest = makers[k]
                append(make(t, number, *rest))  # type: ignore[misc]
            else:
                append(singles[i])
        return items


def _summaries(
    gaps: np.ndarray,
    bins: np.ndarray,
    sums: np.ndarray,
    ends: np.ndarray,
    first: np.ndarray,
    lengths: np.ndarray,
) -> list[GapSummary]:
    """The :class:`GapSummary` of each run (run k: gaps ``first[k]`` on, ``lengths[k]``)."""
    runs = len(first)
    if runs == 0:
        return []
    run_of = np.repeat(np.arange(runs), lengths)
    top = np.maximum.reduceat(gaps, first)
    low = np.minimum.reduceat(bins, first).tolist()
    high = np.maximum.reduceat(bins, first).tolist()
    at_top = np.flatnonzero(gaps == top[run_of])
    _, first_top = np.unique(run_of[at_top], return_index=True)
    top_at = at_top[first_top]
    key = run_of * (2 * _LAST_BIN + 2) + bins
    pairs, seen_at, counts = np.unique(key, return_index=True, return_counts=True)
    by_run = np.lexsort((seen_at, pairs // (2 * _LAST_BIN + 2)))
    hists: list[dict[int, int]] = [{} for _ in range(runs)]
    for pair, count in zip(pairs[by_run].tolist(), counts[by_run].tolist(), strict=True):
        hists[pair // (2 * _LAST_BIN + 2)][pair % (2 * _LAST_BIN + 2)] = count
    stop = first + lengths
    d = (sums[:, stop] - sums[:, first]).T.tolist()
    return [
        GapSummary(
            count=n,
            sum_ns=dk[0],
            sumsq_ns2=squared(dk),
            max_ns=mx,
            max_end_ns=end,
            low_bin=lo,
            high_bin=hi,
            hist=hist,
        )
        for n, dk, mx, end, lo, hi, hist in zip(
            lengths.tolist(),
            d,
            top.tolist(),
            ends[top_at].tolist(),
            low,
            high,
            hists,
            strict=True,
        )
    ]


def _kind(item: object) -> int:
    if isinstance(item, Advert):
        return _ADVERT
    if isinstance(item, OtherTraffic):
        return _OTHER
    if isinstance(item, AddressClaim):
        return _CLAIM
    return _NONE


def _may_repeat(advert: Advert) -> bool:
    """Whether a repeat of ``advert`` can be a regular advert (see pendingrun)."""
    return (
        advert.proto == "vrrp"
        and not advert.issues
        and bool(advert.priority)
        and advert.interval_cs > 0
    )
