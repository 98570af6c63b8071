"""pcapng Enhanced Packet Blocks as RecordBlocks, walked by the compiled core.

Runs of well-formed EPBs (the reader's own fast-path conditions: type 6, length a multiple
of 4 that fits, matching trailer, captured length inside the block, a known interface)
are walked in C (:func:`vrrpscope.compiled.walk_epb`) over the reader's buffer.
Everything else (section and interface blocks, SPB/PB, damage) is stepped one block at a
time by the :class:`~vrrpscope.capture.pcapng.PcapngReader` itself, so interfaces, frame
numbers, timestamps and damage are exactly the general path's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from vrrpscope.capture.opener import CaptureSource
from vrrpscope.capture.pcapng import BT_EPB, BT_IDB, BT_ISB, BT_PB, BT_SPB, PcapngReader, _Bad
from vrrpscope.capture.stream import StreamDamage, failure_reason
from vrrpscope.columnar.frames import frames_block
from vrrpscope.columnar.records import RecordBlock
from vrrpscope.compiled import walk_epb
from vrrpscope.errors import Damage
from vrrpscope.model import Frame

READ = 4 << 20  # bytes buffered before each walk


class PcapngBlocks:
    """RecordBlocks of an opened pcapng source; damage lands in ``source.damage``."""

    def __init__(self, source: CaptureSource) -> None:
        assert isinstance(source.reader, PcapngReader)
        self.source = source
        self.reader: PcapngReader = source.reader
        self.columns = [np.empty(READ // 32 + 1, np.int64) for _ in range(6)]  # walk scratch

    def __iter__(self) -> Iterator[RecordBlock]:
        reader = self.reader
        buf = reader.buffer
        while True:
            if len(buf.data) - buf.pos < READ // 2:  # refill (a copy of the rest) seldom
                with contextlib.suppress(OSError):  # a plain file: the reader's step reports it
                    buf.fill(READ)
            block = self._epb_run()
            if block is not None:
                yield block
                continue
            frames: list[Frame] = []
            done = self._step(frames)
            if frames:
                yield frames_block(frames)
            if done:
                return

    def _epb_run(self) -> RecordBlock | None:
        """A run of well-formed EPBs from the buffer position, or None."""
        reader = self.reader
        buf = reader.buffer
        big = reader.structs["I"].format[0] == ">"
        start, end = buf.pos, len(buf.data)
        if end - start < 32 or not reader.interfaces:
            return None
        if (buf.base + start) % 4:  # not aligned (never in a valid file): leave it to the reader
            return None
        columns = self.columns
        if len(columns[0]) < (end - start) // 32 + 1:  # a buffer filled past READ
            self.columns = columns = [np.empty((end - start) // 32 + 1, np.int64) for _ in range(6)]
        n, stop = walk_epb(buf.data, start, end, big, len(reader.interfaces), *columns)
        if not n:
            return None
        at, caplen, orig, index, high, low = (column[:n].copy() for column in columns)
        ts = self._timestamps(high, low, index)
        number = np.arange(reader.frames_read + 1, reader.frames_read + 1 + n, dtype=np.int64)
        reader.frames_read += n
        reader.last_ts = int(ts[-1])
        interfaces = reader.interfaces
        names = [iface.name for iface in interfaces]
        data = np.frombuffer(buf.data, np.uint8)
        buf.pos = stop
        return RecordBlock(
            data,
            at + 28,
            caplen,
            orig,
            ts,
            number,
            np.array([iface.linktype for iface in interfaces], np.int64)[index],
            index,
            np.zeros(n, np.int64),
            names,
            [reader.path],
        )

    def _timestamps(self, high: np.ndarray, low: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Nanosecond timestamps exactly as Interface.ts_ns computes them."""
        ts = np.empty(len(high), np.int64)
        for i, iface in enumerate(self.reader.interfaces):
            rows = np.flatnonzero(index == i)
            if len(rows) == 0:
                continue
            bound = (1 << 62) // max(iface.ts_mul, 1) - abs(iface.ts_offset_ns)
            if iface.ts_div == 1 and int(high[rows].max()) < (bound >> 32):
                ts[rows] = ((high[rows] << 32) | low[rows]) * iface.ts_mul + iface.ts_offset_ns
            else:  # big-integer arithmetic, as the reader does
                pairs = zip(high[rows].tolist(), low[rows].tolist(), strict=True)
                ts[rows] = [iface.ts_ns((h << 32) | lo) for h, lo in pairs]
        return ts

    def _step(self, frames: list[Frame]) -> bool:
        """One block through the reader's slow path; True at the end or on damage."""
        reader = self.reader
        buf = reader.buffer
        offset = buf.offset
        try:
            block = reader.next_block()
            if block is None:
                return True
            btype, pos, length = block
            if btype == BT_IDB:
                reader.add_interface(buf.data, pos, length, offset)
            elif btype == BT_ISB:
                reader.add_statistics(buf.data, pos, length, offset)
            elif btype in (BT_EPB, BT_SPB, BT_PB):
                frame = reader.packet(btype, pos, length, offset)
                if frame is not None:
                    frames.append(frame)
            reader.skip(block)
        except _Bad as bad:
            reader.damage.append(Damage(reader.path, bad.offset, bad.message))
            return True
        except (StreamDamage, OSError) as exc:
            reader.damage.append(Damage(reader.path, offset, failure_reason(exc)))
            return True
        return False
