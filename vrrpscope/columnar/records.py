"""Classic pcap records in blocks, walked by the compiled core (:mod:`vrrpscope._core`).

A block of the file (``BLOCK`` bytes plus the unfinished record carried over) is walked
record by record in C: each record's offset, lengths and time land in int64 columns, the
walk stops at an unfinished record (carried over to the next block) or at a record that
claims more bytes than possible (damage, with the same message as
:class:`vrrpscope.capture.pcap.PcapReader`). Without the compiled core the fast path
reads plain pcap files through the capture readers instead (:func:`fast_info`).
"""

from __future__ import annotations

import contextlib
import os
import queue
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vrrpscope.capture.pcap import HEADER_LEN, MAGICS, MAX_CAPLEN, MAX_SNAPLEN
from vrrpscope.compiled import walk_pcap
from vrrpscope.errors import Damage

_END = object()  # end of the blocks, from the reader thread
THREAD_NAME = "vrrpscope-pcap-reader"
BLOCK = 4 << 20  # bytes read at a time: 4 MiB was as fast as 16 MiB and half the RSS


@dataclass(slots=True)
class PcapInfo:
    """What the fast path needs from a classic pcap file header."""

    order: str  # "<" or ">"
    ns_per_unit: int
    hlen: int  # record header length (16, or 24 for the modified format)
    linktype: int
    caplen_limit: int


@dataclass(slots=True)
class RecordBlock:
    """Frames as columns: the bytes of a block plus per-frame columns (all int64)."""

    data: np.ndarray  # uint8 view of the block bytes
    start: np.ndarray  # offset of each frame's bytes in ``data``
    caplen: np.ndarray
    orig: np.ndarray
    ts_ns: np.ndarray
    number: np.ndarray  # 1-based frame number in its file
    linktype: np.ndarray
    iface: np.ndarray  # index into iface_names, -1: the file names no interface
    source: np.ndarray  # index into source_names
    iface_names: list[str]
    source_names: list[str]


def read_header(head: bytes) -> PcapInfo | None:
    """Header facts when the fast path can read this file, else None (general path)."""
    if len(head) < HEADER_LEN:
        return None
    magic = struct.unpack_from("<I", head)[0]
    if magic not in MAGICS:
        return None
    order, ns_per_unit, hlen = MAGICS[magic]
    major, minor, _zone, _sigfigs, snaplen, linktype = struct.unpack_from(order + "HHiIII", head, 4)
    if (major, minor) < (2, 3) or major != 2:  # swapped lengths or a corrupt header
        return None
    limit = max(MAX_CAPLEN, min(snaplen, MAX_SNAPLEN))
    return PcapInfo(order, ns_per_unit, hlen, linktype & 0xFFFF, limit)


class PcapBlocks:
    """Iterate a classic pcap file as :class:`RecordBlock` s; damage ends the iteration."""

    def __init__(
        self, path: str, info: PcapInfo, block: int = BLOCK, prefetch: bool = True
    ) -> None:
        self.path = path
        self.info = info
        self.block = block
        self.prefetch = prefetch
        self.damage: list[Damage] = []
        self.frames = 0
        self.bytes_read = 0

    def __iter__(self) -> Iterator[RecordBlock]:
        """Blocks of records, found by a reader thread one block ahead of the consumer.

        The walk releases the GIL, so reading and walking the next block overlaps with
        decoding this one.
        A block's ``data`` stays valid until the block after next is asked for.
        """
        if not self.prefetch:
            yield from self._blocks()
            return
        handoff: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()
        thread = threading.Thread(
            target=self._produce, args=(handoff, stop), name=THREAD_NAME, daemon=True
        )
        thread.start()
        try:
            while True:
                item = handoff.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # unblock a producer waiting to hand over a block
                with contextlib.suppress(queue.Empty):
                    handoff.get(timeout=0.05)
            thread.join()

    def _produce(self, handoff: queue.Queue, stop: threading.Event) -> None:
        try:
            for block in self._blocks():
                if stop.is_set():
                    return
                handoff.put(block)
        except BaseException as exc:  # handed to the consumer, raised there
            handoff.put(exc)
            return
        handoff.put(_END)

    def _blocks(self) -> Iterator[RecordBlock]:
        info = self.info
        hdr = struct.Struct(info.order + "IIII")
        room = self.block + info.caplen_limit + info.hlen
        # Three buffers in turn: one being decoded, one handed over, one being filled.
        buffers = [bytearray(room) for _ in range(3 if self.prefetch else 1)]
        most = room // info.hlen + 1  # records a buffer can hold
        columns = [np.empty(most, np.int64) for _ in range(4)]  # the walk's scratch
        with open(self.path, "rb", buffering=0) as f:
            f.seek(HEADER_LEN)
            kept = 0  # bytes carried over at the front of buf
            base = HEADER_LEN  # file offset of buf[0]
            eof = False
            turn = 0
            buf = buffers[0]
            while not eof:
                got = f.readinto(memoryview(buf)[kept : kept + self.block])
                eof = not got
                self.bytes_read += got
                size = kept + got
                if not size:
                    break
                n, stop, damaged = walk_pcap(
                    buf,
                    0,
                    size,
                    info.hlen,
                    info.order == ">",
                    info.caplen_limit,
                    info.ns_per_unit,
                    *columns,
                )
                kept = size - stop
                if n:
                    data = np.frombuffer(buf, np.uint8, count=size)
                    yield self._block(data, *(column[:n].copy() for column in columns))
                    turn = (turn + 1) % len(buffers)  # the consumer may still read buf
                if damaged:
                    incl = hdr.unpack_from(buf, stop)[2]
                    self.damage.append(
                        Damage(
                            self.path,
                            base + stop,
                            f"packet record {self.frames + 1} claims {incl} captured bytes, "
                            f"more than the largest possible ({info.caplen_limit}); the file "
                            "is corrupt from here",
                        )
                    )
                    return
                buffers[turn][:kept] = buf[stop:size]
                buf = buffers[turn]
                base += stop
                if eof and kept:
                    self._truncated(bytes(buf[:kept]), hdr, base)

    def _block(
        self,
        data: np.ndarray,
        starts: np.ndarray,
        caplen: np.ndarray,
        orig: np.ndarray,
        ts_ns: np.ndarray,
    ) -> RecordBlock:
        info = self.info
        n = len(starts)
        number = np.arange(self.frames + 1, self.frames + 1 + n, dtype=np.int64)
        self.frames += n
        return RecordBlock(
            data,
            starts + info.hlen,
            caplen,
            orig,
            ts_ns,
            number,
            np.full(n, info.linktype, np.int64),
            np.full(n, -1, np.int64),
            np.zeros(n, np.int64),
            [],
            [self.path],
        )

    def _truncated(self, rest: bytes, hdr: struct.Struct, offset: int) -> None:
        hlen = self.info.hlen
        if len(rest) < hlen:
            message = f"truncated packet record header ({len(rest)} of {hlen} bytes)"
        else:
            incl = hdr.unpack_from(rest)[2]
            message = (
                f"truncated packet record {self.frames + 1}: {incl} captured bytes "
                f"announced, only {len(rest) - hlen} present"
            )
        self.damage.append(Damage(self.path, offset, message))


def is_plain_file(path: str) -> bool:
    """True for a regular file (not stdin, a pipe or a FIFO)."""
    try:
        return path != "-" and os.path.isfile(path)
    except OSError:
        return False
