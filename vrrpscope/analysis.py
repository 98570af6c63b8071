"""Run captures through the decoder and the engine: what `analyze` and the API share.

Two routes give the same items in the same order (tests/columnar/test_feed.py): the fast one
(:class:`vrrpscope.columnar.feed.FeedDecoder`: columnar decode, one general decode per distinct
frame) is taken by default; ``general=True`` or ``VRRPSCOPE_GENERAL=1`` in the
environment forces the general one (:class:`DecodeSession`: every frame decoded alone).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from vrrpscope.columnar.adverts import AdvertTable
from vrrpscope.columnar.decoder import fast_table
from vrrpscope.columnar.feed import FeedDecoder
from vrrpscope.columnar.records import BLOCK, is_plain_file
from vrrpscope.detectors import concurrency
from vrrpscope.engine.bulk.planner import BlockPlan, PlainItems, RunSpec
from vrrpscope.engine.bulk.runs import HeldRun, SpeakerRun
from vrrpscope.engine.core import Engine
from vrrpscope.engine.crossfile import CrossFileDuplicates, distinct_files
from vrrpscope.engine.state import router_key
from vrrpscope.filters import Selection, ViewFilter
from vrrpscope.findings import Finding, FindingEvent
from vrrpscope.model import AddressClaim, Advert, OtherTraffic, frame_of
from vrrpscope.parallel import ForkedPlans, can_fork
from vrrpscope.pipeline import DecodeSession, decode_notes
from vrrpscope.proto.decode import Decoded, DecodeStats
from vrrpscope.proto.link import LINKTYPE_LINUX_SLL
from vrrpscope.result import Analysis
from vrrpscope.thresholds import Thresholds

FAST_BLOCK = BLOCK  # bytes per block of a plain pcap file on the fast route


def analyze_files(
    paths: Sequence[str],
    thresholds: Thresholds | None = None,
    *,
    keep_adverts: bool = False,
    on_event: Callable[[FindingEvent], None] | None = None,
    on_progress: Callable[[DecodeSession | FeedDecoder], None] | None = None,
    general: bool | None = None,
    parallel: bool | None = None,
    view: ViewFilter | None = None,
) -> Analysis:
    """Decode `paths` (merged in time order) and feed the engine; never raises on damage.

    ``general``: force the general per-frame route (True) or the fast one (False); by
    default the fast one unless ``VRRPSCOPE_GENERAL`` is set to a non-empty value other
    than ``0``. Both give the same findings, inventory, counts and notes. ``parallel``:
    decode in a second process (:mod:`vrrpscope.parallel`) while the engine runs; by
    default (``VRRPSCOPE_PARALLEL`` unset) for a single capture of 16 MiB or more when
    there is a second CPU; ``VRRPSCOPE_PARALLEL=0`` / ``1`` never / always. ``view``:
    only the VRIDs, segments and time window it selects reach the engine (both routes
    alike: :mod:`vrrpscope.filters`); ``Analysis.selection`` says what it kept.
    """
    if general is None:
        general = os.environ.get("VRRPSCOPE_GENERAL", "") not in ("", "0")
    paths, repeats = distinct_files(paths)
    run: DecodeSession | FeedDecoder
    run = DecodeSession(list(paths)) if general else FeedDecoder(list(paths), FAST_BLOCK)
    engine = Engine(thresholds or Thresholds(), on_event=on_event)
    selection = None
    if view is not None and view.active:  # (the fast route filters in its decoder)
        selection = Selection.prepare(view, paths)
        selection.start_of = lambda: _stats(run).first_ts_ns
        if isinstance(run, FeedDecoder):
            run.decoder.selection = selection
    keep = selection.keep if selection is not None and not isinstance(run, FeedDecoder) else None
    kept: list[Advert] = []
    duplicates = CrossFileDuplicates() if len(paths) > 1 else None
    # Change points: regular adverts applied in bulk (adverts seen twice dropped by the
    # planner). Not with finding events (those of different routers would come in another
    # order), nor for the adverts table of several files (it would keep the copies).
    table: AdvertTable | None = None
    bulk = isinstance(run, FeedDecoder) and on_event is None
    bulk = bulk and not (keep_adverts and duplicates is not None)
    # The table is read in a pass of its own: stdin and pipes can be read only once.
    bulk = bulk and not (keep_adverts and not all(map(is_plain_file, paths)))
    if bulk and keep_adverts:  # the columnar decode's table is the same (test_fastpath.py)
        try:
            table = fast_table(list(paths), FAST_BLOCK)[0]
            if selection is not None:
                table = selection.select_table(table)
        except (OverflowError, ValueError):  # e.g. times past 2262: advert by advert
            bulk = False
    if bulk and isinstance(run, FeedDecoder):
        th = engine.thresholds
        if parallel is None and os.environ.get("VRRPSCOPE_PARALLEL", "") != "":
            parallel = os.environ["VRRPSCOPE_PARALLEL"] != "0"
        if parallel or (parallel is None and can_fork(run)):
            forked = ForkedPlans(run, th)
            blocks = iter(forked)
            try:
                feed_plans(blocks, engine, on_progress, forked)
            finally:
                blocks.close()  # (an error here: the child is killed and reaped now)
        else:
            feed_plans(run.plans(th, duplicates), engine, on_progress, run)
        items: Iterable[Decoded] = ()
    else:
        items = run.items()
    for count, item in enumerate(items, 1):
        if keep is not None and not keep(item):
            continue
        if isinstance(item, Advert):
            if duplicates is not None and duplicates.seen(item):
                continue
            engine.feed(item)
            if keep_adverts:
                kept.append(item)
        elif isinstance(item, OtherTraffic):
            engine.feed_other(item)
        elif isinstance(item, AddressClaim):
            engine.feed_claim(item)
        if on_progress is not None and count % 50_000 == 0:
            on_progress(run)
    stats = _stats(run)
    damage = run.damage
    notes = decode_notes(stats)
    first_ns, last_ns = stats.first_ts_ns, stats.last_ts_ns
    if isinstance(run, FeedDecoder) and run.decoder.selection is not None:
        selection = run.decoder.selection  # (the decoding child's counts: parallel.py)
    if selection is not None:
        first_ns, last_ns = _clip(first_ns, last_ns, selection)
        notes.append(selection.note())
    # The capture lasts until its last frame of any kind, not its last advert: silence
    # at the end of a capture filtered with `vrrp or arp` is still silence (and the
    # window until --until, when the capture goes on past it).
    engine.finish(last_ns)
    if len(paths) > 1:
        name_frame_files(engine.findings, paths)
        engine.files = list(paths)
    if stats.link_types.get(LINKTYPE_LINUX_SLL):  # one segment of several interfaces
        concurrency.sll_merged(engine.findings)
    notes[:0] = repeats
    if duplicates is not None and duplicates.dropped:
        notes.append(
            f"{duplicates.dropped} advert(s) seen in two files at once (the same segment "
            "captured twice) were counted once"
        )
    analysis = Analysis(
        files=list(paths),
        stats=stats,
        engine=engine,
        damage=damage,
        notes=notes,
        first_ts_ns=first_ns,
        last_ts_ns=last_ns,
        backwards_ts=stats.backwards_ts,
        adverts=table
        if table is not None
        else AdvertTable.from_adverts(kept)
        if keep_adverts
        else None,
        selection=selection,
    )
    _ = analysis.incidents  # correlated now: a drift the capture explains reads as info
    return analysis


def name_frame_files(findings: Iterable[Finding], paths: Sequence[str]) -> None:
    """Of several files: each finding's evidence frames as (file, number in that file)."""
    for f in findings:
        refs = sorted(set(f.frames))
        f.frames = [frame_of(ref)[1] for ref in refs]
        f.frame_files = [paths[min(frame_of(ref)[0], len(paths) - 1)] for ref in refs]


def _stats(run: DecodeSession | FeedDecoder) -> DecodeStats:
    return run.stats if isinstance(run, FeedDecoder) else run.decoder.stats


def _clip(first: int | None, last: int | None, selection: Selection) -> tuple:
    """The capture's span cut to the selected window (what the engine saw)."""
    if first is None or last is None:
        return first, last
    lo, hi = selection.bounds
    if lo is not None:
        first = max(first, lo)
    if hi is not None:
        last = min(last, hi)
    return first, max(first, last)


def feed_plans(
    plans: Iterable[BlockPlan | PlainItems | list[Decoded]],
    engine: Engine,
    on_progress: Callable[[Any], None] | None = None,
    progress_of: object = None,
) -> None:
    """Feed ``engine`` block by block: events one by one, regular adverts held back in
    runs (``on_progress(progress_of)`` about every 50,000 frames)."""
    since = 0  # frames since progress was last reported
    for plan in plans:
        if isinstance(plan, BlockPlan):
            since += plan.rows_total
            if plan.build().fits(engine):
                feed_plan(engine, plan)
                plan = []
            else:
                plan = plan.items_in_order()
        else:
            if isinstance(plan, PlainItems):
                plan = plan.items()
            since += len(plan)
        for item in plan:
            engine.feed_item(item)
        if on_progress is not None and since >= 50_000:
            on_progress(progress_of)
            since = 0


def feed_plan(engine: Engine, plan: BlockPlan) -> None:
    """One block: runs attached after the event they follow, the clock to the block's
    last item, then every run applied."""
    base = engine.position
    if engine.now_ns is None:
        engine.catch_up(plan.first_ns)
    for spec in plan.runs_first:
        _attach(engine, spec, plan, base)
    for segment, label, n in plan.others:
        engine.count_other(segment, label, n)
    note_hsrp(engine, plan)
    runs_after = plan.runs_after
    for row, item in zip(plan.rows, plan.items, strict=True):
        engine.position = base + row
        engine.feed_item(item)
        if runs_after:
            spec = runs_after.get(row)
            if spec is not None:
                _attach(engine, spec, plan, base)
    engine.catch_up(plan.last_ns)
    engine.flush_all()
    engine.position = base + plan.rows_total


def _attach(engine: Engine, spec: RunSpec, plan: BlockPlan, base: int) -> None:
    first = spec.parts[0].template
    router = engine.router(router_key(first))
    if router is None:
        raise RuntimeError("regular adverts of an unknown router")  # a planner bug
    cols = plan.columns
    assert cols is not None
    sums = cols.prefix_sums()
    parts = []
    for part in spec.parts:
        advert = part.template
        # (None: forgotten at the router's speaker cap; fed one by one when applied)
        sp = router.speakers.get((advert.src, advert.src_mac))
        if sp is not None and sp.last_valid_ns is None:
            sp = None
        lo, hi = part.lo, part.hi
        parts.append(
            SpeakerRun(
                sp,
                advert,
                cols.ts[lo:hi],
                cols.frames[lo:hi],
                cols.rows[lo:hi].astype(np.int64) + (base + 1),
                sp.last_valid_ns if sp is not None else 0,
                cols.gaps[lo:hi],
                cols.bins[lo:hi],
                sums[:, lo : hi + 1],
                part.whole,
                cols.lands[lo:hi] if sp is not None and part.expiry_ns == sp.expiry_ns else None,
            )
        )
    engine.attach(HeldRun(router, parts))


def note_hsrp(engine: Engine, plan: BlockPlan) -> None:
    """The HSRP messages among a block's other multicast counted at once: per distinct
    message, how many, the first and the last (time, frame)."""
    hsrp = [k for k, item in enumerate(plan.other_items) if item.hsrp is not None]
    if not hsrp:
        return
    which = plan.other_which
    for k in hsrp:
        at = np.flatnonzero(which == k)
        item = plan.other_items[k]
        lo, hi = int(at[0]), int(at[-1])
        first = (int(plan.other_ts[lo]), int(plan.other_frames[lo]))
        last = (int(plan.other_ts[hi]), int(plan.other_frames[hi]))
        engine.hsrp.note(item.segment, item.family, item.src, item.hsrp, len(at), first, last)
