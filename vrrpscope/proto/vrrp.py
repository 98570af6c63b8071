"""VRRPv2 (RFC 3768), VRRPv3 (RFC 5798/9568) and CARP message parsing and validation.

Our own parser: dpkt's VRRP class is v2-only (no v3 interval, no IPv6 addresses) and loses
the authentication bytes when the address count is 0 (DESIGN §2).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vrrpscope.model import (
    FORM_MESSAGE_ONLY,
    FORM_PSEUDO,
    FORM_PSEUDO_GROUP,
    FORM_V2,
    ISSUE_AUTH_V3,
    ISSUE_CHECKSUM,
    ISSUE_FRAGMENT,
    ISSUE_INTERVAL,
    ISSUE_IP_CHECKSUM,
    ISSUE_LENGTH,
    ISSUE_NO_AUTH,
    ISSUE_RESERVED,
    ISSUE_TRUNCATED,
    ISSUE_TTL,
    ISSUE_TYPE,
    ISSUE_VERSION,
    ISSUE_VRID,
    Advert,
    HmacTrailer,
)
from vrrpscope.proto import wire
from vrrpscope.proto.checksum import pseudo_header_v4, pseudo_header_v6, verifies
from vrrpscope.proto.ip import IPError, IPPacket
from vrrpscope.secrets import SecretBytes

CARP_LENGTH = wire.CARP_LENGTH
V2_AUTH_LEN = wire.V2_AUTH_LEN
_V2, _V3, _CARP = wire.VRRP_V2, wire.VRRP_V3, wire.CARP


@dataclass(slots=True)
class FrameContext:
    """Where an advert was found: everything below the IP layer."""

    ts_ns: int
    frame: int
    source: str
    segment: str
    src_mac: str | None
    dst_mac: str | None
    vlans: tuple[int, ...]


def is_carp(ip: IPPacket) -> bool:
    """CARP: version 2, type 1, a 36-byte message whose byte 3 (authlen) is 7 (DESIGN §2)."""
    msg = ip.payload
    return len(msg) >= 4 and wire.is_carp(ip.payload_len, msg[0], msg[3])


def parse_advert(ip: IPPacket, ctx: FrameContext) -> Advert | None:
    """Decode the VRRP or CARP message in `ip`; None if fewer than 2 bytes were captured."""
    if ip.later_fragment:  # its bytes are the middle of a message, not a header
        raise IPError("IP fragment after the first: it carries no VRRP header")
    if len(ip.payload) < 2:
        return None
    if is_carp(ip):
        return _parse_carp(ip, ctx)
    return _parse_vrrp(ip, ctx)


def _common_issues(ip: IPPacket) -> list[str]:
    issues = []
    if wire.ttl_bad(ip.ttl, _is_multicast(ip)):
        issues.append(ISSUE_TTL)
    if ip.fragment:
        issues.append(ISSUE_FRAGMENT)
    if not ip.header_checksum_ok:
        issues.append(ISSUE_IP_CHECKSUM)
    return issues


def _is_multicast(ip: IPPacket) -> bool:
    return wire.is_multicast(ip.family, ip.dst_raw[0])


def _parse_vrrp(ip: IPPacket, ctx: FrameContext) -> Advert:
    msg = ip.payload
    length = ip.payload_len
    version, ptype = msg[0] >> 4, msg[0] & 0x0F
    v3 = version == 3
    layout = _V3 if v3 else _V2
    issues = _common_issues(ip)
    if wire.version_bad(version):
        issues.append(ISSUE_VERSION)
    if wire.type_bad(ptype):
        issues.append(ISSUE_TYPE)
    vrid = msg[1]
    priority = layout["priority"].get(msg)
    count = layout["count"].get(msg)
    auth_type: int | None = None
    auth_data: bytes | None = None
    interval_cs = 0
    if v3:
        reserved = layout["reserved"].get(msg)
        if reserved is not None:
            interval_cs = wire.vrrp_interval_cs(v3, _V3["max_adver_int"].get(msg) or 0, 0)
            if wire.reserved_bad(v3, reserved):
                issues.append(ISSUE_RESERVED)
        if ip.ah_icv is not None:
            issues.append(ISSUE_AUTH_V3)
            auth_type, auth_data = 2, ip.ah_icv
    elif len(msg) >= _V2["adver_int"].end:
        auth_type = _V2["auth_type"].get(msg)
        interval_cs = wire.vrrp_interval_cs(v3, 0, _V2["adver_int"].get(msg) or 0)
    checksum = wire.CHECKSUM.get(msg) or 0

    addr_len = wire.address_width(ip.family, version)
    family = socket.AF_INET6 if addr_len == 16 else socket.AF_INET
    n = count or 0
    tail = msg[length - V2_AUTH_LEN : length] if len(msg) >= length >= 16 else b"\x01"
    no_auth = wire.auth_missing(version, auth_type or 0, n, length, not any(tail))
    room = wire.address_room(version, length, no_auth, auth_type or 0)
    shown = wire.addresses_shown(n, room, len(msg), addr_len)
    starts = range(wire.HEADER_LEN, wire.HEADER_LEN + shown * addr_len, addr_len)
    addresses = tuple(socket.inet_ntop(family, msg[at : at + addr_len]) for at in starts)
    expected = wire.expected_length(version, n, addr_len, auth_type or 0)
    trailer = _trailer_present(msg, length, expected)
    if version == 2:
        auth_start = expected - wire.auth_length(version, auth_type or 0)
        if ip.ah_icv is not None:
            auth_data = ip.ah_icv
        elif len(msg) >= expected:
            auth_data = bytes(msg[auth_start:expected])

    truncated = len(msg) < length or length < wire.HEADER_LEN
    if truncated:
        issues.append(ISSUE_TRUNCATED)
    if count is not None and length >= wire.HEADER_LEN:
        if wire.length_bad(length, expected, no_auth, trailer):
            issues.append(ISSUE_LENGTH)
        elif no_auth:
            issues.append(ISSUE_NO_AUTH)
    if wire.vrid_bad(vrid):
        issues.append(ISSUE_VRID)
    if len(msg) >= _V2["adver_int"].end and wire.interval_bad(interval_cs):
        issues.append(ISSUE_INTERVAL)

    covers = (length, expected) if trailer else (length,)
    form = _checksum(ip, truncated, issues, lambda: _vrrp_checksum_form(ip, version, covers))
    return _advert(
        ip,
        ctx,
        form,
        issues,
        proto="vrrp",
        version=version,
        type=ptype,
        vrid=vrid,
        priority=priority,
        interval_cs=interval_cs,
        count=count,
        addresses=addresses,
        auth_type=auth_type,
        auth_data=None if auth_data is None else SecretBytes(auth_data),
        checksum=checksum,
        length=length,
        ah_spi=ip.ah_spi,
        hmac=_trailer(msg, expected) if trailer and not truncated else None,
    )


def _trailer_present(msg: bytes, length: int, expected: int) -> bool:
    """An auth_hmac trailer at ``expected`` (its first 4 bytes captured)."""
    if len(msg) < expected + 4:
        return False
    head = msg[expected : expected + 4]
    ext_type = wire.HMAC_TRAILER["ext_type"].get(head) or 0
    reserved = wire.HMAC_TRAILER["reserved"].get(head) or 0
    return bool(wire.hmac_trailer(length, expected, ext_type, reserved))


def _trailer(msg: bytes, expected: int) -> HmacTrailer:
    raw = bytes(msg[expected : expected + wire.HMAC_TRAILER_LEN])
    return HmacTrailer(
        scheme=raw[0],
        key_id=raw[1],
        seq=int.from_bytes(raw[4:12], "big"),
        digest=raw[wire.HMAC_DIGEST],
    )


def _checksum(
    ip: IPPacket, truncated: bool, issues: list[str], form_of: Callable[[], str | None]
) -> str | None:
    """The checksum form that verifies; a `checksum` issue when none does. A truncated
    message or an IP fragment cannot be verified (tshark: "unverified"): None, no issue."""
    if truncated or ip.fragment:
        return None
    form = form_of()
    if form is None:
        issues.append(ISSUE_CHECKSUM)
    return form


def _advert(
    ip: IPPacket, ctx: FrameContext, form: str | None, issues: list[str], **fields: Any
) -> Advert:
    """An Advert with the fields every VRRP and CARP advert takes from its frame and IP."""
    return Advert(
        ts_ns=ctx.ts_ns,
        frame=ctx.frame,
        source=ctx.source,
        segment=ctx.segment,
        family=ip.family,
        src=ip.src,
        dst=ip.dst,
        src_mac=ctx.src_mac,
        ttl=ip.ttl,
        checksum_ok=form is not None,
        checksum_form=form,
        issues=tuple(issues),
        vlans=ctx.vlans,
        dst_mac=ctx.dst_mac,
        **fields,
    )


def _vrrp_checksum_form(ip: IPPacket, version: int, covers: tuple[int, ...]) -> str | None:
    """Which checksum form (DESIGN §2) makes this message verify, or None. With an
    auth_hmac trailer the checksum may cover it (the kernel's, IPv6) or stop before it
    (keepalived's own, IPv4): the whole payload is tried first, then the message alone."""
    for cover in covers:
        form = _form_over(ip, version, bytes(ip.payload[:cover]))
        if form is not None:
            return form
    return None


def _form_over(ip: IPPacket, version: int, msg: bytes) -> str | None:
    if version != 3:
        return FORM_V2 if verifies(msg) else None
    if ip.family == 4:
        pseudo, group = pseudo_header_v4, wire.VRRP_GROUP_V4_RAW
    else:
        pseudo, group = pseudo_header_v6, wire.VRRP_GROUP_V6_RAW
    proto = wire.PROTO_VRRP
    if verifies(pseudo(ip.src_raw, ip.dst_raw, proto, len(msg)) + msg):
        return FORM_PSEUDO
    if ip.dst_raw != group and verifies(pseudo(ip.src_raw, group, proto, len(msg)) + msg):
        return FORM_PSEUDO_GROUP
    if verifies(msg):
        return FORM_MESSAGE_ONLY
    return None


def _parse_carp(ip: IPPacket, ctx: FrameContext) -> Advert:
    msg = ip.payload
    issues = _common_issues(ip)
    truncated = len(msg) < CARP_LENGTH
    if truncated:
        msg = bytes(msg) + bytes(CARP_LENGTH - len(msg))
        issues.append(ISSUE_TRUNCATED)
    field = {name: f.get(msg) or 0 for name, f in _CARP.items()}
    vhid, advskew, advbase = field["vhid"], field["advskew"], field["advbase"]
    form = _checksum(ip, truncated, issues, lambda: FORM_V2 if verifies(msg) else None)
    if wire.vrid_bad(vhid):
        issues.append(ISSUE_VRID)
    if wire.carp_interval_bad(advbase, advskew):
        issues.append(ISSUE_INTERVAL)
    return _advert(
        ip,
        ctx,
        form,
        issues,
        proto="carp",
        version=2,
        type=1,
        vrid=vhid,
        priority=None,
        interval_cs=wire.carp_interval_cs(advbase, advskew),
        count=None,
        addresses=(),
        auth_type=None,
        auth_data=None if truncated else SecretBytes(msg[wire.CARP_HMAC]),
        checksum=field["checksum"],
        length=ip.payload_len,
        advbase=advbase,
        advskew=advskew,
        counter=field["counter"],
        demote=field["demote"],
    )
