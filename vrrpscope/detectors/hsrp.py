"""hsrp-vip-conflict: an HSRP group's virtual IP is also a VRRP/CARP VIP on the segment.

Both gateways then answer ARP for the address, with their own virtual MACs (HSRP's
0000.0c07.acXX / 0000.0c9f.fXXX, VRRP's 00-00-5e-00-01-XX): hosts flip between them.
Judged at the end of the capture on what each protocol said (the same on both routes).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from vrrpscope.detectors import Context, scope
from vrrpscope.engine.hsrp import HsrpBook, HsrpSender
from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Kind, KindSpec, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.HSRP_VIP_CONFLICT,
        Severity.CRITICAL,
        "an HSRP group's virtual IP is a VRRP or CARP VIP on the same segment",
    ),
)

EVERY_ADVERT = False  # judged once, at the end of the capture

ADVICE = (
    "one address must have one gateway protocol: remove it from the HSRP group "
    "(`no standby N ip`) or from the VRRP instance's virtual_ipaddress, and check hosts' "
    "ARP caches for the MAC they hold"
)


def vip_conflicts(ctx: Context, routers: Iterable[RouterState], hsrp: HsrpBook) -> None:
    """Every (HSRP group, virtual router) pair on one segment sharing a virtual IP."""
    if not hsrp.segments:
        return
    by_vip: dict[tuple[str, str], list[RouterState]] = {}
    for router in routers:
        for vip in dict.fromkeys(a for sp in router.speakers.values() for a in sp.addresses):
            by_vip.setdefault((router.segment, _canonical(vip)), []).append(router)
    for segment, groups in sorted(hsrp.segments.items()):
        for (_family, version, group), senders in sorted(groups.items()):
            said = sorted(senders.values(), key=lambda s: (s.first_ns, s.src))
            for vip in dict.fromkeys(s.last.virtual_ip for s in said if s.last.virtual_ip):
                for router in by_vip.get((segment, _canonical(vip)), []):
                    _conflict(ctx, router, version, group, vip, said)


def _conflict(
    ctx: Context,
    router: RouterState,
    version: int,
    group: int,
    vip: str,
    senders: list[HsrpSender],
) -> None:
    hsrp_side = [s for s in senders if s.last.virtual_ip == vip] or senders
    vrrp_side = sorted(
        (sp for sp in router.speakers.values() if vip in sp.addresses),
        key=lambda sp: (sp.first_ts_ns, sp.src),
    )
    first_h, first_v = hsrp_side[0], vrrp_side[0]
    first = max(first_h.first_ns, first_v.first_ts_ns)
    last = max(first, min(max(s.last_ns for s in hsrp_side), router.last_ts_ns))
    hsrp_who = ", ".join(s.src for s in hsrp_side)
    vrrp_who = ", ".join(sp.src for sp in vrrp_side)
    vrrp_who = f"{router.proto.upper()} {vrrp_who}"
    ctx.book.open(
        (Kind.HSRP_VIP_CONFLICT, router.key, version, group, vip),
        Kind.HSRP_VIP_CONFLICT,
        scope(router),
        [*(s.src for s in hsrp_side), *(sp.src for sp in vrrp_side)],
        first,
        last,
        (first_h.first_frame, first_v.first_frame),
        f"{router.label}: {vip} is also the virtual IP of HSRP group {group} (v{version}, "
        f"{hsrp_who}) beside {vrrp_who}: two gateways answer ARP for it with different "
        f"MACs; {ADVICE}",
        {
            "vip": vip,
            "hsrp_group": group,
            "hsrp_version": version,
            "hsrp_routers": [s.src for s in hsrp_side],
            "vrrp_routers": [sp.src for sp in vrrp_side],
        },
    )


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address
