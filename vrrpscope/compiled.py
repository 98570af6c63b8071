"""The compiled core (:mod:`vrrpscope._core`, built from ``vrrpscope/_core.c`` at install
time), or its absence: ``BUILT`` says whether it was built, ``COMPILED`` whether it is used
(``VRRPSCOPE_COMPILED=0`` turns it off). Without it the fast path reads every capture
through the capture readers and sums runs with numpy: slower, the same results."""

from __future__ import annotations

import os
import sys
from types import ModuleType

import numpy as np

_core: ModuleType | None
try:
    from vrrpscope import _core
except ImportError:  # installed without a C compiler
    _core = None

BUILT = _core is not None
COMPILED = BUILT and os.environ.get("VRRPSCOPE_COMPILED", "") != "0"
NOT_BUILT = (
    "vrrpscope: the compiled core was not built (no C compiler when vrrpscope was "
    "installed): captures are read on a slower path (the same results); install "
    "build-essential and python3-dev, then reinstall vrrpscope"
)
_said = False

GapPieces = tuple[int, int, int, int, int, list[int], list[int]]


def walk_pcap(*args: object) -> tuple[int, int, bool]:
    """:func:`vrrpscope._core.walk_pcap` (called only when ``COMPILED``)."""
    assert _core is not None
    return _core.walk_pcap(*args)


def walk_epb(*args: object) -> tuple[int, int]:
    """:func:`vrrpscope._core.walk_epb` (called only when ``COMPILED``)."""
    assert _core is not None
    return _core.walk_epb(*args)


def gap_summary(gaps: np.ndarray, bins: np.ndarray, ts: np.ndarray) -> GapPieces | None:
    """(count, sum, sum of squares, max, time of the first max, bins in order of first
    gap, their counts) of int64 gaps, or None (not compiled, or values out of range)."""
    if not COMPILED or _core is None:
        return None
    return _core.gap_summary(
        np.ascontiguousarray(gaps, np.int64),
        np.ascontiguousarray(bins, np.int64),
        np.ascontiguousarray(ts, np.int64),
    )


def say_if_not_built() -> None:
    """Tell stderr, once per process, that the compiled core is missing."""
    global _said
    if not BUILT and not _said:
        _said = True
        print(NOT_BUILT, file=sys.stderr)
