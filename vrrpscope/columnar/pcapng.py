"""pcapng Enhanced Packet Blocks as RecordBlocks, found vectorised.

Runs of well-formed EPBs (the reader's own fast-path conditions: type 6, length a multiple
of 4 that fits, matching trailer, captured length inside the block, a known interface)
are found with numpy over the reader's buffer: blocks start at 4-byte aligned file
offsets, so candidates are the aligned words equal to 6, chained ``c -> c + length`` from
the current position and pruned as in :mod:`vrrpscope.columnar.records`. Everything else
(section and interface blocks, SPB/PB, damage) is stepped one block at a time by the
:class:`~vrrpscope.capture.pcapng.PcapngReader` itself, so interfaces, frame numbers,
timestamps and damage are exactly the general path's.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator

import numpy as np

from vrrpscope.capture.opener import CaptureSource
from vrrpscope.capture.pcapng import BT_EPB, BT_IDB, BT_ISB, BT_PB, BT_SPB, PcapngReader, _Bad
from vrrpscope.capture.stream import StreamDamage, failure_reason
from vrrpscope.columnar.frames import frames_block
from vrrpscope.columnar.records import RecordBlock, chain_from_first
from vrrpscope.errors import Damage
from vrrpscope.model import Frame

READ = 4 << 20  # bytes buffered before each vectorised pass
SPAN = 4 << 10  # bytes scanned by the first pass after a stepped block (doubles as runs go on)


class PcapngBlocks:
    """RecordBlocks of an opened pcapng source; damage lands in ``source.damage``."""

    def __init__(self, source: CaptureSource) -> None:
        assert isinstance(source.reader, PcapngReader)
        self.source = source
        self.reader: PcapngReader = source.reader
        self.span = SPAN
        self.scanned = 0  # bytes the vectorised passes looked at (work counter for tests)

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
        """A vectorised run of well-formed EPBs from the buffer position, or None."""
        reader = self.reader
        buf = reader.buffer
        order = reader.structs["I"].format[0]
        start, end = buf.pos, len(buf.data)
        if end - start < 32 or not reader.interfaces:
            return None
        skew = (4 - (buf.base + start) % 4) % 4
        if skew:  # not aligned (never in a valid file): leave it to the reader
            return None
        if struct.unpack_from(order + "I", buf.data, start)[0] != BT_EPB:
            self.span = SPAN
            return None
        # A pass looks at ``span`` bytes: after a stepped block a small one, doubling while
        # runs fill it, so blocks stepped often cost little and long runs few passes.
        end = min(end, start + self.span)
        self.scanned += end - start
        count = (end - start) // 4
        words = np.frombuffer(buf.data, order + "u4", count=count, offset=start).astype(np.int64)
        cand = np.flatnonzero(words[: max(count - 7, 0)] == BT_EPB)
        if len(cand) == 0 or cand[0] != 0:
            return None
        length = words[cand + 1]
        index = words[cand + 2]
        caplen = words[cand + 5]
        fits = (length & 3 == 0) & (length >= 32) & (cand * 4 + length <= end - start)
        fits &= (caplen <= length - 32) & (index < len(reader.interfaces))
        cand, length, index, caplen = cand[fits], length[fits], index[fits], caplen[fits]
        trailer = words[np.minimum(cand + length // 4 - 1, count - 1)]
        ok = trailer == length
        cand, length, index, caplen = cand[ok], length[ok], index[ok], caplen[ok]
        if len(cand) == 0 or cand[0] != 0:
            self.span = SPAN
            return None
        chain = chain_from_first(cand * 4, length)
        cand, length, index, caplen = cand[chain], length[chain], index[chain], caplen[chain]
        at = cand
        ts = self._timestamps(words[at + 3], words[at + 4], index)
        n = len(at)
        number = np.arange(reader.frames_read + 1, reader.frames_read + 1 + n, dtype=np.int64)
        reader.frames_read += n
        reader.last_ts = int(ts[-1])
        interfaces = reader.interfaces
        names = [iface.name for iface in interfaces]
        data = np.frombuffer(buf.data, np.uint8)
        buf.pos = start + int(at[-1]) * 4 + int(length[-1])
        nxt = buf.pos  # the run ran on to the span's end if an EPB follows there
        ran_on = (
            end < len(buf.data) - 4 and struct.unpack_from(order + "I", buf.data, nxt)[0] == BT_EPB
        )
        self.span = min(self.span * 2, 2 * READ) if ran_on else SPAN
        return RecordBlock(
            data,
            start + at * 4 + 28,
            caplen,
            words[at + 6],
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
