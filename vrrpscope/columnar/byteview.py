"""Vectorised byte access for the fast path: fields at computed offsets, checksum sums."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class ByteView:
    """Big-endian fields of many packets at once from one uint8 block.

    Offsets are absolute positions in ``data``; reads past its end are clamped (callers
    mask rows whose captured length does not cover a field). Rows are gathered through
    a view of ``data`` as overlapping ``width``-byte void items, so each row is one small
    copy rather than one index per byte (faster than a 2-D sliding-window gather).
    """

    __slots__ = ("data", "_windows")

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self._windows: dict[int, np.ndarray] = {}

    def _window(self, width: int) -> np.ndarray:
        """``data`` as overlapping items of ``width`` bytes, one per offset."""
        window = self._windows.get(width)
        if window is None:
            data = self.data
            if data.flags.c_contiguous and width > 0:
                window = np.ndarray(
                    (len(data) - width + 1,), np.dtype((np.void, width)), data, 0, (1,)
                )
            else:
                window = sliding_window_view(data, width)
            self._windows[width] = window
        return window

    def matrix(self, at: np.ndarray, width: int) -> np.ndarray:
        """``width`` bytes from each offset as an (n, width) uint8 copy (zeros past the end)."""
        at = np.maximum(at, 0)
        limit = len(self.data) - width
        if limit < 0:
            return np.stack([self._padded(int(a), width) for a in at.tolist()]).reshape(-1, width)
        out = self._window(width)[np.minimum(at, limit)]
        if out.ndim == 1:  # void items: reinterpret as rows of bytes (a fresh array)
            out = out.view(np.uint8).reshape(-1, width)
        for i in np.flatnonzero(at > limit).tolist():
            out[i] = self._padded(int(at[i]), width)
        return out

    def _padded(self, at: int, width: int) -> np.ndarray:
        row = np.zeros(width, np.uint8)
        tail = self.data[at : at + width]
        row[: len(tail)] = tail
        return row

    def u8(self, at: np.ndarray) -> np.ndarray:
        return self.data[np.clip(at, 0, len(self.data) - 1)].astype(np.int64)

    def u16(self, at: np.ndarray) -> np.ndarray:
        return self.matrix(at, 2).view(">u2").ravel().astype(np.int64)

    def u32(self, at: np.ndarray) -> np.ndarray:
        return self.matrix(at, 4).view(">u4").ravel().astype(np.int64)

    def word_sum(self, at: np.ndarray, length: int) -> np.ndarray:
        """Sum of the 16-bit big-endian words of ``length`` bytes at each offset (unfolded)."""
        if length <= 0 or len(at) == 0:
            return np.zeros(len(at), np.int64)
        even = length - length % 2
        total = np.zeros(len(at), np.int64)
        if even:
            total = self.matrix(at, even).view(">u2").sum(axis=1, dtype=np.int64)
        if length % 2:
            total = total + (self.u8(at + even) << 8)
        return total


def fold(total: np.ndarray) -> np.ndarray:
    """Fold a one's-complement sum to 16 bits (RFC 1071)."""
    total = total.astype(np.int64)
    while True:
        high = total >> 16
        if not high.any():
            return total
        total = (total & 0xFFFF) + high


def word_sums_by_length(view: ByteView, at: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Word sums of a variable ``length`` of bytes at each offset (grouped by length)."""
    out = np.zeros(len(at), np.int64)
    for value in np.unique(length):
        rows = np.flatnonzero(length == value)
        out[rows] = view.word_sum(at[rows], int(value))
    return out
