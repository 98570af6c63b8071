"""Verdicts the daemons' logs and the wire give together (called once both are read).

- egress-blocked: a node logs MASTER while none of its adverts reach the wire (its
  OUTPUT drops them: "send advert error 1 (Operation not permitted)");
- ingress-dropped: a node logs "Receive advertisement timeout" / becomes MASTER while
  the master's adverts are on the wire (its INPUT drops them);
- logged-rejects: a node's daemon rejects adverts the wire shows (wrong password, other
  VIPs, interval, version, TTL, checksum), matched to the speakers that send them, with
  how many adverts stand behind the (rate-limited) log lines.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vrrpscope.detectors import Context, scope, sec, secs
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.logs import messages as M
from vrrpscope.logs.reader import LogEvent, LogFile

KINDS = declare(
    __name__,
    KindSpec(
        Kind.EGRESS_BLOCKED,
        Severity.CRITICAL,
        "a node logs MASTER; none of its adverts reach the wire",
    ),
    KindSpec(
        Kind.INGRESS_DROPPED,
        Severity.CRITICAL,
        "a node times out on a master whose adverts are on the wire",
    ),
    KindSpec(
        Kind.LOGGED_REJECTS, Severity.WARNING, "a node's daemon rejects adverts the wire shows"
    ),
    KindSpec(
        Kind.LOGGED_FAULT, Severity.WARNING, "a node's daemon logs FAULT: it stops taking part"
    ),
)
EVERY_ADVERT = False  # called once, after the capture and the logs are read

NS = 1_000_000_000
_STATE_ENDS = (M.RESIGNED, M.DAEMON)
_FIX = {
    "auth": "another cluster on this VRID (give one of them a free VRID), or auth_pass "
    "differs between the peers",
    "vip-mismatch": "another cluster on this VRID (give one of them a free VRID), or the "
    "virtual_ipaddress lists differ",
    "vip-count": "the virtual_ipaddress lists differ (or another cluster on this VRID)",
    "interval": "advert_int differs between the peers: make it the same",
    "version": "vrrp_version differs between the peers: make it the same",
    "ttl": "the adverts cross a router or come from a unicast peer with another TTL",
    "checksum": "VRRPv3 checksum forms differ (old_unicast_checksum on one side only)",
    "cast": "one side unicast (unicast_peer), the other multicast",
    "auth-type": "authentication types differ between the peers",
}


@dataclass(slots=True)
class _Mastership:
    """A stretch a log says its node was MASTER (times on the capture's clock)."""

    start: LogEvent
    end_ns: int | None  # None: to the end of the log


def logs_read(ctx: Context, routers: Sequence[Any], logs: Sequence[LogFile], span: tuple) -> None:
    """Every verdict for every log (``span``: the capture's first and last frame)."""
    for log in logs:
        egress_blocked(ctx, routers, log, span)
        ingress_dropped(ctx, routers, log)
        logged_rejects(ctx, routers, log)
        logged_faults(ctx, routers, log)
        track_scripts(ctx, log)


def _router_of(routers: Sequence[Any], e: LogEvent, log: LogFile | None = None) -> Any | None:
    """The virtual router an event is about: its VRID's (IPv4 first); without a VRID,
    the only one, or the only one the node (its address on the wire) speaks on."""
    if e.vrid is None:
        if len(routers) == 1:
            return routers[0]
        if log is None or log.address is None or len({i for i in _instances(log)}) != 1:
            return None
        own = [r for r in routers if any(sp.src == log.address for sp in r.speakers.values())]
        return own[0] if len(own) == 1 else None
    mine = [r for r in routers if r.vrid == e.vrid and r.proto == "vrrp"]
    if e.family is not None:
        mine = [r for r in mine if r.family == e.family] or mine
    return min(mine, key=lambda r: (r.family, r.segment)) if mine else None


def _instances(log: LogFile) -> set[str]:
    return {e.instance for e in log.events if e.instance is not None}


def _quote(e: LogEvent) -> str:
    """The logged message without its instance prefix."""
    return re.sub(r"^(?:VRRP_Instance\([^)]*\)|\([^)]*\)):? ?", "", e.text)


def _at(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS, UTC).strftime("%H:%M:%S.%f")[:11]


def _masterships(log: LogFile) -> dict[tuple, list[_Mastership]]:
    """Per (instance, VRID): the stretches the log says its node was MASTER."""
    out: dict[tuple, list[_Mastership]] = {}
    open_: dict[tuple, _Mastership] = {}
    for e in log.events:
        if e.when_ns is None:
            continue
        key = (e.instance, e.vrid)
        if e.kind == M.STATE:
            current = open_.pop(key, None)
            if current is not None:
                current.end_ns = e.when_ns
            if e.details.get("state") == "MASTER":
                open_[key] = _Mastership(e, None)
                out.setdefault(key, []).append(open_[key])
        elif e.kind in _STATE_ENDS and key in open_:
            open_.pop(key).end_ns = e.when_ns
        elif e.kind == M.DAEMON and e.details.get("action") in ("stop", "stopped", "died"):
            for k in list(open_):
                open_.pop(k).end_ns = e.when_ns
    return out


def _adverts_between(router: Any, src: str | None, first: int, last: int) -> int:
    """Adverts from ``src`` (None: anyone) in [first, last], by master periods."""
    return sum(
        p.adverts
        for p in router.timeline()
        if (src is None or p.src == src) and p.start_ns <= last and p.end_ns >= first
    )


def egress_blocked(ctx: Context, routers: Sequence[Any], log: LogFile, span: tuple) -> None:
    """MASTER in the log, none of the node's adverts on the wire meanwhile."""
    start_ns, end_ns = span
    if start_ns is None or end_ns is None:
        return
    for (instance, _vrid), stretches in _masterships(log).items():
        for stretch in stretches:
            router = _router_of(routers, stretch.start, log)
            if router is None:
                continue
            first = max(stretch.start.when_ns or 0, start_ns)
            last = min(stretch.end_ns or end_ns, end_ns)
            errors = [
                e
                for e in log.events
                if e.kind == M.SEND_ERROR
                and e.when_ns is not None
                and first <= e.when_ns <= last
                and e.instance == instance
            ]
            takeover = max((sp.mdi_ns for sp in router.speakers.values()), default=3 * NS)
            if log.address is not None:  # the longest stretch without its adverts
                quiet = _longest_silence(router, log.address, first, last)
            elif errors:  # not on the wire at all: from its first send error
                quiet = (errors[0].when_ns or first, last)
            else:
                continue
            slack = int((log.offset_uncertainty_s or 1.0) * NS)
            if quiet is None or quiet[1] - quiet[0] <= takeover + slack:
                continue
            if not errors and _rejecting(log, instance, stretch.start.when_ns or first, last):
                # keepalived re-arms a master's advert timer on every advert it rejects:
                # a master fed a stream of them falls silent without any loss (the
                # split-brain / duplicate-vrid findings say so)
                continue
            _egress_finding(ctx, router, log, stretch, errors, *quiet)


def _rejecting(log: LogFile, instance: str | None, first: int, last: int) -> bool:
    """Whether the node logged rejected adverts while it was master (keepalived 2.3.3
    and later log one per state change: at the start of the stretch)."""
    return any(
        e.kind == M.RECEIVE_ERROR
        and e.when_ns is not None
        and first - NS <= e.when_ns <= last
        and e.instance == instance
        for e in log.events
    )


def _longest_silence(router: Any, src: str, first: int, last: int) -> tuple[int, int] | None:
    """The longest part of [first, last] with no master period of ``src``."""
    spans = sorted((p.start_ns, p.end_ns) for p in router.timeline() if p.src == src)
    best: tuple[int, int] | None = None
    at = first
    for start, end in [*spans, (last, last)]:
        if start > at and (best is None or min(start, last) - at > best[1] - best[0]):
            best = (at, min(start, last))
        at = max(at, end)
        if at >= last:
            break
    return best


def _egress_finding(
    ctx: Context,
    router: Any,
    log: LogFile,
    stretch: _Mastership,
    errors: list[LogEvent],
    quiet_from: int,
    last: int,
) -> None:
    others = sorted(
        {p.src for p in router.timeline() if p.start_ns <= last and p.end_ns >= quiet_from}
        - {log.address}
    )
    said = ""
    if errors:
        first_error = errors[0]
        said = (
            f" and logged '{_quote(first_error)}' "
            f"{len(errors)} time(s) from {_at(first_error.when_ns or 0)}"
        )
    meanwhile = (
        f"; meanwhile {', '.join(others)} advertised as master: both hold the VIP (split brain)"
        if others
        else "; the wire had no master meanwhile"
    )
    node = log.node + (f" ({log.address})" if log.address else "")
    if errors:  # the host refused to send them
        why = (
            "Its egress drops VRRP: check OUTPUT (`iptables -A OUTPUT -p vrrp -j ACCEPT`, "
            "nftables `ip protocol vrrp accept`), and in a container the NET_RAW / NET_ADMIN "
            "capabilities."
        )
    else:
        why = (
            "It logged no send error, so they are lost past the host (a bridge, VLAN or "
            "switch port filtering them) or the daemon stopped sending while MASTER: check "
            "with `tcpdump -nn -i <if> vrrp` on the node itself."
        )
    message = (
        f"{router.label}: {node} logged MASTER ({stretch.start.instance or 'its instance'}) "
        f"from {_at(stretch.start.when_ns or 0)}{said}, but none of its adverts reach the "
        f"wire from {_at(quiet_from)} to {_at(last)}{meanwhile}. {why}"
    )
    ctx.book.open(
        (Kind.EGRESS_BLOCKED, router.key, log.node),
        Kind.EGRESS_BLOCKED,
        scope(router),
        _speakers(log, others),
        quiet_from,
        last,
        (),
        message,
        {
            "node": log.node,
            "address": log.address,
            "instance": stretch.start.instance,
            "cause": "egress-firewall" if errors else "lost-past-host",
            "send_errors": len(errors),
            "error": errors[0].details.get("error") if errors else None,
            "others_master": others,
            "log_lines": [e.line for e in [stretch.start, *errors[:5]]],
            "log_path": log.path,
        },
        None if errors else Severity.WARNING,
    )
    finding = ctx.book.get((Kind.EGRESS_BLOCKED, router.key, log.node))
    if finding is not None:
        ctx.book.close(finding, last)


def ingress_dropped(ctx: Context, routers: Sequence[Any], log: LogFile) -> None:
    """A timeout (or becoming MASTER) while another master's adverts kept coming."""
    if log.offset_s is None:  # needs the two clocks lined up
        return
    slack = int((log.offset_uncertainty_s or 0.0) * NS) + NS // 2
    heard = sorted(
        (h for h in log.events if h.when_ns is not None and h.kind in _HEARS),
        key=lambda h: h.when_ns or 0,
    )
    hits: dict[Any, list[tuple[LogEvent, str]]] = {}
    for e in log.events:
        is_timeout = e.kind == M.ADVERT_TIMEOUT
        is_master = e.kind == M.STATE and e.details.get("state") == "MASTER"
        if not (is_timeout or is_master) or e.details.get("init") or e.when_ns is None:
            continue
        router = _router_of(routers, e, log)
        if router is None:
            continue
        t = e.when_ns
        for p in router.timeline():
            if p.src == log.address:
                continue
            sp = next((s for s in router.speakers.values() if s.src == p.src), None)
            interval = (sp.interval_cs if sp is not None else 100) * NS // 100
            takeover = sp.mdi_ns if sp is not None else 3 * interval
            during = p.start_ns < t - 2 * interval - slack and p.end_ns > t + interval + slack
            # it logged that master's adverts: it hears them (a backup of higher priority
            # discards lower ones and times out: that is preemption; one that rejects
            # them times out too: logged-rejects says why)
            if not during or _heard(heard, p.src, t - max(4 * interval, 2 * takeover) - slack, t):
                continue
            seen = hits.setdefault(router.key, [])
            if not (seen and is_master and t - (seen[-1][0].when_ns or 0) <= 2 * NS):
                seen.append((e, p.src))  # (the MASTER right after a timeout: one)
            break
    for key, found in hits.items():
        router = next(r for r in routers if r.key == key)
        _ingress_finding(ctx, router, log, found)


_HEARS = (M.LOWER_PRIORITY, M.PREEMPTED, M.RECEIVE_ERROR)  # lines that show adverts arrive


def _heard(heard: Sequence[LogEvent], src: str, first: int, last: int) -> bool:
    """Whether the log shows, in [first, last], an advert of ``src`` arriving (a
    rejection naming no sender counts for any)."""
    lo = bisect.bisect_left(heard, first, key=lambda h: h.when_ns or 0)
    for h in heard[lo:]:
        if (h.when_ns or 0) > last:
            return False
        peer = h.details.get("peer")
        if peer == src or (peer is None and h.kind == M.RECEIVE_ERROR):
            return True
    return False


def _ingress_finding(
    ctx: Context, router: Any, log: LogFile, found: list[tuple[LogEvent, str]]
) -> None:
    masters = sorted({src for _, src in found})
    first = found[0][0]
    last = found[-1][0]
    sp = next((s for s in router.speakers.values() if s.src == masters[0]), None)
    every = secs(sp.interval_cs * NS // 100) if sp is not None else "?"
    node = log.node + (f" ({log.address})" if log.address else "")
    t0 = first.when_ns or 0
    own = log.address and _adverts_between(router, log.address, t0, (last.when_ns or t0) + 3 * NS)
    split = (
        f"; {log.address}'s own adverts are on the wire too: both hold the VIP (split brain)"
        if own
        else ""
    )
    message = (
        f"{router.label}: {node} logged '{_quote(first)}' at "
        f"{_at(first.when_ns or 0)}"
        + (f" ({len(found)} times)" if len(found) > 1 else "")
        + f" while {', '.join(masters)}'s adverts were on the wire (every {every}, before "
        f"and after): {log.node} does not receive them{split}. Its ingress drops VRRP: check "
        "INPUT (`iptables -A INPUT -p vrrp -j ACCEPT`, nftables `ip protocol vrrp accept`), "
        "and that the switch / VLAN delivers 224.0.0.18 to it (IGMP snooping)."
    )
    key = (Kind.INGRESS_DROPPED, router.key, log.node)
    ctx.book.open(
        key,
        Kind.INGRESS_DROPPED,
        scope(router),
        _speakers(log, masters),
        first.when_ns or 0,
        last.when_ns or 0,
        (),
        message,
        {
            "node": log.node,
            "address": log.address,
            "masters_on_wire": masters,
            "times": len(found),
            "log_lines": [e.line for e, _ in found[:8]],
            "log_path": log.path,
        },
    )
    finding = ctx.book.get(key)
    if finding is not None:
        ctx.book.close(finding, last.when_ns)


def logged_rejects(ctx: Context, routers: Sequence[Any], log: LogFile) -> None:
    """Rejections per (router, reason): who on the wire sends what is rejected."""
    groups: dict[tuple, list[LogEvent]] = {}
    for e in log.events:
        if e.kind != M.RECEIVE_ERROR or e.when_ns is None:
            continue
        router = _router_of(routers, e, log)
        if router is not None:
            groups.setdefault((router.key, str(e.details.get("reason"))), []).append(e)
    for (key, reason), events in groups.items():
        router = next(r for r in routers if r.key == key)
        _rejects_finding(
            ctx, router, log, reason, events, _shape_suspects(routers, router, log, reason)
        )


_SHAPE = ("length", "type", "version", "bogus")  # rejections of the packet's form


def _shape_suspects(routers: Sequence[Any], router: Any, log: LogFile, reason: str) -> list[Any]:
    """For a rejection of the packet's form: the virtual routers on the same ID whose
    packets the daemon cannot read as its own (CARP on the VRRP VRID: keepalived calls
    them "too short"; another VRRP version). Empty: the VRRP peers are the suspects."""
    if reason not in _SHAPE:
        return []
    same_id = [
        r
        for r in routers
        if r is not router and r.vrid == router.vrid and r.segment == router.segment
    ]
    carp = [r for r in same_id if r.proto == "carp" and r.family == router.family]
    if carp:
        return carp
    if reason == "version":
        mine = {sp.version for sp in router.speakers.values() if sp.src == log.address}
        other = [r for r in same_id if r.proto == "vrrp" and r.family == router.family]
        return [r for r in other if mine and r.versions - mine]
    return []


def _rejects_finding(
    ctx: Context,
    router: Any,
    log: LogFile,
    reason: str,
    events: list[LogEvent],
    suspects: Sequence[Any] = (),
) -> None:
    first, last = events[0].when_ns or 0, events[-1].when_ns or 0
    named = {str(e.details["peer"]) for e in events if e.details.get("peer")}
    pad = 2 * NS
    mine = log.vips
    foreign = reason in ("auth", "vip-mismatch", "vip-count") and mine
    sources = suspects or (router,)
    near = {
        (p.src, set(_vips(source, p.src)) & mine != set())  # (sender, of its own cluster)
        for source in sources
        for p in source.timeline()
        if p.src != log.address and p.start_ns <= last + pad and p.end_ns >= first - pad
    }
    senders = sorted({src for src, own in near if not (foreign and own)} | named)
    own_cluster = bool(foreign) and not senders and any(own for _, own in near)
    if own_cluster:  # only its own cluster's peers speak: they disagree (a password)
        senders = sorted({src for src, _ in near})
    on_wire = sum(
        _adverts_between(source, src, first - pad, last + pad)
        for source in sources
        for src in senders
    )
    vips = sorted(
        {
            a
            for source in sources
            for sp in source.speakers.values()
            if sp.src in senders and source.proto == "vrrp"
            for a in sp.addresses
        }
    )
    fix = _FIX.get(reason, "compare both sides' configuration")
    if own_cluster:
        fix = {
            "auth": "auth_pass differs between the peers of one cluster: make it the same",
            "vip-mismatch": "the virtual_ipaddress lists differ between the peers: make "
            "them the same",
        }.get(reason, fix)
    signers = [
        sp.src
        for source in sources
        for sp in source.speakers.values()
        if sp.src in senders and sp.signing is not None and sp.signing.signed
    ]
    if reason == "length" and signers:
        fix = (
            f"auth_hmac: {', '.join(signers)} signs its adverts (a 28-byte trailer) and this "
            "keepalived predates auth_hmac (2.4): upgrade it, or run the signers in "
            "receive-only mode until every node can verify"
        )
    if suspects and suspects[0].proto == "carp":
        fix = "CARP on the same ID: VRRP daemons cannot read CARP's packets; give one a free ID"
    behind = (
        f"; the wire shows {on_wire:,} adverts from them meanwhile for {len(events):,} log "
        "line(s) (keepalived 2.3.3 and later logs a rejection once per state change)"
        if on_wire > len(events)
        else ""
    )
    who = ", ".join(senders) if senders else "a sender not on this capture"
    if suspects and senders:
        kinds = sorted(
            {f"{s.proto.upper()} {'vhid' if s.proto == 'carp' else 'VRID'}" for s in suspects}
        )
        who += f" ({', '.join(kinds)} {router.vrid})"
    foreign_id = (reason in ("auth", "vip-mismatch", "vip-count") and not own_cluster) or bool(
        suspects
    )
    free = _free(ctx, router) if foreign_id else ""
    message = (
        f"{router.label}: {log.node}'s {events[0].daemon} rejects adverts ({reason}) from "
        f"{_at(first)} to {_at(last)}: from {who}"
        + (f" (VIPs {', '.join(vips[:4])})" if vips else "")
        + f"{behind}. Likely {fix}{free}."
    )
    key = (Kind.LOGGED_REJECTS, router.key, log.node, reason)
    ctx.book.open(
        key,
        Kind.LOGGED_REJECTS,
        scope(router),
        _speakers(log, senders),
        first,
        last,
        (),
        message,
        {
            "node": log.node,
            "address": log.address,
            "reason": reason,
            "log_lines": len(events),
            "adverts_on_wire": on_wire,
            "senders": senders,
            "vips": vips,
            "first_line": events[0].line,
            "log_path": log.path,
            "span_s": sec(last - first),
        },
    )
    finding = ctx.book.get(key)
    if finding is not None:
        ctx.book.close(finding, last)


def logged_faults(ctx: Context, routers: Sequence[Any], log: LogFile) -> None:
    """FAULT in the log: the instance stops advertising until it leaves FAULT."""
    events = [e for e in log.events if e.when_ns is not None]
    for i, e in enumerate(events):
        entering = e.kind == M.STATE and e.details.get("state") == "FAULT"
        if not entering or e.details.get("init"):
            continue
        router = _router_of(routers, e, log)
        if router is None:
            continue
        why = next(
            (
                _fault_reason(f.details)
                for f in reversed(events[max(0, i - 5) : i + 2])
                if f.kind == M.FAULT and f.instance == e.instance
            ),
            _fault_reason(e.details),
        )
        scripts = [
            f.details.get("script")
            for f in events[max(0, i - 5) : i + 1]
            if f.kind == M.SCRIPT and f.details.get("result") != "succeeded"
        ]
        left = next(
            (f for f in events[i + 1 :] if f.kind == M.STATE and f.instance == e.instance),
            None,
        )
        end = left.when_ns if left is not None else e.when_ns
        assert e.when_ns is not None and end is not None
        reason = why or (f"script {scripts[-1]}" if scripts else "not logged")
        until = f" until {_at(end)} ({left.details.get('state')})" if left is not None else ""
        message = (
            f"{router.label}: {log.node} logged FAULT for {e.instance or 'its instance'} at "
            f"{_at(e.when_ns)} ({reason}){until}: in FAULT keepalived sends no adverts and "
            "gives up the VIP. Fix what it names (the interface, the track script or file), "
            "then it rejoins as BACKUP."
        )
        ctx.book.open(
            (Kind.LOGGED_FAULT, router.key, log.node, e.when_ns),
            Kind.LOGGED_FAULT,
            scope(router),
            _speakers(log, ()),
            e.when_ns,
            end,
            (),
            message,
            {
                "node": log.node,
                "address": log.address,
                "instance": e.instance,
                "reason": reason,
                "left_to": left.details.get("state") if left is not None else None,
                "log_lines": [e.line],
                "log_path": log.path,
            },
        )
        finding = ctx.book.get((Kind.LOGGED_FAULT, router.key, log.node, e.when_ns))
        if finding is not None:
            ctx.book.close(finding, end)


def _fault_reason(details: dict[str, Any]) -> str | None:
    """``interface eth0 down``, ``script chk``, ``file /run/flag``, or the reason word."""
    reason = details.get("reason")
    if reason == "interface" and details.get("interface"):
        return f"interface {details['interface']} down"
    for word in ("script", "file"):
        if reason == word and details.get(word):
            return f"{word} {details[word]}"
    return str(reason) if reason else None


def track_scripts(ctx: Context, log: LogFile) -> None:
    """Priority flaps and priority failovers of the node explained by its track scripts."""
    if log.address is None or log.offset_s is None:
        return
    slack = int((log.offset_uncertainty_s or 0.0) * NS) + 2 * NS
    for f in ctx.book.all():
        moved = f.kind == Kind.FAILOVER and f.details.get("cause") == "priority"
        if not (f.kind == Kind.PRIORITY_FLAP or moved) or log.address not in f.speakers:
            continue
        near = [
            e
            for e in log.events
            if e.when_ns is not None
            and f.first_ts_ns - slack <= e.when_ns <= f.last_ts_ns + slack
            and e.kind in (M.SCRIPT, M.PRIORITY_CHANGE)
        ]
        results: dict[str, dict[str, int]] = {}
        for e in near:
            if e.kind == M.SCRIPT:
                counts = results.setdefault(str(e.details.get("script")), {})
                result = str(e.details.get("result"))
                counts[result] = counts.get(result, 0) + 1
        changes = [
            f"{e.details.get('from')}->{e.details.get('to')}"
            for e in near
            if e.kind == M.PRIORITY_CHANGE
        ]
        if not (results or changes) or "logged_priority" in f.details:
            continue
        f.details["logged_priority"] = changes
        if not f.message.rstrip().endswith("."):
            f.message = f.message.rstrip() + "."
        if results:
            f.details["track_scripts"] = results
            said = "; ".join(
                f"{name} " + ", ".join(f"{result} {n}x" for result, n in counts.items())
                for name, counts in results.items()
            )
            f.message += (
                f" {log.node}'s log: track script {said}"
                + (f" (priority {', '.join(changes[:6])})" if changes else "")
                + ": the priority follows the script."
            )
        else:
            f.message += (
                f" {log.node}'s log: effective priority {', '.join(changes[:6])} with no track "
                "script result beside it: a track_file, track_interface or track_process "
                "moves it."
            )


def _vips(router: Any, src: str) -> list[str]:
    return [a for sp in router.speakers.values() if sp.src == src for a in sp.addresses]


def _speakers(log: LogFile, others: Sequence[str]) -> tuple[str, ...]:
    """The finding's speakers: the node's address when known, then the others."""
    return tuple(dict.fromkeys([*([log.address] if log.address else []), *others]))


def _free(ctx: Context, router: Any) -> str:
    from vrrpscope.engine.inventory import format_ranges, free_vrids

    free = free_vrids((ctx.segments.get(router.segment) or {}).values()).get(router.family, [])
    return f" (free VRIDs here: {format_ranges(free)})" if free else ""
