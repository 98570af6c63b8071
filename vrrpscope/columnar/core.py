"""What every fast decode shares: the input walk, the counts and the grouped decode.

:class:`FastCore` reads one or more captures as :class:`RecordBlock` s (plain pcap and
pcapng files by the compiled record walks, the rest through the capture readers), groups
each block's identical frames and decodes one per group (:meth:`FastCore.groups`),
decodes the frames the vectorised decoder leaves with the general :class:`Decoder`, and
keeps the counts, the damage and the growing side tables.
:class:`vrrpscope.columnar.decoder.ColumnarDecoder` (advert tables) and
:class:`vrrpscope.columnar.feed.FeedDecoder` (engine items) each hold one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from vrrpscope import compiled as walk
from vrrpscope.capture import CaptureSource, FrameReader, open_capture, read_frames
from vrrpscope.capture.timeline import TimeLine, record_blocks
from vrrpscope.columnar.adverts import AdvertTable
from vrrpscope.columnar.byteview import ByteView
from vrrpscope.columnar.frames import frames_block
from vrrpscope.columnar.grouping import WINDOW, dedup_block
from vrrpscope.columnar.ip import label_of
from vrrpscope.columnar.link import FAST_LINKTYPES
from vrrpscope.columnar.pcapng import PcapngBlocks
from vrrpscope.columnar.records import PcapBlocks, PcapInfo, RecordBlock, is_plain_file, read_header
from vrrpscope.columnar.reps import FALLBACK, OTHER, VRRP, RepResult, decode_reps
from vrrpscope.columnar.tables import GlobalTables
from vrrpscope.errors import Damage
from vrrpscope.model import Advert, Frame, file_bases
from vrrpscope.proto.decode import Decoder, DecodeStats

FRAME_CHUNK = 65536  # frames per chunk from the capture readers (pcapng, pipes, merges)
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_INT64 = range(_I64_MIN, _I64_MAX + 1)


@dataclass
class BlockGroups:
    """A block's frames grouped and decoded once per group (see FastCore.groups)."""

    view: ByteView
    reps: np.ndarray  # representative row of each group
    inverse: np.ndarray  # group of each row
    ip_fields: np.ndarray
    res: RepResult
    category: np.ndarray  # FALLBACK / VRRP / OTHER / ignored, per row
    fallback: np.ndarray  # rows for the general decoder
    vrrp: np.ndarray  # rows that are adverts
    other: np.ndarray  # rows of other link-local multicast


def input_size(paths: Sequence[str]) -> int | None:
    """Bytes of ``paths`` when all are plain files, else None (pipes, stdin)."""
    total = 0
    for path in paths:
        if not is_plain_file(path):
            return None
        total += os.path.getsize(path)
    return total


@dataclass
class FastCore:
    """Counts, damage, side tables and the general decoder of one fast decode."""

    total_bytes: int | None = None
    stats: DecodeStats = field(default_factory=DecodeStats)
    damage: list[Damage] = field(default_factory=list)
    fast_frames: int = 0  # frames decoded by the vectorised path
    fallback_frames: int = 0  # frames handed to the general decoder one by one
    tables: GlobalTables = field(default_factory=GlobalTables)
    decoder: Decoder = field(default_factory=Decoder)  # the fallback frames'
    progress: PcapBlocks | CaptureSource | FrameReader | None = None

    @property
    def bytes_read(self) -> int:
        """Bytes taken from the input(s) so far (compressed bytes when compressed)."""
        return self.progress.bytes_read if self.progress is not None else 0

    def inputs(
        self, paths: Sequence[str], block: int, prefetch: bool, per_frame: bool = False
    ) -> Iterator[RecordBlock | list[Frame]]:
        """The blocks of ``paths`` in the general path's order, then the counts merged.

        ``per_frame``: a chunk of frames whose timestamps a column cannot hold (pcapng can
        state times past 2262) comes as the list of its frames (a pcapng file read by the
        block walk is reopened and read on from the first frame not yet done); without
        it, such times raise OverflowError.
        """
        paths = list(paths)
        self.decoder.file_bases = file_bases(paths)
        info = fast_info(paths[0]) if len(paths) == 1 else None
        if info is not None:
            blocks = self.progress = PcapBlocks(paths[0], info, block, prefetch)
            line: TimeLine[tuple] = TimeLine(paths[0])
            yield from record_blocks(blocks, line)
            self.damage.extend(line.damage)
            self.damage.extend(blocks.damage)
        elif len(paths) == 1:
            yield from self._one_source(paths[0], per_frame)
        else:
            yield from self._frames(read_frames(paths, chunk_size=FRAME_CHUNK), per_frame)
        self.merge_stats()

    def _one_source(self, path: str, per_frame: bool) -> Iterator[RecordBlock | list[Frame]]:
        """Plain pcapng files take the compiled EPB walk; the rest the frames path.

        Compressed and piped inputs stay on the frames path: where a corrupt stream
        breaks depends on read sizes, and only the reader's own reads match it exactly.
        """
        source = self.progress = open_capture(path)
        walkable = walk.COMPILED and not source.interactive and not source.compression
        if source.format != "pcapng" or not walkable:
            yield from self._frames(FrameReader([source], FRAME_CHUNK), per_frame)
            return
        done = 0  # frames passed on (read again, the same frames get the same decisions)
        line: TimeLine[tuple] = TimeLine(path)
        try:
            for block in record_blocks(PcapngBlocks(source), line):
                yield block
                done += len(block.start)
        except OverflowError:  # a timestamp past int64: read on frame by frame
            source.close()
            again = self.progress = open_capture(path)
            yield from self._frames(FrameReader([again], FRAME_CHUNK), per_frame, skip=done)
            return
        finally:
            source.close()
        self.damage.extend(line.damage)  # (frames left out come before where reading broke)
        self.damage.extend(source.damage)
        self.stats.capture_drops.update(source.drops)

    def _frames(
        self, reader: FrameReader, per_frame: bool, skip: int = 0
    ) -> Iterator[RecordBlock | list[Frame]]:
        """Any input the capture readers open (the first ``skip`` frames already done)."""
        self.progress = reader
        try:
            for frames in reader:
                if skip:
                    taken = min(skip, len(frames))
                    frames, skip = frames[taken:], skip - taken
                if not frames:
                    continue
                if per_frame and not all(f.ts_ns in _INT64 for f in frames):
                    yield frames
                    continue
                yield frames_block(frames)
        finally:
            reader.close()
        self.damage.extend(reader.damage)
        self.stats.capture_drops.update(reader.drops)

    def table(self, rows: np.ndarray) -> AdvertTable:
        lists = self.tables.lists()
        return AdvertTable(
            rows,
            lists["file"],
            lists["segment"],
            lists["src"],
            lists["src_mac"],
            lists["addresses"],
        )

    def groups(self, block: RecordBlock) -> BlockGroups:
        """Group a block's identical frames, decode one per group, count the block."""
        view = ByteView(block.data)
        reps, inverse, ip_fields = dedup_block(view, block)
        res = decode_reps(view, block, reps)
        # A group whose frames are longer than the key window is only one group if the
        # bytes the decoder looked at lie inside the window; otherwise decode each frame.
        unsafe = (block.caplen[reps] > WINDOW) & (res.needed > WINDOW)
        if unsafe.any():
            rows = np.flatnonzero(unsafe[inverse])
            inverse = inverse.copy()
            inverse[rows] = len(reps) + np.arange(len(rows))
            reps = np.concatenate([reps, rows])
            res = res.concat(decode_reps(view, block, rows))
        category = res.category[inverse]
        fallback = np.flatnonzero(category == FALLBACK)
        vrrp = np.flatnonzero(category == VRRP)
        other = np.flatnonzero(category == OTHER)
        self.count(block, fallback, len(vrrp), len(other))
        if len(other):
            weights = np.bincount(inverse[other], minlength=len(res.category))
            for rep in np.flatnonzero(weights).tolist():
                self.stats.other_labels[label_of(int(res.label[rep]))] += int(weights[rep])
        return BlockGroups(view, reps, inverse, ip_fields, res, category, fallback, vrrp, other)

    def count(self, block: RecordBlock, fallback: np.ndarray, vrrp: int, other: int) -> None:
        stats = self.stats
        fast = len(block.start) - len(fallback)
        self.fast_frames += fast
        self.fallback_frames += len(fallback)
        stats.frames += fast
        stats.adverts += vrrp
        stats.other += other
        stats.ignored += fast - vrrp - other
        _note_times(stats, block.ts_ns)
        _note_spans(stats, block)
        first = int(block.linktype[0]) if len(block.linktype) else 0
        if (block.linktype == first).all():
            stats.link_types[first] += fast
            return
        fast_rows = np.ones(len(block.start), bool)
        fast_rows[fallback] = False
        kinds, counts = np.unique(block.linktype[fast_rows], return_counts=True)
        for kind, count in zip(kinds.tolist(), counts.tolist(), strict=True):
            stats.link_types[kind] += count

    def intern_reps(self, res: RepResult, rep_of: np.ndarray) -> None:
        """Give the representatives global side-table indices, in order of first row."""
        first = np.full(len(res.category), len(rep_of), np.int64)
        np.minimum.at(first, rep_of, np.arange(len(rep_of), dtype=np.int64))
        used = np.flatnonzero(first < len(rep_of))
        order = used[np.argsort(first[used], kind="stable")]
        for name, (ids, values) in res.keys.items():
            res.rows[name][order] = self.tables.intern(name, ids[order], values)

    def fallback(self, block: RecordBlock, rows: np.ndarray) -> tuple[np.ndarray, list[Advert]]:
        """Decode ``rows`` one by one with the general decoder: (rows that are adverts, adverts)."""
        at: list[int] = []
        out: list[Advert] = []
        data = block.data
        decode = self.decoder.decode
        for i in rows.tolist():
            start = int(block.start[i])
            iface = int(block.iface[i])
            frame = Frame(
                int(block.ts_ns[i]),
                int(block.linktype[i]),
                data[start : start + int(block.caplen[i])].tobytes(),
                int(block.orig[i]),
                int(block.number[i]),
                block.iface_names[iface] if iface >= 0 else None,
                block.source_names[int(block.source[i])],
            )
            item = decode(frame)
            if isinstance(item, Advert):
                item.frame = frame.number  # (the table has a file column)
                at.append(i)
                out.append(item)
        return np.array(at, np.int64), out

    def merge_stats(self) -> None:
        general = self.decoder.stats
        stats = self.stats
        stats.frames += general.frames
        stats.adverts += general.adverts
        stats.other += general.other
        stats.claims += general.claims
        stats.undecodable += general.undecodable
        stats.ignored += general.ignored
        stats.link_types.update(general.link_types)
        stats.unknown_link_types.update(general.unknown_link_types)
        stats.other_labels.update(general.other_labels)
        self.decoder.stats = DecodeStats()


def fast_info(path: str) -> PcapInfo | None:
    """A plain classic pcap file the compiled walk reads: its header facts, else None."""
    if not walk.COMPILED or not is_plain_file(path):
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    info = read_header(head)
    if info is None or info.linktype not in FAST_LINKTYPES:
        return None
    return info


def _note_spans(stats: DecodeStats, block: RecordBlock) -> None:
    """DecodeStats.note_span for each input of a block."""
    if not len(block.ts_ns):
        return
    sources = block.source
    first = int(sources[0])
    if (sources == first).all():
        ts = block.ts_ns
        stats.note_span(block.source_names[first], int(ts.min()), int(ts.max()))
        return
    for index in np.unique(sources).tolist():
        ts = block.ts_ns[sources == index]
        stats.note_span(block.source_names[index], int(ts.min()), int(ts.max()))


def _note_times(stats: DecodeStats, ts_ns: np.ndarray) -> None:
    """DecodeStats.note_time for a whole block of frames (all of them, fast or not)."""
    if not len(ts_ns):
        return
    ts = ts_ns.astype(np.int64)
    last = stats.last_ts_ns
    if last is not None and not _I64_MIN <= last <= _I64_MAX:  # (met frame by frame)
        if last > _I64_MAX:  # every frame here is earlier than the latest so far
            stats.backwards_ts += len(ts)
            low = int(ts.min())
            first = stats.first_ts_ns
            stats.first_ts_ns = low if first is None else min(first, low)
            return
        last = None  # every frame here is later than all so far
    before = np.maximum.accumulate(ts)
    previous = np.empty_like(before)
    previous[1:] = before[:-1]
    previous[0] = ts[0] if last is None else last
    if last is not None:
        previous = np.maximum(previous, last)
    stats.backwards_ts += int(np.count_nonzero(ts < previous))
    low, high = int(ts.min()), int(before[-1])
    stats.first_ts_ns = low if stats.first_ts_ns is None else min(stats.first_ts_ns, low)
    stats.last_ts_ns = high if stats.last_ts_ns is None else max(stats.last_ts_ns, high)
