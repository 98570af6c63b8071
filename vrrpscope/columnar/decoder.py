"""Columnar fast path: captures -> AdvertTable chunks with numpy, no per-packet Python.

``fast_table(paths)`` returns the same :class:`AdvertTable` as
``AdvertTable.from_adverts`` over the general path's adverts (same rows, side tables and
order), the same :class:`DecodeStats` counts, and the same :class:`Damage` list.
``iter_chunks(paths)`` / ``ColumnarDecoder(paths).chunks()`` stream it as :class:`FastChunk` s
whose tables share the growing side tables (indices are global); memory stays bounded.

How, for one plain classic pcap file: the file is read in 4 MiB blocks
(:mod:`.records`: records walked by the compiled core), byte-identical frames are
grouped (:mod:`.dedup`), one frame per group is decoded with gathers at computed
offsets (:mod:`.reps`: link, IP, VRRP/CARP and every validation issue) and the
results are broadcast to the group. Every other input (pcapng, compressed, stdin, several
files) is read by the capture readers and its frames packed into the same columnar block
(:mod:`.frames`), so reader semantics (damage, merge order, interfaces) are the
general path's by construction. Frames the vectorised decoder does not handle (ARP, AH,
GRE/ERSPAN, IPv6 extension headers, truncated messages, short headers, more than three
VLAN tags, unknown link types) go through the general :class:`Decoder` one by one and
are merged back in order. (Change points: :mod:`vrrpscope.engine.bulk.planner`.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from vrrpscope.columnar.adverts import ADVERT_DTYPE, AdvertTable
from vrrpscope.columnar.core import FRAME_CHUNK, BlockGroups, FastCore, fast_info, input_size
from vrrpscope.columnar.records import BLOCK, PcapInfo, RecordBlock
from vrrpscope.columnar.reps import Keys, broadcast, local_keys
from vrrpscope.columnar.vrrp import FORMS, issue_mask
from vrrpscope.errors import Damage
from vrrpscope.model import Advert
from vrrpscope.proto.decode import DecodeStats

__all__ = [
    "FRAME_CHUNK",
    "BlockGroups",
    "FastChunk",
    "ColumnarDecoder",
    "fast_table",
    "iter_chunks",
]


@dataclass
class FastChunk:
    """One chunk of adverts: a table (global side-table indices) plus per-row extras."""

    table: AdvertTable
    issues: np.ndarray  # issue bit mask per row (see fastpath.vrrp.ISSUE_BITS)
    form: np.ndarray  # checksum form code per row (index into fastpath.vrrp.FORMS)


@dataclass
class ColumnarDecoder:
    """A fast decode in progress: iterate :meth:`chunks`, then read ``stats``/``damage``."""

    paths: Sequence[str]
    block: int = BLOCK
    prefetch: bool = True  # read plain pcap files in a thread one block ahead
    core: FastCore = field(init=False)

    def __post_init__(self) -> None:
        self.core = FastCore(input_size(self.paths))

    @property
    def stats(self) -> DecodeStats:
        return self.core.stats

    @property
    def damage(self) -> list[Damage]:
        return self.core.damage

    @property
    def fast_frames(self) -> int:
        return self.core.fast_frames

    @property
    def fallback_frames(self) -> int:
        return self.core.fallback_frames

    @property
    def total_bytes(self) -> int | None:
        return self.core.total_bytes

    @property
    def bytes_read(self) -> int:
        """Bytes taken from the input(s) so far (compressed bytes when compressed)."""
        return self.core.bytes_read

    @staticmethod
    def _fast_info(path: str) -> PcapInfo | None:  # (bench/run.py)
        return fast_info(path)

    def chunks(self) -> Iterator[FastChunk]:
        """Chunks of adverts in the order the general path yields them."""
        for block in self.core.inputs(self.paths, self.block, self.prefetch):
            assert isinstance(block, RecordBlock)  # (not per_frame: no frame lists)
            chunk = self._decode_block(block)
            if chunk is not None:
                yield chunk

    def table(self, rows: np.ndarray) -> AdvertTable:
        """An AdvertTable of ``rows`` over this run's side tables."""
        return self.core.table(rows)

    def _decode_block(self, block: RecordBlock) -> FastChunk | None:
        core = self.core
        g = core.groups(block)
        res, inverse, ip_fields, fallback, vrrp = g.res, g.inverse, g.ip_fields, g.fallback, g.vrrp

        fb_rows, fb_adverts = core.fallback(block, fallback)
        if len(vrrp) == 0 and not fb_adverts:
            return None
        rep_of = inverse[vrrp]
        if not fb_adverts:
            core.intern_reps(res, rep_of)
            rows, issues, form = broadcast(block, res, rep_of, vrrp, ip_fields)
            return FastChunk(core.table(rows), issues, form)
        fast_rows = broadcast(block, res, rep_of, vrrp, ip_fields)
        local = local_keys(res, rep_of)
        return self._merge(fast_rows, local, vrrp, fb_rows, fb_adverts)

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
            all_rows[name] = self.core.tables.intern(name, ids[order], values)
        return FastChunk(self.core.table(all_rows), all_issues[order], all_form[order])


def iter_chunks(paths: Sequence[str] | str, block: int = BLOCK) -> Iterator[FastChunk]:
    """Stream the adverts of ``paths`` as :class:`FastChunk` s (stats, damage: ColumnarDecoder)."""
    run = ColumnarDecoder([paths] if isinstance(paths, str) else list(paths), block)
    yield from run.chunks()


def fast_table(
    paths: Sequence[str] | str, block: int = BLOCK
) -> tuple[AdvertTable, DecodeStats, list[Damage]]:
    """The whole AdvertTable of ``paths``, the decoder counts, and the damage met."""
    run = ColumnarDecoder([paths] if isinstance(paths, str) else list(paths), block)
    parts = [chunk.table.rows for chunk in run.chunks()]
    rows = np.concatenate(parts) if parts else np.zeros(0, ADVERT_DTYPE)
    return run.table(rows), run.stats, run.damage
