"""Frames from any source (pcapng, compressed, stdin, merged files, live) as a RecordBlock.

The capture readers keep their exact semantics (damage, merge order, interfaces); their
frames are packed into one buffer so the vectorised decode runs on them as on a classic
pcap block. Live mode can feed the same function a chunk of one frame or of 100 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vrrpscope.columnar.records import RecordBlock
from vrrpscope.model import Frame

_PAD = 256  # zero bytes after the last frame: reads past a frame never leave the buffer


def _ids(values: list, names: list[str]) -> np.ndarray:
    index: dict = {}
    out = []
    for value in values:
        i = index.get(value)
        if i is None:
            if value is None:
                i = -1
            else:
                i = len(names)
                names.append(value)
            index[value] = i
        out.append(i)
    return np.array(out, np.int64)


def frames_block(frames: Sequence[Frame]) -> RecordBlock:
    """Pack ``frames`` into a :class:`RecordBlock` (per-frame link type, interface, file)."""
    caplen = np.array([len(f.data) for f in frames], np.int64)
    data = np.frombuffer(b"".join([f.data for f in frames]) + bytes(_PAD), np.uint8)
    start = np.cumsum(caplen) - caplen
    iface_names: list[str] = []
    source_names: list[str] = []
    return RecordBlock(
        data,
        start,
        caplen,
        np.array([f.orig_len for f in frames], np.int64),
        np.array([f.ts_ns for f in frames], np.int64),
        np.array([f.number for f in frames], np.int64),
        np.array([f.linktype for f in frames], np.int64),
        _ids([f.interface for f in frames], iface_names),
        _ids([f.source for f in frames], source_names),
        iface_names,
        source_names,
    )
