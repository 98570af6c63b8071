"""Columnar fast path: captures -> AdvertTable chunks with numpy, no per-packet Python.

``fast_table(paths)`` returns the same :class:`AdvertTable` as
``AdvertTable.from_adverts`` over the general path's adverts (same rows, side tables and
order), the same :class:`DecodeStats` counts, and the same :class:`Damage` list.
``iter_chunks(paths)`` / ``FastRun(paths).chunks()`` stream it as :class:`FastChunk` s
whose tables share the growing side tables (indices are global); memory stays bounded.

How, for one plain classic pcap file: the file is read in 4 MiB blocks
(:mod:`.records`: record starts found vectorised), byte-identical frames are
grouped (:mod:`.dedup`), one frame per group is decoded with gathers at computed
offsets (:mod:`.reps`: link, IP, VRRP/CARP and every validation issue) and the
results are broadcast to the group. Every other input (pcapng, compressed, stdin, several
files) is read by the capture readers and its frames packed into the same columnar block
(:mod:`.frames`), so reader semantics (damage, merge order, interfaces) are the
general path's by construction. Frames the vectorised decoder does not handle (ARP, AH,
GRE/ERSPAN, IPv6 extension headers, truncated messages, short headers, more than three
VLAN tags, unknown link types) go through the general :class:`Decoder` one by one and
are merged back in order. (Change points: :mod:`vrrpscope.planner`.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from vrrpscope.capture import CaptureSource, FrameReader, open_capture, read_frames
from vrrpscope.columnar import ADVERT_DTYPE, AdvertTable
from vrrpscope.decode import Decoder, DecodeStats
from vrrpscope.errors import Damage
from vrrpscope.fastpath.byteview import ByteView
from vrrpscope.fastpath.dedup import WINDOW, dedup_block
from vrrpscope.fastpath.frames import frames_block
from vrrpscope.fastpath.ip import label_of
from vrrpscope.fastpath.link import FAST_LINKTYPES
from vrrpscope.fastpath.pcapng import PcapngBlocks
from vrrpscope.fastpath.records import (
    BLOCK,
    PcapBlocks,
    PcapInfo,
    RecordBlock,
    is_plain_file,
    read_header,
)
from vrrpscope.fastpath.reps import (
    FALLBACK,
    OTHER,
    VRRP,
    Keys,
    RepResult,
    broadcast,
    decode_reps,
    local_keys,
)
from vrrpscope.fastpath.tables import GlobalTables
from vrrpscope.fastpath.vrrp import FORMS, issue_mask
from vrrpscope.model import Advert, Frame

FRAME_CHUNK = 65536  # frames per chunk from the capture readers (pcapng, pipes, merges)
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass
class FastChunk:
    """One chunk of adverts: a table (global side-table indices) plus per-row extras."""

    table: AdvertTable
    issues: np.ndarray  # issue bit mask per row (see fastpath.vrrp.ISSUE_BITS)
    form: np.ndarray  # checksum form code per row (index into fastpath.vrrp.FORMS)


@dataclass
class BlockGroups:
    """A block's frames grouped and decoded once per group (see FastRun._groups)."""

    view: ByteView
    reps: np.ndarray  # representative row of each group
    inverse: np.ndarray  # group of each row
    ip_fields: object
    res: RepResult
    category: np.ndarray  # FALLBACK / VRRP / OTHER / ignored, per row
    fallback: np.ndarray  # rows for the general decoder
    vrrp: np.ndarray  # rows that are adverts
    other: np.ndarray  # rows of other link-local multicast


@dataclass
class FastRun:
    """A fast decode in progress: iterate :meth:`chunks`, then read ``stats``/``damage``."""

    paths: Sequence[str]
    block: int = BLOCK
    stats: DecodeStats = field(default_factory=DecodeStats)
    damage: list[Damage] = field(default_factory=list)
    fast_frames: int = 0  # frames decoded by the vectorised path
    fallback_frames: int = 0  # frames handed to the general decoder one by one
    prefetch: bool = True  # read plain pcap files in a thread one block ahead

    def __post_init__(self) -> None:
        self.tables = GlobalTables()
        self._decoder = Decoder()
        self._progress: PcapBlocks | CaptureSource | FrameReader | None = None
        sizes = [os.path.getsize(p) if is_plain_file(p) else None for p in self.paths]
        self.total_bytes: int | None = None if None in sizes else sum(sizes)  # type: ignore[arg-type]

    @property
    def bytes_read(self) -> int:
        """Bytes taken from the input(s) so far (compressed bytes when compressed)."""
        return self._progress.bytes_read if self._progress is not None else 0

    def chunks(self) -> Iterator[FastChunk]:
        """Chunks of adverts in the order the general path yields them."""
        paths = list(self.paths)
        info = self._fast_info(paths[0]) if len(paths) == 1 else None
        if info is not None:
            blocks = self._progress = PcapBlocks(paths[0], info, self.block, self.prefetch)
            yield from self._decode_all(blocks)
            self.damage.extend(blocks.damage)
        elif len(paths) == 1:
            yield from self._one_source(paths[0])
        else:
            yield from self._frames(read_frames(paths, chunk_size=FRAME_CHUNK))
        self._merge_stats()

    def _decode_all(self, blocks: Iterable[RecordBlock]) -> Iterator[FastChunk]:
        for block in blocks:
            chunk = self._decode_block(block)
            if chunk is not None:
                yield chunk

    def _one_source(self, path: str) -> Iterator[FastChunk]:
        """Plain pcapng files take the vectorised EPB walk; the rest the frames path.

        Compressed and piped inputs stay on the frames path: where a corrupt stream
        breaks depends on read sizes, and only the reader's own reads match it exactly.
        """
        source = self._progress = open_capture(path)
        if source.format == "pcapng" and not source.interactive and not source.compression:
            try:
                yield from self._decode_all(PcapngBlocks(source))
            finally:
                source.close()
            self.damage.extend(source.damage)
        else:
            yield from self._frames(FrameReader([source], FRAME_CHUNK))

    @staticmethod
    def _fast_info(path: str) -> PcapInfo | None:
        if not is_plain_file(path):
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

    def _frames(self, reader: FrameReader) -> Iterator[FastChunk]:
        """Any input the capture readers open: their frames, decoded vectorised."""
        self._progress = reader
        try:
            yield from self._decode_all(frames_block(frames) for frames in reader)
        finally:
            reader.close()
        self.damage.extend(reader.damage)

    def _table(self, rows: np.ndarray) -> AdvertTable:
        lists = self.tables.lists()
        return AdvertTable(
            rows,
            lists["file"],
            lists["segment"],
            lists["src"],
            lists["src_mac"],
            lists["addresses"],
        )

    def _groups(self, block: RecordBlock) -> BlockGroups:
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
        self._count(block, fallback, len(vrrp), len(other))
        if len(other):
            weights = np.bincount(inverse[other], minlength=len(res.category))
            for rep in np.flatnonzero(weights).tolist():
                self.stats.other_labels[label_of(int(res.label[rep]))] += int(weights[rep])
        return BlockGroups(view, reps, inverse, ip_fields, res, category, fallback, vrrp, other)

    def _decode_block(self, block: RecordBlock) -> FastChunk | None:
        g = self._groups(block)
        res, inverse, ip_fields, fallback, vrrp = g.res, g.inverse, g.ip_fields, g.fallback, g.vrrp

        fb_rows, fb_adverts = self._fallback(block, fallback)
        if len(vrrp) == 0 and not fb_adverts:
            return None
        rep_of = inverse[vrrp]
        if not fb_adverts:
            self._intern_reps(res, rep_of)
            rows, issues, form = broadcast(block, res, rep_of, vrrp, ip_fields)
            return FastChunk(self._table(rows), issues, form)
        fast_rows = broadcast(block, res, rep_of, vrrp, ip_fields)
        local = local_keys(res, rep_of)
        return self._merge(fast_rows, local, vrrp, fb_rows, fb_adverts)

    def _count(self, block: RecordBlock, fallback: np.ndarray, vrrp: int, other: int) -> None:
        stats = self.stats
        fast = len(block.start) - len(fallback)
        self.fast_frames += fast
        self.fallback_frames += len(fallback)
        stats.frames += fast
        stats.adverts += vrrp
        stats.other += other
        stats.ignored += fast - vrrp - other
        _note_times(stats, block.ts_ns)
        first = int(block.linktype[0]) if len(block.linktype) else 0
        if (block.linktype == first).all():
            stats.link_types[first] += fast
            return
        fast_rows = np.ones(len(block.start), bool)
        fast_rows[fallback] = False
        kinds, counts = np.unique(block.linktype[fast_rows], return_counts=True)
        for kind, count in zip(kinds.tolist(), counts.tolist(), strict=True):
            stats.link_types[kind] += count

    def _intern_reps(self, res: RepResult, rep_of: np.ndarray) -> None:
        """Give the representatives global side-table indices, in order of first row."""
        first = np.full(len(res.category), len(rep_of), np.int64)
        np.minimum.at(first, rep_of, np.arange(len(rep_of), dtype=np.int64))
        used = np.flatnonzero(first < len(rep_of))
        order = used[np.argsort(first[used], kind="stable")]
        for name, (ids, values) in res.keys.items():
            res.rows[name][order] = self.tables.intern(name, ids[order], values)

    def _fallback(self, block: RecordBlock, rows: np.ndarray) -> tuple[np.ndarray, list[Advert]]:
        """Decode ``rows`` one by one with the general decoder: (rows that are adverts, adverts)."""
        at: list[int] = []
        out: list[Advert] = []
        data = block.data
        decode = self._decoder.decode
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
                at.append(i)
                out.append(item)
        return np.array(at, np.int64), out

    def _merge(
        self,
        fast_rows: tuple[np.ndarray, np.ndarray, np.ndarray],
        local: Keys,
        fast_at: np.ndarray,
        fb_at: np.ndarray,
        fb_adverts: list[Advert],
    ) -> FastChunk:
        """Fast rows and general-path adverts of one block, in block order."""
        rows, issues, form = fast_rows
        mini = AdvertTable.from_adverts(fb_adverts)
        mini_lists = {
            "file": mini.files,
            "segment": mini.segments,
            "src": mini.sources,
            "src_mac": mini.macs,
            "addresses": mini.address_sets,
        }
        extra = mini.rows.copy()
        combined: dict[str, tuple[np.ndarray, list]] = {}
        for name, (ids, values) in local.items():
            theirs = extra[name].astype(np.int64)
            shifted = np.where(theirs >= 0, theirs + len(values), -1)
            combined[name] = (np.concatenate([ids, shifted]), list(values) + mini_lists[name])
        all_rows = np.concatenate([rows, extra])
        all_issues = np.concatenate(
            [issues, np.array([issue_mask(a.issues) for a in fb_adverts], np.int64)]
        )
        all_form = np.concatenate(
            [form, np.array([FORMS.index(a.checksum_form) for a in fb_adverts], np.int64)]
        )
        order = np.argsort(np.concatenate([fast_at, fb_at]), kind="stable")
        all_rows = all_rows[order]
        for name, (ids, values) in combined.items():
            all_rows[name] = self.tables.intern(name, ids[order], values)
        return FastChunk(self._table(all_rows), all_issues[order], all_form[order])

    def _merge_stats(self) -> None:
        general = self._decoder.stats
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
        self._decoder.stats = DecodeStats()


def iter_chunks(paths: Sequence[str] | str, block: int = BLOCK) -> Iterator[FastChunk]:
    """Stream the adverts of ``paths`` as :class:`FastChunk` s (stats/damage: use FastRun)."""
    run = FastRun([paths] if isinstance(paths, str) else list(paths), block)
    yield from run.chunks()


def fast_table(
    paths: Sequence[str] | str, block: int = BLOCK
) -> tuple[AdvertTable, DecodeStats, list[Damage]]:
    """The whole AdvertTable of ``paths``, the decoder counts, and the damage met."""
    run = FastRun([paths] if isinstance(paths, str) else list(paths), block)
    parts = [chunk.table.rows for chunk in run.chunks()]
    rows = np.concatenate(parts) if parts else np.zeros(0, ADVERT_DTYPE)
    return run._table(rows), run.stats, run.damage


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
