"""VRRPv2 (RFC 3768), VRRPv3 (RFC 5798/9568) and CARP message parsing and validation.

Our own parser: dpkt's VRRP class is v2-only (no v3 interval, no IPv6 addresses) and loses
the authentication bytes when the address count is 0 (DESIGN §2).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vrrpscope.checksum import pseudo_header_v4, pseudo_header_v6, verifies
from vrrpscope.iplayer import PROTO_VRRP, IPPacket
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
    ISSUE_RESERVED,
    ISSUE_TRUNCATED,
    ISSUE_TTL,
    ISSUE_TYPE,
    ISSUE_VERSION,
    ISSUE_VRID,
    Advert,
)
from vrrpscope.secrets import SecretBytes

CARP_LENGTH = 36
CARP_AUTHLEN = 7  # SHA1 HMAC length in 32-bit words, as every CARP speaker sends it
V2_AUTH_LEN = 8
_GROUP_V4 = socket.inet_pton(socket.AF_INET, "224.0.0.18")
_GROUP_V6 = socket.inet_pton(socket.AF_INET6, "ff02::12")


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
    return (
        ip.payload_len == CARP_LENGTH
        and len(msg) >= 4
        and msg[0] == 0x21
        and msg[3] == CARP_AUTHLEN
    )


def parse_advert(ip: IPPacket, ctx: FrameContext) -> Advert | None:
    """Decode the VRRP or CARP message in `ip`; None if fewer than 2 bytes were captured."""
    if len(ip.payload) < 2:
        return None
    if is_carp(ip):
        return _parse_carp(ip, ctx)
    return _parse_vrrp(ip, ctx)


def _common_issues(ip: IPPacket) -> list[str]:
    issues = []
    # RFC 3768/5798: TTL 255 proves the advert was not routed. keepalived skips the check
    # for unicast peers (they may sit a routed hop away), and so do we.
    if ip.ttl != 255 and _is_multicast(ip):
        issues.append(ISSUE_TTL)
    if ip.fragment:
        issues.append(ISSUE_FRAGMENT)
    if not ip.header_checksum_ok:
        issues.append(ISSUE_IP_CHECKSUM)
    return issues


def _is_multicast(ip: IPPacket) -> bool:
    return ip.dst_raw[0] >> 4 == 0xE if ip.family == 4 else ip.dst_raw[0] == 0xFF


def _byte(msg: bytes, index: int) -> int | None:
    return msg[index] if len(msg) > index else None


def _parse_vrrp(ip: IPPacket, ctx: FrameContext) -> Advert:
    msg = ip.payload
    length = ip.payload_len
    version, ptype = msg[0] >> 4, msg[0] & 0x0F
    issues = _common_issues(ip)
    if version not in (2, 3):
        issues.append(ISSUE_VERSION)
    if ptype != 1:
        issues.append(ISSUE_TYPE)
    vrid = msg[1]
    priority = _byte(msg, 2)
    count = _byte(msg, 3)
    auth_type: int | None = None
    auth_data: bytes | None = None
    interval_cs = 0
    if version == 3:
        if len(msg) >= 6:
            word = struct.unpack_from("!H", msg, 4)[0]
            interval_cs = word & 0x0FFF
            if word >> 12:
                issues.append(ISSUE_RESERVED)
        if ip.ah_icv is not None:
            issues.append(ISSUE_AUTH_V3)
            auth_type, auth_data = 2, ip.ah_icv
    elif len(msg) >= 6:
        auth_type, interval_cs = msg[4], msg[5] * 100
    checksum = struct.unpack_from("!H", msg, 6)[0] if len(msg) >= 8 else 0

    addr_len = 16 if (ip.family == 6 and version == 3) else 4
    family = socket.AF_INET6 if addr_len == 16 else socket.AF_INET
    n = count or 0
    room = max(length - 8, 0) // addr_len
    shown = min(n, room, max(len(msg) - 8, 0) // addr_len)
    starts = range(8, 8 + shown * addr_len, addr_len)
    addresses = tuple(socket.inet_ntop(family, msg[at : at + addr_len]) for at in starts)
    expected = 8 + n * addr_len
    if version == 2:
        auth_start = expected
        if ip.ah_icv is not None:
            auth_data = ip.ah_icv
        elif len(msg) >= auth_start + V2_AUTH_LEN:
            auth_data = bytes(msg[auth_start : auth_start + V2_AUTH_LEN])
        expected += V2_AUTH_LEN  # present whatever the auth type (RFC 3768 §5.1)

    truncated = len(msg) < length or length < 8
    if truncated:
        issues.append(ISSUE_TRUNCATED)
    if count is not None and length >= 8 and length != expected:
        issues.append(ISSUE_LENGTH)
    if vrid == 0:
        issues.append(ISSUE_VRID)
    if len(msg) >= 6 and interval_cs == 0:
        issues.append(ISSUE_INTERVAL)

    form = _checksum(ip, truncated, issues, lambda: _vrrp_checksum_form(ip, version))
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


def _vrrp_checksum_form(ip: IPPacket, version: int) -> str | None:
    """Which checksum form (DESIGN §2) makes this message verify, or None."""
    msg = bytes(ip.payload[: ip.payload_len])
    if version != 3:
        return FORM_V2 if verifies(msg) else None
    if ip.family == 4:
        pseudo, group = pseudo_header_v4, _GROUP_V4
    else:
        pseudo, group = pseudo_header_v6, _GROUP_V6
    if verifies(pseudo(ip.src_raw, ip.dst_raw, PROTO_VRRP, len(msg)) + msg):
        return FORM_PSEUDO
    if ip.dst_raw != group and verifies(pseudo(ip.src_raw, group, PROTO_VRRP, len(msg)) + msg):
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
    _vt, vhid, advskew, _authlen, demote, advbase, checksum = struct.unpack_from("!6BH", msg)
    (counter,) = struct.unpack_from("!Q", msg, 8)
    form = _checksum(ip, truncated, issues, lambda: FORM_V2 if verifies(msg) else None)
    if vhid == 0:
        issues.append(ISSUE_VRID)
    if advbase == 0 and advskew == 0:
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
        interval_cs=advbase * 100 + advskew * 100 // 256,
        count=None,
        addresses=(),
        auth_type=None,
        auth_data=None if truncated else SecretBytes(msg[16:36]),
        checksum=checksum,
        length=ip.payload_len,
        advbase=advbase,
        advskew=advskew,
        counter=counter,
        demote=demote,
    )
