"""IPv4 / IPv6 headers through dpkt, with the upper layer kept as raw bytes.

dpkt parses the headers (IPv4 options, IPv6 extension-header chain); its eager decoding of
upper layers is switched off so VRRP/CARP bytes reach our own parser untouched. IPsec AH in
front of the payload is unwrapped here for IPv4 (dpkt already walks it for IPv6).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

import dpkt

from vrrpscope.proto import wire
from vrrpscope.proto.checksum import verifies

PROTO_AH = 51
PROTO_ESP = 50
PROTO_VRRP = wire.PROTO_VRRP


class _IPv4(dpkt.ip.IP):
    _protosw: dict = {}  # keep the payload as bytes


class _IPv6(dpkt.ip6.IP6):
    _protosw: dict = {}


class IPError(Exception):
    """The IP header is malformed or truncated."""


@dataclass(slots=True)
class IPPacket:
    """An IP header's facts plus the (possibly truncated) upper-layer bytes."""

    family: int
    src: str
    dst: str
    src_raw: bytes
    dst_raw: bytes
    ttl: int  # TTL or hop limit
    proto: int  # upper-layer protocol after extension headers and AH
    payload: bytes  # upper-layer bytes as captured (may be shorter than payload_len)
    payload_len: int  # upper-layer length the IP header announces
    fragment: bool = False  # MF set or non-zero offset (IPv4), fragment header (IPv6)
    later_fragment: bool = False  # a fragment after the first (non-zero offset): no header
    header_checksum_ok: bool = True  # IPv4 only
    ah_spi: int | None = None
    ah_icv: bytes | None = None


def parse_ipv4(data: bytes) -> IPPacket:
    if len(data) < 20 or data[0] >> 4 != 4:
        raise IPError("truncated or not an IPv4 header")
    try:
        ip = _IPv4(data)
    except (dpkt.UnpackError, dpkt.NeedData) as exc:
        raise IPError(f"malformed IPv4 header: {exc}") from exc
    header_len = ip.hl * 4
    if len(data) < header_len:
        raise IPError("truncated IPv4 options")
    total = ip.len if ip.len else len(data)
    payload = data[header_len:total]
    packet = IPPacket(
        family=4,
        src=socket.inet_ntop(socket.AF_INET, ip.src),
        dst=socket.inet_ntop(socket.AF_INET, ip.dst),
        src_raw=ip.src,
        dst_raw=ip.dst,
        ttl=ip.ttl,
        proto=ip.p,
        payload=payload,
        payload_len=max(total - header_len, 0),
        fragment=bool(ip.mf or ip.offset),
        later_fragment=bool(ip.offset),
        header_checksum_ok=verifies(data[:header_len]),
    )
    if packet.proto == PROTO_AH:
        _unwrap_ah(packet)
    return packet


def _unwrap_ah(packet: IPPacket) -> None:
    """Skip an IPsec AH header (RFC 4302): next header, length in 32-bit words minus 2."""
    data = packet.payload
    if len(data) < 12:
        raise IPError("truncated IPsec AH header")
    next_header, words = data[0], data[1]
    ah_len = (words + 2) * 4
    if len(data) < ah_len:
        raise IPError("truncated IPsec AH header")
    (packet.ah_spi,) = struct.unpack_from("!I", data, 4)
    packet.ah_icv = bytes(data[12:ah_len])
    packet.proto = next_header
    packet.payload = data[ah_len:]
    packet.payload_len = max(packet.payload_len - ah_len, 0)


def parse_ipv6(data: bytes) -> IPPacket:
    if len(data) < 40 or data[0] >> 4 != 6:
        raise IPError("truncated or not an IPv6 header")
    try:
        ip = _IPv6(data)
    except (dpkt.UnpackError, dpkt.NeedData, IndexError, struct.error, AttributeError) as exc:
        # AttributeError: dpkt 1.9.8 trips over a fragment header followed by another one
        raise IPError(f"malformed IPv6 header: {exc}") from exc
    ext_len = sum(ext.length for ext in ip.all_extension_headers)
    plen = ip.plen if ip.plen else len(data) - 40
    payload = data[40 + ext_len : 40 + plen]
    packet = IPPacket(
        family=6,
        src=socket.inet_ntop(socket.AF_INET6, ip.src),
        dst=socket.inet_ntop(socket.AF_INET6, ip.dst),
        src_raw=ip.src,
        dst_raw=ip.dst,
        ttl=ip.hlim,
        proto=_upper_protocol(ip),
        payload=payload,
        payload_len=max(plen - ext_len, 0),
    )
    for ext in ip.all_extension_headers:
        if isinstance(ext, dpkt.ip6.IP6FragmentHeader):
            packet.fragment = True
            packet.later_fragment = packet.later_fragment or bool(ext.frag_off)
        elif isinstance(ext, dpkt.ip6.IP6AHHeader):
            packet.ah_spi = ext.spi
            packet.ah_icv = bytes(ext.auth_data)
    return packet


def _upper_protocol(ip: dpkt.ip6.IP6) -> int:
    """The protocol after the extension headers (ESP hides it: then 50 itself)."""
    headers = ip.all_extension_headers
    if not headers:
        return ip.nxt
    last = headers[-1]
    if isinstance(last, dpkt.ip6.IP6ESPHeader):
        return PROTO_ESP
    return getattr(last, "nxt", PROTO_ESP)
