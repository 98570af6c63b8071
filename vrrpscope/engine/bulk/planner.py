"""Change points of a block: which items the engine must take one by one, which it may not.

For one block of frames decoded by :class:`vrrpscope.columnar.feed.FeedDecoder` (each distinct
frame decoded once, a template per group), :class:`Planner` splits the engine's items into

- *events*: everything that can change the state model: a router's first advert, any
  advert that differs from its router's previous one (another speaker, a new priority,
  configuration or validation issue), a gap of 1.5 intervals or more, priority 0, CARP,
  address claims, frames decoded one by one;
- *runs*: the regular adverts after each event (:mod:`vrrpscope.engine.bulk.runs`), handed to
  the engine as numpy columns and applied in bulk;
- other multicast counted per (segment, label) at once.

Blocks whose times go backwards, and blocks near the engine's router or findings caps (where
the least recently used router is evicted and the order of findings matters), come as a
plain list of items, fed one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from vrrpscope.columnar.unique import unique_first
from vrrpscope.engine.bulk.runs import GapSummary, gap_sums, squared
from vrrpscope.engine.gapstats import _LAST_BIN, BINS_PER_INTERVAL, misses_adverts
from vrrpscope.engine.state import expiry_ns, router_key
from vrrpscope.engine.timers import interval_ns
from vrrpscope.model import AddressClaim, Advert, OtherTraffic

if TYPE_CHECKING:
    from vrrpscope.engine.core import Engine
    from vrrpscope.engine.crossfile import CrossFileDuplicates
    from vrrpscope.thresholds import Thresholds

_NONE, _ADVERT, _OTHER, _CLAIM = 0, 1, 2, 3
_MAX_IDS = 1 << 14  # distinct contents / routers remembered between blocks (~1 KiB each)


@dataclass(slots=True)
class BlockTimes:
    """What planning reads of a block's frames: times and frame numbers."""

    ts_ns: np.ndarray
    number: np.ndarray


@dataclass(slots=True)
class RunColumns:
    """The regular adverts of a block, part after part (see PartSpec.lo / hi)."""

    ts: np.ndarray
    frames: np.ndarray
    rows: np.ndarray  # block rows
    gaps: np.ndarray  # gap before each advert (the first: since the advert it repeats)
    bins: np.ndarray  # histogram bin of each gap
    lands: np.ndarray  # silence timer fired after each advert: where it lands (chain_ends)
    sums: np.ndarray | None = None  # prefix sums (gap_sums), made when first needed

    def prefix_sums(self) -> np.ndarray:
        if self.sums is None:
            self.sums = gap_sums(self.gaps)
        return self.sums


@dataclass(slots=True)
class PartSpec:
    """One speaker's regular adverts in a run: ``RunColumns`` rows lo .. hi - 1."""

    template: Advert
    lo: int
    hi: int
    whole: GapSummary  # all its gaps
    expiry_ns: int  # the speaker's silence expiry, which RunColumns.lands assumed


@dataclass(slots=True)
class RunSpec:
    """Regular adverts on one router after one event (or from the block's start): one
    part per speaker, at most two."""

    parts: list[PartSpec]


@dataclass(slots=True)
class BlockPlan:
    """One block for the engine: events in frame order, runs, bulk counts."""

    rows: list[int]  # block row of each event
    items: list[Any]  # the events (Advert, OtherTraffic, AddressClaim)
    layout: RunLayout | None  # the runs as arrays (build makes the last three fields)
    others: list[tuple[str, str, int]]  # (segment, label, frames), in order of first frame
    other_rows: np.ndarray  # the frames counted in ``others``, their times, frame
    other_ts: np.ndarray  # numbers and items (an index into other_items)
    other_frames: np.ndarray
    other_which: np.ndarray
    other_items: list[Any]
    first_ns: int  # first and last item of the block (events and runs)
    last_ns: int
    rows_total: int  # frames in the block (engine positions taken)
    runs_after: dict[int, RunSpec] = field(default_factory=dict)  # event row -> next run
    runs_first: list[RunSpec] = field(default_factory=list)  # runs from the previous block
    columns: RunColumns | None = None  # the runs' adverts

    def build(self) -> BlockPlan:
        """Make the runs' specs from their layout (once; where the engine runs, which
        may be another process than the planner's: the layout is cheaper to send)."""
        layout, self.layout = self.layout, None
        if layout is not None:
            specs, self.columns = layout.build()
            for anchor, spec in specs:
                if anchor < 0:
                    self.runs_first.append(spec)
                else:
                    self.runs_after[anchor] = spec
        return self

    def fits(self, engine: Engine) -> bool:
        """Whether ``engine`` is far enough from its findings and other-traffic caps.

        Held adverts make their findings when their run is applied, after those of later
        events and timers on other routers. The findings cap keeps the same findings in
        any order (it ranks them); only its hard limit, where new findings stop being
        made, must stay out of reach within the block. Bound: 8 per event, 3 per run
        part, 2 per router (its timers).
        """
        parts = sum(len(spec.parts) for spec in [*self.runs_first, *self.runs_after.values()])
        reach = 8 * len(self.items) + 3 * parts + 2 * engine.router_count
        if not engine.finding_room(reach):
            return False
        per_segment: dict[str, int] = {}
        for segment, _label, _n in self.others:
            per_segment[segment] = per_segment.get(segment, 0) + 1
        return all(engine.other_room(s, n) for s, n in per_segment.items())

    def items_in_order(self) -> list[Any]:
        """Every item of the block, one by one, in frame order (when it does not fit)."""
        rows: list[int] = list(self.rows)
        items: list[Any] = list(self.items)
        cols = self.columns
        for spec in [*self.runs_first, *self.runs_after.values()]:
            for part in spec.parts:
                assert cols is not None
                for j in range(part.lo, part.hi):
                    rows.append(int(cols.rows[j]))
                    ts, frame = int(cols.ts[j]), int(cols.frames[j])
                    items.append(replace(part.template, ts_ns=ts, frame=frame))
        for row, ts, frame, k in zip(
            self.other_rows.tolist(),
            self.other_ts.tolist(),
            self.other_frames.tolist(),
            self.other_which.tolist(),
            strict=True,
        ):
            rows.append(row)
            items.append(replace(self.other_items[k], ts_ns=ts, frame=frame))
        order = sorted(range(len(rows)), key=rows.__getitem__)
        return [items[i] for i in order]


@dataclass(slots=True)
class PlainItems:
    """A block's items to be fed one by one, in frame order, as compact as the decode
    gave them (:meth:`items` makes them where they are fed)."""

    ts: np.ndarray
    numbers: np.ndarray
    rows: np.ndarray  # block rows (keys of ``singles``)
    tids: np.ndarray  # template of each row, -1: in ``singles``
    makers: Sequence[tuple[type | None, tuple]]
    singles: dict[int, Any]

    def items(self) -> list[Any]:
        """The items (rows that decode to none left out)."""
        items: list[Any] = []
        append = items.append
        makers, singles = self.makers, self.singles
        for i, t, number, k in zip(
            self.rows.tolist(),
            self.ts.tolist(),
            self.numbers.tolist(),
            self.tids.tolist(),
            strict=True,
        ):
            if k >= 0:
                make, rest = makers[k]
                if make is not None:
                    append(make(t, number, *rest))
            else:
                item = singles[i]
                if item is not None:
                    append(item)
        return items


@dataclass
class Planner:
    """Plans blocks, remembering each speaker's last advert across blocks."""

    thresholds: Thresholds
    duplicates: CrossFileDuplicates | None = None  # several files: drops adverts seen twice
    _last_ns: int | None = None  # latest item time so far
    _routers_seen: int = 0
    _contents: dict[tuple, int] = field(default_factory=dict)
    _next_content: int = 0
    _routers: dict[tuple, int] = field(default_factory=dict)
    _speakers: dict[tuple, int] = field(default_factory=dict)
    _carry: dict[int, tuple[int, int]] = field(default_factory=dict)  # sid -> (cid, ts)
    _known: dict[tuple, tuple] = field(default_factory=dict)  # maker -> _template(maker)

    def plan(
        self,
        block: BlockTimes,
        events: np.ndarray,
        tid: np.ndarray,
        makers: Sequence[tuple[type | None, tuple]],
        singles: dict[int, Any],
    ) -> BlockPlan | PlainItems | None:
        """The block's plan (its runs still to :meth:`BlockPlan.build`); all its items,
        to be fed one by one, where it cannot take runs."""
        if len(self._routers) >= _MAX_IDS or len(self._speakers) >= _MAX_IDS:
            self._routers.clear()  # (between blocks: ids stay unique within one)
            self._known.clear()
            self._speakers.clear()
            self._carry.clear()
        kinds, rid_of, sid_of, cid_of, iv_of, templates, expiry_of = self._templates(makers)
        ev_tid = tid[events]
        kind = np.zeros(len(events), np.int8)
        on_template = ev_tid >= 0
        kind[on_template] = kinds[ev_tid[on_template]]
        rid = np.full(len(events), -1, np.int64)
        rid[on_template] = rid_of[ev_tid[on_template]]
        sid = np.full(len(events), -1, np.int64)
        sid[on_template] = sid_of[ev_tid[on_template]]
        for at in np.flatnonzero(~on_template).tolist():
            item = singles[int(events[at])]
            kind[at] = _kind(item)
            if kind[at] == _ADVERT:
                rid[at], sid[at] = self._ids(item)
        keep = kind != _NONE
        if self.duplicates is not None:
            keep &= ~self._seen_twice(block, events, kind, ev_tid, templates, singles)
        rows, kind, rid, sid, ev_tid = events[keep], kind[keep], rid[keep], sid[keep], ev_tid[keep]
        if len(rows) == 0:
            return None
        ts = block.ts_ns[rows]
        if not self._can_run(ts):
            self._carry.clear()
            return PlainItems(block.ts_ns[rows], block.number[rows], rows, ev_tid, makers, singles)

        adverts = np.flatnonzero(kind == _ADVERT)
        regular = np.zeros(len(rows), bool)
        layout = None
        if len(adverts):
            a_tid = ev_tid[adverts]
            cid = np.where(a_tid >= 0, cid_of[a_tid], -1)
            iv = np.where(a_tid >= 0, iv_of[a_tid], 0)
            found = _Runs(block, rows[adverts], rid[adverts], sid[adverts], cid, iv, a_tid)
            found.speaker_regular(self._carry)
            found.cut()
            regular[adverts] = found.regular
            layout = found.layout(templates, expiry_of)

        bulk_other = self._bulk_others(kind, ev_tid, templates, rows, singles)
        event = ~regular & ~bulk_other
        ev_rows = rows[event]
        o_rows = rows[bulk_other]
        o_tid = ev_tid[bulk_other]
        o_used, _, o_which = unique_first(o_tid, len(templates) + 1)
        return BlockPlan(
            ev_rows.tolist(),
            self._items(block, ev_rows, ev_tid[event], makers, singles),
            layout,
            self._others,
            o_rows,
            block.ts_ns[o_rows].astype(np.int64),
            block.number[o_rows].astype(np.int64),
            o_which,
            [templates[k] for k in o_used.tolist()],
            int(ts[0]),
            int(ts.max()),
            len(block.ts_ns),
        )

    # ---------------------------------------------------------------- helpers

    def _seen_twice(
        self,
        block: BlockTimes,
        rows: np.ndarray,
        kind: np.ndarray,
        tids: np.ndarray,
        templates: list[Any],
        singles: dict[int, Any],
    ) -> np.ndarray:
        """Which of ``rows`` are adverts seen already in another file (in frame order,
        as :meth:`CrossFileDuplicates.seen` judges the general path's adverts)."""
        duplicates = self.duplicates
        assert duplicates is not None
        seen_at, facts_of = duplicates.seen_at, duplicates.facts
        out = np.zeros(len(rows), bool)
        at = np.flatnonzero(kind == _ADVERT)
        facts: dict[int, Any] = {}  # per template
        for pos, row, t, k in zip(
            at.tolist(),
            rows[at].tolist(),
            block.ts_ns[rows[at]].tolist(),
            tids[at].tolist(),
            strict=True,
        ):
            if k >= 0:
                fact = facts.get(k)
                if fact is None:
                    fact = facts[k] = facts_of(templates[k])
            else:
                fact = facts_of(singles[row])
            if seen_at(fact, t):
                out[pos] = True
        return out

    def _can_run(self, ts: np.ndarray) -> bool:
        """Times never go back, and no router can be evicted (the engine's findings and
        other-traffic caps: BlockPlan.fits)."""
        last = self._last_ns
        self._last_ns = high = int(ts.max()) if last is None else max(last, int(ts.max()))
        if last is not None and int(ts[0]) < last:
            return False
        if high != int(ts[-1]) or (len(ts) > 1 and bool((ts[1:] < ts[:-1]).any())):
            return False
        return self._routers_seen < self.thresholds.max_routers

    def _templates(self, makers: Sequence[tuple[type | None, tuple]]) -> tuple:
        """Per template: item kind, router and speaker ids, content id (-1: never
        regular), advertised interval (ns); the template items and the silence expiry of
        adverts.

        What a maker gives is remembered (forgotten when the router, speaker or content
        ids start over, see plan and _content_id, or past _MAX_IDS makers).
        """
        n = max(len(makers), 1)
        kinds = np.zeros(n, np.int8)
        rid = np.full(n, -1, np.int64)
        sid = np.full(n, -1, np.int64)
        cid = np.full(n, -1, np.int64)
        iv = np.zeros(n, np.int64)
        expiry = np.zeros(n, np.int64)
        templates: list[Any] = [None] * len(makers)
        known = self._known
        slack = self.thresholds.timer_slack
        for k, maker in enumerate(makers):
            got = known.get(maker)
            if got is None:
                if len(known) >= _MAX_IDS:
                    known.clear()
                got = known[maker] = self._template(maker, slack)
            templates[k], kinds[k], rid[k], sid[k], cid[k], iv[k], expiry[k] = got
        return kinds, rid, sid, cid, iv, templates, expiry

    def _template(self, maker: tuple[type | None, tuple], slack: float) -> tuple:
        """(item, kind, router id, speaker id, content id, interval, expiry) of a maker."""
        make, rest = maker
        if make is None:
            return None, _NONE, -1, -1, -1, 0, 0
        item = make(0, 0, *rest)
        kind = _kind(item)
        if kind != _ADVERT:
            return item, kind, -1, -1, -1, 0, 0
        rid, sid = self._ids(item)
        if not _may_repeat(item):
            return item, kind, rid, sid, -1, 0, 0
        cid = self._content_id(rest)
        return item, kind, rid, sid, cid, interval_ns(item.interval_cs), expiry_ns(item, slack)

    def _ids(self, advert: Advert) -> tuple[int, int]:
        """Router and speaker ids of an advert (numbered as first met)."""
        key = router_key(advert)
        rid = self._routers.get(key)
        if rid is None:
            rid = self._routers[key] = len(self._routers)
            self._routers_seen += 1
        sid = self._speakers.setdefault((rid, advert.src, advert.src_mac), len(self._speakers))
        return rid, sid

    def _content_id(self, rest: tuple) -> int:
        cid = self._contents.get(rest)
        if cid is None:
            if len(self._contents) >= _MAX_IDS:
                self._contents.clear()  # ids keep counting: old ones never match again
                self._known.clear()
            cid = self._contents[rest] = self._next_content
            self._next_content += 1
        return cid

    def _bulk_others(
        self,
        kind: np.ndarray,
        ev_tid: np.ndarray,
        templates: list[Any],
        rows: np.ndarray,
        singles: dict[int, Any],
    ) -> np.ndarray:
        """Rows of other multicast counted at once (totals: ``self._others``).

        Labels are listed in order of their first frame, those of frames fed one by one
        included (with no count of their own here), so they are counted in the order the
        general path meets them.
        """
        mask = (kind == _OTHER) & (ev_tid >= 0)
        self._others: list[tuple[str, str, int]] = []
        if not mask.any():
            return mask
        at = np.flatnonzero(mask)
        uniq, first, which = unique_first(ev_tid[at], len(templates) + 1)
        counts = np.bincount(which, minlength=len(uniq))
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
        self._others = [(s, label, n) for (s, label), n in totals.items()]
        return mask

    @staticmethod
    def _items(
        block: BlockTimes,
        rows: np.ndarray,
        tids: np.ndarray,
        makers: Sequence[tuple[type | None, tuple]],
        singles: dict[int, Any],
    ) -> list[Any]:
        """The items of ``rows`` (each with an item), built from templates or singles."""
        return PlainItems(
            block.ts_ns[rows], block.number[rows], rows, tids, makers, singles
        ).items()


class _Runs:
    """A block's adverts (frame order): which are regular, and the runs they form."""

    def __init__(
        self,
        block: BlockTimes,
        rows: np.ndarray,
        rid: np.ndarray,
        sid: np.ndarray,
        cid: np.ndarray,
        interval: np.ndarray,
        tid: np.ndarray,
    ) -> None:
        self.block, self.rows, self.rid, self.sid = block, rows, rid, sid
        self.cid, self.interval, self.tid = cid, interval, tid
        self.ts = block.ts_ns[rows].astype(np.int64)
        self.gap = np.zeros(len(rows), np.int64)
        self.regular = np.zeros(len(rows), bool)

    def speaker_regular(self, carry: dict[int, tuple[int, int]]) -> None:
        """Adverts that repeat their speaker's previous one, less than 1.5 intervals on
        (:func:`vrrpscope.engine.gapstats.misses_adverts`)."""
        order = _stable_order(self.sid)
        s, c, t = self.sid[order], self.cid[order], self.ts[order]
        n = len(order)
        same = np.zeros(n, bool)
        same[1:] = s[1:] == s[:-1]
        prev_c = np.full(n, -1, np.int64)
        prev_t = np.zeros(n, np.int64)
        prev_c[1:], prev_t[1:] = c[:-1], t[:-1]
        heads = np.flatnonzero(~same)
        for h in heads.tolist():
            got = carry.get(int(s[h]))
            if got is not None:
                prev_c[h], prev_t[h] = got
        for tail in np.append(heads[1:] - 1, n - 1).tolist():
            carry[int(s[tail])] = (int(c[tail]), int(t[tail]))
        regular_gap = ~misses_adverts(t - prev_t, self.interval[order])
        self.regular[order] = (c >= 0) & (prev_c == c) & regular_gap
        self.gap[order] = t - prev_t

    def cut(self) -> None:
        """Runs: regular adverts one after another on a router, of one or two speakers
        (three or more: no run, each advert fed alone)."""
        self.order = _stable_order(self.rid)
        r = self.rid[self.order]
        self.same = np.zeros(len(r), bool)
        self.same[1:] = r[1:] == r[:-1]
        for _ in range(2):
            reg = self.regular[self.order]
            go_on = np.zeros(len(r), bool)
            go_on[1:] = reg[1:] & reg[:-1] & self.same[1:]
            self.starts = np.flatnonzero(reg & ~go_on)
            ends = np.flatnonzero(reg & ~np.append(go_on[1:], False)) + 1
            self.run_of = np.full(len(r), -1, np.int64)
            lengths = ends - self.starts
            at = np.flatnonzero(reg)
            self.run_of[at] = np.repeat(np.arange(len(self.starts)), lengths)
            self._parts()
            speakers = np.bincount(self.part_run[self.first], minlength=len(self.starts))
            crowded = np.flatnonzero(speakers > 2)
            if len(crowded) == 0:
                return
            self.regular[self.order[np.isin(self.run_of, crowded)]] = False

    def _parts(self) -> None:
        """Regular adverts grouped by run, then speaker, in frame order (``self.idx``);
        ``self.first``: where each part starts, ``self.part_run``: run of each."""
        order = self.order
        at = np.flatnonzero(self.run_of >= 0)  # positions in router order
        run = self.run_of[at]
        rows_in = order[at]  # advert indices, grouped by run, in frame order
        by_sid = _stable_order(self.sid[rows_in])
        by_part = by_sid[_stable_order(run[by_sid])]
        self.idx = idx = rows_in[by_part]
        self.part_run = part_run = run[by_part]
        part_sid = self.sid[idx]
        new = np.ones(len(idx), bool)
        new[1:] = (part_run[1:] != part_run[:-1]) | (part_sid[1:] != part_sid[:-1])
        self.first = np.flatnonzero(new)

    def layout(self, templates: list[Any], expiry_of: np.ndarray) -> RunLayout | None:
        """The runs as arrays (``templates`` and ``expiry_of`` per template id)."""
        if len(self.starts) == 0:
            return None
        idx, part_run, first = self.idx, self.part_run, self.first
        lengths = np.diff(np.append(first, len(idx)))
        gaps = self.gap[idx]
        ts = self.ts[idx]
        interval = self.interval[idx]
        bins = np.minimum(gaps * BINS_PER_INTERVAL // interval, _LAST_BIN)
        part_tid = self.tid[idx[first]]
        expiry = expiry_of[part_tid]
        starts = self.starts
        follows = (starts > 0) & self.same[starts]
        anchors = np.where(follows, self.rows[self.order[np.maximum(starts - 1, 0)]], -1)
        return RunLayout(
            ts,
            self.block.number[self.rows[idx]].astype(np.int64),
            self.rows[idx],
            gaps,
            bins,
            chain_ends(ts, expiry.repeat(lengths), first, lengths),
            first,
            lengths,
            part_run[first],
            [templates[t] for t in part_tid.tolist()],
            expiry.tolist(),
            anchors,
        )


@dataclass(slots=True)
class RunLayout:
    """A block's runs as arrays (what :meth:`_Runs.layout` found): adverts part after
    part as in :class:`RunColumns`, parts in order of run."""

    ts: np.ndarray
    frames: np.ndarray
    rows: np.ndarray
    gaps: np.ndarray
    bins: np.ndarray
    lands: np.ndarray
    first: np.ndarray  # each part's first advert and advert count
    lengths: np.ndarray
    part_run: np.ndarray  # each part's run
    templates: list[Any]  # each part's template and silence expiry
    expiries: list[int]
    anchors: np.ndarray  # per run: the event row it follows, -1 at the block's start

    def build(self) -> tuple[list[tuple[int, RunSpec]], RunColumns]:
        """(event row it follows, or -1 at the block's start; the run) for each run, and
        the runs' columns."""
        sums = gap_sums(self.gaps)
        wholes = _summaries(self.gaps, self.bins, sums, self.ts, self.first, self.lengths)
        runs: dict[int, RunSpec] = {}
        for k, (f, n, run, template, expiry) in enumerate(
            zip(
                self.first.tolist(),
                self.lengths.tolist(),
                self.part_run.tolist(),
                self.templates,
                self.expiries,
                strict=True,
            )
        ):
            part = PartSpec(template, f, f + n, wholes[k], expiry)
            spec = runs.get(run)
            if spec is None:
                runs[run] = RunSpec([part])
            else:
                spec.parts.append(part)
        anchors = self.anchors.tolist()
        columns = RunColumns(
            self.ts, self.frames, self.rows, self.gaps, self.bins, self.lands, sums
        )
        return [(anchors[k], spec) for k, spec in runs.items()], columns


def chain_ends(
    ts: np.ndarray, expiry: np.ndarray, first: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """For each advert of each part (parts: ``first``/``lengths`` in ``ts``): index, within
    its part, of the advert whose time plus ``expiry`` is where a silence timer armed from
    it lands after re-arming advert by advert, at or past the part's last advert
    (:func:`vrrpscope.engine.bulk.runs.chain`); a part-relative index.
    """
    n = len(ts)
    part = np.repeat(np.arange(len(first)), lengths)
    start = first[part]
    rel = ts - ts[start]
    last = ts[(first + lengths - 1)[part]]
    span = int(rel.max()) + int(expiry.max()) + 1 if n else 1
    if len(first) * span < 1 << 62:
        key = part * span + rel
        nxt = np.searchsorted(key, key + expiry, side="right") - 1
    else:  # parts spread too wide for one key: part by part
        nxt = np.empty(n, np.int64)
        for f, m in zip(first.tolist(), lengths.tolist(), strict=True):
            t = ts[f : f + m]
            nxt[f : f + m] = f + np.searchsorted(t, t + expiry[f : f + m], side="right") - 1
    step = np.where(ts + expiry >= last, np.arange(n), nxt)
    for _ in range(int(lengths.max()).bit_length() + 1 if n else 0):
        step = step[step]
    return step - start


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """A stable argsort (a radix sort when the keys fit 16 bits)."""
    if len(keys) and int(keys.min()) >= 0 and int(keys.max()) < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


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
    top_run = run_of[at_top]
    first_top = np.ones(len(at_top), bool)
    first_top[1:] = top_run[1:] != top_run[:-1]
    top_at = at_top[first_top]
    bin_values, _, bin_id = unique_first(bins, _LAST_BIN + 1)  # the few bins in use
    width = len(bin_values)
    pairs, seen_at, which = unique_first(run_of * width + bin_id, runs * width)
    counts = np.bincount(which, minlength=len(pairs))
    by_run = np.argsort(seen_at)  # runs are contiguous: by run, then first gap
    hists: list[dict[int, int]] = [{} for _ in range(runs)]
    names = bin_values.tolist()
    for pair, count in zip(pairs[by_run].tolist(), counts[by_run].tolist(), strict=True):
        hists[pair // width][names[pair % width]] = count
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
        and advert.hmac is None  # a signed advert never repeats, but a replayed one does
    )
