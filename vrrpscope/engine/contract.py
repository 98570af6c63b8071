"""The engine -> detector contract: the moments the engine announces, and who hears them.

In the spirit of Zeek's events and Notice framework: the engine keeps the state
(:mod:`vrrpscope.engine.state`) and announces, at fixed points, what just changed; each
function here is one such moment and calls the detectors that care, in the order given
(that order is part of the output: findings, their evidence and their text depend on it).
Detectors never call each other or the engine; the engine calls no detector but through
this module. Each detector module declares the finding kinds it owns (``KINDS``, gathered
by :func:`vrrpscope.findings.registry`) and whether it must see every repeated advert
(``EVERY_ADVERT``: the bulk route then applies regular adverts one by one for it).

:data:`MOMENTS` lists the moments in the order one advert can raise them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from vrrpscope.detectors import (
    Context,
    arp,
    carp,
    concurrency,
    config,
    drift,
    hijack,
    housekeeping,
    hsrp,
    logs,
    mastership,
    nomaster,
    packet,
    priority,
    signing,
)

if TYPE_CHECKING:
    from vrrpscope.engine.bulk.runs import GapSummary
    from vrrpscope.engine.hsrp import HsrpBook
    from vrrpscope.engine.state import RouterState, SpeakerKey, SpeakerState
    from vrrpscope.findings import Finding
    from vrrpscope.logs.reader import LogFile
    from vrrpscope.model import Advert

DETECTORS = (
    packet, config, priority, nomaster, concurrency, drift, mastership, carp, housekeeping, logs,
    hijack, hsrp, signing, arp,
)  # fmt: skip

# moment -> the detector calls it makes, in order (documentation; tests/engine/test_contract.py
# checks that every detector is heard somewhere and every moment exists here).
MOMENTS: dict[str, tuple[str, ...]] = {
    "clock_stepped_back": ("housekeeping.timestamps_backwards",),
    "router_added": ("carp.router_added",),
    "routers_evicted": ("housekeeping.routers_evicted",),
    "speaker_added": ("packet.non_standard_mac", "hijack.new_speaker"),
    "speakers_evicted": ("housekeeping.speakers_evicted",),  # after episode_ending
    "advert_rejected": ("packet.invalid_packet",),
    "interval_changed": ("drift.reset",),
    "config_changed": (
        "packet.plaintext_auth",
        "packet.ipv6_first_address",
        "config.config_changed",
    ),
    "hmac_replayed": ("signing.hmac_replayed",),
    "hmac_signed": ("signing.hmac_signed",),
    "checksum_form_seen": ("config.checksum_form_seen",),
    "priority_changed": ("priority.priority_changed",),
    "resigned": ("priority.resigned",),
    "resign_over": ("priority.end_resigned",),
    "episode_started": ("nomaster.close_no_master",),
    "second_master": ("concurrency.started",),
    "yielded_meanwhile": ("concurrency.yielded_meanwhile",),
    "gap_recorded": ("drift.due", "drift.evaluate"),
    "claimant_advertised": ("concurrency.claimant_advertised",),
    "advert_accepted": ("concurrency.judge_claims",),
    "masters_advertised": ("concurrency.check", "concurrency.ignored_better"),
    "episode_ending": ("concurrency.end",),
    "episode_ended": ("drift.end",),
    "handover": ("concurrency.handover",),
    "master_changed": ("mastership.failover",),
    "master_silent": ("nomaster.open_no_master",),
    "claim_seen": ("concurrency.claim_seen",),
    "claims_changed": ("concurrency.claims_changed",),
    "capture_ending": ("concurrency.judge_claims",),
    "finished": ("drift.evaluate",),
    "capture_ended": ("nomaster.capture_end", "arp.capture_end"),
    "hsrp_heard": ("hsrp.vip_conflicts",),  # at the end, after capture_ended
    "logs_read": ("logs.logs_read",),  # after the capture: the daemons' logs beside it
    # the bulk route (vrrpscope.engine.bulk.held): summed regular adverts
    "overlap_known": ("concurrency.overlap_finding",),
    "overlap_went_on": ("concurrency.overlap_continues",),
    "drift_quiet": ("drift.quiet_through",),
    "drift_open_for_good": ("drift.open_for_good",),
    "drift_point": ("drift.evaluate",),
}


# ----------------------------------------------------------------- clock, caps


def clock_stepped_back(ctx: Context, segment: str, step: int, last: int, frame: int) -> None:
    housekeeping.timestamps_backwards(ctx, segment, step, last, frame)


def routers_evicted(ctx: Context, evicted: int, cap: int, t: int) -> None:
    housekeeping.routers_evicted(ctx, evicted, cap, t)


def speakers_evicted(ctx: Context, router: RouterState, cap: int, t: int) -> None:
    housekeeping.speakers_evicted(ctx, router, cap, t)


# ---------------------------------------------------------- routers, speakers


def router_added(ctx: Context, router: RouterState, peers: Iterable[RouterState]) -> None:
    carp.router_added(ctx, router, peers)


def speaker_added(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int
) -> None:
    packet.non_standard_mac(ctx, router, sp, advert, t)
    hijack.new_speaker(ctx, router, sp, advert, t)


def advert_rejected(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int
) -> None:
    packet.invalid_packet(ctx, router, sp, advert, t)


# ------------------------------------------------------------- valid adverts


def interval_changed(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    drift.reset(ctx, router, sp, t)


def config_changed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int
) -> None:
    packet.plaintext_auth(ctx, router, sp, advert, t)
    packet.ipv6_first_address(ctx, router, sp, advert, t)
    config.config_changed(ctx, router, sp, t)


def checksum_form_seen(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    config.checksum_form_seen(ctx, router, sp, t)


def hmac_replayed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int
) -> None:
    signing.hmac_replayed(ctx, router, sp, advert, t)


def hmac_signed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int
) -> None:
    signing.hmac_signed(ctx, router, sp, advert, t)


def priority_changed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int
) -> None:
    priority.priority_changed(ctx, router, sp, advert, t)


def resigned(ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, t: int) -> None:
    priority.resigned(ctx, router, sp, advert, t)


def resign_over(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    """A speaker that resigned starts advertising again (first half of episode_started)."""
    priority.end_resigned(ctx, router, sp, t)


def episode_started(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    """``sp`` is among the router's masters now (it is in ``router.active``)."""
    nomaster.close_no_master(ctx, router, sp, t)


def second_master(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    concurrency.started(ctx, router, sp, t)


def gap_recorded(
    ctx: Context, router: RouterState, sp: SpeakerState, missed: int, t: int, min_samples: int
) -> None:
    if drift.due(sp, missed, min_samples):
        drift.evaluate(ctx, router, sp, t)


def claimant_advertised(
    ctx: Context, router: RouterState, sp: SpeakerState, previous: int | None, t: int
) -> None:
    concurrency.claimant_advertised(ctx, router, sp, previous, t)


def advert_accepted(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    """Called only while claims wait on the router (``router.pending_claims``)."""
    concurrency.judge_claims(ctx, router, sp, t)


def masters_advertised(
    ctx: Context, router: RouterState, sp: SpeakerState, previous: int | None, t: int
) -> None:
    """``sp`` advertised while other masters do."""
    concurrency.check(ctx, router, sp, t)
    concurrency.ignored_better(ctx, router, sp, previous, t)


# ----------------------------------------------------------- master timeline


def episode_ending(ctx: Context, router: RouterState, sp: SpeakerState) -> None:
    """``sp`` stops being a master (still in ``router.active``)."""
    concurrency.end(ctx, router, sp)


def episode_ended(ctx: Context, router: RouterState, sp: SpeakerState, end: int) -> None:
    drift.end(ctx, router, sp, end)


def handover(
    ctx: Context, router: RouterState, old: SpeakerState, new: SpeakerState, contested: bool
) -> None:
    """Mastership passed from ``old`` to ``new`` within a handover's time."""
    concurrency.handover(ctx, router, old, new, contested)


def master_changed(
    ctx: Context,
    router: RouterState,
    prev: SpeakerKey,
    old: SpeakerState | None,
    new: SpeakerState,
) -> dict[str, Any]:
    """A failover (counted already): ``new`` is master after ``prev`` (``old``: its state,
    None if forgotten). Returns the failover's details (cause, takeover_s, slow)."""
    return mastership.failover(ctx, router, prev, old, new)


def master_silent(
    ctx: Context, router: RouterState, sp: SpeakerState, since: int, waited: int
) -> None:
    """Nobody advertises on the router since ``since`` (its last master's last advert or
    resignation), for ``waited`` ns."""
    nomaster.open_no_master(ctx, router, sp, since, waited)


def claim_seen(ctx: Context, router: RouterState, mac: str, ip: str, t: int, frame: int) -> None:
    concurrency.claim_seen(router, mac, ip, t, frame)


def claims_changed(ctx: Context, router: RouterState) -> None:
    concurrency.claims_changed(ctx, router)


def capture_ending(ctx: Context, router: RouterState, latest: SpeakerState, end: int) -> None:
    concurrency.judge_claims(ctx, router, latest, end, final=True)


def finished(ctx: Context, router: RouterState, sp: SpeakerState, end: int) -> None:
    drift.evaluate(ctx, router, sp, end)


def capture_ended(ctx: Context, routers: Iterable[RouterState], end_ns: int) -> None:
    """The capture ends (after every speaker's last evaluation)."""
    routers = list(routers)
    nomaster.capture_end(ctx, routers, end_ns)
    arp.capture_end(ctx, routers, end_ns)


def hsrp_heard(ctx: Context, routers: Iterable[RouterState], book: HsrpBook) -> None:
    """The capture ended and HSRP groups were heard: their VIPs against the routers'."""
    hsrp.vip_conflicts(ctx, routers, book)


# --------------------------------------------------- what the engine asks of them


def is_handover(old: SpeakerState, new: SpeakerState, slack: float) -> bool:
    """Whether ``new`` took over from ``old`` within a handover's time (mastership)."""
    return mastership.is_handover(old, new, slack)


def outranks(a: SpeakerState, b: SpeakerState) -> bool:
    """Whether ``a`` wins an election against ``b`` (mastership)."""
    return mastership.outranks(a, b)


def yielded_meanwhile(
    ctx: Context, router: RouterState, sp: SpeakerState, t: int
) -> SpeakerState | None:
    """Master ``sp`` back after a silence: the better peer it yielded to (concurrency)."""
    return concurrency.yielded_meanwhile(ctx, router, sp, t)


def yielded_at_end(ctx: Context, router: RouterState, sp: SpeakerState, freshest: int) -> bool:
    """At capture end: whether master ``sp`` became backup to a better peer (concurrency)."""
    return concurrency.yielded_at_end(ctx, router, sp, freshest)


# ---------------------------------------------------------------- bulk route


def overlap_known(ctx: Context, router: RouterState, *masters: SpeakerState) -> bool:
    return concurrency.overlap_finding(ctx, router, *masters)


def overlap_went_on(router: RouterState, last: int, *masters: SpeakerState) -> None:
    concurrency.overlap_continues(router, last, *masters)


def drift_quiet(ctx: Context, router: RouterState, sp: SpeakerState, gaps: GapSummary) -> bool:
    return drift.quiet_through(ctx, router, sp, gaps)


def drift_open_for_good(ctx: Context, router: RouterState, sp: SpeakerState) -> Finding | None:
    return drift.open_for_good(ctx, router, sp)


def drift_point(ctx: Context, router: RouterState, sp: SpeakerState, t: int) -> None:
    drift.evaluate(ctx, router, sp, t)


# ------------------------------------------------------------------ daemon logs


def logs_read(
    ctx: Context, routers: Sequence[RouterState], log_files: Sequence[LogFile], span: tuple
) -> None:
    logs.logs_read(ctx, routers, log_files, span)
