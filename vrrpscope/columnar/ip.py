"""Vectorised IPv4 / IPv6 headers and the classification of non-VRRP multicast.

Mirrors :mod:`vrrpscope.proto.ip` and :mod:`vrrpscope.proto.classify` for the common shapes;
AH, GRE, IPv6 extension headers, zero lengths, short headers and neighbour
advertisements (which may claim an address) are marked for the general path.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from vrrpscope.columnar.byteview import ByteView
from vrrpscope.columnar.link import LinkColumns
from vrrpscope.proto.classify import classify
from vrrpscope.proto.ip import PROTO_AH, PROTO_VRRP, IPPacket
from vrrpscope.proto.link import ETH_IPV4, ETH_IPV6
from vrrpscope.proto.tunnel import PROTO_GRE
from vrrpscope.proto.wire import HSRPV2_GROUP, HSRPV2_GROUP_INT

_IPV6_EXTENSIONS = np.array([0, 43, 44, 50, 51, 60], np.int64)  # dpkt's EXT_HDRS


@dataclass(slots=True)
class IPColumns:
    """Per-frame IP facts for frames whose IP layer the fast path understood."""

    family: np.ndarray  # 4, 6, or 0 (not IP: ignored)
    proto: np.ndarray
    ttl: np.ndarray
    payload: np.ndarray  # offset of the upper layer
    length: np.ndarray  # upper-layer length the IP header announces
    captured: np.ndarray  # upper-layer bytes actually captured
    fragment: np.ndarray  # bool (IPv4 MF or offset)
    header_len: np.ndarray  # IPv4 header length (0 for IPv6)
    multicast: np.ndarray  # bool: link-local multicast destination
    fallback: np.ndarray  # bool


def ip_columns(view: ByteView, link: LinkColumns) -> IPColumns:
    net, end = link.net, link.end
    avail = end - net
    fallback = link.fallback.copy()
    v4 = (link.ethertype == ETH_IPV4) & ~fallback
    v6 = (link.ethertype == ETH_IPV6) & ~fallback
    first = view.u8(net)
    ihl = (first & 0x0F) * 4
    total = view.u16(net + 2)
    bad4 = v4 & (
        (avail < 20) | (first >> 4 != 4) | (ihl < 20) | (avail < ihl) | (total == 0) | (total < ihl)
    )
    plen = view.u16(net + 4)
    nxt = view.u8(net + 6)
    bad6 = v6 & ((avail < 40) | (first >> 4 != 6) | (plen == 0) | np.isin(nxt, _IPV6_EXTENSIONS))
    fallback |= bad4 | bad6
    v4 &= ~bad4
    v6 &= ~bad6
    family = np.select([v4, v6], [4, 6], 0)
    proto = np.where(v4, view.u8(net + 9), np.where(v6, nxt, -1))
    ttl = np.where(v4, view.u8(net + 8), view.u8(net + 7))
    header_len = np.where(v4, ihl, 0)
    payload = net + np.where(v4, ihl, 40)
    length = np.where(v4, total - ihl, plen)
    captured = np.where(v4, np.minimum(total, avail) - ihl, np.minimum(plen, avail - 40))
    captured = np.maximum(captured, 0)
    fragment = v4 & ((view.u16(net + 6) & 0x3FFF) != 0)
    multicast = np.where(
        v4,
        view.u8(net + 16) == 224,
        (view.u8(net + 24) == 0xFF) & ((view.u8(net + 25) & 0x0F) == 0x02),
    )
    ip = family > 0
    fallback |= ip & ((proto == PROTO_AH) | (proto == PROTO_GRE))
    neighbour_ad = v6 & (proto == 58) & (captured >= 24) & (view.u8(payload) == 136)
    fallback |= neighbour_ad
    # VRRP the fast path decodes: the whole message captured and at least 8 bytes long.
    vrrp = ip & (proto == PROTO_VRRP)
    # A fragment after the first carries no VRRP header: the general path says so.
    later = v4 & ((view.u16(net + 6) & 0x1FFF) != 0)
    fallback |= vrrp & ((length < 8) | (captured < length) | later)
    family = np.where(fallback, 0, family)
    return IPColumns(
        family, proto, ttl, payload, length, captured, fragment, header_len, multicast, fallback
    )


def label_keys(view: ByteView, ip: IPColumns, rows: np.ndarray) -> np.ndarray:
    """A packed key holding everything ``classify`` looks at, per row."""
    fam6 = (ip.family[rows] == 6).astype(np.int64)
    proto = ip.proto[rows]
    at = ip.payload[rows]
    captured = ip.captured[rows]
    udp = proto == 17
    icmp6 = proto == 58
    has = np.where(udp, captured >= 4, icmp6 & (captured >= 1)).astype(np.int64)
    ports = np.where(udp & (has == 1), (view.u16(at) << 16) | view.u16(at + 2), 0)
    ports = np.where(icmp6 & (has == 1), view.u8(at), ports)
    net = at - ip.header_len[rows]
    hsrp_group = (udp & (fam6 == 0) & (view.u32(net + 16) == HSRPV2_GROUP_INT)).astype(np.int64)
    return (fam6 << 50) | (proto << 42) | (hsrp_group << 41) | (has << 40) | ports


def label_of(key: int) -> str:
    """Rebuild just enough of an IPPacket for ``classify`` from a packed key."""
    family = 6 if key >> 50 else 4
    proto = (key >> 42) & 0xFF
    hsrp_group = (key >> 41) & 1
    has = (key >> 40) & 1
    value = key & 0xFFFFFFFF
    payload = b""
    if has and proto == 17:
        payload = struct.pack("!I", value)
    elif has and proto == 58:
        payload = bytes([value & 0xFF])
    packet = IPPacket(
        family=family,
        src="",
        dst=HSRPV2_GROUP if hsrp_group else "",
        src_raw=b"",
        dst_raw=b"",
        ttl=0,
        proto=proto,
        payload=payload,
        payload_len=len(payload),
    )
    return classify(packet)
