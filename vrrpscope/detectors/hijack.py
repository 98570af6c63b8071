"""hijack-suspected: adverts that look injected into an established virtual router.

Public tools take a VIP by sending adverts with priority 255 (or above the master's) from
a host that never spoke on the VRID, or force elections with priority-0 adverts in the
master's name. Judged once, when a speaker (IP and MAC) first advertises on a VRID whose
master has been advertising for ``hijack_established_s``, against the master's priority
as established (its highest lately: a silent backup preempting a master whose track
script lowered it is no hijack); a newcomer for other VIPs is another cluster
(duplicate-vrid's business); a newcomer outranking a master when both send from the
VRID's virtual MAC is two RFC routers handing over (priority 255 from a non-owner, or
the VIP as source, still count).
"""

from __future__ import annotations

from vrrpscope.detectors import Context, scope, virtual_mac, who
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.model import Advert

KINDS = declare(
    __name__,
    KindSpec(
        Kind.HIJACK_SUSPECTED,
        Severity.CRITICAL,
        "a new speaker claims an established virtual router, or resigns in its master's name",
    ),
)

EVERY_ADVERT = False  # judged when a speaker first advertises, never on repeated adverts

ADVICE = (
    "if this node is not one of yours, someone is taking the VIP: turn on authentication "
    "(VRRPv2 AH, or keepalived's auth_hmac), pin the peers with keepalived's unicast_peer, "
    "and use switch port security / DHCP snooping and ARP inspection on the segment; if "
    "it is a node just added, give it a priority below the master's (or nopreempt)"
)


def new_speaker(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """``sp`` advertised on ``router`` for the first time (``advert``): injected?"""
    if router.proto != "vrrp" or not advert.valid or advert.priority is None:
        return
    masters = [
        m
        for m in router.active.values()
        if m is not sp
        and m.active_since_ns is not None
        and ts_ns - m.active_since_ns >= int(ctx.th.hijack_established_s * 1e9)
        and m.priority is not None
    ]
    if not masters:
        return
    master = max(masters, key=_standing)
    standing = _standing(master)
    twin = next(
        (o for o in router.speakers.values() if o is not sp and o.src == sp.src), None
    )  # the same IP seen with another MAC
    reasons = []
    if advert.priority == 0:
        if twin is not None and twin is master:
            reasons.append(
                f"a priority-0 advert in the name of the master {master.src} from another MAC "
                f"({sp.mac}, the master's is {master.mac}): it forces an election"
            )
    else:
        if not set(advert.addresses) & set(master.addresses):
            return  # another cluster's VIPs: duplicate-vrid
        if advert.priority == 255 and sp.src not in advert.addresses:
            reasons.append(
                "priority 255 (the address owner's) from an address that owns none of the VIPs"
            )
        elif advert.priority >= standing and not _rfc_handover(router, sp, master):
            reasons.append(
                f"priority {advert.priority}, at least the established master's "
                f"({standing}): it takes the VIP"
            )
        if sp.src in advert.addresses and advert.priority != 255:
            reasons.append("its source address is the VIP itself")
        if twin is not None and reasons:
            reasons.append(f"{sp.src} advertised before from another MAC ({twin.mac})")
    if not reasons:
        return
    established = (ts_ns - (master.active_since_ns or ts_ns)) / 1e9
    ctx.book.open(
        (Kind.HIJACK_SUSPECTED, router.key, sp.key),
        Kind.HIJACK_SUSPECTED,
        scope(router),
        (sp.src, master.src),
        ts_ns,
        ts_ns,
        (advert.frame, master.last_frame),
        f"{router.label}: {who(sp)} never advertised here before and "
        + "; ".join(reasons)
        + f", while {who(master)} has been master for {established:.0f} s: {ADVICE}",
        {
            "speaker": sp.src,
            "mac": sp.mac,
            "priority": advert.priority,
            "master": master.src,
            "master_mac": master.mac,
            "master_priority": standing,
            "reasons": reasons,
        },
    )


def _rfc_handover(router: RouterState, sp: SpeakerState, master: SpeakerState) -> bool:
    """Both send from the VRID's virtual MAC, as RFC 5798 routers do (vendor gear, a
    node added with a higher priority): the VIP moves between two of the segment's
    routers, not to a host's NIC; priority 255 or the VIP as source still count."""
    vmac = virtual_mac(router.proto, router.family, router.vrid)
    return (sp.mac or "").lower() == vmac and (master.mac or "").lower() == vmac


def _standing(master: SpeakerState) -> int:
    """The master's priority as established: its highest lately (a backup preempting a
    master whose track script lowered it is the protocol at work, not a hijack)."""
    return max([master.priority or 0, *(p for _t, p in master.priority_history if p)])
