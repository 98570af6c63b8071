"""carp-collision: a CARP vhid equal to a VRRP VRID on the same segment."""

from __future__ import annotations

from collections.abc import Iterable

from vrrpscope.detectors import Context
from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Kind, KindSpec, Scope, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.CARP_COLLISION, Severity.CRITICAL, "a CARP vhid equals a VRRP VRID on the segment"
    ),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it


def router_added(ctx: Context, router: RouterState, segment_routers: Iterable[RouterState]) -> None:
    """A virtual router appeared: does the other protocol use its number on this segment?"""
    others = [
        r
        for r in segment_routers
        if r.vrid == router.vrid and r.proto != router.proto and r is not router
    ]
    if not others:
        return
    group = [router, *others]
    carp = [r for r in group if r.proto == "carp"]
    vrrp = [r for r in group if r.proto == "vrrp"]
    key = (Kind.CARP_COLLISION, router.segment, router.vrid)
    details = {
        "carp_families": sorted({r.family for r in carp}),
        "vrrp_families": sorted({r.family for r in vrrp}),
        "carp_speakers": sorted({s.src for r in carp for s in r.speakers.values()}),
        "vrrp_speakers": sorted({s.src for r in vrrp for s in r.speakers.values()}),
    }
    speakers = sorted({*details["carp_speakers"], *details["vrrp_speakers"]})
    finding = ctx.book.get(key)
    if finding is not None:
        ctx.book.update(finding, router.last_ts_ns, details=details, speakers=speakers)
        ctx.follow(finding, group)
        return
    v = router.vrid
    message = (
        f"CARP vhid {v} and VRRP VRID {v} are both in use on {router.segment}: they share "
        f"protocol 112, the group 224.0.0.18 and the virtual MAC 00:00:5e:00:01:{v & 0xFF:02x}. "
        "Each side takes the other's adverts for bogus ones (keepalived: 'bogus VRRP packet "
        "received'; a naive decoder even reads CARP as a priority-0 resignation) and both "
        "claim the virtual MAC, so the VIPs' ARP entries flip. Move one to a free number"
    )
    first = min(r.first_ts_ns for r in group)
    frames = [s.first_frame for r in group for s in list(r.speakers.values())[:1]]
    finding = ctx.book.open(
        key,
        Kind.CARP_COLLISION,
        Scope(router.segment, carp[0].family, "carp", v),
        speakers,
        first,
        max(r.last_ts_ns for r in group),
        frames,
        message,
        details,
    )
    ctx.follow(finding, group)
