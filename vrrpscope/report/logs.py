"""The Logs section: each daemon log read, its clock offset, and what the daemons said
over time (repeats collapsed: a flood of one rejection is one row with its count)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vrrpscope.logs import messages as M
from vrrpscope.logs.reader import LogEvent, LogFile, describe
from vrrpscope.report.adverts import format_time
from vrrpscope.report.layout import INDENT, Line, wrap

MAX_ROWS = 40  # timeline rows without --details
_REASON_WORDS = {
    "auth": "wrong password (another cluster on this VRID, or auth_pass differs)",
    "auth-type": "another authentication type",
    "vip-mismatch": "other VIPs (another cluster on this VRID)",
    "vip-count": "another number of VIPs",
    "interval": "another advert interval",
    "version": "another VRRP version",
    "ttl": "TTL/hop limit not 255 (routed, or a unicast peer)",
    "checksum": "a bad checksum",
    "cast": "unicast where multicast was expected (or the reverse)",
    "not-peer": "a source that is not a unicast peer",
    "length": "a bad length",
    "type": "a bad packet type",
    "ah": "an IPsec AH failure",
    "hmac": "an auth_hmac failure",
    "bogus": "a rejected (bogus) advert",
}


def phrase(e: LogEvent) -> str:
    """What an event says, in a few words."""
    d = e.details
    peer = f" from {d['peer']}" if d.get("peer") else ""
    if e.kind == M.STATE:
        words = str(d.get("state"))
        if d.get("init"):
            words += " (start-up)"
        if d.get("reason"):
            words += f" ({d['reason']})"
        if d.get("resigned"):
            words += " (resigned: priority 0 sent)"
        return words
    if e.kind == M.ADVERT_TIMEOUT:
        return "advertisement timeout: no master heard"
    if e.kind == M.PRIORITY0_RECEIVED:
        return "heard the master resign (priority 0)"
    if e.kind == M.RESIGNED:
        return "sent priority 0 (resigned)"
    if e.kind == M.PREEMPTED:
        ours = f", ours {d['ours']}" if d.get("ours") is not None else ""
        return f"heard a better master{peer} (priority {d.get('priority')}{ours})"
    if e.kind == M.LOWER_PRIORITY:
        return f"heard a lower priority {d.get('priority', '')}{peer}".replace("  ", " ")
    if e.kind == M.PRIORITY_CHANGE:
        return f"priority {d.get('from')} -> {d.get('to')}"
    if e.kind == M.SCRIPT:
        status = f" (status {d['status']})" if "status" in d else ""
        return f"track script {d.get('script')} {d.get('result')}{status}"
    if e.kind == M.FAULT:
        return f"FAULT: {d.get('reason')}"
    if e.kind == M.RECEIVE_ERROR:
        reason = str(d.get("reason"))
        return f"rejected an advert{peer}: {_REASON_WORDS.get(reason, reason)}"
    if e.kind == M.SEND_ERROR:
        errno = f" (errno {d['errno']})" if "errno" in d else ""
        return f"cannot send adverts{peer}: {d.get('error')}{errno}"
    if e.kind == M.TIMER:
        return f"daemon stalled: a timer fired {d.get('late_s')} s late"
    if e.kind == M.ADDRESS_OWNER:
        return "two address owners (priority 255) on this VRID"
    if e.kind == M.GARP:
        return f"gratuitous ARP / NA for {d.get('vip')}"
    if e.kind == M.VIPS:
        return "VIPs added" if d.get("action") == "set" else "VIPs removed"
    if e.kind == M.DAEMON:
        return f"{e.daemon} {d.get('action')}"
    return e.kind


def where(e: LogEvent) -> str:
    """``VI_1 (VRID 51)``, ``VRID 7``, or ``-``."""
    if e.instance and e.vrid is not None:
        return f"{e.instance} (VRID {e.vrid})"
    if e.instance:
        return e.instance
    return f"VRID {e.vrid}" if e.vrid is not None else "-"


@dataclass(slots=True)
class Row:
    """Consecutive events of one node saying the same thing."""

    first: LogEvent
    last: LogEvent
    count: int = 1


REPEATING = (M.RECEIVE_ERROR, M.SEND_ERROR, M.GARP, M.LOWER_PRIORITY, M.TIMER, M.SCRIPT)
REPEAT_GAP_NS = 60 * 10**9  # a repeating message this close to its last is the same row


def _repeats(last: LogEvent, e: LogEvent) -> bool:
    """A message that floods (a rejection per advert) continuing, other rows between."""
    if e.kind not in REPEATING or last.when_ns is None or e.when_ns is None:
        return False
    return e.when_ns - last.when_ns <= REPEAT_GAP_NS


def collapse(events: Sequence[LogEvent]) -> list[Row]:
    """Events in time order, each run of the same node, place and phrase one row (a
    flooding message, such as a rejection per advert, also across other rows)."""
    rows: list[Row] = []
    open_rows: dict[tuple, Row] = {}
    for e in sorted(events, key=lambda e: (e.when_ns is None, e.when_ns or 0, e.node, e.line)):
        key = (e.node, where(e), phrase(e))
        row = open_rows.get(key)
        if row is not None and (rows[-1] is row or _repeats(row.last, e)):
            row.last, row.count = e, row.count + 1
            continue
        row = Row(e, e)
        rows.append(row)
        open_rows[key] = row
    return rows


def logs_lines(
    logs: Sequence[LogFile], width: int, local: bool = False, details: bool = False
) -> list[Line]:
    """The Logs section: one paragraph per log, then the daemons' timeline."""
    out: list[Line] = [[("Logs", "italic")]]
    for log in logs:
        text = describe(log)
        if log.offset_s is not None:
            text += (
                f"; clock offset {log.offset_s:+.3f} s ± {log.offset_uncertainty_s:.3f} s "
                f"({log.offset_from}): times below are the capture's"
            )
        elif log.offset_from:
            text += f"; not aligned ({log.offset_from}): times below are the log's"
        for i, piece in enumerate(wrap(text, width, INDENT, INDENT * 3)):
            out.append([(piece, "bold" if i == 0 else "")])
    events = [e for log in logs for e in log.events]
    if not details:  # keepalived's per-ARP lines repeat its per-instance one
        events = [e for e in events if not (e.kind == M.GARP and e.instance is None)]
    if not events:
        return out
    rows = collapse(events)
    shown = rows if details else rows[:MAX_ROWS]
    out.append([])
    out.append([(f"{INDENT}Daemon events" + ("" if local else " (UTC)"), "italic")])
    node_w = max(len(r.first.node) for r in shown)
    where_w = min(24, max(len(where(r.first)) for r in shown))
    times = [r.first.when_ns for r in shown if r.first.when_ns is not None]
    cut = 11 if not times or max(times) - min(times) < 86400 * 10**9 else 5  # with dates
    for row in shown:
        e = row.first
        at = "-" * (22 - cut) if e.when_ns is None else format_time(e.when_ns, local)[cut:22]
        what = phrase(e)
        if row.count > 1:
            last = row.last.when_ns
            same = last is None or last == e.when_ns
            until = "" if same else format_time(last, local)[cut:22]
            what += f" ×{row.count:,}" + (f" until {until}" if until else "")
        lead = f"{INDENT}{at}  {e.node.ljust(node_w)}  {where(e).ljust(where_w)}  "
        style = "yellow" if e.kind in (M.RECEIVE_ERROR, M.SEND_ERROR, M.FAULT, M.TIMER) else ""
        for i, piece in enumerate(wrap(what, width, lead, " " * len(lead))):
            out.append([(piece, style if i == 0 else style)])
    if len(rows) > len(shown):
        out.append(
            [(f"{INDENT}... {len(rows) - len(shown):,} more rows (--details shows all)", "italic")]
        )
    return out
