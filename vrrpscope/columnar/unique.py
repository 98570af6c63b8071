"""Distinct small integer keys in O(n), with where each first appears."""

from __future__ import annotations

import numpy as np


def unique_first(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(key, return_index=True, return_inverse=True)`` for keys in [0, size).

    With a dense table when ``size`` is small next to the keys (no sort); else np.unique.
    """
    if size > 4 * len(key) + (1 << 16):
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return uniq, first, inverse.ravel()
    first_at = np.full(size, len(key), np.int64)
    np.minimum.at(first_at, key, np.arange(len(key), dtype=np.int64))
    uniq = np.flatnonzero(first_at < len(key))
    lookup = np.empty(size, np.int64)
    lookup[uniq] = np.arange(len(uniq), dtype=np.int64)
    return uniq, first_at[uniq], lookup[key]
