"""Vectorised VRRPv2 / VRRPv3 / CARP decoding and validation, as :mod:`vrrpscope.vrrp` does.

Only fully captured messages of at least 8 bytes without AH reach this module (the rest
take the general path), so the truncated and auth-v3 issues never arise here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrrpscope.fastpath.byteview import ByteView, fold, word_sums_by_length
from vrrpscope.fastpath.ip import IPColumns
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
)

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
)
FORMS = (None, FORM_V2, FORM_PSEUDO, FORM_PSEUDO_GROUP, FORM_MESSAGE_ONLY)
_BIT = {name: 1 << i for i, name in enumerate(ISSUE_BITS)}
_GROUP_V4_SUM = 0xE000 + 0x0012  # 224.0.0.18
_GROUP_V6_SUM = 0xFF02 + 0x0012  # ff02::12
_PROTO = 112


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
    group6 = (view.u16(net + 24) == 0xFF02) & (view.u16(net + 38) == 0x0012)
    for k in range(26, 38, 2):
        group6 &= view.u16(net + k) == 0
    src = np.where(v4, src4, src6)
    dst = np.where(v4, dst4, dst6)
    is_group = np.where(v4, dst_raw4 == 0xE0000012, group6)
    # multicast destination (224.0.0.0/4, ff00::/8): only there must the TTL be 255
    multicast = np.where(v4, (dst_raw4 >> 28) == 0xE, view.u8(net + 24) == 0xFF)
    return src, np.stack([dst, is_group.astype(np.int64), multicast.astype(np.int64)])


def vrrp_columns(view: ByteView, ip: IPColumns, rows: np.ndarray) -> VrrpColumns:
    """Decode and validate the VRRP/CARP message of each row."""
    m = ip.payload[rows]
    length = ip.length[rows]
    family = ip.family[rows]
    ttl = ip.ttl[rows]
    fragment = ip.fragment[rows]
    b0, b1, b2, b3 = view.u8(m), view.u8(m + 1), view.u8(m + 2), view.u8(m + 3)
    b4, b5 = view.u8(m + 4), view.u8(m + 5)
    carp = (length == 36) & (b0 == 0x21) & (b3 == 7)
    version = np.where(carp, 2, b0 >> 4)
    ptype = np.where(carp, 1, b0 & 0x0F)
    v3 = (version == 3) & ~carp
    word = (b4 << 8) | b5
    interval = np.where(v3, word & 0x0FFF, b5 * 100)
    interval = np.where(carp, b5 * 100 + b2 * 100 // 256, interval)
    addr_len = np.where(v3 & (family == 6), 16, 4)
    count = b3
    room = (length - 8) // addr_len
    shown = np.where(carp, 0, np.minimum(count, room))
    expected = 8 + count * addr_len + np.where(version == 2, 8, 0)

    # Checksums: the message sum, then the pseudo-header forms for VRRPv3.
    msg_sum = word_sums_by_length(view, m, length)
    ok_msg = fold(msg_sum) == 0xFFFF
    src_sum, (dst_sum, is_group, multicast) = _ip_sums(view, ip, rows)
    group_sum = np.where(family == 4, _GROUP_V4_SUM, _GROUP_V6_SUM)
    tail = (length >> 16) + (length & 0xFFFF) + _PROTO
    ok_pseudo = fold(msg_sum + src_sum + dst_sum + tail) == 0xFFFF
    ok_group = (is_group == 0) & (fold(msg_sum + src_sum + group_sum + tail) == 0xFFFF)
    v3_form = np.select([ok_pseudo, ok_group, ok_msg], [2, 3, 4], 0)
    form = np.where(v3, v3_form, np.where(ok_msg, 1, 0))
    form = np.where(fragment, 0, form)  # a fragment cannot be verified
    checksum_fail = (form == 0) & ~fragment

    common = _flag((ttl != 255) & (multicast == 1), ISSUE_TTL) | _flag(fragment, ISSUE_FRAGMENT)
    common |= _flag(_ip_header_bad(view, ip, rows), ISSUE_IP_CHECKSUM)
    vrrp_issues = (
        _flag((version != 2) & (version != 3), ISSUE_VERSION)
        | _flag(ptype != 1, ISSUE_TYPE)
        | _flag(v3 & (word >> 12 != 0), ISSUE_RESERVED)
        | _flag(length != expected, ISSUE_LENGTH)
        | _flag(interval == 0, ISSUE_INTERVAL)
    )
    carp_issues = _flag((b5 == 0) & (b2 == 0), ISSUE_INTERVAL)
    issues = (
        common
        | np.where(carp, carp_issues, vrrp_issues)
        | _flag(b1 == 0, ISSUE_VRID)
        | _flag(checksum_fail, ISSUE_CHECKSUM)
    )
    minus = np.full(len(rows), -1, np.int64)
    return VrrpColumns(
        carp=carp,
        version=version,
        type=ptype,
        vrid=b1,
        priority=np.where(carp, -1, b2),
        interval_cs=interval,
        count=np.where(carp, -1, count),
        auth_type=np.where(carp | v3, -1, b4),
        advskew=np.where(carp, b2, minus),
        advbase=np.where(carp, b5, minus),
        checksum_ok=form > 0,
        issues=issues,
        form=form,
        addr_at=m + 8,
        addr_len=addr_len,
        shown=shown,
    )


def _ip_header_bad(view: ByteView, ip: IPColumns, rows: np.ndarray) -> np.ndarray:
    """IPv4 header checksum does not verify (always False for IPv6)."""
    hl = ip.header_len[rows]
    v4 = hl > 0
    net = ip.payload[rows] - hl
    sums = word_sums_by_length(view, net, hl)
    return v4 & (fold(sums) != 0xFFFF)
