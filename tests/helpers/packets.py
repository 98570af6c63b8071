"""A small packet builder for tests: VRRPv2/v3, CARP, AH, and the link layers around them.

Checksums are computed with dpkt.in_cksum, not with vrrpscope's own code, so a checksum bug
in the decoder cannot hide behind the same bug in the builder.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct

import dpkt

GROUP_V4 = "224.0.0.18"
GROUP_V6 = "ff02::12"


def _a4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text)


def _a6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _with_checksum(msg: bytearray, at: int, cover: bytes) -> bytes:
    struct.pack_into("!H", msg, at, dpkt.in_cksum(cover))
    return bytes(msg)


def vrrp_v2(
    vrid: int,
    priority: int,
    addresses: list[str],
    *,
    interval_s: int = 1,
    auth_type: int = 0,
    auth_data: bytes = b"",
    count: int | None = None,
    bad_checksum: bool = False,
    vtype: int = 1,
    version: int = 2,
    with_auth_field: bool = True,
) -> bytes:
    """A VRRPv2 message (RFC 3768) with a correct checksum unless told otherwise; auth
    type 254 (Cisco MD5) carries a 16-byte digest instead of the 8-byte field."""
    n = len(addresses) if count is None else count
    msg = bytearray(
        struct.pack("!BBBBBBH", (version << 4) | vtype, vrid, priority, n, auth_type, interval_s, 0)
    )
    for addr in addresses:
        msg += _a4(addr)
    if with_auth_field:
        width = 16 if auth_type == 254 else 8
        msg += auth_data.ljust(width, b"\x00")[:width]
    out = _with_checksum(msg, 6, bytes(msg))
    return _spoil(out, 6) if bad_checksum else out


def vrrp_v3(
    vrid: int,
    priority: int,
    addresses: list[str],
    *,
    src: str,
    dst: str | None = None,
    interval_cs: int = 100,
    form: str = "pseudo-header",
    count: int | None = None,
    reserved: int = 0,
    bad_checksum: bool = False,
) -> bytes:
    """A VRRPv3 message (RFC 5798); `form` picks the checksum form of DESIGN §2."""
    v6 = ":" in src
    dst = dst or (GROUP_V6 if v6 else GROUP_V4)
    n = len(addresses) if count is None else count
    word = (reserved << 12) | (interval_cs & 0x0FFF)
    msg = bytearray(struct.pack("!BBBBHH", 0x31, vrid, priority, n, word, 0))
    for addr in addresses:
        msg += _a6(addr) if v6 else _a4(addr)
    if form == "message-only":
        cover = bytes(msg)
    else:
        pseudo_dst = dst if form == "pseudo-header" else (GROUP_V6 if v6 else GROUP_V4)
        if v6:
            cover = _a6(src) + _a6(pseudo_dst) + struct.pack("!I3xB", len(msg), 112) + msg
        else:
            cover = _a4(src) + _a4(pseudo_dst) + struct.pack("!xBH", 112, len(msg)) + msg
    out = _with_checksum(msg, 6, cover)
    return _spoil(out, 6) if bad_checksum else out


def auth_hmac(
    msg: bytes,
    *,
    src: str,
    key: bytes,
    seq: int,
    key_id: int = 1,
    dst: str | None = None,
    form: str = "pseudo-header",
    covers_trailer: bool = False,
    scheme: int = 1,
    reserved: int = 0,
    bad_hmac: bool = False,
) -> bytes:
    """``msg`` (a VRRP message) signed as keepalived 2.4's auth_hmac does: a 28-byte
    trailer (scheme, key id, reserved, 64-bit sequence, HMAC-SHA256/128 over a pseudo
    header, the message with its checksum zeroed and the trailer with a zero HMAC), then
    the checksum again: ``form`` as vrrp_v3 (VRRPv2: over the message), over the message
    alone or, ``covers_trailer``, over the trailer too (the kernel's, as on IPv6)."""
    v6 = ":" in src
    body = bytearray(msg)
    body[6:8] = b"\x00\x00"
    version, vrid = body[0] >> 4, body[1]
    address = _a6(src) if v6 else _a4(src)
    pseudo = bytes([6 if v6 else 4, version, vrid, 0]) + address.ljust(16, b"\x00")
    head = struct.pack("!BBHQ", scheme, key_id, reserved, seq)
    digest = hmac.new(key, pseudo + bytes(body) + head + bytes(16), hashlib.sha256).digest()[:16]
    if bad_hmac:
        digest = bytes(b ^ 0xFF for b in digest)
    whole = bytearray(bytes(body) + head + digest)
    covered = bytes(whole) if covers_trailer else bytes(body)
    if version != 3 or form == "message-only":
        cover = covered
    else:
        group = GROUP_V6 if v6 else GROUP_V4
        to = (dst or group) if form == "pseudo-header" else group
        if v6:
            cover = _a6(src) + _a6(to) + struct.pack("!I3xB", len(covered), 112) + covered
        else:
            cover = _a4(src) + _a4(to) + struct.pack("!xBH", 112, len(covered)) + covered
    return _with_checksum(whole, 6, cover)


def carp(
    vhid: int,
    *,
    advbase: int = 1,
    advskew: int = 0,
    demote: int = 0,
    counter: int = 0x0102030405060708,
    hmac: bytes = bytes(range(20)),
    bad_checksum: bool = False,
) -> bytes:
    """A CARP advertisement (36 bytes, OpenBSD layout, as ucarp sends it)."""
    msg = bytearray(struct.pack("!BBBBBBHQ", 0x21, vhid, advskew, 7, demote, advbase, 0, counter))
    msg += hmac[:20].ljust(20, b"\x00")
    out = _with_checksum(msg, 6, bytes(msg))
    return _spoil(out, 6) if bad_checksum else out


def _spoil(msg: bytes, at: int) -> bytes:
    out = bytearray(msg)
    out[at] ^= 0x5A
    return bytes(out)


def ah(
    payload: bytes, *, next_header: int = 112, spi: int = 0x1234, icv: bytes = b"\xaa" * 12
) -> bytes:
    """An IPsec AH header (RFC 4302) in front of `payload` (keepalived uses a 12-byte ICV)."""
    words = (12 + len(icv)) // 4 - 2
    return struct.pack("!BBHII", next_header, words, 0, spi, 1) + icv + payload


def ipv4(
    payload: bytes,
    *,
    src: str,
    dst: str = GROUP_V4,
    proto: int = 112,
    ttl: int = 255,
    mf: bool = False,
    offset: int = 0,
    bad_header_checksum: bool = False,
) -> bytes:
    """An IPv4 header with a correct header checksum around `payload` (``offset``: the
    fragment offset in 8-byte units)."""
    flags = (0x2000 if mf else 0) | offset
    hdr = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0xC0,
            20 + len(payload),
            1,
            flags,
            ttl,
            proto,
            0,
            _a4(src),
            _a4(dst),
        )
    )
    out = _with_checksum(hdr, 10, bytes(hdr))
    if bad_header_checksum:
        out = _spoil(out, 10)
    return out + payload


def ipv6(
    payload: bytes, *, src: str, dst: str = GROUP_V6, nxt: int = 112, hlim: int = 255
) -> bytes:
    return (
        struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, hlim, _a6(src), _a6(dst))
        + payload
    )


def ethernet(
    ip_packet: bytes,
    *,
    src_mac: str = "00:00:5e:00:01:33",
    dst_mac: str = "01:00:5e:00:00:12",
    vlans: tuple[int, ...] = (),
    ethertype: int | None = None,
) -> bytes:
    """Ethernet II with an optional VLAN stack (outer tag first; 802.1ad outer when stacked)."""
    if ethertype is None:
        ethertype = 0x86DD if ip_packet[:1] and ip_packet[0] >> 4 == 6 else 0x0800
    out = _mac(dst_mac) + _mac(src_mac)
    for i, vid in enumerate(vlans):
        tpid = 0x88A8 if (i == 0 and len(vlans) > 1) else 0x8100
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + ip_packet


def sll(ip_packet: bytes, *, src_mac: str = "00:00:5e:00:01:33", pkttype: int = 2) -> bytes:
    """Linux cooked v1 header (LINKTYPE_LINUX_SLL, 113)."""
    ethertype = 0x86DD if ip_packet[0] >> 4 == 6 else 0x0800
    return (
        struct.pack("!HHH8sH", pkttype, 1, 6, _mac(src_mac).ljust(8, b"\x00"), ethertype)
        + ip_packet
    )


def sll2(ip_packet: bytes, *, ifindex: int, src_mac: str = "00:00:5e:00:01:33") -> bytes:
    """Linux cooked v2 header (LINKTYPE_LINUX_SLL2, 276)."""
    ethertype = 0x86DD if ip_packet[0] >> 4 == 6 else 0x0800
    return (
        struct.pack("!HHIHBB8s", ethertype, 0, ifindex, 1, 2, 6, _mac(src_mac).ljust(8, b"\x00"))
        + ip_packet
    )


def null_loopback(ip_packet: bytes, *, big_endian: bool = False) -> bytes:
    """BSD NULL header: host-order address family (2 = IPv4, 24/28/30 = IPv6)."""
    family = 30 if ip_packet[0] >> 4 == 6 else 2
    return struct.pack(">I" if big_endian else "<I", family) + ip_packet


def gratuitous_arp(ip: str, mac: str) -> bytes:
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + _mac(mac) + _a4(ip) + bytes(6) + _a4(ip)
    return _mac("ff:ff:ff:ff:ff:ff") + _mac(mac) + b"\x08\x06" + body


# --------------------------------------------------------------------------- HSRP

HSRP_V1_STATES = {"initial": 0, "learn": 1, "listen": 2, "speak": 4, "standby": 8, "active": 16}
HSRP_V2_STATES = {"initial": 1, "learn": 2, "listen": 3, "speak": 4, "standby": 5, "active": 6}
HSRP_OPCODES = {"hello": 0, "coup": 1, "resign": 2}


def udp(payload: bytes, sport: int, dport: int) -> bytes:
    """A UDP header (checksum 0: none, legal over IPv4) around ``payload``."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def hsrp_v1(
    group: int,
    priority: int,
    vip: str,
    *,
    state: str = "active",
    opcode: str = "hello",
    hello_s: int = 3,
    hold_s: int = 10,
    auth: bytes = b"cisco",
) -> bytes:
    """An HSRP version 1 message (RFC 2281; version byte 0) as a UDP datagram."""
    msg = struct.pack(
        "!BBBBBBBB8s4s",
        0,
        HSRP_OPCODES[opcode],
        HSRP_V1_STATES[state],
        hello_s,
        hold_s,
        priority,
        group,
        0,
        auth.ljust(8, b"\x00"),
        _a4(vip) if vip else b"\0" * 4,
    )
    return udp(msg, 1985, 1985)


def hsrp_v2(
    group: int,
    priority: int,
    vip: str,
    *,
    identifier: str = "00:11:22:33:44:55",
    state: str = "active",
    opcode: str = "hello",
    hello_ms: int = 3000,
    hold_ms: int = 10000,
    auth: bytes | None = b"cisco",
    md5: bool = False,
) -> bytes:
    """An HSRPv2 message: the group state TLV (type 1, length 40), then a text (3) or MD5
    (4) authentication TLV; IPv6 virtual addresses go to UDP 2029."""
    six = ":" in vip
    address = (_a6(vip) if six else _a4(vip)).ljust(16, b"\x00")
    group_tlv = struct.pack(
        "!BBBBBBH6sIII16s",
        1,
        40,
        2,
        HSRP_OPCODES[opcode],
        HSRP_V2_STATES[state],
        6 if six else 4,
        group,
        _mac(identifier),
        priority,
        hello_ms,
        hold_ms,
        address,
    )
    msg = group_tlv
    if md5:
        msg += struct.pack("!BBBBH4sI16s", 4, 28, 1, 0, 0, b"\0" * 4, 1, b"\x5a" * 16)
    elif auth is not None:
        msg += struct.pack("!BB8s", 3, 8, auth.ljust(8, b"\x00"))
    port = 2029 if six else 1985
    return udp(msg, port, port)
