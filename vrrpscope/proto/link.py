"""Link layers: find the network-layer payload, MAC addresses, VLAN stack and interface.

Parsed directly rather than with dpkt because dpkt stops after two VLAN tags and decodes
upper layers eagerly; every length is checked so a short frame is an error, not a crash.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_PBB = 0x88E7  # 802.1ah provider backbone bridging: I-TAG, then the customer frame
VLAN_TPIDS = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_12 = 12  # DLT_RAW on most BSDs
LINKTYPE_RAW_14 = 14  # DLT_RAW on OpenBSD
LINKTYPE_RAW = 101
LINKTYPE_FRELAY = 107
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

LINKTYPE_NAMES = {
    LINKTYPE_NULL: "NULL (BSD loopback)",
    LINKTYPE_ETHERNET: "EN10MB (Ethernet)",
    LINKTYPE_RAW_12: "RAW (IP)",
    LINKTYPE_RAW_14: "RAW (IP)",
    LINKTYPE_RAW: "RAW (IP)",
    LINKTYPE_FRELAY: "FRELAY (Frame Relay)",
    LINKTYPE_LOOP: "LOOP (OpenBSD loopback)",
    LINKTYPE_LINUX_SLL: "LINUX_SLL (Linux cooked v1)",
    LINKTYPE_IPV4: "IPV4",
    LINKTYPE_IPV6: "IPV6",
    LINKTYPE_LINUX_SLL2: "LINUX_SLL2 (Linux cooked v2)",
}

# Address families a NULL/LOOP header may carry for IPv6 (BSD variants).
_AF_INET = 2
_AF_INET6 = frozenset({10, 24, 28, 30})


class LinkError(Exception):
    """The frame is too short or malformed for its link layer."""


class UnsupportedLinkType(Exception):
    """No decoder for this link type."""


@dataclass(slots=True)
class LinkPacket:
    """What the link layer carries: a network-layer payload and where it came from."""

    ethertype: int
    payload: bytes
    src_mac: str | None = None
    dst_mac: str | None = None
    vlans: tuple[int, ...] = ()
    interface: str | None = None
    isid: int | None = None  # 802.1ah service instance (then ``vlans`` are the customer's)


def format_mac(raw: bytes) -> str:
    """aa:bb:cc:dd:ee:ff."""
    return raw.hex(":")


def linktype_name(linktype: int) -> str:
    return LINKTYPE_NAMES.get(linktype, f"link type {linktype}")


def parse_link(linktype: int, data: bytes) -> LinkPacket:
    """Strip the link layer of one frame; raise LinkError / UnsupportedLinkType."""
    parser = _PARSERS.get(linktype)
    if parser is None:
        raise UnsupportedLinkType(linktype)
    return parser(data)


def _strip_vlans(ethertype: int, data: bytes, offset: int) -> tuple[int, tuple[int, ...], int]:
    vlans: list[int] = []
    while ethertype in VLAN_TPIDS:
        if len(data) < offset + 4:
            raise LinkError("truncated VLAN tag")
        tci, ethertype = struct.unpack_from("!HH", data, offset)
        vlans.append(tci & 0x0FFF)
        offset += 4
    return ethertype, tuple(vlans), offset


@dataclass(slots=True)
class _Tags:
    """What lies between a link header and the network layer: VLAN tags, maybe an I-TAG."""

    ethertype: int
    vlans: tuple[int, ...]
    offset: int
    isid: int | None = None
    customer: bytes = b""  # customer destination + source MAC (802.1ah)


def _strip_tags(ethertype: int, data: bytes, offset: int) -> _Tags:
    """VLAN tags, then (802.1ah) a 4-byte I-TAG TCI (PCP, DEI, UCA, reserved, 24-bit I-SID),
    the customer MACs and the customer's own VLAN stack; backbone tags are transport and
    dropped then (the I-SID names the service). An LLC/SNAP customer frame is unwrapped."""
    ethertype, vlans, offset = _strip_vlans(ethertype, data, offset)
    if ethertype != ETH_PBB:
        return _Tags(ethertype, vlans, offset)
    if len(data) < offset + 18:
        raise LinkError("truncated 802.1ah I-TAG")
    (tci,) = struct.unpack_from("!I", data, offset)
    customer = data[offset + 4 : offset + 16]
    (ethertype,) = struct.unpack_from("!H", data, offset + 16)
    ethertype, vlans, offset = _strip_vlans(ethertype, data, offset + 18)
    if ethertype < 0x0600:
        ethertype, offset = _llc_snap(data, offset)
    return _Tags(ethertype, vlans, offset, tci & 0xFFFFFF, customer)


def _ethernet(data: bytes) -> LinkPacket:
    if len(data) < 14:
        raise LinkError("truncated Ethernet header")
    (ethertype,) = struct.unpack_from("!H", data, 12)
    tags = _strip_tags(ethertype, data, 14)
    ethertype, offset = tags.ethertype, tags.offset
    if ethertype < 0x0600 and tags.isid is None:  # 802.3 length field: LLC/SNAP
        ethertype, offset = _llc_snap(data, offset)
    macs = tags.customer or data[0:12]
    return LinkPacket(
        ethertype=ethertype,
        payload=data[offset:],
        src_mac=format_mac(macs[6:12]),
        dst_mac=format_mac(macs[0:6]),
        vlans=tags.vlans,
        isid=tags.isid,
    )


def _llc_snap(data: bytes, offset: int) -> tuple[int, int]:
    if data[offset : offset + 3] == b"\xaa\xaa\x03" and len(data) >= offset + 8:
        (ethertype,) = struct.unpack_from("!H", data, offset + 6)
        return ethertype, offset + 8
    return 0, offset  # plain 802.2 LLC (STP, CDP, ...): not IP


def _cooked(
    data: bytes, ethertype: int, offset: int, mac: bytes | None, interface: str | None
) -> LinkPacket:
    """The rest of a Linux cooked frame (SLL or SLL2): its tags from ``offset`` on, the
    source MAC (the customer's inside PBB) and the capture interface when it says one."""
    tags = _strip_tags(ethertype, data, offset)
    if tags.customer:
        mac = tags.customer[6:12]
    return LinkPacket(
        ethertype=tags.ethertype,
        payload=data[tags.offset :],
        src_mac=None if mac is None else format_mac(mac),
        vlans=tags.vlans,
        interface=interface,
        isid=tags.isid,
    )


def _sll(data: bytes) -> LinkPacket:
    if len(data) < 16:
        raise LinkError("truncated Linux cooked (SLL) header")
    _pkttype, hatype, halen = struct.unpack_from("!HHH", data, 0)
    (ethertype,) = struct.unpack_from("!H", data, 14)
    mac = data[6:12] if hatype == 1 and halen == 6 else None
    return _cooked(data, ethertype, 16, mac, None)


def _sll2(data: bytes) -> LinkPacket:
    if len(data) < 20:
        raise LinkError("truncated Linux cooked v2 (SLL2) header")
    ethertype, _reserved, ifindex, hatype, _pkttype, halen = struct.unpack_from("!HHIHBB", data, 0)
    mac = data[12:18] if hatype == 1 and halen == 6 else None
    return _cooked(data, ethertype, 20, mac, f"ifindex{ifindex}")


def _raw(data: bytes) -> LinkPacket:
    if not data:
        raise LinkError("empty raw IP frame")
    version = data[0] >> 4
    ethertype = {4: ETH_IPV4, 6: ETH_IPV6}.get(version, 0)
    return LinkPacket(ethertype=ethertype, payload=data)


def _null(data: bytes) -> LinkPacket:
    if len(data) < 4:
        raise LinkError("truncated NULL/loopback header")
    family = struct.unpack_from("<I", data)[0]
    if family > 0xFFFF:  # written by a big-endian host
        family = struct.unpack_from(">I", data)[0]
    return LinkPacket(ethertype=_family_ethertype(family), payload=data[4:])


def _loop(data: bytes) -> LinkPacket:
    if len(data) < 4:
        raise LinkError("truncated LOOP header")
    (family,) = struct.unpack_from(">I", data)
    return LinkPacket(ethertype=_family_ethertype(family), payload=data[4:])


def _family_ethertype(family: int) -> int:
    if family == _AF_INET:
        return ETH_IPV4
    return ETH_IPV6 if family in _AF_INET6 else 0


def _frame_relay(data: bytes) -> LinkPacket:
    """Q.922 address, then UI control 0x03 and NLPID (RFC 2427) or a Cisco Ethertype."""
    if len(data) < 4:
        raise LinkError("truncated Frame Relay header")
    offset = 2
    if not data[1] & 0x01:  # address extends beyond two octets
        offset = 3 if data[2] & 0x01 else 4
    if len(data) < offset + 2:
        raise LinkError("truncated Frame Relay header")
    if data[offset] != 0x03:  # Cisco encapsulation: an Ethertype follows the address
        (ethertype,) = struct.unpack_from("!H", data, offset)
        return LinkPacket(ethertype=ethertype, payload=data[offset + 2 :])
    nlpid = data[offset + 1]
    if nlpid == 0x00 and len(data) > offset + 2:  # optional padding octet
        offset += 1
        nlpid = data[offset + 1]
    if nlpid == 0xCC:
        return LinkPacket(ethertype=ETH_IPV4, payload=data[offset + 2 :])
    if nlpid == 0x8E:
        return LinkPacket(ethertype=ETH_IPV6, payload=data[offset + 2 :])
    if nlpid == 0x80 and len(data) >= offset + 8:  # SNAP
        (ethertype,) = struct.unpack_from("!H", data, offset + 6)
        return LinkPacket(ethertype=ethertype, payload=data[offset + 8 :])
    return LinkPacket(ethertype=0, payload=b"")


_PARSERS = {
    LINKTYPE_NULL: _null,
    LINKTYPE_ETHERNET: _ethernet,
    LINKTYPE_RAW_12: _raw,
    LINKTYPE_RAW_14: _raw,
    LINKTYPE_RAW: _raw,
    LINKTYPE_FRELAY: _frame_relay,
    LINKTYPE_LOOP: _loop,
    LINKTYPE_LINUX_SLL: _sll,
    LINKTYPE_IPV4: _raw,
    LINKTYPE_IPV6: _raw,
    LINKTYPE_LINUX_SLL2: _sll2,
}

SUPPORTED_LINKTYPES = frozenset(_PARSERS)
