"""Each log's clock against the capture's: from events both views see.

A node logging "Entering MASTER STATE" sends its first advert at once; "sent 0 priority"
is its priority-0 advert. Per log, the offset that lines up the most of these with one
speaker's adverts (becoming master, resigning) within :data:`WINDOW_NS` is the node's
clock offset; that speaker is the node on the wire. Speakers the log itself names as a
peer ("advert from 198.18.1.2") are someone else and never chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vrrpscope.logs.messages import PREEMPTED, PRIORITY0_RECEIVED, RESIGNED, STATE
from vrrpscope.logs.reader import LogEvent, LogFile

NS = 1_000_000_000
WINDOW_NS = 2 * NS  # matches of one offset lie within this of each other
HOUR_NS = 3600 * NS


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
        elif e.kind == RESIGNED:
            out.append(Mark("resigned", e.ts_ns, e.vrid))
    return out


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


def best_alignment(
    mine: Sequence[Mark], wire: dict[str, list[Mark]], not_me: set[str], resolution_ns: int
) -> Alignment | None:
    """The speaker and offset matching the most of ``mine`` (ties: the tighter)."""
    best: tuple[int, int, str, tuple[int, ...]] | None = None  # (-matched, spread, who, diffs)
    for speaker, theirs in wire.items():
        if speaker in not_me:
            continue
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
            key = (-len(per_mark), spread, speaker, tuple(sorted(per_mark.values())))
            if best is None or key < best:
                best = key
    if best is None:
        return None
    return estimate(best[2], best[3], resolution_ns)


def align(logs: Sequence[LogFile], routers: Iterable, capture_start_ns: int | None) -> None:
    """Set each log's offset (and its events' ``aligned_ns``) where the wire allows."""
    wire = wire_marks(list(routers), capture_start_ns)
    for log in logs:
        mine = log_marks(log.events)
        if not mine:
            log.offset_from = "no state change or resignation to match against the wire"
            continue
        peers = {str(e.details["peer"]) for e in log.events if e.details.get("peer")}
        coarse = not _has_fractions(log)  # whole seconds: each time cut to its second
        found = best_alignment(mine, wire, peers, NS if coarse else NS // 1000)
        if found is None:
            log.offset_from = "none of its state changes has a counterpart on the wire"
            continue
        found = _refine(found, log.events, wire, NS if coarse else NS // 1000)
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
