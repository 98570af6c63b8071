"""GRE and ERSPAN decapsulation: switches mirror a segment to a collector this way."""

from __future__ import annotations

import struct

from vrrpscope.proto.link import ETH_IPV4, ETH_IPV6, LinkError, LinkPacket, parse_link

PROTO_GRE = 47
_GRE_ERSPAN_II = 0x88BE
_GRE_ERSPAN_III = 0x22EB
_GRE_TEB = 0x6558  # transparent Ethernet bridging
_LINKTYPE_ETHERNET = 1


def decapsulate_gre(payload: bytes) -> tuple[LinkPacket, str | None] | None:
    """The inner frame of a GRE packet and an ERSPAN session label, or None if not ours."""
    if len(payload) < 4:
        raise LinkError("truncated GRE header")
    flags, proto = struct.unpack_from("!HH", payload)
    if flags & 0x0007:  # GRE version 1 (PPTP) and others: not a mirror
        return None
    offset = 4 + 4 * sum(bool(flags & bit) for bit in (0x8000, 0x2000, 0x1000))
    if proto == _GRE_ERSPAN_II:
        if len(payload) < offset + 8:
            raise LinkError("truncated ERSPAN type II header")
        session = struct.unpack_from("!H", payload, offset + 2)[0] & 0x03FF
        return parse_link(_LINKTYPE_ETHERNET, payload[offset + 8 :]), f"erspan{session}"
    if proto == _GRE_ERSPAN_III:
        if len(payload) < offset + 12:
            raise LinkError("truncated ERSPAN type III header")
        session = struct.unpack_from("!H", payload, offset + 2)[0] & 0x03FF
        optional = payload[offset + 11] & 0x01  # O flag: 8-byte platform sub-header follows
        inner = payload[offset + 12 + 8 * optional :]
        return parse_link(_LINKTYPE_ETHERNET, inner), f"erspan{session}"
    if proto == _GRE_TEB:
        return parse_link(_LINKTYPE_ETHERNET, payload[offset:]), None
    if proto in (ETH_IPV4, ETH_IPV6):
        return LinkPacket(ethertype=proto, payload=payload[offset:]), None
    return None
