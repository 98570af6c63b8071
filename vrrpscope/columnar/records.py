"""Classic pcap records in blocks: vectorised record-start finding with numpy.

A block of the file (``BLOCK`` bytes plus the unfinished record carried over) is scanned
for candidate record headers: the top byte of ``ts_sec`` equals the first record's and
the next byte is within one of it, and ``caplen`` is within the reader's limit. Each
candidate points at ``c + hlen + caplen``; a candidate is a real record start exactly when
it is reachable from the known first record. Candidates nobody points to are pruned until
nothing changes (false candidates inside packet bytes form very short chains), which
leaves precisely the chain of the real records. Where the chain leaves the candidate set
(an odd timestamp, damage) one record is stepped in Python, with the same checks and
messages as :class:`vrrpscope.capture.pcap.PcapReader`, and the vectorised walk resumes.
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
from numpy.lib.stride_tricks import sliding_window_view

from vrrpscope.capture.pcap import HEADER_LEN, MAGICS, MAX_CAPLEN, MAX_SNAPLEN
from vrrpscope.errors import Damage

_END = object()  # end of the blocks, from the reader thread
THREAD_NAME = "vrrpscope-pcap-reader"
BLOCK = 4 << 20  # bytes read at a time: 4 MiB was as fast as 16 MiB and half the RSS
CHAIN_WINDOW = 256  # candidates in the first window of a chain walk (doubles as it runs on)


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


def _u32(data: np.ndarray, at: np.ndarray, order: str) -> np.ndarray:
    window = sliding_window_view(data, 4)
    return window[at].view(order + "u4").ravel().astype(np.int64)


def _candidates(
    data: np.ndarray, info: PcapInfo, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted offsets whose bytes could be a record header, and their caplen.

    ``mask`` is a reusable bool buffer at least as long as ``data`` (a fresh 16 MiB array
    per block would cost more in page faults than the comparison itself).
    """
    n = len(data) - info.hlen + 1
    if n <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t_off, s_off = (3, 2) if info.order == "<" else (0, 1)
    want_top, want_second = int(data[t_off]), int(data[s_off])
    np.equal(data[: n + t_off], np.uint8(want_top), out=mask[: n + t_off])  # aligned: faster
    cand = np.flatnonzero(mask[t_off : n + t_off])
    near = (data[cand + s_off].astype(np.int16) - want_second + 1) & 0xFF
    cand = cand[near <= 2]
    caplen = _u32(data, cand + 8, info.order)
    keep = caplen <= info.caplen_limit
    return cand[keep], caplen[keep]


def chain_from_first(cand: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Indices of the candidates reachable from ``cand[0]`` (the known record start),
    each candidate ``c`` pointing at ``c + length``: pruned until nothing unreached is left.
    """
    size = len(cand)
    nxt = cand + length
    idx = np.searchsorted(cand, nxt)
    linked = idx < size
    linked[linked] = cand[idx[linked]] == nxt[linked]
    target = np.where(linked, idx, size)
    alive = np.ones(size, bool)
    count = size
    while True:
        pointed = np.zeros(size + 1, bool)
        pointed[target[alive]] = True
        pointed[0] = True
        alive &= pointed[:size]
        now = int(np.count_nonzero(alive))
        if now == count:
            return np.flatnonzero(alive)
        count = now


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
        self.stepped = 0  # records stepped one at a time (work counters for the tests)
        self.searches = 0  # candidate searches (each costs the rest of a block)

    def __iter__(self) -> Iterator[RecordBlock]:
        """Blocks of records, found by a reader thread one block ahead of the consumer.

        numpy releases the GIL in the large operations, so finding the next block's
        records overlaps with decoding this one (two cores: about a quarter faster).
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
        mask = np.empty(room, bool)
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
                view = memoryview(buf)[:size]
                data = np.frombuffer(buf, np.uint8, count=size)
                starts, stop, damaged = self._walk(view, data, hdr, base, mask)
                kept = size - stop
                if len(starts):
                    yield self._block(data, starts)
                    turn = (turn + 1) % len(buffers)  # the consumer may still read buf
                if damaged:
                    return
                buffers[turn][:kept] = buf[stop:size]
                buf = buffers[turn]
                base += stop
                if eof and kept:
                    self._truncated(bytes(buf[:kept]), hdr, base)

    def _walk(
        self, raw: memoryview, data: np.ndarray, hdr: struct.Struct, base: int, mask: np.ndarray
    ) -> tuple[np.ndarray, int, bool]:
        """Record starts in ``raw`` from 0, where unread bytes begin, and whether damaged.

        Linear in the block: the chain is followed in windows of candidates that double
        while it runs on (a break wastes one small window, not the rest of the block),
        and when two records in a row fall outside the candidates (the seconds moved on
        past the reference bytes) the candidates are found again from there, at most as
        often as the walk has covered an eighth of what is left since the last search.
        """
        info = self.info
        size = len(raw)
        parts: list[np.ndarray] = []
        found = 0  # records in parts
        pos = 0
        cand_all, caplen_all = _candidates(data, info, mask)
        self.searches += 1
        searched_at = 0  # where the candidates were last found
        stepped_last = False  # the record before pos was stepped
        window = CHAIN_WINDOW
        while pos + info.hlen <= size:
            first = int(np.searchsorted(cand_all, pos))
            if first < len(cand_all) and cand_all[first] == pos:
                end = min(first + window, len(cand_all))
                cand = cand_all[first:end]
                chain = chain_from_first(cand, caplen_all[first:end].astype(np.int64) + info.hlen)
                last = int(chain[-1])
                after = int(cand[last]) + info.hlen + int(caplen_all[first + last])
                if after > size:  # the last record is unfinished: carry it over
                    parts.append(cand[chain[:-1]])
                    return self._done(parts, int(cand[last]))
                parts.append(cand[chain])
                found += len(chain)
                pos = after
                stepped_last = False
                ran_on = end < len(cand_all) and after > int(cand[-1])
                window = window * 2 if ran_on else CHAIN_WINDOW
                continue
            if stepped_last and (pos - searched_at) * 8 >= size - pos:
                # Two records in a row outside the candidates: find them again from here.
                cand_all, caplen_all = _candidates(data[pos:], info, mask)
                cand_all = cand_all + pos
                self.searches += 1
                searched_at = pos
                window = CHAIN_WINDOW
                if len(cand_all) and cand_all[0] == pos:
                    continue
            # The chain left the candidates: step one record as the general reader does.
            self.stepped += 1
            _sec, _frac, incl, _orig = hdr.unpack_from(raw, pos)
            number = self.frames + found
            if incl > info.caplen_limit:
                self.damage.append(
                    Damage(
                        self.path,
                        base + pos,
                        f"packet record {number + 1} claims {incl} captured bytes, more than "
                        f"the largest possible ({info.caplen_limit}); the file is corrupt "
                        "from here",
                    )
                )
                return self._done(parts, pos, damaged=True)
            after = pos + info.hlen + incl
            if after > size:
                break
            parts.append(np.array([pos], np.int64))
            found += 1
            pos = after
            stepped_last = True
        return self._done(parts, pos)

    def _done(
        self, parts: list[np.ndarray], stop: int, damaged: bool = False
    ) -> tuple[np.ndarray, int, bool]:
        starts = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return starts, stop, damaged

    def _block(self, data: np.ndarray, starts: np.ndarray) -> RecordBlock:
        info = self.info
        window = sliding_window_view(data, 16)
        head = window[starts].view(info.order + "u4").astype(np.int64)
        number = np.arange(self.frames + 1, self.frames + 1 + len(starts), dtype=np.int64)
        self.frames += len(starts)
        ts_ns = head[:, 0] * 1_000_000_000 + head[:, 1] * info.ns_per_unit
        n = len(starts)
        return RecordBlock(
            data,
            starts + info.hlen,
            head[:, 2],
            head[:, 3],
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
