"""Mastership moves: failover (with cause and takeover time) and flapping."""

from __future__ import annotations

from typing import Any

from vrrpscope.detectors import Context, name, scope, sec
from vrrpscope.engine.state import RouterState, SpeakerKey, SpeakerState, election_rank
from vrrpscope.engine.timers import interval_ns
from vrrpscope.findings import Kind, KindSpec, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.FAILOVER, Severity.WARNING, "mastership moved: from, to, cause, measured takeover time"
    ),
    KindSpec(Kind.FLAPPING, Severity.WARNING, "mastership moved too often within the flap window"),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it


def is_handover(old: SpeakerState, new: SpeakerState, slack: float) -> bool:
    """`new` started before `old`'s next advert was due, and `old` had not resigned first:
    a handover while both were up (preemption, an election, or two masters), not a
    takeover after resignation or silence."""
    if old.end_ns is None or new.active_since_ns is None:
        return False
    gap = new.active_since_ns - old.end_ns
    if old.end_reason == "resigned" and gap >= 0:
        return False
    return gap <= interval_ns(old.interval_cs or 100) * (1 + slack)


def outranks(new: SpeakerState, old: SpeakerState) -> bool:
    """Whether `new`, as it started, wins an election against `old` as it stopped."""
    new_st = new.start_standing or new.standing
    old_st = old.end_standing or old.standing
    return election_rank(new.src, new_st) > election_rank(old.src, old_st)


def failover(
    ctx: Context,
    router: RouterState,
    old_key: SpeakerKey,
    old: SpeakerState | None,
    new: SpeakerState,
) -> dict[str, Any]:
    """Mastership moved from `old` (not advertising any more) to `new` (advertising alone);
    returns the failover's details."""
    assert new.active_since_ns is not None
    new_first = new.active_since_ns
    old_src = old_key[0]
    # Standings as the handover happened (priorities may have moved on since).
    new_st = new.start_standing or new.standing
    old_st = (old.end_standing or old.standing) if old is not None else (None, None, None)
    details: dict[str, Any] = {
        "from": old_src,
        "to": new.src,
        "from_mac": old_key[1],
        "to_mac": new.mac,
        "from_priority": old_st[0],
        "to_priority": new_st[0],
        "cause": "unknown",
        "takeover_s": None,
        "expected_s": None,
        "expected_rule": None,
        "slow": False,
        "overlap_s": None,
    }
    if router.proto == "carp":
        details["from_advskew"] = old_st[1]
        details["to_advskew"] = new_st[1]
    first, last = new_first, new_first
    frames = [new.episode_frame]
    if old is not None and old.end_ns is not None:
        frames.insert(0, old.last_frame)
        master_iv = old.interval_cs if (old.version or 2) >= 3 else new.interval_cs
        iv_ns = interval_ns(master_iv or new.interval_cs or 100)
        gap = new_first - old.end_ns
        if not is_handover(old, new, ctx.th.timer_slack):
            first = old.end_ns
            if old.end_reason == "resigned":
                expected, rule = new.skew_ns(master_iv, new_st[0]), "Skew_Time"
            else:
                expected = new.master_down_ns(master_iv, new_st[0])
                rule = "Master_Down_Interval"
            if router.proto == "carp":
                expected = 3 * interval_ns(new.interval_cs or 100)
                rule = "3 x (advbase + advskew/256)"
            details.update(
                cause="resigned" if old.end_reason == "resigned" else "silence",
                takeover_s=sec(gap),
                expected_s=sec(expected),
                expected_rule=rule,
                slow=gap > expected + ctx.th.failover_slow_tolerance * iv_ns,
                # nobody advertised past the longest wait: a no-master, now over
                recovered=bool(old.expiry_ns) and gap > old.expiry_ns,
            )
        else:
            first, last = min(old.end_ns, new_first), max(old.end_ns, new_first)
            details["takeover_s"] = sec(max(gap, 0))
            details["overlap_s"] = sec(max(-gap, 0))
            if outranks(new, old):
                details["cause"] = "preempted"
                tie = new_st[0] == old_st[0] and new_st[1:] == old_st[1:]
                details["preempt_reason"] = (
                    "equal priority, higher primary IP" if tie else "higher priority"
                )
    held = None
    if details["cause"] in ("resigned", "silence"):
        held = _held_meanwhile(ctx, router, old, new)
    if held is not None:  # the new master held the VIP silently: it was never away
        details["held_silently_since_ts"] = held / 1e9
    # (an IP shown with its MAC when two speakers share it: "a (mac1) -> a (mac2)")
    old_name, new_name = name(router, old_src, old_key[1]), name(router, new.src, new.mac)
    message = _message(router, old_name, old, new_name, details)
    finding = ctx.book.open(
        (Kind.FAILOVER, router.key, old_key, new.key, new_first),
        Kind.FAILOVER,
        scope(router),
        (old_src, new.src),
        first,
        last,
        frames,
        message,
        details,
    )
    if finding is not None:
        ctx.book.close(finding)
    _flapping(ctx, router, new, new_first)
    return details


def _message(
    router: RouterState,
    old_src: str,
    old: SpeakerState | None,
    new_src: str,
    d: dict[str, Any],
) -> str:
    """`old_src` / `new_src`: the speakers as printed (see :func:`name`)."""
    head = f"{router.label}: mastership moved {old_src} -> {new_src}"
    cause = d["cause"]
    if cause in ("resigned", "silence") and d.get("held_silently_since_ts") is not None:
        why = "resigned (priority 0)" if cause == "resigned" else "went silent"
        return (
            f"{head}: {old_src} {why} and {new_src} advertises again "
            f"{d['takeover_s']:.2f} s later, but {new_src} had held the VIP all along without "
            "advertising (its gratuitous ARPs / unsolicited NAs while the other advertised: "
            "see split-brain), so the VIP was not away; only the split brain ended. Make the "
            "two agree (see config-mismatch / checksum-form-mismatch)"
        )
    if d.get("recovered"):
        how = "resigned (priority 0)" if cause == "resigned" else "went silent"
        return (
            f"{head}: recovered after {d['takeover_s']:.2f} s without a master: {old_src} "
            f"{how} and nobody advertised until {new_src} did (a backup takes over after "
            f"RFC {d['expected_rule']}: {d['expected_s']:.2f} s; see no-master). The VIP was "
            "unreachable meanwhile unless a node held it without advertising. Check why no "
            f"backup took over in time: {new_src}'s adverts blocked (an OUTPUT rule, 'send "
            "advert error 1'), keepalived down on the backups, or the link/VLAN"
        )
    if cause == "resigned":
        return (
            f"{head}: the master resigned (priority 0) and the new one took over after "
            f"{d['takeover_s']:.2f} s (RFC {d['expected_rule']}: {d['expected_s']:.2f} s"
            f"{', slow' if d['slow'] else ''}). "
            f"The VIP was away for about that long; {new_src} logs 'Entering MASTER STATE' "
            "(keepalived) or 'Backup -> Master' (FRR). "
            f"Check why {old_src} stopped (service restart, FAULT from a tracker)"
        )
    if cause == "silence":
        return (
            f"{head}: {old_src} went silent and {new_src} took over "
            f"{d['takeover_s']:.2f} s after its last advert (RFC {d['expected_rule']}: "
            f"{d['expected_s']:.2f} s{', slow' if d['slow'] else ''}). Check {old_src}: "
            "crash, frozen process, link down, "
            "or a firewall dropping its adverts (keepalived logs 'send advert error 1 "
            "(Operation not permitted)' when an OUTPUT rule drops VRRP); if it still "
            "believes it is master, both hold the VIP"
        )
    if cause == "preempted":
        if d.get("preempt_reason") == "equal priority, higher primary IP":
            why = "equal priority, and the higher primary IP wins (RFC 5798 6.4.3)"
        elif router.proto == "carp":
            why = "lower advskew (CARP: the lowest advskew, after demotion, is master)"
            return (
                f"{head}: {new_src} preempted the master: {why}. Normal with preemption "
                "enabled (net.inet.carp.preempt, ucarp --preempt) when a better node comes "
                "back or a demotion counter changes; check both nodes' CARP state"
            )
        else:
            why = f"higher priority ({d['to_priority']} > {d['from_priority']})"
        return (
            f"{head}: {new_src} preempted the master: {why}. Normal with preempt when a "
            "better node comes back or the master's priority drops (a tracker's weight); "
            "the old master logs 'received higher priority advert' and 'Entering BACKUP "
            "STATE'. Use nopreempt or preempt_delay if the VIP should stay put"
        )
    if d["takeover_s"] is not None:
        ranks = ""
        if d.get("to_priority") is not None and d.get("from_priority") is not None:
            ranks = f" ({d['to_priority']} vs {d['from_priority']})"
        return (
            f"{head}: the old master stopped as the new one started although the new one "
            f"does not outrank it{ranks}. The peers "
            "probably disagree (see config-mismatch / checksum-form-mismatch: each drops "
            "the other's adverts) or the old master's priority just dropped; check both "
            "nodes' logs around this time"
        )
    return (
        f"{head}; the cause is unclear (the old master was not seen to stop, resign or "
        "be outranked): check both nodes' logs around this time"
    )


def _held_meanwhile(
    ctx: Context, router: RouterState, old: SpeakerState | None, new: SpeakerState
) -> int | None:
    """When `new` had advertised before, fell silent, and claimed its VIP by gratuitous ARP
    well after that and before it advertised again (a master whose adverts its peer's
    timer resets silences): the time of that claim. `new` then held the VIP through the
    move."""
    if old is None or old.end_ns is None or new.end_ns is None or new.active_since_ns is None:
        return None
    claims = ctx.claims.get(router.segment) or {}
    mac = (new.mac or "").lower()
    after = new.end_ns + 3 * interval_ns(new.interval_cs or 100) // 2
    for vip in new.addresses:
        rec = (claims.get(vip) or {}).get(mac)
        if (
            rec is not None
            and after < rec.last_ns < new.active_since_ns
            and rec.first_ns <= old.end_ns
        ):
            return rec.last_ns
    return None


def _flapping(ctx: Context, router: RouterState, new: SpeakerState, ts_ns: int) -> None:
    th = ctx.th
    window = int(th.flap_window_s * 1e9)
    times = router.transition_times
    times.append(ts_ns)
    while times and times[0] < ts_ns - window:
        times.popleft()
    while len(times) > th.flap_transitions * 4:
        times.popleft()
    if len(times) < th.flap_transitions:
        return
    details = {
        "moves_in_window": len(times),
        "window_s": th.flap_window_s,
        "moves_total": router.failovers,
        "masters": [sp.src for sp in router.speakers.values() if sp.active_since_ns][:16],
    }
    key = (Kind.FLAPPING, router.key)
    finding = ctx.book.get(key)
    moves = str(len(times)) if len(times) < th.flap_transitions * 4 else f"{len(times)}+"
    message = (
        f"{router.label}: mastership moved {moves} times within {th.flap_window_s:g} s; "
        "each move makes the VIP unreachable briefly and floods gratuitous ARP. Look for "
        "the root cause in the failover findings: a flapping tracker, lost adverts "
        "(interval drift, congestion), or two nodes fighting over the VRID"
    )
    if finding is not None:  # the text counts the moves so far, as the details do
        ctx.book.update(
            finding, ts_ns, frames=(new.episode_frame,), message=message, details=details
        )
        return
    finding = ctx.book.open(
        key,
        Kind.FLAPPING,
        scope(router),
        tuple(sorted({sp.src for sp in router.speakers.values()}))[:16],
        times[0],
        ts_ns,
        (new.episode_frame,),
        message,
        details,
    )
    if finding is not None:
        ctx.schedule_quiet(finding, window)
