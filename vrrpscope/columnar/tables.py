"""Side tables for the fast path: local keys per block, interned globally in row order.

:class:`AdvertTable.from_adverts` numbers files, segments, sources, MACs and address sets
in order of first appearance; :class:`GlobalTables` reproduces that numbering chunk by
chunk, so concatenated chunks equal the table built from all adverts at once.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import numpy as np

from vrrpscope.columnar.byteview import ByteView
from vrrpscope.proto.decode import segment_name

STRING_COLUMNS = ("file", "segment", "src", "src_mac", "addresses")


class Interner:
    """Values numbered in order of first appearance."""

    def __init__(self) -> None:
        self.values: list = []
        self._index: dict = {}

    def __call__(self, value: object) -> int:
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.values)
            self.values.append(value)
        return index


class GlobalTables:
    """The growing side tables shared by every chunk of one fast run."""

    def __init__(self) -> None:
        self.interners = {name: Interner() for name in STRING_COLUMNS}

    def lists(self) -> dict[str, list]:
        return {name: interner.values for name, interner in self.interners.items()}

    def intern(self, name: str, local_ids: np.ndarray, local_values: Sequence) -> np.ndarray:
        """Map local ids (-1: none) to global indices, numbering new values in row order."""
        out = np.full(len(local_ids), -1, np.int64)
        present = np.flatnonzero(local_ids >= 0)
        if len(present) == 0:
            return out
        ids = local_ids[present]
        first = np.full(len(local_values), len(ids), np.int64)
        np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
        interner = self.interners[name]
        mapped = np.full(len(local_values), -1, np.int64)
        seen = np.flatnonzero(first < len(ids))
        for j in seen[np.argsort(first[seen], kind="stable")].tolist():
            mapped[j] = interner(local_values[j])
        out[present] = mapped[ids]
        return out


def _unique_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, inverse.ravel().astype(np.int64)


def mac_keys(view: ByteView, mac_at: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Local ids (-1 where unknown) and the formatted MAC of each id."""
    ids = np.full(len(mac_at), -1, np.int64)
    known = np.flatnonzero(mac_at >= 0)
    if len(known) == 0:
        return ids, []
    at = mac_at[known]
    key = (view.u16(at) << 32) | view.u32(at + 2)
    uniq, inverse = _unique_keys(key)
    ids[known] = inverse
    return ids, [int(k).to_bytes(6, "big").hex(":") for k in uniq]


def ip_keys(view: ByteView, at: np.ndarray, family: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Local ids and formatted addresses for the source IP at ``at`` (IPv4 or IPv6)."""
    ids = np.zeros(len(at), np.int64)
    values: list[str] = []
    for fam, width, af in ((4, 4, socket.AF_INET), (6, 16, socket.AF_INET6)):
        rows = np.flatnonzero(family == fam)
        if len(rows) == 0:
            continue
        uniq, inverse = _unique_bytes(view.matrix(at[rows], width))
        ids[rows] = inverse + len(values)
        values.extend(socket.inet_ntop(af, bytes(u)) for u in uniq)
    return ids, values


def _unique_bytes(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a uint8 matrix and the inverse index."""
    width = mat.shape[1]
    if width == 0:
        return np.zeros((1, 0), np.uint8), np.zeros(len(mat), np.int64)
    mat = np.ascontiguousarray(mat)
    key = mat.view(np.dtype((np.void, width))).ravel()
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return mat[first], inverse.ravel().astype(np.int64)


def address_keys(
    view: ByteView, at: np.ndarray, addr_len: np.ndarray, shown: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Local ids and the address tuple of each id (grouped by address width and count)."""
    ids = np.zeros(len(at), np.int64)
    values: list[tuple[str, ...]] = []
    shape = addr_len * 1024 + shown
    for key in np.unique(shape):
        rows = np.flatnonzero(shape == key)
        width, n = int(key) // 1024, int(key) % 1024
        af = socket.AF_INET6 if width == 16 else socket.AF_INET
        uniq, inverse = _unique_bytes(view.matrix(at[rows], width * n))
        ids[rows] = inverse + len(values)
        for u in uniq:
            raw = bytes(u)
            values.append(
                tuple(socket.inet_ntop(af, raw[i : i + width]) for i in range(0, len(raw), width))
            )
    return ids, values


def segment_keys(
    ifindex: np.ndarray, vlans: np.ndarray, iface: np.ndarray, iface_names: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Local ids and segment names: interface (SLL2 index, else the file's) + VLAN stack."""
    where = (ifindex + 1) * (1 << 21) + (iface + 1)
    if_uniq, if_id = _unique_keys(where)
    key = if_id << 40
    for depth in range(vlans.shape[1]):
        key |= (vlans[:, depth] + 1) << (13 * depth)
    uniq, inverse = _unique_keys(key)
    names = []
    for k in uniq.tolist():
        code = int(if_uniq[k >> 40])
        index, name = code // (1 << 21) - 1, code % (1 << 21) - 1
        if index >= 0:
            interface: str | None = f"ifindex{index}"
        else:
            interface = iface_names[name] if name >= 0 else None
        tags = [(k >> (13 * d)) & 0x1FFF for d in range(vlans.shape[1])]
        names.append(segment_name(interface, tuple(t - 1 for t in tags if t)))
    return inverse, names
