"""The engine: event-time state per segment and virtual router, feeding the detectors.

`feed()` is the hot path: it updates counters and the speaker's state, and calls a
detector only when something changed (a new speaker or configuration, a gap, a second
master). Silence is found by timers on a heap, run by the next event's time or by
`advance()` (a live timer), so a file and a live capture give the same findings.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vrrpscope.detectors import Context
from vrrpscope.engine import contract
from vrrpscope.engine.bulk.held import HeldRuns, RunHost
from vrrpscope.engine.bulk.runs import HeldRun
from vrrpscope.engine.gapstats import GapStats, misses_adverts
from vrrpscope.engine.hsrp import HsrpBook
from vrrpscope.engine.inventory import SegmentInventory, build_inventory
from vrrpscope.engine.signing import SigningStats
from vrrpscope.engine.state import (
    ClaimRecord,
    MasterPeriod,
    RouterKey,
    RouterState,
    SpeakerState,
    election_rank,
    router_key,
    yields_to,
)
from vrrpscope.engine.timerqueue import EXPIRE, QUIET, SILENCE, Timer, TimerQueue
from vrrpscope.engine.timers import interval_ns, master_down_ns
from vrrpscope.findings import Finding, FindingBook, FindingEvent
from vrrpscope.model import AddressClaim, Advert, OtherTraffic
from vrrpscope.thresholds import Thresholds

if TYPE_CHECKING:
    from vrrpscope.logs.reader import LogFile

_EXPIRE, _SILENCE, _QUIET = EXPIRE, SILENCE, QUIET
_MAX_LABELS = 256  # other-protocol labels counted per segment
_MAX_CLAIM_IPS = 4096  # addresses tracked per segment for address claims
_MAX_CLAIM_MACS = 16  # MACs tracked per claimed address


#: A frame at most this much earlier than the latest one is analysed at the latest time
#: and counted (``backwards_ts``), with no timestamps-backwards finding: frames of
#: several interfaces (``-i any``, a bridge and its ports) are timestamped on different
#: CPUs and queued slightly out of order. A bigger step back is a clock step or a merge.
REORDER_TOLERANCE_NS = 10_000_000


@dataclass(slots=True)
class EngineStats:
    """Counters for the capture summary."""

    adverts: int = 0
    invalid: int = 0
    other: int = 0
    claims: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    backwards_ts: int = 0
    max_step_back_ns: int = 0
    failovers: int = 0
    evicted_routers: int = 0
    evicted_speakers: int = 0
    suppressed_findings: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "adverts": self.adverts,
            "invalid_adverts": self.invalid,
            "other_multicast": self.other,
            "address_claims": self.claims,
            "first_ts": None if self.first_ts_ns is None else self.first_ts_ns / 1e9,
            "last_ts": None if self.last_ts_ns is None else self.last_ts_ns / 1e9,
            "backwards_ts": self.backwards_ts,
            "max_step_back_s": self.max_step_back_ns / 1e9,
            "failovers": self.failovers,
            "evicted_routers": self.evicted_routers,
            "evicted_speakers": self.evicted_speakers,
            "suppressed_findings": dict(self.suppressed_findings),
        }


class Engine:
    """Per segment / virtual router state, master timeline and findings (DESIGN §1, §3).

    Regular adverts of the fast route are held back and applied in bulk by its
    :class:`HeldRuns`, which sees only the :class:`RunHost` given to it."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        on_event: Callable[[FindingEvent], None] | None = None,
    ) -> None:
        self.thresholds = th = thresholds if thresholds is not None else Thresholds()
        self._book = FindingBook(th.max_findings, th.max_evidence_frames, on_event)
        self._ctx = Context(self._book, th, self._schedule_quiet)
        self._routers: OrderedDict[RouterKey, RouterState] = OrderedDict()
        self._segments: dict[str, dict[RouterKey, RouterState]] = self._ctx.segments
        self._other: dict[str, Counter[str]] = {}
        self.hsrp = HsrpBook(self.thresholds.max_segments)  # HSRP groups per segment
        self._claims = self._ctx.claims  # segment -> VIP -> MAC -> ClaimRecord
        self.files: list[str] = []  # several inputs: their paths (model.file_bases)
        self._timers = TimerQueue()
        self._timers.is_live = self._timer_is_live
        self._timers.tie = _timer_tie
        self._now: int | None = None  # latest event or advance() time
        self._last_packet_ns: int | None = None  # latest packet time
        self._finished = False
        self.stats = EngineStats()
        self._tick = 0  # position in the item stream (orders routers least recently used)
        self._held = HeldRuns(
            RunHost(
                th,
                self.stats,
                self._routers,
                self._segments,
                self._timers,
                self._book,
                self._ctx,
                self._live,
                self._feed_regular,
                self._run_timers,
                self._position,
                self._seek,
            )
        )
        self._pending = self._held.pending  # regular adverts held back (router -> run)

    # ----------------------------------------------------------------- public API

    @property
    def now_ns(self) -> int | None:
        """Latest event time seen (ns), or None before the first event."""
        return self._now

    @property
    def routers(self) -> dict[RouterKey, RouterState]:
        self._held.reorder()
        return self._routers

    def router(self, key: RouterKey) -> RouterState | None:
        """The state of one virtual router, None if not seen (or forgotten)."""
        return self._routers.get(key)

    @property
    def router_count(self) -> int:
        """Virtual routers kept now."""
        return len(self._routers)

    def finding_room(self, n: int) -> bool:
        """Whether ``n`` more findings, made in any order, leave the findings the same."""
        return self._book.room(n)

    @property
    def position(self) -> int:
        """Position in the item stream: items taken so far (the bulk route sets it to the
        frame of each event it feeds, :func:`vrrpscope.analysis.feed_plan`)."""
        return self._tick

    @position.setter
    def position(self, tick: int) -> None:
        self._tick = tick

    # ---------------------------------------------------------- held-back adverts

    def attach(self, run: HeldRun) -> None:
        """Hold ``run``'s regular adverts back until something reads its router."""
        self._held.attach(run)

    def catch_up(self, ts_ns: int) -> None:
        """The clock as a packet at ``ts_ns`` moves it (timers due before it fire)."""
        self._clock(ts_ns, "", 0)

    def flush_all(self) -> None:
        """Apply every held-back advert."""
        self._held.flush_all()

    def _position(self) -> int:
        return self._tick

    def _seek(self, tick: int) -> None:
        self._tick = tick

    def _feed_regular(self, advert: Advert, t: int, key: RouterKey) -> None:
        self._feed_at(advert, t, key, True)

    @property
    def findings(self) -> list[Finding]:
        """All findings, open and closed, worst first then by time."""
        self._ctx.refresh()
        self.stats.suppressed_findings = dict(self._book.suppressed)
        return self._book.all()

    def inventory(self) -> list[SegmentInventory]:
        """Per segment: VRIDs in use and free, speakers, masters, intervals, other protocols."""
        self._held.reorder()
        return build_inventory(self._segments, self._other, self._claims, self.files, self.hsrp)

    def feed(self, advert: Advert) -> None:
        """Take one decoded advert (event time = advert.ts_ns)."""
        t = self._clock(advert.ts_ns, advert.segment, advert.frame)
        self._tick += 1
        key = router_key(advert)
        if self._pending:
            run = self._pending.get(key)
            if run is not None:
                self._held.flush(run, then=t)
        router = self._routers.get(key)
        if router is not None and router.drift_pending and _may_change_peers(router, advert):
            self._held.catch_up_drift(router)
        self._feed_at(advert, t, key)

    def _feed_at(self, advert: Advert, t: int, key: RouterKey, regular: bool = False) -> None:
        """An advert at event time ``t`` (the clock already there); ``regular``: one of a
        :class:`HeldRun`, whose speaker's silence timer may have moved ahead."""
        self.stats.adverts += 1
        router = self._routers.get(key)
        new_router = router is None
        if router is None:
            if self._pending:  # a new router reads the segment's others (speakers, VRIDs)
                self._held.flush_segment(key[0], t)
            router = self._new_router(key, t)
        else:
            self._routers.move_to_end(key)
        router.touch = self._tick
        router.adverts += 1
        router.last_ts_ns = t
        skey = (advert.src, advert.src_mac)
        sp = router.speakers.get(skey)
        if sp is None:
            sp = self._new_speaker(router, advert, t)
        else:
            router.speakers.move_to_end(skey)
        sp.adverts += 1
        sp.last_ts_ns = t
        sp.last_frame = advert.frame
        if new_router:
            contract.router_added(self._ctx, router, self._segments[router.segment].values())
        if advert.issues:  # receivers discard it: counted, never drives mastership
            sp.invalid += 1
            router.invalid += 1
            router.counters.rejected(advert.issues)
            self.stats.invalid += 1
            if sp.config_sig is None:  # nothing valid yet: the inventory shows what it said
                sp.heard_priority, sp.heard_addresses = advert.priority, advert.addresses
            contract.advert_rejected(self._ctx, router, sp, advert, t)
            return
        self._accept(router, sp, advert, t, regular)

    def feed_other(self, other: OtherTraffic) -> None:
        """Count a non-VRRP multicast frame for the segment inventory."""
        self._clock(other.ts_ns, other.segment, other.frame)
        self._tick += 1
        self.count_other(other.segment, other.label, 1)
        if other.hsrp is not None:
            when = (other.ts_ns, other.frame)
            self.hsrp.note(other.segment, other.family, other.src, other.hsrp, 1, when, when)

    def count_other(self, segment: str, label: str, n: int) -> bool:
        """Count ``n`` non-VRRP frames of one kind (no clock); False if a cap is reached."""
        self.stats.other += n
        counts = self._other.get(segment)
        if counts is None:
            if len(self._other) >= self.thresholds.max_segments:
                return False
            counts = self._other[segment] = Counter()
        if label not in counts and len(counts) >= _MAX_LABELS:
            label = "other"
        counts[label] += n
        return True

    def other_room(self, segment: str, labels: int) -> bool:
        """Whether ``labels`` more kinds of other traffic on ``segment`` stay under the caps."""
        counts = self._other.get(segment)
        if counts is None:
            return len(self._other) < self.thresholds.max_segments and labels <= _MAX_LABELS
        return len(counts) + labels <= _MAX_LABELS

    def feed_item(self, item: Advert | OtherTraffic | AddressClaim) -> None:
        """Feed one decoded item, whichever kind it is."""
        if isinstance(item, Advert):
            self.feed(item)
        elif isinstance(item, OtherTraffic):
            self.feed_other(item)
        elif isinstance(item, AddressClaim):
            self.feed_claim(item)

    def feed_claim(self, claim: AddressClaim) -> None:
        """A gratuitous ARP / unsolicited NA: a VIP claimed by two MACs confirms split brain."""
        t = self._clock(claim.ts_ns, claim.segment, claim.frame)
        self._tick += 1
        if self._pending:
            self._held.flush_segment(claim.segment, t)
        self.stats.claims += 1
        seg = self._claims.get(claim.segment)
        if seg is None:
            if len(self._claims) >= self.thresholds.max_segments:
                return
            seg = self._claims[claim.segment] = {}
        macs = seg.get(claim.ip)
        if macs is None:
            if len(seg) >= _MAX_CLAIM_IPS:
                return
            macs = seg[claim.ip] = {}
        mac = claim.mac.lower()
        rec = macs.get(mac)
        if rec is None:
            if len(macs) >= _MAX_CLAIM_MACS:
                return
            macs[mac] = ClaimRecord(t, t, 1, claim.frame)
            changed = len(macs) > 1
        else:
            rec.last_ns = t
            rec.count += 1
            changed = len(macs) > 1
        routers = self._segments.get(claim.segment, {}).values()
        for router in routers:
            if any(claim.ip in sp.address_set for sp in router.active.values()):
                contract.claim_seen(self._ctx, router, mac, claim.ip, t, claim.frame)
        if not changed:
            return
        for router in routers:
            if router.pair_findings:
                contract.claims_changed(self._ctx, router)

    def advance(self, ts_ns: int) -> None:
        """Time passes without packets (live timer): fire silence and quiet timers."""
        if self._now is None:
            self._now = ts_ns
            return
        if ts_ns <= self._now:
            return
        self._run_timers(ts_ns)
        self._now = ts_ns

    def finish(self, end_ts_ns: int | None = None) -> None:
        """End of capture at `end_ts_ns` (default: the last event): close every finding.

        Silence up to the end counts only when the capture runs past the timer (a capture
        ending shortly after the last advert is not a dead master).
        """
        if self._finished:
            return
        if self._now is not None:
            end = self._now if end_ts_ns is None else max(end_ts_ns, self._now)
            self.advance(end)
            self._held.flush_all()
            self._held.reorder()
            for router in self._routers.values():
                if len(router.active) > 1:
                    self._settle(router)
                if router.pending_claims and router.speakers:
                    latest = max(router.speakers.values(), key=lambda s: s.last_valid_ns or 0)
                    contract.capture_ending(self._ctx, router, latest, end)
            for router in self._routers.values():
                for sp in router.speakers.values():
                    if sp.gaps is not None and sp.gaps.count:
                        contract.finished(self._ctx, router, sp, sp.last_valid_ns or end)
            contract.capture_ended(self._ctx, self._routers.values(), end)
            if self.hsrp.segments:
                contract.hsrp_heard(self._ctx, self._routers.values(), self.hsrp)
            self._ctx.refresh()
            self._book.close_all(end)
            self._book.number()
            self.stats.last_ts_ns = end
        self.stats.suppressed_findings = dict(self._book.suppressed)
        self._finished = True

    def judge_logs(self, logs: Sequence[LogFile], span: tuple[int | None, int | None]) -> None:
        """After the capture: the verdicts its daemons' logs and the wire give together
        (findings of their own kinds, numbered with the rest)."""
        contract.logs_read(self._ctx, list(self.routers.values()), logs, span)
        self._book.close_all()
        self._book.number()

    # ---------------------------------------------------------------- time, timers

    def _clock(self, ts_ns: int, segment: str, frame: int) -> int:
        """Event time for a packet: never earlier than the latest packet (counted if it was).

        Backwards steps are judged against packets only, not against `advance()` calls:
        in live mode the wall-clock timer may run a little ahead of a packet's kernel
        timestamp, and that is not a clock problem.
        """
        if self._finished:
            raise RuntimeError("engine already finished")
        last = self._last_packet_ns
        if last is None:
            self._last_packet_ns = ts_ns
            if self._now is None or ts_ns > self._now:
                self._now = ts_ns
            self.stats.first_ts_ns = ts_ns
            self.stats.last_ts_ns = ts_ns
            return ts_ns
        if ts_ns < last:
            step = last - ts_ns
            self.stats.backwards_ts += 1
            if step > self.stats.max_step_back_ns:
                self.stats.max_step_back_ns = step
            if step > REORDER_TOLERANCE_NS:  # a clock step or a merge, not queueing
                contract.clock_stepped_back(self._ctx, segment, step, last, frame)
            return last
        due = self._timers.next_due()
        if due is not None and due < ts_ns:
            self._run_timers(ts_ns)
        self._last_packet_ns = ts_ns
        if self._now is None or ts_ns > self._now:
            self._now = ts_ns
        self.stats.last_ts_ns = ts_ns
        return ts_ns

    def _run_timers(self, until: int) -> None:
        """Fire every timer due strictly before `until`, each at its own due time."""
        for due, _, kind, a, b in self._timers.pop_before(until):
            if self._now is None or due > self._now:
                self._now = due
            if self._pending and self._held.before_timer(due, kind, a, b):
                continue
            if kind == _EXPIRE:
                self._on_expire(due, a, b)
            elif kind == _SILENCE:
                self._on_silence(due, a, b)
            else:
                self._on_quiet(due, a, b)

    def _schedule_quiet(self, finding: Finding, quiet_ns: int) -> None:
        self._timers.push(finding.last_ts_ns + quiet_ns, _QUIET, finding, quiet_ns)

    def _on_quiet(self, due: int, finding: Finding, quiet_ns: int) -> None:
        if not finding.open:
            return
        if finding.last_ts_ns + quiet_ns <= due:
            self._book.close(finding)
        else:
            self._timers.push(finding.last_ts_ns + quiet_ns, _QUIET, finding, quiet_ns)

    def _live(self, router: RouterState, sp: SpeakerState | None = None) -> bool:
        if self._routers.get(router.key) is not router:
            return False
        return sp is None or router.speakers.get(sp.key) is sp

    def _on_expire(self, due: int, router: RouterState, sp: SpeakerState) -> None:
        if sp.timer_due_ns != due or not self._live(router, sp):
            return
        sp.timer_due_ns = None
        if sp.active_since_ns is None or sp.last_valid_ns is None:
            return
        if sp.deadline_ns > due:
            sp.timer_due_ns = sp.deadline_ns
            self._timers.push(sp.deadline_ns, _EXPIRE, router, sp)
            return
        self._end_episode(router, sp, sp.last_valid_ns, "silence")
        if not router.active:
            contract.master_silent(self._ctx, router, sp, sp.last_valid_ns, sp.expiry_ns)

    def _on_silence(self, due: int, router: RouterState, sp: SpeakerState) -> None:
        """Timer after a resignation: did anyone take over?"""
        if not self._live(router) or router.active:
            return
        if sp.resigned_ns is None or router.last_valid_ns != sp.resigned_ns:
            return  # a later advert (another resignation) rescheduled it
        contract.master_silent(self._ctx, router, sp, sp.resigned_ns, due - sp.resigned_ns)

    def _timer_is_live(self, timer: Timer) -> bool:
        """Whether a timer still matters (for sweeping the queue)."""
        due, _, kind, a, b = timer
        if kind == _QUIET:
            return bool(a.open)
        if kind == _EXPIRE:
            return b.timer_due_ns == due and self._live(a, b)
        return self._live(a)

    # ----------------------------------------------------------- routers, speakers

    def _new_router(self, key: RouterKey, t: int) -> RouterState:
        th = self.thresholds
        if len(self._routers) >= th.max_routers:
            self._held.flush_before(self._tick, t)
            self._held.reorder()
            _, stale = self._routers.popitem(last=False)
            if stale.drift_pending:
                self._held.catch_up_drift(stale)
            del self._segments[stale.segment][stale.key]
            self.stats.evicted_routers += 1
            contract.routers_evicted(self._ctx, self.stats.evicted_routers, th.max_routers, t)
        segment, family, proto, vrid = key
        router = RouterState(segment, family, proto, vrid, first_ts_ns=t, last_ts_ns=t)
        self._routers[key] = router
        self._segments.setdefault(segment, {})[key] = router
        return router

    def _new_speaker(self, router: RouterState, advert: Advert, t: int) -> SpeakerState:
        th = self.thresholds
        if len(router.speakers) >= th.max_speakers_per_router:
            self._evict_speaker(router, t)
        sp = SpeakerState(
            advert.src,
            advert.src_mac,
            first_ts_ns=t,
            last_ts_ns=t,
            first_frame=advert.frame,
            last_frame=advert.frame,
            priority_history=deque(maxlen=th.max_history),
        )
        router.speakers[sp.key] = sp
        contract.speaker_added(self._ctx, router, sp, advert, t)
        return sp

    def _evict_speaker(self, router: RouterState, t: int) -> None:
        """Forget the stalest speaker (bounded memory under spoofed traffic)."""
        _, stale = router.speakers.popitem(last=False)
        if stale.active_since_ns is not None:
            contract.episode_ending(self._ctx, router, stale)
            router.active.pop(stale.key, None)
            stale.active_since_ns = None
            stale.end_reason = "evicted"
            stale.end_ns = stale.last_valid_ns
        router.evicted_speakers += 1
        self.stats.evicted_speakers += 1
        contract.speakers_evicted(self._ctx, router, self.thresholds.max_speakers_per_router, t)

    # ------------------------------------------------------------- valid adverts

    def _accept(
        self, router: RouterState, sp: SpeakerState, advert: Advert, t: int, regular: bool = False
    ) -> None:
        ctx = self._ctx
        if (
            not regular
            and sp.active_since_ns is not None
            and len(router.active) > 1
            and sp.gaps is not None
            and sp.last_valid_ns is not None
            and misses_adverts(t - sp.last_valid_ns, sp.gaps.interval_ns)
            and contract.yielded_meanwhile(ctx, router, sp, t) is not None
        ):
            # it became backup when the better peer started (judged as it last spoke,
            # before this advert changes its priority): that episode ended then
            self._end_episode(router, sp, sp.last_valid_ns, "silence")
        sig = (
            advert.version,
            advert.interval_cs,
            advert.auth_type,
            advert.auth_data,
            advert.addresses,
            advert.advbase,
            None if advert.hmac is None else advert.hmac.key_id,
        )
        if sig != sp.config_sig:
            self._config_changed(router, sp, advert, t, sig)
        if advert.hmac is not None or sp.signing is not None:
            self._signed(router, sp, advert, t)
        form = advert.checksum_form
        if form is not None:
            forms = sp.checksum_forms
            if form in forms:
                forms[form] += 1
            else:
                forms[form] = 1
                contract.checksum_form_seen(ctx, router, sp, t)
        peer_since = router.last_valid_ns  # latest valid advert of anyone before this one
        previous = sp.last_valid_ns  # this speaker's, in this episode or an earlier one
        router.last_valid_ns = t
        if advert.proto != "carp" and advert.priority == 0:
            self._resign(router, sp, advert, t)
            return
        if advert.proto == "carp":
            value = advert.advskew
            old = sp.advskew
            sp.advskew = value
            sp.demote = advert.demote
        else:
            value = advert.priority
            old = sp.priority
            sp.priority = value
        if value != old and value is not None:
            self._priority_changed(router, sp, advert, t, old, value)

        if sp.active_since_ns is None:
            self._start_episode(router, sp, advert, t)
            if len(router.active) > 1 and router.pair_findings:
                contract.second_master(ctx, router, sp, t)
        else:
            gaps = sp.gaps
            last = sp.last_valid_ns
            assert gaps is not None and last is not None
            gap = t - last
            if (
                misses_adverts(gap, gaps.interval_ns)
                and peer_since is not None
                and peer_since > last
            ):
                # A peer advertised meanwhile: the gap is the two masters' doing (each
                # resets its advert timer on the other's dropped adverts), not this
                # speaker's timing; the concurrency detector reports that.
                sp.peer_gaps += 1
            else:
                missed = gaps.add(gap, t)
                contract.gap_recorded(ctx, router, sp, missed, t, self.thresholds.drift_min_samples)
        if router.pending_claims:
            contract.claimant_advertised(ctx, router, sp, previous, t)
        sp.last_valid_ns = t
        sp.episode_adverts += 1
        if router.pending_claims:
            contract.advert_accepted(ctx, router, sp, t)
        deadline = t + sp.expiry_ns
        sp.deadline_ns = deadline
        # (A regular advert never re-arms a pending timer: that one is due before this
        # deadline, or later when moved ahead by SpeakerRun.next_due.)
        if sp.timer_due_ns is None or (not regular and deadline < sp.timer_due_ns):
            sp.timer_due_ns = deadline
            self._timers.push(deadline, _EXPIRE, router, sp)
        if len(router.active) > 1:
            contract.masters_advertised(ctx, router, sp, previous, t)

    def _config_changed(
        self, router: RouterState, sp: SpeakerState, advert: Advert, t: int, sig: tuple[Any, ...]
    ) -> None:
        ctx = self._ctx
        interval_changed = sp.interval_cs != advert.interval_cs
        sp.config_sig = sig
        sp.version = advert.version
        router.versions.add(advert.version)
        sp.interval_cs = advert.interval_cs
        sp.auth_type = advert.auth_type
        sp.auth_data = advert.auth_data
        sp.hmac_key = None if advert.hmac is None else advert.hmac.key_id
        if sp.addresses != advert.addresses:
            sp.addresses = advert.addresses
            sp.address_set = frozenset(advert.addresses)
        sp.advbase = advert.advbase
        if interval_changed:
            if sp.gaps is not None:
                contract.interval_changed(ctx, router, sp, t)
            sp.gaps = GapStats(interval_ns(advert.interval_cs))
            sp.gaps_since_ns = t
        th = self.thresholds
        sp.expiry_ns = router.expiry_for(advert, th.timer_slack)
        sp.settle_ns = int((th.settle_intervals + th.timer_slack) * interval_ns(advert.interval_cs))
        sp.mdi_ns = master_down_ns(advert.proto, advert.version, sp.priority, advert.interval_cs)
        contract.config_changed(ctx, router, sp, advert, t)

    def _signed(self, router: RouterState, sp: SpeakerState, advert: Advert, t: int) -> None:
        """Follow the speaker's auth_hmac sequence and clock (engine/signing.py)."""
        stats = sp.signing
        if stats is None:
            stats = sp.signing = SigningStats()
        trailer = advert.hmac
        if trailer is None:
            stats.unsigned += 1
            return
        if stats.add(trailer, t):
            contract.hmac_replayed(self._ctx, router, sp, advert, t)
        contract.hmac_signed(self._ctx, router, sp, advert, t)

    def _priority_changed(
        self,
        router: RouterState,
        sp: SpeakerState,
        advert: Advert,
        t: int,
        old: int | None,
        value: int,
    ) -> None:
        sp.priority_history.append((t, value))
        if sp.prio_min is None or value < sp.prio_min:
            sp.prio_min = value
        if sp.prio_max is None or value > sp.prio_max:
            sp.prio_max = value
        if sp.interval_cs is not None:
            sp.mdi_ns = master_down_ns(advert.proto, advert.version, sp.priority, sp.interval_cs)
        if old is not None:
            sp.priority_changes += 1
            contract.priority_changed(self._ctx, router, sp, advert, t)

    def _resign(self, router: RouterState, sp: SpeakerState, advert: Advert, t: int) -> None:
        """A VRRP priority-0 advert: the sender stops being master now."""
        sp.resigns += 1
        router.counters.priority_zero += 1
        contract.resigned(self._ctx, router, sp, advert, t)
        sp.resigned_ns = t
        if sp.active_since_ns is not None:
            sp.last_valid_ns = t
            self._end_episode(router, sp, t, "resigned")
        elif router.master == sp.key:
            sp.end_ns = t
            sp.end_reason = "resigned"
        if not router.active:
            wait = sp.expiry_ns or interval_ns(advert.interval_cs) * 4
            self._timers.push(t + wait, _SILENCE, router, sp)

    # ----------------------------------------------------------- master timeline

    def _start_episode(self, router: RouterState, sp: SpeakerState, advert: Advert, t: int) -> None:
        sp.active_since_ns = t
        sp.episode_start_ns = t
        sp.start_standing = sp.standing
        sp.episode_frame = advert.frame
        sp.episode_adverts = 0
        sp.last_valid_ns = t
        if sp.end_reason == "resigned":
            contract.resign_over(self._ctx, router, sp, t)
        router.active[sp.key] = sp
        router.silent_since_ns = None
        contract.episode_started(self._ctx, router, sp, t)
        if len(router.active) == 1:
            self._set_master(router, sp)

    def _settle(self, router: RouterState) -> None:
        """End of capture: end the episodes of speakers that stopped while a peer went on.

        Only a master advertises, so one that fell silent while a peer kept advertising
        handed over (preempted, or a split brain healed) even if the capture ended before
        its silence timer could run out; so did one whose last advert came before a
        better speaker started (RFC 5798: a master hearing a better advert yields at once).
        """
        freshest = max(sp.last_valid_ns or 0 for sp in router.active.values())
        for other in sorted(router.active.values(), key=lambda s: s.last_valid_ns or 0):
            last = other.last_valid_ns
            if last is None or len(router.active) < 2:
                continue
            mine = election_rank(other.src, other.standing)
            outranked = any(
                p is not other
                and (p.active_since_ns or 0) > last
                and election_rank(p.src, p.start_standing or p.standing) > mine
                for p in router.active.values()
            )
            yielded = contract.yielded_at_end(self._ctx, router, other, freshest)
            if outranked or yielded or freshest - last > other.settle_ns:
                self._end_episode(router, other, last, "silence")

    def _end_episode(self, router: RouterState, sp: SpeakerState, end: int, reason: str) -> None:
        self._end_yielded_to(router, sp)
        contract.episode_ending(self._ctx, router, sp)
        del router.active[sp.key]
        assert sp.active_since_ns is not None
        if len(router.periods) >= self.thresholds.max_history:
            router.periods.popleft()
            router.periods_dropped += 1
        router.periods.append(
            MasterPeriod(
                sp.src, sp.mac, sp.active_since_ns, end, sp.priority, sp.episode_adverts, reason
            )
        )
        sp.active_since_ns = None
        sp.end_ns = end
        sp.end_reason = reason
        sp.end_standing = sp.standing
        contract.episode_ended(self._ctx, router, sp, end)
        if len(router.active) == 1:
            only = next(iter(router.active.values()))
            # It took over if it started after `sp` stopped, or went on advertising after
            # that (two masters stopping together, e.g. at the end of traffic, is no move).
            started_after = (only.active_since_ns or 0) > end
            went_on = (only.last_valid_ns or 0) - end > interval_ns(sp.interval_cs or 100) // 2
            if started_after or went_on:
                self._set_master(router, only)
        elif router.active and router.master == sp.key:
            successor = self._preempted_by(router, sp, end)
            if successor is not None:
                self._set_master(router, successor)
        elif not router.active:
            router.silent_since_ns = end

    def _end_yielded_to(self, router: RouterState, sp: SpeakerState) -> None:
        """Before `sp`'s episode ends: end those of the speakers it outranks that have not
        advertised since it started. They yielded to it then (RFC 5798 6.4.3: a master
        hearing a better advert becomes backup at once), though their silence timers,
        longer than its own episode (a start-up race, then a resignation), have not run out;
        left active they would outlive it as a master that was no longer there. Likewise
        those that fell silent for over an interval while a better speaker of their
        cluster went on advertising (a short split brain healed: the worse one heard the
        better and became backup), so that whoever advertises next is seen taking over."""
        start = sp.active_since_ns
        if start is None or len(router.active) < 2:
            return
        freshest = sp.last_valid_ns or start
        for other in sorted(router.active.values(), key=lambda s: s.last_valid_ns or 0):
            last = other.last_valid_ns
            if other is sp or other.key not in router.active or last is None:
                continue
            if (last < start and yields_to(other, sp)) or (
                last >= start and contract.yielded_at_end(self._ctx, router, other, freshest)
            ):
                self._end_episode(router, other, last, "silence")

    def _preempted_by(
        self, router: RouterState, old: SpeakerState, end: int
    ) -> SpeakerState | None:
        """The master `old`, whose last advert was at `end`, stopped while others still
        advertise: the speaker that outranks it and started after that advert, before
        the next one was due, preempted it (RFC 5798 6.4.3: it became backup on hearing
        it). Without this, in a chain of preemptions (each better than the last) one
        master's silence timer, sized for a backup of priority 1, runs out only after
        the next preemption, and the move to the speaker in between is never seen."""
        slack = self.thresholds.timer_slack
        better = [
            p
            for p in router.active.values()
            if (p.active_since_ns or 0) > end
            and contract.is_handover(old, p, slack)
            and yields_to(old, p)
        ]
        return min(better, key=lambda p: p.active_since_ns or 0, default=None)

    def _set_master(self, router: RouterState, sp: SpeakerState) -> None:
        """`sp` now advertises alone: it is master; a change of master is a failover."""
        prev = router.master
        if prev == sp.key:
            return
        router.master = sp.key
        router.master_since_ns = sp.active_since_ns
        if prev is None:
            router.counters.new_master(None, None, False)
            return  # the first master seen is not a failover
        old = router.speakers.get(prev)
        if old is not None:
            if _election(router, old, sp):
                return
            if contract.is_handover(old, sp, self.thresholds.timer_slack):
                contested = not contract.outranks(sp, old)
                contract.handover(self._ctx, router, old, sp, contested)
            if _other_cluster(old, sp):
                return
        router.failovers += 1
        self.stats.failovers += 1
        details = contract.master_changed(self._ctx, router, prev, old, sp)
        router.counters.new_master(details["cause"], details["takeover_s"], details["slow"])


def _timer_tie(kind: int, a: Any, b: Any) -> tuple:
    """What orders timers due at the same time: whose they are, not when they were armed
    (held-back adverts arm them at other moments than advert by advert)."""
    if kind == _QUIET:  # a finding
        return (a.kind, a.segment or "", a.family or 0, a.proto or "", a.vrid or 0, a.speakers)
    return (*a.key, b.src, b.mac or "")  # a router and one of its speakers


def _may_change_peers(router: RouterState, advert: Advert) -> bool:
    """Whether ``advert`` may change what a drift evaluation of a speaker reads of its
    router (peers' priority or timers) or forget a speaker (a new one at the cap)."""
    sp = router.speakers.get((advert.src, advert.src_mac))
    return (
        sp is None
        or advert.priority != sp.priority
        or advert.interval_cs != sp.interval_cs
        or advert.version != sp.version
        or advert.advskew != sp.advskew
        or advert.advbase != sp.advbase
    )


def _other_cluster(old: SpeakerState, new: SpeakerState) -> bool:
    """Speakers with no VIP in common are two clusters on one VRID (duplicate-vrid), so
    one following the other is not a move of mastership."""
    return bool(old.address_set and new.address_set) and old.address_set.isdisjoint(new.address_set)


def _election(router: RouterState, old: SpeakerState, new: SpeakerState) -> bool:
    """Both started advertising within one interval and `old` yielded: an election
    (start-up race, or two masters resolving), not a move of an established master.

    Without overlap (`old` fell silent before `new` spoke) only the router's first
    master counts: daemons starting together, the first to time out sends one advert
    and yields to the better one an instant later."""
    if old.episode_start_ns is None or old.end_ns is None or new.active_since_ns is None:
        return False
    if new.active_since_ns - old.episode_start_ns >= interval_ns(old.interval_cs or 100):
        return False
    if old.end_ns >= new.active_since_ns:
        return True
    first = old.episode_start_ns == router.first_ts_ns and len(router.periods) == 1
    return first and yields_to(old, new)
