"""The compiled record walk (:mod:`vrrpscope._walk`, built from ``vrrpscope/_walk.c`` at
install time), or its absence: ``COMPILED`` says which. Without it (or with
``VRRPSCOPE_COMPILED=0``) the fast path reads every capture through the capture readers:
slower, the same results."""

from __future__ import annotations

import os
import sys
from types import ModuleType

_walk: ModuleType | None
try:
    from vrrpscope import _walk
except ImportError:  # installed without a C compiler
    _walk = None

BUILT = _walk is not None
COMPILED = BUILT and os.environ.get("VRRPSCOPE_COMPILED", "") != "0"
NOT_BUILT = (
    "vrrpscope: the compiled record walk was not built (no C compiler when vrrpscope was "
    "installed): captures are read on a slower path (the same results); install "
    "build-essential and python3-dev, then reinstall vrrpscope"
)
_said = False


def walk_pcap(*args: object) -> tuple[int, int, bool]:
    """:func:`vrrpscope._walk.walk_pcap` (called only when ``COMPILED``)."""
    assert _walk is not None
    return _walk.walk_pcap(*args)


def walk_epb(*args: object) -> tuple[int, int]:
    """:func:`vrrpscope._walk.walk_epb` (called only when ``COMPILED``)."""
    assert _walk is not None
    return _walk.walk_epb(*args)


def say_if_not_built() -> None:
    """Tell stderr, once per process, that the compiled walk is missing."""
    global _said
    if not BUILT and not _said:
        _said = True
        print(NOT_BUILT, file=sys.stderr)
