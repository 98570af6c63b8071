"""VRRPv2 / VRRPv3 / CARP wire formats and validation rules, written once.

The layouts are data (:class:`Field`: name, byte offset, byte width, bit split), as dpkt's
``__hdr__`` and scapy's ``fields_desc`` declare theirs. The rules are functions over
"int or ndarray": :mod:`vrrpscope.proto.vrrp` calls them with the ints of one advert,
:mod:`vrrpscope.columnar.vrrp` with the columns of a block, so both decoders apply the
same rule by construction. Protocol constants (IP protocol 112, the VRRP groups, the CARP
signature, the HSRPv2 group) live here and nowhere else.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    from vrrpscope.columnar.byteview import ByteView


N = TypeVar("N", int, np.ndarray)  # a rule takes the ints of one advert or whole columns

PROTO_VRRP = 112  # IP protocol of VRRP (and of CARP, which shares it)
VRRP_GROUP_V4 = "224.0.0.18"
VRRP_GROUP_V6 = "ff02::12"
VRRP_GROUP_V4_RAW = socket.inet_pton(socket.AF_INET, VRRP_GROUP_V4)
VRRP_GROUP_V6_RAW = socket.inet_pton(socket.AF_INET6, VRRP_GROUP_V6)
HSRPV2_GROUP = "224.0.0.102"
HSRPV2_GROUP_INT = int.from_bytes(socket.inet_pton(socket.AF_INET, HSRPV2_GROUP), "big")

HEADER_LEN = 8  # the fixed part every VRRP message starts with
V2_AUTH_LEN = 8  # VRRPv2 authentication data, present whatever the auth type (RFC 3768 5.1)
CISCO_MD5 = 254  # Cisco's VRRPv2 keyed-MD5 authentication (`authentication md5 key-string`):
CISCO_MD5_LEN = 16  # a 16-byte digest after the addresses instead (Wireshark's layout)
CARP_LENGTH = 36  # CARP signature: a 36-byte message,
CARP_VERSION_TYPE = 0x21  # version 2, type 1,
CARP_AUTHLEN = 7  # and byte 3 (authlen, SHA1 HMAC in 32-bit words) 7 (DESIGN §2)
CARP_HMAC = slice(16, 36)
HMAC_TRAILER_LEN = 28  # keepalived's auth_hmac (2.4): a trailer after the VRRP message
HMAC_SHA256_128 = 1  # its scheme: HMAC-SHA256 truncated to 128 bits
HMAC_DIGEST = slice(12, 28)  # the truncated HMAC, at the end of the trailer
HMAC_PSEUDO_LEN = 20  # family, version, vrid, 0, source address padded to 16 bytes
TTL_REQUIRED = 255  # RFC 3768/5798: proves the advert was not routed


def word_sum(raw: bytes) -> int:
    """Sum of the 16-bit big-endian words of ``raw`` (unfolded)."""
    return sum(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


VRRP_GROUP_V4_SUM = word_sum(VRRP_GROUP_V4_RAW)
VRRP_GROUP_V6_SUM = word_sum(VRRP_GROUP_V6_RAW)


@dataclass(frozen=True, slots=True)
class Field:
    """A header field: ``width`` bytes at ``offset`` (big-endian), then ``bits`` bits
    starting ``shift`` bits from the right (``bits`` 0: the whole value)."""

    name: str
    offset: int
    width: int = 1
    shift: int = 0
    bits: int = 0

    @property
    def end(self) -> int:
        return self.offset + self.width

    def _split(self, value: N) -> N:
        if self.shift:
            value = value >> self.shift
        if self.bits:
            value = value & ((1 << self.bits) - 1)
        return value

    def get(self, msg: bytes) -> int | None:
        """The field of one message; None when the message stops before it."""
        if len(msg) < self.end:
            return None
        return self._split(int.from_bytes(msg[self.offset : self.end], "big"))

    def column(self, view: ByteView, at: np.ndarray) -> np.ndarray:
        """The field of the messages at offsets ``at`` of ``view``."""
        at = at + self.offset
        if self.width == 1:
            value = view.u8(at)
        elif self.width == 2:
            value = view.u16(at)
        elif self.width == 4:
            value = view.u32(at)
        else:
            raise ValueError(f"{self.name}: no column of {self.width} bytes")
        return self._split(value)


def _layout(*fields: Field) -> dict[str, Field]:
    return {f.name: f for f in fields}


VERSION = Field("version", 0, 1, 4, 4)
TYPE = Field("type", 0, 1, 0, 4)
CHECKSUM = Field("checksum", 6, 2)
VRRP_V2 = _layout(
    VERSION,
    TYPE,
    Field("vrid", 1),
    Field("priority", 2),
    Field("count", 3),
    Field("auth_type", 4),
    Field("adver_int", 5),  # seconds
    CHECKSUM,
)  # then count IPv4 addresses, then 8 bytes of authentication data
VRRP_V3 = _layout(
    VERSION,
    TYPE,
    Field("vrid", 1),
    Field("priority", 2),
    Field("count", 3),
    Field("reserved", 4, 2, 12, 4),
    Field("max_adver_int", 4, 2, 0, 12),  # centiseconds
    CHECKSUM,
)  # then count IPv4 or IPv6 addresses
CARP = _layout(
    VERSION,
    TYPE,
    Field("vhid", 1),
    Field("advskew", 2),
    Field("authlen", 3),
    Field("demote", 4),
    Field("advbase", 5),  # seconds
    CHECKSUM,
    Field("counter", 8, 8),
)  # then the 20-byte SHA1 HMAC (CARP_HMAC)


HMAC_TRAILER = _layout(
    Field("ext_type", 0),  # the scheme (HMAC_SHA256_128)
    Field("key_id", 1),
    Field("reserved", 2, 2),  # zero
    Field("sec", 4, 4),  # sender's UTC seconds since the epoch
    Field("subsec", 8, 2),  # binary fraction of that second (1/65536 s)
    Field("ctr", 10, 2),  # tie breaker within one timestamp
)  # then the 16-byte HMAC; sec, subsec and ctr read together are a growing 64-bit sequence


def where(cond: N, yes: N, no: N) -> N:
    """``yes if cond else no`` for an int condition, ``np.where`` for an array."""
    if isinstance(cond, np.ndarray):
        return cast(N, np.where(cond, yes, no))
    return yes if cond else no


def minimum(a: N, b: N) -> N:
    return cast(N, np.minimum(a, b)) if isinstance(a, np.ndarray) else min(a, b)


def maximum(a: N, b: N) -> N:
    return cast(N, np.maximum(a, b)) if isinstance(a, np.ndarray) else max(a, b)


# ---- rules: each takes ints or arrays and returns a bool or a bool array ----


def is_carp(length: N, first: N, authlen: N) -> N:
    """CARP, not VRRP: a 36-byte message, version 2 type 1, authlen 7 (DESIGN §2)."""
    return (length == CARP_LENGTH) & (first == CARP_VERSION_TYPE) & (authlen == CARP_AUTHLEN)


def is_multicast(family: N, dst_first: N) -> N:
    """Destination in 224.0.0.0/4 (IPv4) or ff00::/8 (IPv6), from its first byte."""
    return ((family == 4) & (dst_first >> 4 == 0xE)) | ((family != 4) & (dst_first == 0xFF))


def ttl_bad(ttl: N, multicast: N) -> N:
    """TTL / hop limit not 255 on a multicast advert. keepalived skips the check for
    unicast peers (they may sit a routed hop away), and so do we."""
    return (ttl != TTL_REQUIRED) & multicast


def version_bad(version: N) -> N:
    return (version != 2) & (version != 3)


def type_bad(ptype: N) -> N:
    return ptype != 1


def reserved_bad(v3: N, reserved: N) -> N:
    """VRRPv3's 4 reserved bits (in front of the interval) are not zero."""
    return v3 & (reserved != 0)


def vrid_bad(vrid: N) -> N:
    return vrid == 0


def interval_bad(interval_cs: N) -> N:
    return interval_cs == 0


def carp_interval_bad(advbase: N, advskew: N) -> N:
    return (advbase == 0) & (advskew == 0)


def address_width(family: N, version: N) -> N:
    """4 bytes per address, 16 for VRRPv3 over IPv6."""
    return 4 + 12 * ((family == 6) & (version == 3))


def vrrp_interval_cs(v3: N, max_adver_int: N, adver_int: N) -> N:
    """The advertisement interval in centiseconds: v3 its 12-bit field, v2 seconds x 100."""
    return where(v3, max_adver_int, adver_int * 100)


def carp_interval_cs(advbase: N, advskew: N) -> N:
    return advbase * 100 + advskew * 100 // 256


def auth_length(version: N, auth_type: N) -> N:
    """Bytes of authentication data after the addresses: VRRPv2's 8 (Cisco MD5: its
    16-byte digest), none in VRRPv3."""
    return where(auth_type == CISCO_MD5, CISCO_MD5_LEN, V2_AUTH_LEN) * (version == 2)


def expected_length(version: N, count: N, width: N, auth_type: N) -> N:
    """The message length the address count implies (v2: plus the authentication data)."""
    return HEADER_LEN + count * width + auth_length(version, auth_type)


def auth_missing(version: N, auth_type: N, count: N, length: N, tail_zero: N) -> N:
    """A VRRPv2 message without its 8-byte authentication field (RFC 3768 7.1 wants it
    whatever the auth type): no authentication, and the message ends right after the
    addresses its count announces, the last 8 of them not zero (``tail_zero``: they are,
    so they are the zeroed authentication field and the count lies). With a password or
    key those last 8 bytes are the secret and the count lies: see :func:`address_room`."""
    fits = length == HEADER_LEN + count * 4
    return (version == 2) & (auth_type == 0) & fits & (tail_zero == 0)


def hmac_trailer(length: N, expected: N, ext_type: N, reserved: N) -> N:
    """keepalived's auth_hmac trailer follows the message (after VRRPv2's authentication
    field): exactly 28 bytes more than the count implies, scheme 1, reserved bits zero.
    ``ext_type`` and ``reserved`` are read at ``expected`` (the trailer's first 4 bytes)."""
    fits = length == expected + HMAC_TRAILER_LEN
    return fits & (ext_type == HMAC_SHA256_128) & (reserved == 0)


def length_bad(length: N, expected: N, no_auth: N, trailer: N) -> N:
    """The length is not what the count implies (a missing auth field is told apart; an
    auth_hmac trailer is part of the message)."""
    return (length != expected + HMAC_TRAILER_LEN * trailer) & (no_auth == 0)


def address_room(version: N, length: N, no_auth: N, auth_type: N) -> N:
    """Bytes the addresses may take: the message less its header and, for VRRPv2 with
    authentication (a password or key), the authentication field at its end, so that a
    count that lies never shows those secret bytes as addresses. Without authentication
    the addresses present are shown, as tcpdump and Wireshark do."""
    auth = auth_length(version, auth_type) * ((no_auth == 0) & (auth_type != 0))
    return maximum(length - HEADER_LEN - auth, 0)


def addresses_shown(count: N, room: N, captured: N, width: N) -> N:
    """How many addresses to decode: the count, but never past their room or the capture."""
    held = maximum(captured - HEADER_LEN, 0) // width
    return minimum(minimum(count, room // width), held)
