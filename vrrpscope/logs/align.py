"""Each log's clock against the capture's: from events both views see.

A node logging "Entering MASTER STATE" sends its first advert at once; "sent 0 priority"
is its priority-0 advert. Per log, the offset that lines up the most of these with one
speaker's adverts (becoming master, resigning) within :data:`WINDOW_NS` is the node's
clock offset; that speaker is the node on the wire. Speakers the log itself names as a
peer ("advert from 198.18.1.2") are someone else and never chosen.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vrrpscope.logs.messages import (
    LOWER_PRIORITY,
    PREEMPTED,
    PRIORITY0_RECEIVED,
    RECEIVE_ERROR,
    RESIGNED,
    STATE,
)
from vrrpscope.logs.reader import LogEvent, LogFile

NS = 1_000_000_000
WINDOW_NS = 2 * NS  # matches of one offset lie within this of each other
HOUR_NS = 3600 * NS
_HEARD = (LOWER_PRIORITY, PREEMPTED, RECEIVE_ERROR)  # lines naming the advert's sender
MAX_HEARD = 200  # of those, the first this many vote on the offset


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment both views can show: ``kind`` "master" or "resigned"."""

    kind: str
    ts_ns: int
    vrid: int | None


@dataclass(frozen=True, slots=True)
class Alignment:
    """The offset found for one log (add ``offset_ns`` to its times)."""

    speaker: str
    offset_ns: int
    uncertainty_ns: int
    matched: int
    diffs: tuple[int, ...] = ()  # wire time - log time of each matched pair


SLACK_NS = NS // 20  # a daemon's own delay between logging and sending


def estimate(speaker: str, diffs: Sequence[int], resolution_ns: int) -> Alignment:
    """The offset every pair allows: a log time cut to ``resolution_ns`` (whole seconds
    in classic syslog) lies up to that before the moment, so each pair bounds the
    offset to (d - resolution, d]; their intersection, or the median when they
    disagree."""
    lo = max(d - resolution_ns for d in diffs) - SLACK_NS
    hi = min(diffs) + SLACK_NS
    if lo <= hi:
        return Alignment(speaker, (lo + hi) // 2, (hi - lo) // 2, len(diffs), tuple(diffs))
    ordered = sorted(diffs)
    middle = ordered[len(ordered) // 2] - resolution_ns // 2
    spread = (ordered[-1] - ordered[0] + resolution_ns) // 2
    return Alignment(speaker, middle, spread, len(diffs), tuple(diffs))


def log_marks(events: Iterable[LogEvent]) -> list[Mark]:
    """A log's marks: becoming master (not at start-up), resigning."""
    out = []
    for e in events:
        if e.ts_ns is None:
            continue
        if e.kind == STATE and e.details.get("state") == "MASTER" and not e.details.get("init"):
            out.append(Mark("master", e.ts_ns, e.vrid))
        elif e.kind == RESIGNED or (e.kind == STATE and e.details.get("resigned")):
            out.append(Mark("resigned", e.ts_ns, e.vrid))
    return out


_PROTOCOL_OF = {"ucarp": "carp"}  # the protocol each daemon speaks (others: VRRP)


def wire_marks(routers: Iterable, capture_start_ns: int | None) -> dict[str, list[Mark]]:
    """Per speaker (source address): when it began a mastership on the wire (not one
    already going when the capture began) and when it resigned."""
    out: dict[str, list[Mark]] = {}
    for router in routers:
        for period in router.timeline():
            at_start = capture_start_ns is not None and period.start_ns - capture_start_ns < NS
            if not at_start:
                out.setdefault(period.src, []).append(Mark("master", period.start_ns, router.vrid))
            if period.end_reason == "resigned":
                out.setdefault(period.src, []).append(Mark("resigned", period.end_ns, router.vrid))
    return out


def rank_alignments(
    mine: Sequence[Mark],
    wire: dict[str, list[Mark]],
    not_me: set[str],
    resolution_ns: int,
    heard: Sequence[tuple[int, str]] = (),
    spans: dict[str, list[tuple[int, int]]] | None = None,
    captured: tuple[int, int] | None = None,
) -> list[tuple[tuple, Alignment]]:
    """Each speaker's best alignment with its ranking key, best first.

    A candidate offset scores its matched marks, less the marks it puts well inside the
    ``captured`` span with no counterpart (a node entering MASTER sends at once: a
    missing advert speaks against that offset), plus the ``heard`` moments (log time,
    peer: "advert from X" lines) at which that peer was advertising on the wire
    (``spans``); ties go to the smaller offset (clocks are usually kept close), then the
    tighter."""
    out = []
    for speaker, theirs in wire.items():
        if speaker in not_me:
            continue
        vrids = {w.vrid for w in theirs}
        judged = sorted(m.ts_ns for m in mine if m.vrid is None or None in vrids or m.vrid in vrids)
        best: tuple[int, int, int, str, tuple[int, ...]] | None = None
        diffs = sorted(
            (w.ts_ns - m.ts_ns, i)
            for i, m in enumerate(mine)
            for w in theirs
            if w.kind == m.kind and (m.vrid is None or w.vrid is None or m.vrid == w.vrid)
        )
        lo = 0
        for hi in range(len(diffs)):
            while diffs[hi][0] - diffs[lo][0] > WINDOW_NS:
                lo += 1
            window = diffs[lo : hi + 1]
            per_mark: dict[int, int] = {}
            for d, i in window:
                per_mark.setdefault(i, d)
            spread = window[-1][0] - window[0][0]
            values = sorted(per_mark.values())
            offset = values[len(values) // 2]
            missed = _inside(judged, captured, offset) - len(per_mark)
            score = len(per_mark) - max(missed, 0) + _heard_present(heard, spans or {}, offset)
            near = abs(offset) // WINDOW_NS
            key = (-score, near, spread, speaker, tuple(values))
            if best is None or key < best:
                best = key
        if best is not None:
            out.append((best[:3], estimate(best[3], best[4], resolution_ns)))
    out.sort(key=lambda pair: (pair[0], pair[1].speaker))
    return out


def _inside(times: Sequence[int], captured: tuple[int, int] | None, offset: int) -> int:
    """How many of the sorted ``times``, shifted by ``offset``, lie well inside the
    ``captured`` span (a master period begun in its first second is not a mark)."""
    if captured is None:
        return 0
    first, last = captured
    return bisect_right(times, last - NS - offset) - bisect_left(times, first + 2 * NS - offset)


def _heard_present(
    heard: Sequence[tuple[int, str]], spans: dict[str, list[tuple[int, int]]], offset: int
) -> int:
    """How many ``heard`` moments fall, shifted by ``offset``, while their peer advertised."""
    count = 0
    for ts, peer in heard:
        at = ts + offset
        if any(a - WINDOW_NS <= at <= b + WINDOW_NS for a, b in spans.get(peer, ())):
            count += 1
    return count


def align(
    logs: Sequence[LogFile],
    routers: Iterable,
    capture_start_ns: int | None,
    capture_end_ns: int | None = None,
) -> None:
    """Set each log's offset (and its events' ``aligned_ns``) where the wire allows."""
    captured = None
    if capture_start_ns is not None and capture_end_ns is not None:
        captured = (capture_start_ns, capture_end_ns)
    routers = list(routers)
    wire = wire_marks(routers, capture_start_ns)
    vips_of: dict[str, set[str]] = {}
    protos_of: dict[str, set[str]] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for router in routers:
        for sp in router.speakers.values():
            vips_of.setdefault(sp.src, set()).update(sp.addresses)
            protos_of.setdefault(sp.src, set()).add(router.proto)
        for period in router.timeline():
            spans.setdefault(period.src, []).append((period.start_ns, period.end_ns))
    ranked: list[tuple[LogFile, list[tuple[tuple, Alignment]], int]] = []
    for log in logs:
        mine = log_marks(log.events)
        if not mine:
            log.offset_from = "no state change or resignation to match against the wire"
            continue
        peers = {str(e.details["peer"]) for e in log.events if e.details.get("peer")}
        # keepalived and FRR speak VRRP, ucarp CARP: a speaker of the other is someone else
        spoken = {_PROTOCOL_OF.get(e.daemon, "vrrp") for e in log.events}
        peers |= {src for src, protos in protos_of.items() if not protos & spoken}
        mine_vips = log.vips
        if mine_vips:  # a speaker advertising none of the node's VIPs is someone else
            peers |= {src for src, vips in vips_of.items() if vips and not vips & mine_vips}
        resolution = NS if not _has_fractions(log) else NS // 1000  # whole seconds: cut
        heard = [
            (e.ts_ns, str(e.details["peer"]))
            for e in log.events
            if e.ts_ns is not None and e.details.get("peer") and e.kind in _HEARD
        ][:MAX_HEARD]
        options = rank_alignments(mine, wire, peers, resolution, heard, spans, captured)
        if not options:
            log.offset_from = "none of its state changes has a counterpart on the wire"
            continue
        ranked.append((log, options, resolution))
    # each speaker is one node: the logs that match best choose first
    taken: set[str] = set()
    for log, options, resolution in sorted(ranked, key=lambda r: r[1][0][0]):
        free = [a for _, a in options if a.speaker not in taken]
        if not free:
            log.offset_from = "its state changes match only speakers other logs are"
            continue
        found = _refine(free[0], log.events, wire, resolution)
        taken.add(found.speaker)
        _apply(log, found)


def _apply(log: LogFile, found: Alignment) -> None:
    log.offset_s = round(found.offset_ns / NS, 3)
    log.offset_uncertainty_s = round(found.uncertainty_ns / NS, 3)
    log.offset_from = f"{found.matched} event(s) matched to {found.speaker}'s adverts"
    log.address = found.speaker
    hours = round(found.offset_ns / HOUR_NS)
    if hours and abs(found.offset_ns - hours * HOUR_NS) < 60 * NS:
        log.offset_from += (
            f"; {abs(hours)} h {'behind' if hours > 0 else 'ahead'}: probably a time "
            "zone (give it with --log-tz)"
        )
    for e in log.events:
        if e.ts_ns is not None:
            e.aligned_ns = e.ts_ns + found.offset_ns


def _refine(
    found: Alignment, events: Sequence[LogEvent], wire: dict[str, list[Mark]], resolution_ns: int
) -> Alignment:
    """More pairs near the offset found: the node hearing another resign (a priority-0
    advert of any other speaker) and being preempted (the named peer becoming master)."""
    others = [m for s, marks in wire.items() if s != found.speaker for m in marks]
    extra = []
    for e in events:
        if e.ts_ns is None:
            continue
        if e.kind == PRIORITY0_RECEIVED:
            theirs = [m for m in others if m.kind == "resigned"]
        elif e.kind == PREEMPTED and e.details.get("peer"):
            theirs = [m for m in wire.get(str(e.details["peer"]), []) if m.kind == "master"]
        else:
            continue
        near = [m.ts_ns - e.ts_ns for m in theirs if e.vrid is None or m.vrid in (None, e.vrid)]
        near = [d for d in near if abs(d - found.offset_ns) <= WINDOW_NS]
        if near:
            extra.append(min(near, key=lambda d: abs(d - found.offset_ns)))
    if not extra:
        return found
    return estimate(found.speaker, [*found.diffs, *extra], resolution_ns)


def _has_fractions(log: LogFile) -> bool:
    return any(e.ts_ns is not None and e.ts_ns % NS for e in log.events[:50])
