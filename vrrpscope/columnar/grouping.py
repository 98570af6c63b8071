"""Group byte-identical frames so each distinct frame is decoded once.

Speakers repeat the same advert every interval, so a block of 200,000 frames holds a few
thousand distinct ones. Each frame's first ``WINDOW`` captured bytes are hashed and the
groups are verified byte for byte (a hash collision never merges different frames). The
IPv4 identification and header checksum are left out of the key: keepalived increments
the identification on every advert; the header checksum is then checked per frame.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from vrrpscope.columnar.byteview import ByteView
from vrrpscope.columnar.records import RecordBlock
from vrrpscope.proto.link import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    VLAN_TPIDS,
)

WINDOW = 128  # bytes of each frame that form its key
_HALF = WINDOW // 2
_WORDS = _HALF // 8  # 64-bit words per half
_GOLDEN = 0x9E3779B97F4A7C15
_MULT = np.uint64(_GOLDEN)
_SLOT_BITS = 16
_M64 = (1 << 64) - 1


def _splitmix64(k: int) -> int:
    """The k-th output of SplitMix64 seeded with 0 (fixed multipliers without numpy.random)."""
    z = (_GOLDEN * (k + 1)) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


_MULTS = np.array([_splitmix64(k) | 1 for k in range(WINDOW // 8)], np.uint64)  # odd
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)  # k low bytes kept
_TPIDS = tuple(sorted(VLAN_TPIDS))
_ETHERTYPE_AT = {LINKTYPE_ETHERNET: 12, LINKTYPE_LINUX_SLL: 14, LINKTYPE_LINUX_SLL2: 0}
_RAW = frozenset({12, 14, 101, 228, 229})
_NETWORK_AT = {LINKTYPE_ETHERNET: 14, LINKTYPE_LINUX_SLL: 16, LINKTYPE_LINUX_SLL2: 20}


def _is_tpid(ethertype: np.ndarray) -> np.ndarray:
    out = ethertype == _TPIDS[0]
    for tpid in _TPIDS[1:]:
        out |= ethertype == tpid
    return out


def _pick(cond: np.ndarray, yes: np.ndarray, no: np.ndarray) -> np.ndarray:
    """``np.where(cond, yes, no)`` for 16-bit words without branches (several times faster)."""
    ones = (-cond.astype(np.int16)).view(np.uint16)
    return no ^ ((no ^ yes) & ones)


def _ip_at(mat: np.ndarray, width: np.ndarray, linktype: int) -> tuple[np.ndarray, np.ndarray]:
    """Where an IPv4 header follows the link layer (up to two VLAN tags), else -1; and a
    copy of the big-endian 16-bit words from the ethertype on (see :func:`_cut_ip_fields`).

    ``mat`` holds each frame's first bytes, of which ``width`` are captured. Every offset
    involved is even, so whole columns of a 16-bit view are read, from one narrow copy
    (operations on strided columns of the wide matrix cost several times more).
    """
    n = len(mat)
    if linktype not in _ETHERTYPE_AT:
        if linktype not in _RAW:
            return np.full(n, -1, np.int64), np.zeros((n, 0), np.uint16)
        words = mat.view(">u2")[:, :6].copy()
        return np.where((words[:, 0] >> 12 == 4) & (width >= 12), 0, -1), words
    base = _NETWORK_AT[linktype]
    lo = _ETHERTYPE_AT[linktype] // 2
    words = mat.view(">u2")[:, lo : base // 2 + 10].copy()  # up to a checksum after 2 tags
    word = base // 2 - lo  # the network header's first word when untagged
    ethertype = words[:, 0]
    one = _is_tpid(ethertype) & (width >= base + 4)
    if not one.any():
        ok = (ethertype == 0x0800) & (width >= base + 12) & (words[:, word] >> 12 == 4)
        return np.where(ok, base, -1), words
    ethertype = _pick(one, words[:, word + 1], ethertype)
    two = one & _is_tpid(ethertype) & (width >= base + 8)
    ethertype = _pick(two, words[:, word + 3], ethertype)
    first = _pick(two, words[:, word + 4], _pick(one, words[:, word + 2], words[:, word]))
    net = base + 4 * (one.astype(np.int64) + two)
    ok = (ethertype == 0x0800) & (net + 12 <= width) & (first >> 12 == 4)
    return np.where(ok, net, -1), words


def _hash(words: np.ndarray, salt: np.ndarray, mults: np.ndarray) -> np.ndarray:
    """A 64-bit mix of each row of words (collisions are caught by the byte comparison)."""
    h = words @ mults  # wraps modulo 2**64
    h += salt.astype(np.uint64) * _MULT
    h ^= h >> np.uint64(29)
    h *= _MULT
    h ^= h >> np.uint64(32)
    return h


def _keep_captured(words: np.ndarray, captured: np.ndarray) -> None:
    """Zero the bytes of each row past its ``captured`` count (words are little-endian)."""
    shortest = int(captured.min()) if len(captured) else 0
    for j in range(shortest // 8, words.shape[1]):  # words wholly captured everywhere stay
        words[:, j] &= _LOW[np.clip(captured - 8 * j, 0, 8)]


def ip_offsets(block: RecordBlock, rows: np.ndarray, linktype: int) -> np.ndarray:
    """Where the IPv4 header of each of ``rows`` (all of ``linktype``) starts, as
    :func:`vrrpscope.proto.link.parse_link` finds it (up to two VLAN tags), else -1."""
    mat = ByteView(block.data).matrix(block.start[rows], _HALF)
    return _ip_at(mat, block.caplen[rows], linktype)[0]


def _ip_fields(at: np.ndarray, words: np.ndarray, linktype: int) -> np.ndarray:
    """IPv4 identification + header checksum word sum per row (-1 where ``at`` is -1).

    ``at`` and ``words`` are :func:`_ip_at`'s; ``at`` takes a few values only (one per
    VLAN depth), each read as two columns.
    """
    extra = np.full(len(at), -1, np.int64)
    lo = _ETHERTYPE_AT.get(linktype, 0) // 2
    for net in _ip_offsets(linktype):
        rows = at == net
        if not rows.any():
            continue
        k, c = (net + 4) // 2 - lo, (net + 10) // 2 - lo
        fields = words[:, k].astype(np.int64) + words[:, c]
        if rows.all():
            return fields
        np.copyto(extra, fields, where=rows)
    return extra


def _cut_ip_fields(words: np.ndarray, at: np.ndarray, width: np.ndarray, linktype: int) -> None:
    """Zero, in the first-half ``words``, the IPv4 identification and header checksum (rows
    with an IPv4 header at ``at``) and the bytes past each row's captured ``width``.

    Each 64-bit word column is rewritten at most once, with a per-row mask: passes over
    strided columns of the large matrix are what this step costs.
    """
    offsets = _ip_offsets(linktype)
    cut = _cut_masks(linktype)
    code = None
    if len(offsets) and (at >= 0).any():
        code = np.where(at >= 0, (at - offsets[0]) // 4 + 1, 0)
    shortest = int(width.min()) if len(width) else 0
    for j in range(words.shape[1]):
        mask = cut[j][code] if code is not None and j in cut else None
        if 8 * j + 8 > shortest:  # some rows end before this word does
            low = _LOW[np.clip(width - 8 * j, 0, 8)]
            mask = low if mask is None else mask & low
        if mask is not None:
            words[:, j] &= mask


@cache
def _cut_masks(linktype: int) -> dict[int, np.ndarray]:
    """Per first-half word touched by an IPv4 id or checksum: its mask by VLAN depth code
    (0: no IPv4 header, d + 1: the header at ``_ip_offsets(linktype)[d]``)."""
    offsets = _ip_offsets(linktype)
    keep = np.full((len(offsets) + 1, _HALF), 0xFF, np.uint8)
    for depth, net in enumerate(offsets, 1):
        keep[depth, net + 4 : net + 6] = 0
        keep[depth, net + 10 : net + 12] = 0
    words = keep.view("<u8")
    return {j: words[:, j].copy() for j in range(_WORDS) if (words[:, j] != words[0, j]).any()}


def _ip_offsets(linktype: int) -> tuple[int, ...]:
    """The values :func:`_ip_at` can return for ``linktype`` besides -1."""
    if linktype in _NETWORK_AT:
        base = _NETWORK_AT[linktype]
        return (base, base + 4, base + 8)
    return (0,) if linktype in _RAW else ()


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(one row per distinct key, group index of every row) in O(n) with a hash table.

    Each row looks up a table slot chosen by the key's top bits; rows whose slot holds
    another key (rare: a few hundred keys in 65,536 slots) are grouped by sorting.
    """
    n = len(keys)
    slot = (keys >> np.uint64(64 - _SLOT_BITS)).astype(np.intp)
    table = np.empty(1 << _SLOT_BITS, np.int64)
    table[slot] = np.arange(n, dtype=np.int64)  # some row of each used slot
    member = table[slot]
    clash = np.flatnonzero(keys[member] != keys)
    if len(clash):
        _uniq, first, inverse = np.unique(keys[clash], return_index=True, return_inverse=True)
        member[clash] = clash[first][inverse.ravel()]
    used = np.zeros(n, bool)
    used[member] = True
    dense = np.cumsum(used) - 1
    return np.flatnonzero(used), dense[member]


def _same_rows(words: np.ndarray, rep: np.ndarray) -> bool:
    """Whether every row of ``words`` equals row ``rep`` of it (rows gathered whole)."""
    rows = words.view(np.dtype((np.void, words.shape[1] * 8))).ravel()
    return np.array_equal(rows[rep].view(words.dtype), words.ravel())


def dedup(
    view: ByteView, start: np.ndarray, caplen: np.ndarray, linktype: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(representative row of each group, group index of every row, IPv4 id + checksum).

    Rows in one group have the same ``min(caplen, WINDOW)`` and the same bytes in that
    window, apart from the IPv4 identification and header checksum (where an IPv4 header
    follows the link layer), whose word sum is returned per row (-1 elsewhere) for the
    header check. The window is read as two halves; the second only for long frames.
    """
    n = len(start)
    width = np.minimum(caplen, WINDOW)
    mat = view.matrix(start, _HALF)  # a copy: safe to modify
    at, header = _ip_at(mat, width, linktype)
    ip_fields = _ip_fields(at, header, linktype)
    words = mat.view("<u8")
    _cut_ip_fields(words, at, width, linktype)
    keys = _hash(words, width, _MULTS[:_WORDS])
    long = np.flatnonzero(width > _HALF)
    tail = None
    if len(long):
        tail = view.matrix(start[long] + _HALF, _HALF).view("<u8")
        _keep_captured(tail, width[long] - _HALF)
        keys[long] ^= _hash(tail, width[long], _MULTS[_WORDS:])
    reps, inverse = _group(keys)
    # Verify every row byte for byte against its representative.
    rep = reps[inverse]
    same = np.array_equal(width[rep], width) and _same_rows(words, rep)
    if same and tail is not None:
        position = np.full(n, -1, np.int64)
        position[long] = np.arange(len(long))
        same = bool((position[rep[long]] >= 0).all()) and _same_rows(tail, position[rep[long]])
    if not same:
        identity = np.arange(n, dtype=np.int64)
        return identity, identity, ip_fields
    return reps, inverse, ip_fields


def dedup_block(view: ByteView, block: RecordBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`dedup` within each (link type, interface, file) of a block, ids block-wide."""
    start, caplen = block.start, block.caplen
    code = (block.linktype << 40) + ((block.iface + 1) << 20) + block.source
    if len(code) and (code == code[0]).all():
        return dedup(view, start, caplen, int(block.linktype[0]))
    kinds = np.unique(code)
    n = len(start)
    reps: list[np.ndarray] = []
    inverse = np.empty(n, np.int64)
    ip_fields = np.empty(n, np.int64)
    offset = 0
    for kind in kinds.tolist():
        rows = np.flatnonzero(code == kind)
        r, inv, fields = dedup(view, start[rows], caplen[rows], int(block.linktype[rows[0]]))
        reps.append(rows[r])
        inverse[rows] = inv + offset
        ip_fields[rows] = fields
        offset += len(r)
    return np.concatenate(reps), inverse, ip_fields
