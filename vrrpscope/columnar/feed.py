"""Fast-path decode feeding the engine: every engine event of a capture, in frame order.

:class:`FeedDecoder` reads captures with the columnar fast path (:mod:`vrrpscope.columnar.decoder`:
vectorised record finding, byte-identical frames grouped with the IPv4 identification and
header checksum left out) and yields, per block, the same :class:`Advert`,
:class:`OtherTraffic` and :class:`AddressClaim` objects the general decoder yields, in the
same order, without decoding each frame:

- for each distinct (group, issue mask) of a block (the issue mask carries the IPv4 header
  checksum verified per frame), the first such frame is decoded by the general
  :class:`Decoder`, and every other frame of it gets a copy with its own timestamp and
  frame number (the only fields that differ between the frames of one group);
- frames whose length differs from their group's representative, and groups whose
  decode needs bytes past the grouping window, are decoded one by one;
- frames the vectorised decoder does not handle (ARP, AH, GRE, ...) go through the
  general decoder one by one, as in :class:`vrrpscope.columnar.decoder.ColumnarDecoder` (both hold a
  :class:`vrrpscope.columnar.core.FastCore`: input walk, counts, grouped decode);
- timestamps a column cannot hold (pcapng can state times past the year 2262, or before
  1678): the chunk of frames holding one is decoded frame by frame (a pcapng file read by
  the vectorised block walk is reopened and read on from the first frame not yet done).

:class:`ItemDecoder` turns blocks into items; :class:`FeedDecoder` runs it over captures,
:class:`BatchDecoder` over a live capture's batches. The decode counts (``stats``) and
``damage`` are the fast path's, which equal the general path's (tests/columnar/test_decoder.py);
tests/columnar/test_feed.py checks the findings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vrrpscope.columnar.core import FastCore, input_size
from vrrpscope.columnar.frames import frames_block
from vrrpscope.columnar.grouping import ip_offsets
from vrrpscope.columnar.records import BLOCK, RecordBlock
from vrrpscope.columnar.reps import OTHER, VRRP, row_issues
from vrrpscope.columnar.unique import unique_first
from vrrpscope.engine.bulk.planner import BlockPlan, BlockTimes, PlainItems, Planner
from vrrpscope.errors import Damage
from vrrpscope.model import AddressClaim, Advert, Frame, OtherTraffic
from vrrpscope.proto.decode import Decoded, Decoder, DecodeStats
from vrrpscope.proto.link import LinkError, UnsupportedLinkType, parse_link

if TYPE_CHECKING:
    from vrrpscope.engine.crossfile import CrossFileDuplicates
    from vrrpscope.filters import Selection
    from vrrpscope.thresholds import Thresholds

_INT64 = range(-(1 << 63), 1 << 63)
Template = tuple[type | None, tuple]


@dataclass
class _Prepared:
    """A block's decoded events, before they become a plan or a list of items."""

    block: RecordBlock
    events: np.ndarray
    tid: np.ndarray
    makers: list[Template]
    singles: dict[int, Decoded | None]


class ItemDecoder:
    """Blocks to engine items: one general decode per distinct (group, issue mask), the
    fast path's fallback frames decoded by ``core``'s decoder (and counted there)."""

    def __init__(self, core: FastCore) -> None:
        self.core = core
        self.templates = Decoder()  # decodes one frame per group; its counts are unused
        self.planner: Planner | None = None  # set: blocks become BlockPlans (FeedDecoder.plans)
        self.selection: Selection | None = None  # set: only the items it keeps (filters.py)
        self._known: dict[tuple, Template] = {}  # see _template

    def items(self, block: RecordBlock) -> list[Decoded] | None:
        """The block's items in frame order (None: none)."""
        ready = self._prepare(block)
        if ready is None:
            return None
        items = PlainItems(
            block.ts_ns[ready.events],
            self._refs(block)[ready.events],
            ready.events,
            ready.tid[ready.events],
            ready.makers,
            ready.singles,
        )
        return items.items() or None

    def _refs(self, block: RecordBlock) -> np.ndarray:
        """The block's frame numbers as its items carry them (model.file_bases)."""
        bases = self.core.decoder.file_bases
        if not bases:
            return block.number
        offset = np.array([bases.get(name, 0) for name in block.source_names], np.int64)
        return block.number.astype(np.int64) + offset[block.source]

    def plan(self, block: RecordBlock, planner: Planner) -> BlockPlan | PlainItems | None:
        """The block as ``planner`` plans it."""
        ready = self._prepare(block)
        if ready is None:
            return None
        times = BlockTimes(block.ts_ns, self._refs(block))
        return planner.plan(times, ready.events, ready.tid, ready.makers, ready.singles)

    def one_by_one(self, frames: Sequence[Frame]) -> list[Decoded] | None:
        """The general decoder on each frame (its counts join ``stats`` at the end);
        adverts seen already in another file left out when planning for several."""
        decode = self.core.decoder.decode
        note_time = self.core.stats.note_time
        duplicates = self.planner.duplicates if self.planner is not None else None
        items: list[Decoded] = []
        note_span = self.core.stats.note_span
        for frame in frames:
            note_time(frame.ts_ns)
            note_span(frame.source, frame.ts_ns, frame.ts_ns)
            item = decode(frame)
            if item is None:
                continue
            if self.selection is not None and not self.selection.keep(item):
                continue
            if duplicates is not None and isinstance(item, Advert) and duplicates.seen(item):
                continue
            items.append(item)
        return items or None

    def _prepare(self, block: RecordBlock) -> _Prepared | None:
        g = self.core.groups(block)
        reps, inverse, res, category = g.reps, g.inverse, g.res, g.category
        fallback, vrrp, ip_fields = g.fallback, g.vrrp, g.ip_fields

        n = len(block.start)
        # Frames decoded one by one: the fast path's fallback (counted by core.decoder)
        # and frames whose length differs from their representative's (not counted again).
        rep_row = reps[inverse]
        alone = np.zeros(n, bool)
        alone[fallback] = True
        odd = (block.caplen != block.caplen[rep_row]) | (block.orig != block.orig[rep_row])
        # (an ignored group's frames stay ignored whatever their length: no event)
        odd &= (category == VRRP) | (category == OTHER)
        odd_rows = np.flatnonzero(odd)
        # Every other frame of a VRRP or OTHER group: keyed by group and issue mask.
        templated = (category == VRRP) | (category == OTHER)
        templated &= ~odd
        mask_id = np.zeros(n, np.int64)
        mask_values = [0]
        if len(vrrp):
            issues = row_issues(res, inverse[vrrp], vrrp, ip_fields)
            if issues.any():
                values, ids = np.unique(issues, return_inverse=True)
                mask_id[vrrp] = ids.ravel()
                mask_values = values.tolist()
        rows = np.flatnonzero(templated)
        events = np.flatnonzero(templated | alone | odd)
        if len(events) == 0:
            return None
        if len(rows):
            key = inverse[rows] * len(mask_values) + mask_id[rows]
            keys, first, which = unique_first(key, (len(reps) + 1) * len(mask_values))
            masks = [mask_values[k % len(mask_values)] for k in keys.tolist()]
            makers = self._makers(block, rows[first], masks)
            tid = np.full(n, -1, np.int64)
            tid[rows] = which
        else:
            makers = []
            tid = np.full(n, -1, np.int64)
        singles: dict[int, Decoded | None] = {}
        decode = self.core.decoder.decode
        for i in fallback.tolist():
            singles[i] = decode(self._frame(block, i))
        decode_alone = self.templates.decode
        for i in odd_rows.tolist():
            singles[i] = decode_alone(self._frame(block, i))
        if self.selection is not None:
            events = self.selection.keep_events(block.ts_ns, events, tid, makers, singles)
            if len(events) == 0:
                return None
        return _Prepared(block, events, tid, makers, singles)

    def _frame(self, block: RecordBlock, i: int) -> Frame:
        start = int(block.start[i])
        iface = int(block.iface[i])
        return Frame(
            int(block.ts_ns[i]),
            int(block.linktype[i]),
            block.data[start : start + int(block.caplen[i])].tobytes(),
            int(block.orig[i]),
            int(block.number[i]),
            block.iface_names[iface] if iface >= 0 else None,
            block.source_names[int(block.source[i])],
        )

    def _makers(self, block: RecordBlock, rows: np.ndarray, masks: list[int]) -> list[Template]:
        """:meth:`_template` of each of ``rows`` (with its issue mask), the IPv4 header of
        each found vectorised (:func:`vrrpscope.columnar.grouping.ip_offsets`)."""
        ip_at = np.full(len(rows), -1, np.int64)
        links = block.linktype[rows]
        for link in np.unique(links).tolist():
            which = np.flatnonzero(links == link)
            ip_at[which] = ip_offsets(block, rows[which], link)
        data = block.data
        starts = block.start[rows].tolist()
        ends = (block.start[rows] + block.caplen[rows]).tolist()
        return [
            self._template(block, i, mask, data[start:end].tobytes(), at)
            for i, mask, start, end, at in zip(
                rows.tolist(), masks, starts, ends, ip_at.tolist(), strict=True
            )
        ]

    def _template(self, block: RecordBlock, i: int, mask: int, data: bytes, ip_at: int) -> Template:
        """(class, fields after ts_ns and frame) of the item frame ``i`` decodes to.

        Remembered across blocks by the frame's bytes (``data``) less the IPv4
        identification and header checksum (of the IPv4 header at ``ip_at``, -1: none or
        not found: the link layer is parsed here), and the frame's issue ``mask`` (which
        holds that checksum's check).
        """
        link = int(block.linktype[i])
        content = _template_bytes(data, link, ip_at)
        iface = int(block.iface[i])
        key = (
            content,
            link,
            int(block.orig[i]),
            block.iface_names[iface] if iface >= 0 else None,
            block.source_names[int(block.source[i])],
            mask,
        )
        known = self._known.get(key)
        if known is not None:
            return known
        item = self.templates.decode(self._frame(block, i))
        if item is None:
            made: Template = (None, ())
        else:
            names = _FIELDS[type(item)]
            made = type(item), tuple(getattr(item, name) for name in names)
        if len(self._known) >= _MAX_KNOWN:
            self._known.clear()
        self._known[key] = made
        return made


@dataclass
class FeedDecoder:
    """A fast decode of captures whose blocks are decoded items (adverts, other, claims)."""

    paths: Sequence[str]
    block: int = BLOCK
    prefetch: bool = True  # read plain pcap files in a thread one block ahead

    def __post_init__(self) -> None:
        self.core = FastCore(input_size(self.paths))
        self.decoder = ItemDecoder(self.core)

    @property
    def reader(self) -> FastCore:
        """What progress callbacks read: ``total_bytes`` / ``bytes_read``."""
        return self.core

    @property
    def total_bytes(self) -> int | None:
        return self.core.total_bytes

    @property
    def bytes_read(self) -> int:
        return self.core.bytes_read

    @property
    def stats(self) -> DecodeStats:
        return self.core.stats

    @stats.setter
    def stats(self, value: DecodeStats) -> None:
        self.core.stats = value

    @property
    def damage(self) -> list[Damage]:
        return self.core.damage

    @damage.setter
    def damage(self, value: list[Damage]) -> None:
        self.core.damage = value

    @property
    def fast_frames(self) -> int:
        return self.core.fast_frames

    @fast_frames.setter
    def fast_frames(self, value: int) -> None:
        self.core.fast_frames = value

    @property
    def fallback_frames(self) -> int:
        return self.core.fallback_frames

    @fallback_frames.setter
    def fallback_frames(self, value: int) -> None:
        self.core.fallback_frames = value

    def plans(
        self, thresholds: Thresholds, duplicates: CrossFileDuplicates | None = None
    ) -> Iterator[list[Decoded] | BlockPlan | PlainItems]:
        """Blocks as :class:`BlockPlan` s for an engine with ``thresholds`` (``PlainItems``
        where a block cannot take runs, a list of items where its frames had to be
        decoded one by one). With ``duplicates`` (several files), adverts it has seen
        already are left out."""
        planner = self.decoder.planner = Planner(thresholds, duplicates)
        for part in self.core.inputs(self.paths, self.block, self.prefetch, per_frame=True):
            if isinstance(part, RecordBlock):
                plan = self.decoder.plan(part, planner)
            else:
                plan = self.decoder.one_by_one(part)
            if plan is not None:
                yield plan

    def items(self) -> Iterator[Decoded]:
        """Every decoded item in frame order, as :meth:`Decoder.decode_all` yields them."""
        for part in self.core.inputs(self.paths, self.block, self.prefetch, per_frame=True):
            if isinstance(part, RecordBlock):
                items = self.decoder.items(part)
            else:
                items = self.decoder.one_by_one(part)
            if items:
                yield from items


class BatchDecoder:
    """A live capture's batches of frames, decoded into items in frame order."""

    def __init__(self) -> None:
        self.core = FastCore()
        self._decoder = ItemDecoder(self.core)

    @property
    def stats(self) -> DecodeStats:
        return self.core.stats

    @property
    def fast_frames(self) -> int:
        return self.core.fast_frames

    @property
    def fallback_frames(self) -> int:
        return self.core.fallback_frames

    def decode_frames(self, frames: Sequence[Frame]) -> list[Decoded]:
        """One batch of frames (a live capture's read): the decoded items in frame order,
        counted in ``stats``. Batches of :data:`COLUMNAR_BATCH` frames or more take the
        columnar decode; smaller ones, where its fixed cost per batch outweighs the
        general decoder's per frame, are decoded frame by frame (same items either way:
        tests/columnar/test_feed.py)."""
        if len(frames) >= COLUMNAR_BATCH and all(f.ts_ns in _INT64 for f in frames):
            items = self._decoder.items(frames_block(frames))
        else:
            items = self._decoder.one_by_one(frames)
        self.core.merge_stats()
        return items or []


_MAX_KNOWN = 4096  # decoded templates remembered
COLUMNAR_BATCH = 256  # frames in a batch from which the columnar decode is the faster


def _template_bytes(data: bytes, linktype: int, ip: int = -1) -> bytes:
    """``data`` with the IPv4 identification and header checksum zeroed (if IPv4): of
    the header at ``ip``, or (-1) where the link layer parser finds one."""
    if ip < 0:
        try:
            link = parse_link(linktype, data)
        except (LinkError, UnsupportedLinkType):
            return data
        if link.ethertype != 0x0800 or not data.endswith(link.payload) or len(link.payload) < 12:
            return data
        ip = len(data) - len(link.payload)
    return b"".join((data[: ip + 4], b"\0\0", data[ip + 6 : ip + 10], b"\0\0", data[ip + 12 :]))


_FIELDS: dict[type, tuple[str, ...]] = {}
for _kind in (Advert, OtherTraffic, AddressClaim):
    _names = tuple(_kind.__dataclass_fields__)
    assert _names[:2] == ("ts_ns", "frame")
    _FIELDS[_kind] = _names[2:]
