"""Tell an incident: its one-line message and structured details, from its findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from vrrpscope.errors import display_name
from vrrpscope.findings import Finding, Kind, Severity
from vrrpscope.incidents import words
from vrrpscope.incidents.records import Incident, IncidentKind
from vrrpscope.incidents.roles import departure_of

_Story = tuple[str, dict[str, Any]]


def tell(kind: IncidentKind, findings: list[Finding]) -> Incident:
    """The incident of ``kind`` that ``findings`` make up (id set by the caller)."""
    findings = sorted(findings, key=lambda f: (f.first_ts_ns, f.id))
    message, details = _TELLERS.get(kind, _single)(findings)
    nodes: dict[str, None] = {}
    for f in findings:
        nodes.update(dict.fromkeys(f.speakers))
    lead = details.get("node")
    if lead in nodes:  # the node the story is about comes first
        nodes = {lead: None, **nodes}
    severity = max(f.severity for f in findings)
    first = min(f.first_ts_ns for f in findings)
    last = max(f.last_ts_ns for f in findings)
    still_open = any(f.open for f in findings)
    if kind == IncidentKind.CAPTURE_GAP:  # nobody failed: what the wire did is unknown
        silent = _of(findings, Kind.NO_MASTER)
        # past the takeover time a warning (the capture was blind while a backup might
        # have taken over), shorter only info; its drifts span the capture: the gaps
        severity = min(severity, Severity.WARNING) if silent else Severity.INFO
        spans = [lost_span(f) for f in findings]
        first, last = min(a for a, _ in spans), max(b for _, b in spans)
        still_open = any(f.open for f in silent)
    return Incident(
        id="",
        kind=kind,
        severity=severity,
        segment=findings[0].segment,
        nodes=tuple(nodes),
        vrids=tuple(sorted({f.vrid for f in findings if f.vrid is not None})),
        first_ts_ns=first,
        last_ts_ns=last,
        findings=sorted(findings, key=Finding.sort_key),
        message=message,
        details=details,
        open=still_open,
    )


def lost_span(f: Finding) -> tuple[int, int]:
    """When a capture gap's finding lost adverts: a no-master's silence; a drift's
    worst gap (from its start) when that gap explains it, else also the span of its
    missed adverts in the window (from one interval before the first gap's end)."""
    d = f.details
    at = d.get("worst_gap_at")
    if f.kind != Kind.INTERVAL_DRIFT or at is None:
        return f.first_ts_ns, f.last_ts_ns
    first = int(at * 1e9)
    last = first + int((d.get("worst_gap_s") or 0.0) * 1e9)
    reasons = d.get("reasons") or ()
    if d.get("missed_from") is None or ("worst-gap" in reasons and missed_in_worst_gap(f)):
        return first, last
    missed = (
        int((d["missed_from"] - (d.get("advertised_s") or 0.0)) * 1e9),
        int(d["missed_until"] * 1e9),
    )
    if "worst-gap" not in reasons:
        return missed
    return min(first, missed[0]), max(last, missed[1])


def missed_in_worst_gap(f: Finding) -> bool:
    """Whether a drift's worst gap missed all the adverts its window did."""
    d = f.details
    interval = d.get("advertised_s") or 0.0
    in_gap = round((d.get("worst_gap_s") or 0.0) / interval) - 1 if interval else 0
    return (d.get("missed_in_window") or 0) <= in_gap


def _of(findings: list[Finding], *kinds: Kind) -> list[Finding]:
    return [f for f in findings if f.kind in kinds]


def _vrids(findings: list[Finding]) -> list[int]:
    return sorted({f.vrid for f in findings if f.vrid is not None})


def _ids(findings: list[Finding]) -> str:
    carp = bool(findings) and all(f.proto == "carp" for f in findings)
    return words.ids_phrase(_vrids(findings), carp)


def _node_stopped(findings: list[Finding]) -> _Story:
    node = next(n for n in map(departure_of, findings) if n is not None)
    resigned = _of(findings, Kind.RESIGNED)
    moves = _of(findings, Kind.FAILOVER)
    lost = _of(findings, Kind.NO_MASTER)
    silent = [f for f in moves if f.details.get("cause") == "silence"]
    gone = sorted({*_vrids(resigned), *_vrids(moves), *_vrids(lost)})
    carp = all(f.proto == "carp" for f in findings)
    quiet = sorted({*_vrids(silent), *_vrids(lost)} - set(_vrids(resigned)))
    if resigned:
        t = [f.first_ts_ns for f in resigned]
        within = f" within {words.duration((max(t) - min(t)) / 1e9)}" if len(t) > 1 else ""
        head = f"{node} stopped: resigned {_ids(resigned)} (priority 0){within}"
        if quiet:
            head += f" and went silent on {words.ids_phrase(quiet, carp)}"
    else:
        head = f"{node} went silent on {words.ids_phrase(quiet, carp)}"
    parts = [head]
    details: dict[str, Any] = {
        "node": node,
        "how": "resigned" if not quiet else "silence" if not resigned else "mixed",
        "vrids": gone,
        "takeovers": [_takeover(f) for f in moves],
    }
    if moves:
        parts.append(_took_over(moves, gone, carp))
    if lost:
        worst = max(f.details.get("silence_s") or 0.0 for f in lost)
        parts.append(
            f"nobody took over {_ids(lost)} for up to {words.duration(worst)}: no master, "
            "the VIP unreachable unless a node held it silently"
        )
        details["no_master_vrids"] = _vrids(lost)
    elif not moves:
        parts.append("no takeover seen (it was not master, or the capture ends)")
    return "; ".join(parts), details


def _takeover(f: Finding) -> dict[str, Any]:
    d = f.details
    return {
        "vrid": f.vrid,
        "to": d.get("to"),
        "cause": d.get("cause"),
        "takeover_s": d.get("takeover_s"),
        "expected_s": d.get("expected_s"),
        "expected_rule": d.get("expected_rule"),
        "slow": bool(d.get("slow")),
    }


def _took_over(moves: list[Finding], gone: list[int], carp: bool) -> str:
    """'198.18.1.1 took over all of them in 0.61-0.62 s (RFC Skew_Time: 0.61 s)'."""
    by_taker: dict[str, list[Finding]] = {}
    for f in moves:
        by_taker.setdefault(f.details.get("to") or "?", []).append(f)
    out = []
    for taker, mine in by_taker.items():
        which = (
            "all of them"
            if len(by_taker) == 1 and len(_vrids(mine)) == len(gone) and len(gone) > 1
            else ""
            if len(gone) == 1
            else words.ids_phrase(_vrids(mine), carp)
        )
        times = [f.details["takeover_s"] for f in mine if f.details.get("takeover_s") is not None]
        when = f" in {words.span(min(times), max(times))}" if times else ""
        out.append(f"{taker} took over{' ' + which if which else ''}{when}")
    expected = [f for f in moves if f.details.get("expected_s") is not None]
    rule = ""
    if expected:
        rules = Counter(f.details.get("expected_rule") for f in expected)
        name = rules.most_common(1)[0][0]
        e = [f.details["expected_s"] for f in expected]
        slow = [f for f in expected if f.details.get("slow")]
        rule = f" (RFC {name}: {words.span(min(e), max(e))}"
        if slow:
            rule += f"; slow on {_ids(slow)}"
        rule += ")"
    return ", ".join(out) + rule


def _node_returned(findings: list[Finding]) -> _Story:
    node = findings[0].details.get("to")
    carp = all(f.proto == "carp" for f in findings)
    losers = words.names(f.details.get("from") or "?" for f in findings)
    reasons = Counter(f.details.get("preempt_reason") or "higher priority" for f in findings)
    f0 = findings[0].details
    if carp:
        why = "lower advskew"
    elif reasons.most_common(1)[0][0] == "higher priority":
        prios = {(f.details.get("to_priority"), f.details.get("from_priority")) for f in findings}
        why = (
            f"priority {f0.get('to_priority')} > {f0.get('from_priority')}"
            if len(prios) == 1
            else "higher priority"
        )
    else:
        why = "equal priority, higher primary IP"
    # (a node seen to stop before gets "N s after it stopped" from the correlation)
    message = f"{node} took over {_ids(findings)} from {losers} (preempted: {why})"
    return message, {
        "node": node,
        "vrids": _vrids(findings),
        "from": sorted({f.details.get("from") for f in findings if f.details.get("from")}),
        "takeovers": [_takeover(f) for f in findings],
    }


def _pair_names(findings: list[Finding]) -> list[str]:
    nodes: dict[str, None] = {}
    for f in findings:
        nodes.update(dict.fromkeys(f.speakers))
    return list(nodes)


def _split_brain(findings: list[Finding]) -> _Story:
    splits = _of(findings, Kind.SPLIT_BRAIN)
    nodes = _pair_names(splits)
    longest = max(f.last_ts_ns - f.first_ts_ns for f in splits) / 1e9
    message = (
        f"{words.names(nodes)} both master of {_ids(splits)} for up to {words.duration(longest)}"
    )
    evidence = Counter(f.details.get("evidence") for f in splits)
    cause = _mismatch_phrase(_of(findings, Kind.CONFIG_MISMATCH, Kind.CHECKSUM_FORM_MISMATCH))
    logged = _logged_cause(findings)
    if logged:
        message += f": {logged}"
    elif cause == "they disagree on auth_hmac signing":
        message += (
            f": {cause}; a node without auth_hmac drops the signed adverts (and one "
            "enforcing it the unsigned ones)"
        )
    elif cause:
        message += f": {cause}, so each rejects the other's adverts"
    elif "rejected-adverts" in evidence:
        message += ": each rejects the other's adverts"
    elif "address-claims" in evidence:
        message += ": one holds the VIP without advertising (its adverts blocked?)"
    elif all(f.details.get("two_owners") for f in splits):
        message += ": both advertise priority 255 (two address owners): an owner never yields"
    else:
        message += ": they do not hear each other (a firewall dropping VRRP, a VLAN or link)"
    stale = _of(findings, Kind.STALE_ARP)
    for f in stale[:1]:
        winner, loser = f.details.get("winner"), f.details.get("loser")
        if winner and loser:
            message += (
                f"; after it {winner} stayed master without a gratuitous ARP / NA for "
                f"{f.details.get('vip')}: hosts still send to {loser}'s MAC"
            )
    ended = [f for f in findings if f.kind in (Kind.FAILOVER, Kind.RESIGNED)]
    return message, {
        "stale_arp": sorted({str(f.details.get("vip")) for f in stale}),
        "nodes": nodes,
        "vrids": _vrids(splits),
        "longest_s": round(longest, 3),
        "evidence": sorted(e for e in evidence if e),
        "moves": len(ended),
    }


def _logged_cause(findings: list[Finding]) -> str:
    """What the daemons' logs showed: whose egress or ingress drops VRRP."""
    parts = []
    for f in _of(findings, Kind.EGRESS_BLOCKED):
        node = f.details.get("node")
        if f.details.get("send_errors"):
            parts.append(
                f"{node}'s adverts never reach the wire (its log: MASTER, send errors): its "
                "egress drops VRRP"
            )
        else:
            parts.append(f"{node} logged MASTER but its adverts did not reach the wire")
    for f in _of(findings, Kind.INGRESS_DROPPED):
        parts.append(
            f"{f.details.get('node')} timed out on adverts that were on the wire: "
            "its ingress drops VRRP"
        )
    return "; ".join(parts)


def _duplicate(findings: list[Finding]) -> _Story:
    collisions = _of(findings, Kind.CARP_COLLISION)
    dups = _of(findings, Kind.DUPLICATE_VRID)
    if collisions and not dups:
        d = collisions[0].details
        carp, vrrp = d.get("carp_speakers") or [], d.get("vrrp_speakers") or []
        message = (
            f"CARP ({words.names(carp)}) and VRRP ({words.names(vrrp)}) on the same ID "
            f"{words.id_list(_vrids(collisions))}: they share the virtual MAC and fight over "
            "it; give one of them a free ID"
        )
    else:
        message = (
            f"{words.names(_pair_names(dups))} claim {_ids(dups)}: two clusters on one VRID; "
            "give one cluster a free VRID"
        )
    extra = [
        word
        for kind, word in ((Kind.SPLIT_BRAIN, "split brain"), (Kind.FAILOVER, "failovers"))
        if _of(findings, kind)
    ]
    if extra:
        message += f" (causing {' and '.join(extra)})"
    return message, {"nodes": _pair_names(findings), "vrids": _vrids(findings)}


def _hijack(findings: list[Finding]) -> _Story:
    """'198.18.1.3 (02:..:03), new on VRID 51, claimed it with priority 255 while
    198.18.1.1 was master: suspected hijack; it held the VIP 5.0 s'."""
    claim = _of(findings, Kind.HIJACK_SUSPECTED)[0]
    d = claim.details
    stranger, master = d.get("speaker"), d.get("master")
    moves = _of(findings, Kind.FAILOVER)
    if d.get("priority") == 0 and stranger == master:
        message = (
            f"a priority-0 advert in {master}'s name from another MAC ({d.get('mac')}) "
            f"forced an election on {_ids([claim])}: suspected hijack"
        )
        takers = [f.details.get("to") for f in moves if f.details.get("from") == master]
        if takers:
            message += f"; {words.names(dict.fromkeys(takers))} took over"
        return message, {"node": master, "forged_mac": d.get("mac"), "vrids": _vrids(findings)}
    message = (
        f"{stranger} ({d.get('mac')}), new on {_ids([claim])}, claimed it with priority "
        f"{d.get('priority')} while {master} was master: suspected hijack"
    )
    taken = [f for f in moves if f.details.get("to") == stranger]
    given = [f for f in moves if f.details.get("from") == stranger]
    details: dict[str, Any] = {
        "node": stranger,
        "mac": d.get("mac"),
        "master": master,
        "vrids": _vrids(findings),
    }
    if taken:
        start = taken[0].last_ts_ns
        back = next((f for f in given if f.last_ts_ns >= start), None)
        if back is not None:
            held = max(back.first_ts_ns - start, 0) / 1e9
            message += f"; it advertised as master for {words.duration(held)}, then "
            message += f"{back.details.get('to')} took over again"
            if back.details.get("takeover_s") is not None:
                message += f" {words.duration(back.details['takeover_s'])} later"
            details["held_s"] = round(held, 3)
        else:
            message += "; it took the VIP"
        details["took_vip_ts"] = start / 1e9
    elif _of(findings, Kind.SPLIT_BRAIN):
        message += " (both master: split brain)"
    return message, details


def _flapping(findings: list[Finding]) -> _Story:
    moves = _of(findings, Kind.FAILOVER)
    prio = _of(findings, Kind.PRIORITY_FLAP)
    flaps = _of(findings, Kind.FLAPPING)
    nodes = _pair_names(findings)
    parts = []
    total_moves = max(
        len(moves), max((f.details.get("moves_total") or 0 for f in flaps), default=0)
    )
    if total_moves:
        parts.append(f"mastership moved {total_moves} times")
    if prio:
        changes = sum(f.details.get("changes_total") or 0 for f in prio)
        who = words.names(s for f in prio for s in f.speakers)
        lo = min(f.details.get("min") or 0 for f in prio)
        hi = max(f.details.get("max") or 0 for f in prio)
        parts.append(f"{who}'s priority changed {changes} times ({lo}-{hi})")
    span = (max(f.last_ts_ns for f in findings) - min(f.first_ts_ns for f in findings)) / 1e9
    message = f"{_ids(findings)} flapping: " + " and ".join(parts)
    message += f" in {words.duration(span)}"
    message += (
        ": a tracker (track_script / track_interface weight) going up and down"
        if prio
        else ": nodes losing and regaining each other (link, load, or a flapping tracker)"
    )
    times = sorted(f.first_ts_ns / 1e9 for f in moves)
    return message, {
        "node": prio[0].speakers[0] if prio and prio[0].speakers else None,
        "nodes": nodes,
        "vrids": _vrids(findings),
        "moves": total_moves,
        "times": times,
    }


def _capture_gap(findings: list[Finding]) -> _Story:
    silent = _of(findings, Kind.NO_MASTER)
    drifts = _of(findings, Kind.INTERVAL_DRIFT)
    if not silent:
        return _capture_loss(drifts)
    longest = max(f.details.get("silence_s") or 0.0 for f in silent)
    masters = sorted({str(f.details.get("last_master")) for f in silent})
    nodes = set(masters) | {f.speakers[0] for f in drifts if f.speakers}
    message = f"every master of {_ids(silent)} silent at once for up to {words.duration(longest)}"
    if drifts:
        message += f" and adverts of {_ids(drifts)} missing meanwhile"
    message += (
        f" ({words.count(len(nodes), 'node')}), then the same masters again: the capture "
        "(or the link) lost those frames, nobody failed over"
    )
    return message, {
        "vrids": _vrids(findings),
        "longest_s": longest,
        "masters": masters,
        **_common_gap(findings),
    }


def _not_captured(findings: list[Finding]) -> _Story:
    """Silences across the time between two capture files, the same masters after."""
    hole = findings[0].details["uncaptured"]
    masters = sorted(
        {str(f.details.get("last_master") or f.speakers[0]) for f in findings if f.speakers}
    )
    between = f"{display_name(hole['before'])} and {display_name(hole['after'])}"
    message = (
        f"nothing captured for {words.duration(hole['seconds'])} between {between}: "
        f"the masters of {_ids(findings)} ({words.count(len(masters), 'node')}) silent "
        "across it, then the same masters again; what the wire did meanwhile is not known"
    )
    return message, {"vrids": _vrids(findings), "masters": masters, **hole}


def _common_gap(findings: list[Finding]) -> dict[str, float]:
    """When every one of the gaps was going on (the frames the capture lost lie within;
    the last adverts before and the first after spread over an advert interval):
    ``lost_from`` (epoch seconds) and ``lost_s``; nothing when they have no moment in
    common (frames lost here and there)."""
    spans = [lost_span(f) for f in findings]
    first, last = max(a for a, _ in spans), min(b for _, b in spans)
    if last <= first:
        return {}
    return {"lost_from": round(first / 1e9, 6), "lost_s": round((last - first) / 1e9, 3)}


def _capture_loss(drifts: list[Finding]) -> _Story:
    """Gaps of many masters at once, none past the takeover time."""
    masters = sorted({f.speakers[0] for f in drifts if f.speakers})
    longest = max(f.details.get("worst_gap_s") or 0.0 for f in drifts)
    share = max(f.details.get("worst_gap_of_master_down") or 0.0 for f in drifts)
    message = (
        f"adverts of {_ids(drifts)} from {words.count(len(masters), 'node')} missing at "
        f"once, gaps of up to {words.duration(longest)} ({share:.0%} of the takeover "
        "time), then the same masters again: the capture lost those frames (no backup "
        "took over), not the senders"
    )
    return message, {
        "vrids": _vrids(drifts),
        "longest_s": longest,
        "masters": masters,
        **_common_gap(drifts),
    }


_FIELD_WORDS = {"auth_hmac": "auth_hmac signing"}


def _mismatch_phrase(findings: list[Finding]) -> str:
    what: list[str] = []
    for f in findings:
        if f.kind == Kind.CHECKSUM_FORM_MISMATCH:
            what.append("checksum form")
        else:
            what += list((f.details.get("fields") or {}).keys())
    what = list(dict.fromkeys(_FIELD_WORDS.get(w, w.replace("_", " ")) for w in what))
    return f"they disagree on {', '.join(what)}" if what else ""


def _mismatch(findings: list[Finding]) -> _Story:
    nodes = _pair_names(findings)
    message = f"{words.names(nodes)} on {_ids(findings)}: " + _mismatch_phrase(findings)
    return message, {"nodes": nodes, "vrids": _vrids(findings)}


_ROLLUP_WORDS: dict[Kind, str] = {
    Kind.PLAINTEXT_AUTH: "simple-text authentication: the password crosses the wire in clear",
    Kind.NON_STANDARD_MAC: "advertises from its own MAC, not the virtual MAC (keepalived "
    "without use_vmac: the VIP moves by gratuitous ARP)",
    Kind.INTERVAL_DRIFT: "adverts late or missing",
    Kind.INVALID_PACKET: "invalid adverts",
    Kind.RESIGNED: "resigned (priority 0)",
}


def _rollup(findings: list[Finding]) -> _Story:
    f0 = findings[0]
    nodes = list(dict.fromkeys(f.speakers[0] for f in findings if f.speakers))
    what = (None if f0.proto == "carp" else _ROLLUP_WORDS.get(f0.kind)) or str(f0.kind)
    macs = sorted({str(f.details["mac"]) for f in findings if f.details.get("mac")})
    if f0.kind == Kind.NON_STANDARD_MAC and any(m.lower().startswith("00:00:5e:00:") for m in macs):
        what = "advertises from a virtual MAC that is not this virtual router's"
    where = _ids(findings)
    if len(nodes) > 1:
        who = f"{len(nodes)} nodes on {where}"
    else:
        who = f"{nodes[0]} on {where}" if nodes else where
    extra = ""
    if f0.kind == Kind.NON_STANDARD_MAC and len(macs) == 1:
        extra = f" ({macs[0]})"
    details: dict[str, Any] = {
        "node": nodes[0] if len(nodes) == 1 else None,
        "kind": str(f0.kind),
        "count": len(findings),
    }
    if len(nodes) > 1:
        details["nodes"] = nodes
    return f"{who}: {what}{extra}", details


def _single(findings: list[Finding]) -> _Story:
    f = findings[0]
    carp = f.proto == "carp"
    head, _, rest = f.message.partition(": ")
    text = rest if rest and f.vrid is not None else f.message  # without the VRID label
    first = text.split(". ")[0]
    if f.severity == Severity.INFO and f.kind in _ROLLUP_WORDS and f.speakers and not carp:
        return _rollup(findings)
    where = _ids(findings)
    return (f"{where}: {first}" if where else first), {
        "node": f.speakers[0] if f.speakers else None
    }


_TELLERS: dict[IncidentKind, Callable[[list[Finding]], _Story]] = {
    IncidentKind.NODE_STOPPED: _node_stopped,
    IncidentKind.NODE_RETURNED: _node_returned,
    IncidentKind.SPLIT_BRAIN: _split_brain,
    IncidentKind.DUPLICATE_VRID: _duplicate,
    IncidentKind.HIJACK: _hijack,
    IncidentKind.FLAPPING: _flapping,
    IncidentKind.CAPTURE_GAP: _capture_gap,
    IncidentKind.NOT_CAPTURED: _not_captured,
    IncidentKind.MISMATCH: _mismatch,
    IncidentKind.ROLLUP: _rollup,
    IncidentKind.SINGLE: _single,
}
