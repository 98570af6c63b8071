"""Findings about the input itself: timestamps-backwards and capacity limits."""

from __future__ import annotations

from vrrpscope.detectors import Context, scope, sec
from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Kind, KindSpec, Scope, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(Kind.TIMESTAMPS_BACKWARDS, Severity.INFO, "capture timestamps went backwards"),
    KindSpec(Kind.CAPACITY, Severity.WARNING, "a cap on speakers, routers or findings was reached"),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it


def timestamps_backwards(ctx: Context, segment: str, step_ns: int, ts_ns: int, frame: int) -> None:
    """A packet's timestamp was earlier than the latest one seen (one finding per segment)."""
    key = (Kind.TIMESTAMPS_BACKWARDS, segment)
    finding = ctx.book.get(key)
    if finding is not None:
        d = finding.details
        d["count"] += 1
        d["max_step_back_s"] = max(d["max_step_back_s"], sec(step_ns) or 0.0)
        ctx.book.update(finding, ts_ns, frames=(frame,), notify=False)
        return
    ctx.book.open(
        key,
        Kind.TIMESTAMPS_BACKWARDS,
        Scope(segment),
        (),
        ts_ns,
        ts_ns,
        (frame,),
        f"{segment}: packets with timestamps earlier than packets before them (merged "
        "captures, or a clock step on the capturing host). They are analysed as if they "
        "arrived at the latest time seen, so gaps and takeover times around them are "
        "approximate; merge captures by time (mergecap) for exact results",
        {"count": 1, "max_step_back_s": sec(step_ns)},
    )


def speakers_evicted(ctx: Context, router: RouterState, limit: int, ts_ns: int) -> None:
    """The router's speaker table is full and its stalest speaker was dropped."""
    key = (Kind.CAPACITY, "speakers", router.key)
    finding = ctx.book.get(key)
    if finding is not None:
        finding.details["evicted"] = router.evicted_speakers
        ctx.book.update(finding, ts_ns, notify=False)
        return
    ctx.book.open(
        key,
        Kind.CAPACITY,
        scope(router),
        (),
        ts_ns,
        ts_ns,
        (),
        f"{router.label}: more than {limit} distinct speakers; the stalest are forgotten. "
        "A real cluster has a handful: this is spoofed or misrouted traffic (or raise "
        "max_speakers_per_router)",
        {"limit": limit, "evicted": router.evicted_speakers},
    )


def routers_evicted(ctx: Context, evicted: int, limit: int, ts_ns: int) -> None:
    """The engine's router table is full and its stalest virtual router was dropped."""
    key = (Kind.CAPACITY, "routers")
    finding = ctx.book.get(key)
    if finding is not None:
        finding.details["evicted"] = evicted
        ctx.book.update(finding, ts_ns, notify=False)
        return
    ctx.book.open(
        key,
        Kind.CAPACITY,
        Scope(None),
        (),
        ts_ns,
        ts_ns,
        (),
        f"more than {limit} virtual routers; the stalest are forgotten. Look for spoofed "
        "traffic or a capture spanning very many VLANs (or raise max_routers)",
        {"limit": limit, "evicted": evicted},
    )
