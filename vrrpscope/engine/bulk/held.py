"""The engine's held-back runs of regular adverts (DESIGN §7, change points).

:class:`HeldRuns` is a collaborator the engine owns: it holds
:class:`vrrpscope.engine.bulk.runs.HeldRun` s and applies them when something is about to
read their router: the router's next advert, an address claim on its segment, one of
its timers, the end of a block. Applied in bulk when the run's speakers are exactly the
router's masters and no claim waits; otherwise advert by advert, as the general path.
It sees of the engine only what the engine hands it (:class:`RunHost`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from vrrpscope.engine import contract
from vrrpscope.engine.bulk.runs import HeldRun, SpeakerRun, summarize
from vrrpscope.engine.state import DeferredDrift, RouterKey, RouterState, SpeakerState, router_key
from vrrpscope.engine.timerqueue import EXPIRE, QUIET, TimerQueue

if TYPE_CHECKING:
    from collections import OrderedDict

    from vrrpscope.detectors import Context
    from vrrpscope.findings import FindingBook
    from vrrpscope.model import Advert
    from vrrpscope.thresholds import Thresholds


class AdvertCount(Protocol):
    """The engine counter held runs add their adverts to."""

    adverts: int


@dataclass(slots=True, eq=False)
class RunHost:
    """What held runs may use of their engine: its state holders and four entry points."""

    thresholds: Thresholds
    stats: AdvertCount  # the engine's counters (EngineStats)
    routers: OrderedDict[RouterKey, RouterState]  # least recently advertised first
    segments: dict[str, dict[RouterKey, RouterState]]
    timers: TimerQueue
    book: FindingBook
    ctx: Context
    live: Callable[[RouterState, SpeakerState | None], bool]  # router / speaker not forgotten
    feed_regular: Callable[[Advert, int, RouterKey], None]  # one advert of a run, at a time
    run_timers: Callable[[int], None]  # fire the timers due before a time
    position: Callable[[], int]  # the engine's position in the item stream
    seek: Callable[[int], None]  # ... set (a held advert's, while it is fed)


class HeldRuns:
    """Held-back runs of one engine (``host``: what it may touch of the engine)."""

    def __init__(self, host: RunHost) -> None:
        self.host = host
        self.pending: dict[RouterKey, HeldRun] = {}  # regular adverts held back
        self._feeding: set[int] = set()  # ids of runs being fed one by one right now
        self._order_dirty = False  # a bulk apply moved a router's latest advert

    def attach(self, run: HeldRun) -> None:
        """Hold ``run``'s regular adverts back until something reads its router."""
        self.pending[run.router.key] = run

    def flush_all(self) -> None:
        """Apply every held-back advert."""
        for run in list(self.pending.values()):
            self.flush(run)

    def flush_before(self, tick: int, then: int) -> None:
        """Apply every held-back advert before position ``tick`` (a router is evicted)."""
        for run in list(self.pending.values()):
            self.flush(run, before_tick=tick, then=then)

    def flush(
        self,
        run: HeldRun,
        until_ns: int | None = None,
        before_tick: int | None = None,
        then: int | None = None,
    ) -> None:
        """Apply ``run``'s adverts at or before ``until_ns`` and before position
        ``before_tick`` (default: all of them); then fire the timers they armed that fall
        due before ``then`` (the time of what comes next), as the clock would have."""
        ends = []
        for part in run.parts:
            end = len(part.ts)
            if until_ns is not None:
                end = min(end, part.count_until(until_ns))
            if before_tick is not None:
                end = min(end, part.count_before_tick(before_tick))
            ends.append(end)
        if any(end > part.done for part, end in zip(run.parts, ends, strict=True)):
            if self._can_bulk(run, ends):
                self._apply_bulk(run, ends)
            else:
                # Two masters whose split brain is not found yet: one by one until it is.
                two = len(run.parts) == 2 == len(run.router.active)
                if self._apply_each(run, ends, two) and self._can_bulk(run, ends):
                    self._apply_bulk(run, ends)
        if not run.left and self.pending.get(run.router.key) is run:
            del self.pending[run.router.key]
        if then is not None:
            due = self.host.timers.next_due()
            if due is not None and due < then:
                self.host.run_timers(then)

    def _can_bulk(self, run: HeldRun, ends: list[int]) -> bool:
        """Whether the speakers with adverts to apply are exactly the router's masters and
        nothing else (a claim waiting, a split brain not yet found) needs each advert."""
        router = run.router
        active = router.active
        if self.host.routers.get(router.key) is not router or router.pending_claims:
            return False
        parts = [part for part, end in zip(run.parts, ends, strict=True) if end > part.done]
        if len(active) != len(parts):
            return False
        for part in parts:
            sp = part.speaker
            if sp is None or active.get(sp.key) is not sp or router.speakers.get(sp.key) is not sp:
                return False
            if sp.gaps is None or sp.last_valid_ns is None:
                return False
        if len(parts) == 1:
            return True
        return contract.overlap_known(self.host.ctx, router, *active.values())

    def flush_segment(self, segment: str, t: int) -> None:
        """Before an address claim on ``segment`` (or a router appearing there): its
        routers' adverts so far."""
        for router in self.host.segments.get(segment, {}).values():
            run = self.pending.get(router.key)
            if run is None:
                continue
            self.flush(run, before_tick=self.host.position(), then=t)
            for part in run.parts:
                if part.left and part.jumped_from is not None:
                    # The rest may be fed one by one: put the silence timer back where
                    # advert-by-advert re-arming has it now.
                    due = part.due_at(t)
                    if due is not None:
                        part.speaker.timer_due_ns = due
                        self.host.timers.push(due, EXPIRE, router, part.speaker)
                    part.jumped_from = None

    def before_timer(self, due: int, kind: int, a: Any, b: Any) -> bool:
        """Bring a held-back run up to ``due`` before its router's timer; True if that
        timer was a re-arm of one of the run's masters, moved ahead without applying."""
        key = router_key(a) if kind == QUIET else a.key
        run = self.pending.get(key)
        if run is None or (kind != QUIET and run.router is not a) or id(run) in self._feeding:
            return False  # (a run being fed one by one is up to date)
        if kind == EXPIRE and b.timer_due_ns != due:
            return False  # a moot timer: its handler reads nothing
        if kind == EXPIRE and self.host.live(a, b):
            part = run.part_of(b)
            if part is not None and part.left and b.active_since_ns is not None:
                # Its adverts go on (each less than an expiry after the last): every
                # firing up to the run's last known advert would only re-arm it.
                landed = part.next_due(due)
                if landed is not None:
                    b.timer_due_ns = landed
                    self.host.timers.push(landed, EXPIRE, a, b)
                    part.jumped_from = due
                    return True
        self.flush(run, until_ns=due, then=due)
        return False

    def _apply_each(self, run: HeldRun, ends: list[int], watch: bool = False) -> bool:
        """Feed the run's adverts up to ``ends`` one by one, in order, as the general
        path does; with ``watch``, stop (True) once the rest can be applied in bulk."""
        host = self.host
        tick = host.position()
        rows = []
        for part, end in zip(run.parts, ends, strict=True):
            rows.extend((int(part.ticks[j]), j, part) for j in range(part.done, end))
        rows.sort(key=lambda row: row[0])
        stopped = False
        self._feeding.add(id(run))
        try:
            for at, j, part in rows:
                if watch and part.done == j and self._can_bulk(run, ends):
                    stopped = True
                    break
                template = part.template
                key = router_key(template)
                t = int(part.ts[j])
                due = self.host.timers.next_due()
                if due is not None and due < t:  # as the clock would: timers come first
                    self.host.run_timers(t)
                part.done = j + 1
                host.seek(at)
                host.feed_regular(replace(template, ts_ns=t, frame=int(part.frames[j])), t, key)
        finally:
            self._feeding.discard(id(run))
        host.seek(tick)
        self._order_dirty = True  # (routers moved to the end in this order, not the stream's)
        return stopped

    def _apply_bulk(self, run: HeldRun, ends: list[int]) -> None:
        """Apply the run's adverts up to ``ends`` at once (its speakers are the masters).

        Drift evaluations fall due every so many gaps: each speaker's adverts are applied
        up to each of its due points, the points of all speakers in stream order.
        """
        router = run.router
        if len(run.parts) == 1:  # the common case, kept short
            part, end = run.parts[0], ends[0]
            stops, whole = self._drift_stops(router, part, end)
            sp = part.speaker
            hist = sp.gaps.hist if sp.gaps is not None else {}
            for stop in stops:
                self._apply_counts(router, part, stop, part.summary(part.done, stop, hist))
                contract.drift_point(self.host.ctx, router, sp, int(part.ts[stop - 1]))
            if end > part.done:
                if stops:
                    whole = part.summary(part.done, end, hist)
                self._apply_counts(router, part, end, whole)
            router.speakers.move_to_end(sp.key)
            return
        points: list[tuple[int, int, SpeakerRun]] = []
        wholes: dict[int, Any] = {}
        starts = [part.done for part in run.parts]
        for k, (part, end) in enumerate(zip(run.parts, ends, strict=True)):
            if end > part.done:
                stops, wholes[k] = self._drift_stops(router, part, end)
                points.extend((int(part.ticks[stop - 1]), stop, part) for stop in stops)
        points.sort(key=lambda point: point[0])
        for _tick, stop, part in points:
            self._apply_counts(
                router, part, stop, part.summary(part.done, stop, part.speaker.gaps.hist)
            )
            contract.drift_point(self.host.ctx, router, part.speaker, part.speaker.last_valid_ns)
        latest = []
        for k, (part, end) in enumerate(zip(run.parts, ends, strict=True)):
            if k not in wholes:
                continue
            if end > part.done:
                whole = (
                    wholes[k]
                    if part.done == starts[k]
                    else part.summary(part.done, end, part.speaker.gaps.hist)
                )
                self._apply_counts(router, part, end, whole)
            latest.append((int(part.ticks[end - 1]), int(part.ts[end - 1]), part))
        latest.sort(key=lambda item: item[0])
        for tick, _t, part in latest:  # least recently advertised first, as one by one
            router.speakers.move_to_end(part.speaker.key)
            router.touch = tick
        last = max(t for _tick, t, _part in latest)
        router.last_ts_ns = router.last_valid_ns = last
        if len(latest) > 1:
            contract.overlap_went_on(router, last, *router.active.values())

    def _drift_stops(self, router: RouterState, part: SpeakerRun, end: int) -> tuple[list, Any]:
        """Where (advert counts) drift must be evaluated in ``part`` up to ``end``, and the
        summary of those gaps. None needed when no evaluation can change anything; when
        only the open finding would be updated, just the last (the others' evidence
        frames are added here)."""
        sp = part.speaker
        gaps = sp.gaps
        assert gaps is not None
        start = part.done
        points = _drift_points(gaps.count, end - start, self.host.thresholds.drift_min_samples)
        whole = part.summary(start, end, gaps.hist)
        if not points or contract.drift_quiet(self.host.ctx, router, sp, whole):
            return [], whole
        finding = contract.drift_open_for_good(self.host.ctx, router, sp)
        if finding is not None:
            # Each evaluation would only update it: its end and evidence move here; the
            # text and statistics of the last one come with the next evaluation, or
            # before the next advert on the router (catch_up_drift), which may forget it.
            stop = start + points[-1]
            frames = [int(part.frames[start + at - 1]) for at in points]
            last = int(part.ts[stop - 1])
            self.host.book.update(finding, last, frames=frames, notify=False)
            g, b, _ = part.gap_tables()
            then = gaps.copy()
            piece = (g[start:stop], b[start:stop], part.ts[start:stop])
            sp.drift_pending = DeferredDrift(then, *piece, last, frames[-1])
            router.drift_pending = True
            return [], whole
        return [start + at for at in points], whole

    def _apply_counts(self, router: RouterState, part: SpeakerRun, end: int, gaps: Any) -> None:
        sp = part.speaker
        n = end - part.done
        last = int(part.ts[end - 1])
        stats = sp.gaps
        assert stats is not None  # (a run's speakers have gap statistics: _can_bulk)
        stats.add_regular(
            gaps.count, gaps.sum_ns, gaps.sumsq_ns2, gaps.max_ns, gaps.max_end_ns, gaps.hist
        )
        self.host.stats.adverts += n
        router.adverts += n
        router.last_ts_ns = router.last_valid_ns = last
        router.touch = int(part.ticks[end - 1])
        sp.adverts += n
        sp.episode_adverts += n
        sp.last_ts_ns = sp.last_valid_ns = last
        sp.last_frame = int(part.frames[end - 1])
        sp.deadline_ns = last + sp.expiry_ns
        form = part.template.checksum_form
        if form is not None:
            sp.checksum_forms[form] += n
        part.done = end
        self._order_dirty = True

    def catch_up_drift(self, router: RouterState) -> None:
        """Make the interval-drift evaluations bulk applies left for later on ``router``,
        with the statistics of then (before anything changes the router)."""
        router.drift_pending = False
        for sp in router.speakers.values():
            if sp.drift_pending is None:
                continue
            deferred = sp.drift_pending
            then, at, frame = deferred.before, deferred.at_ns, deferred.frame
            piece = summarize(deferred.gaps, deferred.bins, deferred.ts)
            then.add_regular(
                piece.count,
                piece.sum_ns,
                piece.sumsq_ns2,
                piece.max_ns,
                piece.max_end_ns,
                piece.hist,
            )
            now_gaps, now_frame = sp.gaps, sp.last_frame
            sp.gaps, sp.last_frame = then, frame
            try:
                contract.drift_point(self.host.ctx, router, sp, at)
            finally:
                sp.gaps, sp.last_frame = now_gaps, now_frame

    def reorder(self) -> None:
        """Routers least recently advertised first again, after bulk applies."""
        if self._order_dirty:
            routers = self.host.routers
            for key, _router in sorted(routers.items(), key=lambda item: item[1].touch):
                routers.move_to_end(key)  # (in place: the engine holds this dict)
            self._order_dirty = False


def _drift_points(count: int, n: int, min_samples: int) -> list[int]:
    """Of ``n`` more gaps after ``count``, those (1-based) after which drift.due holds."""
    points = []
    if count < min_samples <= count + n:
        points.append(min_samples - count)
    first = (max(count, min_samples - 1) // 64 + 1) * 64
    points.extend(c - count for c in range(first, count + n + 1, 64) if c != min_samples)
    return sorted(points)
