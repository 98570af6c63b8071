"""Priority events: resigned (priority-0 advert) and priority-flap."""

from __future__ import annotations

from vrrpscope.detectors import Context, scope, sec, secs, who
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.model import Advert

KINDS = declare(
    __name__,
    KindSpec(
        Kind.PRIORITY_FLAP,
        Severity.WARNING,
        "a speaker's priority (CARP: advskew) changed too often",
    ),
    KindSpec(Kind.RESIGNED, Severity.INFO, "a priority-0 advert (the master stopping)"),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it


def resigned(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """A VRRP priority-0 advert: the master resigns (never called for CARP)."""
    key = (Kind.RESIGNED, router.key, sp.key)
    finding = ctx.book.get(key)
    if finding is not None:
        finding.details["count"] += 1
        ctx.book.update(finding, ts_ns, frames=(advert.frame,), notify=False)
        return
    longest = sp.skew_ns(advert.interval_cs, priority=1)  # the lowest possible backup
    message = (
        f"{router.label}: {who(sp)} sent a priority-0 advert: the master is resigning "
        "(keepalived stopping, or entering FAULT state through track_interface / "
        "track_script). A backup should take over within Skew_Time (under "
        f"{secs(longest)}) and log 'Entering MASTER STATE'; check why this node stopped"
    )
    finding = ctx.book.open(
        key,
        Kind.RESIGNED,
        scope(router),
        (sp.src,),
        ts_ns,
        ts_ns,
        (advert.frame,),
        message,
        {"count": 1, "priority_before": sp.priority, "mac": sp.mac, "was_master": sp.active},
    )
    if finding is not None:
        ctx.schedule_quiet(finding, sp.expiry_ns or 4 * advert.interval_cs * 10_000_000)


def end_resigned(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """The speaker advertises a real priority again: its resignation is over."""
    finding = ctx.book.get((Kind.RESIGNED, router.key, sp.key))
    if finding is not None:
        ctx.book.close(finding)


def priority_changed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """Called after a change was appended to `sp.priority_history`."""
    th = ctx.th
    window = int(th.priority_flap_window_s * 1e9)
    recent: list[tuple[int, int]] = []
    for ts, value in reversed(sp.priority_history):
        if ts < ts_ns - window:
            break
        recent.append((ts, value))
    # `recent` holds the values after each change; a change needs a value before it.
    history = sp.priority_history
    initial_kept = len(history) == sp.priority_changes + 1
    has_initial = initial_kept and len(recent) == len(history)
    changes = len(recent) - int(has_initial)
    if changes < th.priority_flap_changes:
        return
    recent.reverse()
    first_change = recent[1][0] if has_initial else recent[0][0]
    what = "advskew" if router.proto == "carp" else "priority"
    values = [v for _, v in recent]
    details = {
        "field": what,
        "changes_in_window": changes,
        "window_s": th.priority_flap_window_s,
        "changes_total": sp.priority_changes,
        "recent": [{"ts": sec(ts), what: v} for ts, v in recent[-16:]],
        "min": min(values),
        "max": max(values),
    }
    key = (Kind.PRIORITY_FLAP, router.key, sp.key)
    message = _flap_message(router, sp, what, changes, values, th.priority_flap_window_s)
    finding = ctx.book.get(key)
    if finding is not None:
        ctx.book.update(finding, ts_ns, frames=(advert.frame,), message=message, details=details)
        return
    finding = ctx.book.open(
        key,
        Kind.PRIORITY_FLAP,
        scope(router),
        (sp.src,),
        first_change,
        ts_ns,
        (advert.frame,),
        message,
        details,
    )
    if finding is not None:
        ctx.schedule_quiet(finding, window)


def _flap_message(
    router: RouterState,
    sp: SpeakerState,
    what: str,
    changes: int,
    values: list[int],
    window: float,
) -> str:
    """The priority-flap text with the count of changes seen so far (not the threshold)."""
    shown = " -> ".join(str(v) for v in values[-8:])
    if len(values) > 8:
        shown = "... -> " + shown
    if router.proto == "carp":
        return (
            f"{router.label}: advskew of {who(sp)} changed {changes} times within "
            f"{window:g} s ({shown}): CARP demotion is flapping "
            "(interface or pfsync state); check the demotion counters"
        )
    return (
        f"{router.label}: {what} of {who(sp)} changed {changes} times within "
        f"{window:g} s ({shown}): a track_script / track_interface / "
        "track_file is flapping, and each time the weight crosses the peer's priority the "
        "VIP moves ('Entering MASTER STATE' / 'Entering BACKUP STATE'); check the tracked "
        "resource and damp it with rise/fall"
    )
