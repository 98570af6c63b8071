"""Vectorised link layers for the fast path: Ethernet (+ VLAN tags), SLL, SLL2, raw IP.

Every rule mirrors :mod:`vrrpscope.proto.link`; a frame that would take an unusual branch
there (short header, too many tags, LLC/SNAP, ARP, 802.1ah PBB) is marked for the general
path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrrpscope.columnar.byteview import ByteView
from vrrpscope.proto.link import (
    ETH_ARP,
    ETH_IPV4,
    ETH_IPV6,
    ETH_PBB,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    LINKTYPE_RAW_12,
    LINKTYPE_RAW_14,
    VLAN_TPIDS,
)

MAX_VLANS = 3  # deeper stacks go to the general path
FAST_LINKTYPES = frozenset(
    {
        LINKTYPE_ETHERNET,
        LINKTYPE_LINUX_SLL,
        LINKTYPE_LINUX_SLL2,
        LINKTYPE_RAW,
        LINKTYPE_RAW_12,
        LINKTYPE_RAW_14,
        LINKTYPE_IPV4,
        LINKTYPE_IPV6,
    }
)
_TPIDS = np.array(sorted(VLAN_TPIDS), np.int64)


@dataclass(slots=True)
class LinkColumns:
    """Per-frame link-layer facts (absolute offsets into the block)."""

    ethertype: np.ndarray
    net: np.ndarray  # offset of the network header
    end: np.ndarray  # offset just past the captured bytes
    mac: np.ndarray  # offset of the source MAC, -1 when unknown
    ifindex: np.ndarray  # SLL2 interface index, -1 when none
    vlans: np.ndarray  # (n, MAX_VLANS), -1 where no tag
    fallback: np.ndarray  # bool: the general path must decode this frame


def link_columns(
    view: ByteView, linktype: int, start: np.ndarray, caplen: np.ndarray
) -> LinkColumns:
    """Strip the link layer of every frame of a block."""
    n = len(start)
    end = start + caplen
    mac = np.full(n, -1, np.int64)
    ifindex = np.full(n, -1, np.int64)
    if linktype == LINKTYPE_ETHERNET:
        fallback = caplen < 14
        ethertype = view.u16(start + 12)
        net = start + 14
        mac = start + 6
    elif linktype == LINKTYPE_LINUX_SLL:
        fallback = caplen < 16
        ethertype = view.u16(start + 14)
        net = start + 16
        ethernet_mac = (view.u16(start + 2) == 1) & (view.u16(start + 4) == 6)
        mac = np.where(ethernet_mac, start + 6, -1)
    elif linktype == LINKTYPE_LINUX_SLL2:
        fallback = caplen < 20
        ethertype = view.u16(start)
        net = start + 20
        ifindex = view.u32(start + 4)
        ethernet_mac = (view.u16(start + 8) == 1) & (view.u8(start + 11) == 6)
        mac = np.where(ethernet_mac, start + 12, -1)
    else:  # raw IP
        fallback = caplen < 1
        version = view.u8(start) >> 4
        ethertype = np.select([version == 4, version == 6], [ETH_IPV4, ETH_IPV6], 0)
        net = start.copy()
        return LinkColumns(
            ethertype, net, end, mac, ifindex, np.full((n, MAX_VLANS), -1, np.int64), fallback
        )
    vlans = np.full((n, MAX_VLANS), -1, np.int64)
    for depth in range(MAX_VLANS + 1):
        tagged = np.isin(ethertype, _TPIDS) & ~fallback
        if not tagged.any():
            break
        if depth == MAX_VLANS:
            fallback = fallback | tagged
            break
        fallback = fallback | (tagged & (end - net < 4))
        tagged &= ~fallback
        vlans[:, depth] = np.where(tagged, view.u16(net) & 0x0FFF, -1)
        ethertype = np.where(tagged, view.u16(net + 2), ethertype)
        net = net + 4 * tagged
    if linktype == LINKTYPE_ETHERNET:
        llc = ethertype < 0x0600
        snap = (
            llc
            & (view.u8(net) == 0xAA)
            & (view.u8(net + 1) == 0xAA)
            & (view.u8(net + 2) == 0x03)
            & (end - net >= 8)
        )
        fallback = fallback | snap
        ethertype = np.where(llc, 0, ethertype)
    fallback = fallback | (ethertype == ETH_ARP) | (ethertype == ETH_PBB)  # 802.1ah: general
    return LinkColumns(ethertype, net, end, mac, ifindex, vlans, fallback)


def link_columns_multi(
    view: ByteView, linktypes: np.ndarray, start: np.ndarray, caplen: np.ndarray
) -> LinkColumns:
    """:func:`link_columns` for frames of several link types (unknown ones fall back)."""
    kinds = np.unique(linktypes)
    if len(kinds) == 1 and int(kinds[0]) in FAST_LINKTYPES:
        return link_columns(view, int(kinds[0]), start, caplen)
    n = len(start)
    out = LinkColumns(
        np.zeros(n, np.int64),
        start.copy(),
        start + caplen,
        np.full(n, -1, np.int64),
        np.full(n, -1, np.int64),
        np.full((n, MAX_VLANS), -1, np.int64),
        np.ones(n, bool),
    )
    for kind in kinds.tolist():
        if kind not in FAST_LINKTYPES:
            continue
        rows = np.flatnonzero(linktypes == kind)
        part = link_columns(view, kind, start[rows], caplen[rows])
        for name in ("ethertype", "net", "end", "mac", "ifindex", "vlans", "fallback"):
            getattr(out, name)[rows] = getattr(part, name)
    return out
