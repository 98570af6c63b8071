"""Records that flow through vrrpscope: frames from a source, decoded adverts, other traffic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vrrpscope import reprs
from vrrpscope.proto.hsrp import HsrpHello

# Validation issue codes recorded on an Advert (stable: they appear in JSON output).
ISSUE_TTL = "ttl"  # multicast advert with TTL / hop limit not 255: receivers discard it
ISSUE_CHECKSUM = "checksum"  # VRRP/CARP checksum verifies under no known form
ISSUE_IP_CHECKSUM = "ip-checksum"  # IPv4 header checksum is wrong: the kernel drops it
ISSUE_TRUNCATED = "truncated"  # the capture or the IP length cuts the message short
ISSUE_LENGTH = "length"  # address count does not match the message length
ISSUE_VERSION = "version"  # version is not 2 or 3 (CARP: not 2)
ISSUE_TYPE = "type"  # type is not 1 (advertisement)
ISSUE_FRAGMENT = "fragment"  # IP fragment (MF set or offset non-zero): never sent by VRRP
ISSUE_VRID = "vrid"  # VRID 0 is not a valid virtual router
ISSUE_INTERVAL = "interval"  # advertisement interval of 0
ISSUE_RESERVED = "reserved"  # VRRPv3 reserved bits are not zero
ISSUE_AUTH_V3 = "auth-v3"  # VRRPv3 does not have authentication but AH was used
ISSUE_NO_AUTH = "no-auth-field"  # VRRPv2 without its 8-byte authentication field

ISSUE_TEXT = {
    ISSUE_TTL: "TTL/hop limit is not 255 (receivers discard it)",
    ISSUE_CHECKSUM: "bad checksum",
    ISSUE_IP_CHECKSUM: "bad IPv4 header checksum",
    ISSUE_TRUNCATED: "truncated",
    ISSUE_LENGTH: "address count does not match length",
    ISSUE_VERSION: "unknown version",
    ISSUE_TYPE: "unknown type (not an advertisement)",
    ISSUE_FRAGMENT: "IP fragment",
    ISSUE_VRID: "VRID 0 is invalid",
    ISSUE_INTERVAL: "advertisement interval 0",
    ISSUE_RESERVED: "VRRPv3 reserved bits set",
    ISSUE_AUTH_V3: "IPsec AH in front of VRRPv3 (v3 has no authentication)",
    ISSUE_NO_AUTH: "no authentication field (8 bytes, RFC 3768 7.1)",
}

# The VRRPv3 MIB's reason for each issue (RFC 6527 ProtoErrReason and error counters),
# as the Prometheus metrics count discarded adverts.
ISSUE_REASON = {
    ISSUE_TTL: "ip_ttl",
    ISSUE_VERSION: "version",
    ISSUE_CHECKSUM: "checksum",
    ISSUE_IP_CHECKSUM: "checksum",
    ISSUE_VRID: "vrid",
    ISSUE_AUTH_V3: "auth",
    ISSUE_NO_AUTH: "auth",
    ISSUE_LENGTH: "length",
    ISSUE_TRUNCATED: "length",
    ISSUE_TYPE: "type",
    ISSUE_INTERVAL: "interval",
    ISSUE_FRAGMENT: "format",
    ISSUE_RESERVED: "format",
}

# Checksum forms (DESIGN §2). A form names the bytes that made the checksum verify.
FORM_V2 = "v2"  # VRRPv2 / CARP: over the message only
FORM_PSEUDO = "pseudo-header"  # RFC 5798: IP pseudo-header with the real destination
FORM_PSEUDO_GROUP = "pseudo-header-group"  # pseudo-header with 224.0.0.18 as destination
FORM_MESSAGE_ONLY = "message-only"  # RFC 9568 / Cisco / keepalived v3_checksum_as_v2


AUTH_NAMES = {0: "none", 1: "simple", 2: "ah", 254: "cisco-md5"}


#: Items decoded from the second and later of several files carry their file's position
#: above the frame number (``frame = position << FILE_SHIFT | number``), so evidence
#: names its file; the first file's frame numbers are plain (see :func:`frame_of`).
FILE_SHIFT = 40


def file_bases(paths: Sequence[str]) -> dict[str, int]:
    """Each input's offset for item frame numbers (empty for one input)."""
    if len(paths) < 2:
        return {}
    return {path: index << FILE_SHIFT for index, path in enumerate(paths)}


def frame_of(ref: int) -> tuple[int, int]:
    """(file position, frame number in that file) of an item's frame reference."""
    return ref >> FILE_SHIFT, ref & ((1 << FILE_SHIFT) - 1)


@dataclass(slots=True)
class Frame:
    """One captured frame, as a source delivers it (no protocol knowledge)."""

    ts_ns: int  # capture time, nanoseconds since the epoch
    linktype: int  # pcap LINKTYPE_* value
    data: bytes  # captured bytes (may be shorter than orig_len)
    orig_len: int  # length on the wire
    number: int  # 1-based frame number within its file
    interface: str | None = None  # capture interface name, when the file says it
    source: str = ""  # file name (or "-" for stdin)


@dataclass(frozen=True, slots=True)
class HmacTrailer:
    """keepalived's auth_hmac trailer (2.4): who signed an advert, with which key, when.

    ``seq`` is the sender's 64-bit anti-replay sequence: its UTC seconds in the high 32
    bits, a 1/65536 s fraction in the next 16, a counter in the low 16; receivers drop an
    advert whose sequence does not grow, or whose seconds are outside their window."""

    scheme: int  # ext_type: 1 = HMAC-SHA256 truncated to 128 bits
    key_id: int
    seq: int
    digest: bytes  # the 16-byte truncated HMAC (not a secret: it proves, it does not reveal)

    @property
    def sent_ns(self) -> int:
        """The sender's clock when it signed (ns since the epoch)."""
        return (self.seq >> 32) * 1_000_000_000 + (
            (self.seq >> 16) & 0xFFFF
        ) * 1_000_000_000 // 65536

    @property
    def counter(self) -> int:
        return self.seq & 0xFFFF


@dataclass(slots=True)
class Advert:
    """One decoded VRRP or CARP advertisement with everything a receiver would check."""

    __repr__ = reprs.advert

    ts_ns: int
    frame: int
    source: str
    segment: str  # capture interface plus VLAN stack, e.g. "eth0", "ifindex3", "-/vlan30"
    family: int  # 4 or 6
    proto: str  # "vrrp" or "carp"
    version: int
    type: int
    src: str
    dst: str
    src_mac: str | None
    ttl: int
    vrid: int  # CARP: vhid
    priority: int | None  # CARP: None (it has advskew)
    interval_cs: int  # centiseconds; v2 seconds x 100; CARP advbase x 100 + advskew x 100 / 256
    count: int | None  # address count field (CARP: None)
    addresses: tuple[str, ...]
    auth_type: int | None  # v2 auth type; v3/CARP: None (AH-wrapped v3: 2)
    auth_data: bytes | None  # v2 auth field, AH ICV or CARP HMAC (a secret: mask on output)
    checksum: int
    checksum_ok: bool
    checksum_form: str | None  # which form verified (FORM_*), None if none did
    length: int  # VRRP/CARP message length from the IP header
    issues: tuple[str, ...] = ()
    vlans: tuple[int, ...] = ()
    dst_mac: str | None = None
    ah_spi: int | None = None  # IPsec AH security parameter index when AH-wrapped
    advbase: int | None = None  # CARP
    advskew: int | None = None  # CARP
    counter: int | None = None  # CARP replay counter
    demote: int | None = None  # CARP demotion counter
    hmac: HmacTrailer | None = None  # keepalived auth_hmac trailer, when signed

    @property
    def ts(self) -> float:
        """Timestamp in float seconds since the epoch."""
        return self.ts_ns / 1e9

    @property
    def valid(self) -> bool:
        """True when a receiver would accept the advert (no validation issue)."""
        return not self.issues

    @property
    def auth_name(self) -> str | None:
        if self.auth_type is None:
            return None
        return AUTH_NAMES.get(self.auth_type, str(self.auth_type))


@dataclass(slots=True)
class OtherTraffic:
    """A non-VRRP frame to a link-local multicast group (or other classified traffic)."""

    ts_ns: int
    frame: int
    segment: str
    family: int
    label: str  # "igmp", "ospf", "hsrp", "mdns", "ip proto 89", "udp port 5353", ...
    src: str
    dst: str
    hsrp: HsrpHello | None = None  # an HSRP group message: what it says


@dataclass(slots=True)
class AddressClaim:
    """A gratuitous ARP or unsolicited IPv6 neighbour advertisement: `mac` claims `ip`."""

    ts_ns: int
    frame: int
    segment: str
    ip: str
    mac: str
