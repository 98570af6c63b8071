"""Vectorised VRRPv2 / VRRPv3 / CARP decoding and validation, as :mod:`vrrpscope.proto.vrrp` does.

Only fully captured messages of at least 8 bytes without AH reach this module (the rest
take the general path), so the truncated and auth-v3 issues never arise here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrrpscope.columnar.byteview import ByteView, fold, word_sums_by_length
from vrrpscope.columnar.ip import IPColumns
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
)
from vrrpscope.proto import wire

# Bit i of an issue mask stands for ISSUE_BITS[i]; form code i for FORMS[i].
ISSUE_BITS = (
    ISSUE_TTL,
    ISSUE_CHECKSUM,
    ISSUE_IP_CHECKSUM,
    ISSUE_TRUNCATED,
    ISSUE_LENGTH,
    ISSUE_VERSION,
    ISSUE_TYPE,
    ISSUE_FRAGMENT,
    ISSUE_VRID,
    ISSUE_INTERVAL,
    ISSUE_RESERVED,
    ISSUE_AUTH_V3,
    ISSUE_NO_AUTH,
)
FORMS = (None, FORM_V2, FORM_PSEUDO, FORM_PSEUDO_GROUP, FORM_MESSAGE_ONLY)
_BIT = {name: 1 << i for i, name in enumerate(ISSUE_BITS)}
_V2, _V3, _CARP = wire.VRRP_V2, wire.VRRP_V3, wire.CARP
_GROUP_V4_INT = int.from_bytes(wire.VRRP_GROUP_V4_RAW, "big")
_GROUP_V6_WORDS = [
    int.from_bytes(wire.VRRP_GROUP_V6_RAW[i : i + 2], "big") for i in range(0, 16, 2)
]


def issue_mask(issues: tuple[str, ...]) -> int:
    """The bit mask of a tuple of issue codes."""
    mask = 0
    for name in issues:
        mask |= _BIT[name]
    return mask


def issue_names(mask: int) -> tuple[str, ...]:
    """Issue codes of a mask, in ISSUE_BITS order (not necessarily the decoder's order)."""
    return tuple(name for i, name in enumerate(ISSUE_BITS) if mask >> i & 1)


@dataclass(slots=True)
class VrrpColumns:
    """Decoded fields of the VRRP/CARP rows, plus what the side tables need."""

    carp: np.ndarray
    version: np.ndarray
    type: np.ndarray
    vrid: np.ndarray
    priority: np.ndarray
    interval_cs: np.ndarray
    count: np.ndarray
    auth_type: np.ndarray
    advskew: np.ndarray
    advbase: np.ndarray
    hmac_key: np.ndarray  # auth_hmac key id, -1: not signed
    checksum_ok: np.ndarray
    issues: np.ndarray  # issue bit mask
    form: np.ndarray  # index into FORMS
    addr_at: np.ndarray  # offset of the first address
    addr_len: np.ndarray  # 4 or 16
    shown: np.ndarray  # addresses decoded


def _flag(cond: np.ndarray, name: str) -> np.ndarray:
    return np.where(cond, _BIT[name], 0)


def _ip_sums(view: ByteView, ip: IPColumns, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Word sums of (source + destination) and whether the destination is the group."""
    net = ip.payload[rows] - np.where(ip.family[rows] == 4, ip.header_len[rows], 40)
    v4 = ip.family[rows] == 4
    src4 = view.word_sum(net + 12, 4)
    dst4 = view.word_sum(net + 16, 4)
    src6 = view.word_sum(net + 8, 16)
    dst6 = view.word_sum(net + 24, 16)
    dst_raw4 = view.u32(net + 16)
    group6 = np.ones(len(rows), bool)
    for k, word in enumerate(_GROUP_V6_WORDS):
        group6 &= view.u16(net + 24 + 2 * k) == word
    src = np.where(v4, src4, src6)
    dst = np.where(v4, dst4, dst6)
    is_group = np.where(v4, dst_raw4 == _GROUP_V4_INT, group6)
    # multicast destination (224.0.0.0/4, ff00::/8): only there must the TTL be 255
    multicast = wire.is_multicast(ip.family[rows], np.where(v4, dst_raw4 >> 24, view.u8(net + 24)))
    return src, np.stack([dst, is_group.astype(np.int64), multicast.astype(np.int64)])


def vrrp_columns(view: ByteView, ip: IPColumns, rows: np.ndarray) -> VrrpColumns:
    """Decode and validate the VRRP/CARP message of each row."""
    m = ip.payload[rows]
    length = ip.length[rows]
    family = ip.family[rows]
    ttl = ip.ttl[rows]
    fragment = ip.fragment[rows]
    first = view.u8(m)
    carp = wire.is_carp(length, first, _CARP["authlen"].column(view, m))
    version = np.where(carp, 2, _V2["version"].column(view, m))
    ptype = np.where(carp, 1, _V2["type"].column(view, m))
    v3 = (version == 3) & ~carp
    vrid = _V2["vrid"].column(view, m)  # CARP: vhid, at the same place
    priority = _V2["priority"].column(view, m)
    advskew = _CARP["advskew"].column(view, m)  # where VRRP has its priority
    advbase = _CARP["advbase"].column(view, m)
    adver_int = _V2["adver_int"].column(view, m)
    interval = wire.vrrp_interval_cs(v3, _V3["max_adver_int"].column(view, m), adver_int)
    interval = np.where(carp, wire.carp_interval_cs(advbase, advskew), interval)
    addr_len = wire.address_width(family, version)
    count = _V2["count"].column(view, m)
    auth_type = _V2["auth_type"].column(view, m)
    end = m + length - wire.V2_AUTH_LEN
    tail_zero = (length >= 16) & (view.u32(end) == 0) & (view.u32(end + 4) == 0)
    no_auth = wire.auth_missing(version, auth_type, count, length, tail_zero) & ~carp
    room = wire.address_room(version, length, no_auth, auth_type)
    shown = np.where(carp, 0, wire.addresses_shown(count, room, length, addr_len))
    expected = wire.expected_length(version, count, addr_len, auth_type)
    head = m + np.minimum(expected, np.maximum(length - 4, 0))  # (only read when it fits)
    ext_type = wire.HMAC_TRAILER["ext_type"].column(view, head)
    reserved_hmac = wire.HMAC_TRAILER["reserved"].column(view, head)
    trailer = wire.hmac_trailer(length, expected, ext_type, reserved_hmac) & ~carp

    # Checksums: the message sum, then the pseudo-header forms for VRRPv3; with an
    # auth_hmac trailer over the whole payload first, then over the message alone.
    src_sum, (dst_sum, is_group, multicast) = _ip_sums(view, ip, rows)
    group_sum = np.where(family == 4, wire.VRRP_GROUP_V4_SUM, wire.VRRP_GROUP_V6_SUM)
    form = _forms(view, m, length, v3, src_sum, dst_sum, group_sum, is_group)
    if trailer.any():
        short = _forms(
            view, m, np.where(trailer, expected, length), v3, src_sum, dst_sum, group_sum, is_group
        )
        form = np.where(trailer & (form == 0), short, form)
    form = np.where(fragment, 0, form)  # a fragment cannot be verified
    checksum_fail = (form == 0) & ~fragment

    common = _flag(wire.ttl_bad(ttl, multicast == 1), ISSUE_TTL) | _flag(fragment, ISSUE_FRAGMENT)
    common |= _flag(_ip_header_bad(view, ip, rows), ISSUE_IP_CHECKSUM)
    vrrp_issues = (
        _flag(wire.version_bad(version), ISSUE_VERSION)
        | _flag(wire.type_bad(ptype), ISSUE_TYPE)
        | _flag(wire.reserved_bad(v3, _V3["reserved"].column(view, m)), ISSUE_RESERVED)
        | _flag(wire.length_bad(length, expected, no_auth, trailer), ISSUE_LENGTH)
        | _flag(no_auth, ISSUE_NO_AUTH)
        | _flag(wire.interval_bad(interval), ISSUE_INTERVAL)
    )
    carp_issues = _flag(wire.carp_interval_bad(advbase, advskew), ISSUE_INTERVAL)
    issues = (
        common
        | np.where(carp, carp_issues, vrrp_issues)
        | _flag(wire.vrid_bad(vrid), ISSUE_VRID)
        | _flag(checksum_fail, ISSUE_CHECKSUM)
    )
    minus = np.full(len(rows), -1, np.int64)
    return VrrpColumns(
        carp=carp,
        version=version,
        type=ptype,
        vrid=vrid,
        priority=np.where(carp, -1, priority),
        interval_cs=interval,
        count=np.where(carp, -1, count),
        auth_type=np.where(carp | v3, -1, auth_type),
        advskew=np.where(carp, advskew, minus),
        advbase=np.where(carp, advbase, minus),
        hmac_key=np.where(trailer, wire.HMAC_TRAILER["key_id"].column(view, head), minus),
        checksum_ok=form > 0,
        issues=issues,
        form=form,
        addr_at=m + 8,
        addr_len=addr_len,
        shown=shown,
    )


def _forms(
    view: ByteView,
    m: np.ndarray,
    cover: np.ndarray,
    v3: np.ndarray,
    src_sum: np.ndarray,
    dst_sum: np.ndarray,
    group_sum: np.ndarray,
    is_group: np.ndarray,
) -> np.ndarray:
    """The checksum form code (FORMS) that verifies over the first ``cover`` bytes."""
    msg_sum = word_sums_by_length(view, m, cover)
    ok_msg = fold(msg_sum) == 0xFFFF
    tail = (cover >> 16) + (cover & 0xFFFF) + wire.PROTO_VRRP
    ok_pseudo = fold(msg_sum + src_sum + dst_sum + tail) == 0xFFFF
    ok_group = (is_group == 0) & (fold(msg_sum + src_sum + group_sum + tail) == 0xFFFF)
    v3_form = np.select([ok_pseudo, ok_group, ok_msg], [2, 3, 4], 0)
    return np.where(v3, v3_form, np.where(ok_msg, 1, 0))


def _ip_header_bad(view: ByteView, ip: IPColumns, rows: np.ndarray) -> np.ndarray:
    """IPv4 header checksum does not verify (always False for IPv6)."""
    hl = ip.header_len[rows]
    v4 = hl > 0
    net = ip.payload[rows] - hl
    sums = word_sums_by_length(view, net, hl)
    return v4 & (fold(sums) != 0xFFFF)
