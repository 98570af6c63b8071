"""Group byte-identical frames so each distinct frame is decoded once.

Speakers repeat the same advert every interval, so a block of 200,000 frames holds a few
thousand distinct ones. Each frame's first ``WINDOW`` captured bytes are hashed and the
groups are verified byte for byte (a hash collision never merges different frames). The
IPv4 identification and header checksum are left out of the key: keepalived increments
the identification on every advert; the header checksum is then checked per frame.
"""

from __future__ import annotations

import numpy as np

from vrrpscope.fastpath.byteview import ByteView
from vrrpscope.fastpath.records import RecordBlock
from vrrpscope.linklayer import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    VLAN_TPIDS,
)

WINDOW = 128  # bytes of each frame that form its key
_TPIDS = np.array(sorted(VLAN_TPIDS), np.int64)
_MULT = np.uint64(0x9E3779B97F4A7C15)
_MULTS = np.random.default_rng(20240611).integers(1, 2**63, WINDOW // 8, dtype=np.uint64) | 1
_SLOT_BITS = 16
_HALF = WINDOW // 2
_ID_AND_CHECKSUM = np.array([4, 5, 10, 11])  # IPv4 header bytes left out of the key
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)  # k low bytes kept
_IS_TPID = np.zeros(1 << 16, bool)
_IS_TPID[_TPIDS] = True
_ETHERTYPE_AT = {LINKTYPE_ETHERNET: 12, LINKTYPE_LINUX_SLL: 14, LINKTYPE_LINUX_SLL2: 0}
_RAW = frozenset({12, 14, 101, 228, 229})
_NETWORK_AT = {LINKTYPE_ETHERNET: 14, LINKTYPE_LINUX_SLL: 16, LINKTYPE_LINUX_SLL2: 20}


def _ip_at(mat: np.ndarray, width: np.ndarray, linktype: int) -> np.ndarray:
    """Where an IPv4 header follows the link layer (up to two VLAN tags), else -1.

    ``mat`` holds each frame's first bytes, of which ``width`` are captured.
    """
    n = len(mat)
    if linktype not in _ETHERTYPE_AT:
        if linktype not in _RAW:
            return np.full(n, -1, np.int64)
        return np.where((mat[:, 0] >> 4 == 4) & (width >= 12), 0, -1)
    at, base = _ETHERTYPE_AT[linktype], _NETWORK_AT[linktype]
    ethertype = (mat[:, at].astype(np.int64) << 8) | mat[:, at + 1]
    net = np.full(n, base, np.int64)
    for _ in range(2):
        tagged = np.flatnonzero(_IS_TPID[ethertype] & (net + 4 <= width))
        if len(tagged) == 0:
            break
        col = net[tagged] + 2
        ethertype[tagged] = (mat[tagged, col].astype(np.int64) << 8) | mat[tagged, col + 1]
        net[tagged] += 4
    version = mat[np.arange(n), net] >> 4
    return np.where((ethertype == 0x0800) & (net + 12 <= width) & (version == 4), net, -1)


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


def _cut_ip_fields(mat: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Zero the IPv4 identification and checksum in ``mat``; return id + checksum per row."""
    extra = np.full(len(mat), -1, np.int64)
    rows = np.flatnonzero(at >= 0)
    if len(rows) == 0:
        return extra
    assert mat.flags.c_contiguous  # so the flat view below writes through
    flat = mat.reshape(-1)  # 1-D indexing is several times faster than 2-D
    cells = ((rows * mat.shape[1] + at[rows])[:, None] + _ID_AND_CHECKSUM).reshape(-1)
    fields = flat[cells].reshape(-1, 4).astype(np.int64)
    extra[rows] = (fields[:, 0] << 8) + fields[:, 1] + (fields[:, 2] << 8) + fields[:, 3]
    flat[cells] = 0
    return extra


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
    identity = np.arange(n, dtype=np.int64)
    width = np.minimum(caplen, WINDOW)
    mat = view.matrix(start, _HALF)  # a copy: safe to modify
    ip_fields = _cut_ip_fields(mat, _ip_at(mat, width, linktype))
    words = mat.view("<u8")
    _keep_captured(words, width)
    keys = _hash(words, width, _MULTS[: _HALF // 8])
    long = np.flatnonzero(width > _HALF)
    tail = None
    if len(long):
        tail = view.matrix(start[long] + _HALF, _HALF).view("<u8")
        _keep_captured(tail, width[long] - _HALF)
        keys[long] ^= _hash(tail, width[long], _MULTS[_HALF // 8 :])
    reps, inverse = _group(keys)
    # Verify every row byte for byte against its representative.
    rep = reps[inverse]
    same = np.array_equal(width[rep], width) and np.array_equal(words[rep], words)
    if same and tail is not None:
        position = np.full(n, -1, np.int64)
        position[long] = np.arange(len(long))
        same = bool((position[rep[long]] >= 0).all()) and np.array_equal(
            tail[position[rep[long]]], tail
        )
    if not same:
        return identity, identity, ip_fields
    return reps, inverse, ip_fields


def dedup_block(view: ByteView, block: RecordBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`dedup` within each (link type, interface, file) of a block, ids block-wide."""
    start, caplen = block.start, block.caplen
    code = (block.linktype << 40) + ((block.iface + 1) << 20) + block.source
    kinds = np.unique(code)
    if len(kinds) == 1:
        return dedup(view, start, caplen, int(block.linktype[0]))
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
