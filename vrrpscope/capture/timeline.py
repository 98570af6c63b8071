"""Isolated out-of-sequence timestamps: damage, not time.

A single frame whose timestamp lies far from both its neighbours while they lie close to
each other (a flipped bit in the seconds field, a record rewritten by a broken tool) is
not a moment of the capture: taken as time it would make every silence timer fire at
once (a false no-master) and every later frame go "backwards". Each input's frames pass
through a :class:`TimeLine`, which holds back a frame that jumps more than
:data:`JUMP_NS` away from the last one until the next frame shows whether the capture
went on from there (a real pause, kept) or came back (damage: left out, named with its
frame). Both decode routes use it, per input file, before frames are counted or merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from vrrpscope.errors import display_name
from vrrpscope.model import Frame

if TYPE_CHECKING:
    from vrrpscope.columnar.records import RecordBlock

NS = 1_000_000_000
JUMP_NS = 3600 * NS  # away from both neighbours by more than this: out of sequence
# The last frame has no next one to tell: only a jump no real capture pauses for counts.
LAST_JUMP_NS = 30 * 86400 * NS

T = TypeVar("T")


def _when(ts_ns: int) -> str:
    try:
        return datetime.fromtimestamp(ts_ns / NS, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    except (OverflowError, OSError, ValueError):
        return f"{ts_ns / NS:.6f} s since the epoch"


@dataclass(slots=True, frozen=True)
class OutOfSequence:
    """One frame left out because its timestamp is out of sequence with its neighbours."""

    path: str
    frame: int  # 1-based frame number in its file
    ts_ns: int
    around_ns: int  # the last timestamp before it that was kept

    def outcome(self, done: str) -> str:
        """What became of the input, e.g. ``outcome("analysed")``."""
        return f"the frame left out, the rest {done}"

    def __str__(self) -> str:
        step = (self.ts_ns - self.around_ns) / NS
        way = "after" if step > 0 else "before"
        return (
            f"{display_name(self.path)}: frame {self.frame}: timestamp {_when(self.ts_ns)} "
            f"lies {abs(step):,.0f} s {way} the frames around it ({_when(self.around_ns)}): "
            "a corrupt timestamp, not time"
        )


@dataclass
class TimeLine(Generic[T]):
    """Decides, frame by frame of one input, which timestamps are damage.

    ``push`` and ``end`` return ``(item, keep)`` for every item decided so far, in input
    order; an item may be decided one or two frames after it was pushed.
    """

    path: str
    damage: list = field(default_factory=list)  # OutOfSequence records join it
    trust_first: bool = False  # a pipe's first frame passes at once (nothing to wait for)
    prev_ns: int | None = None  # the last kept timestamp
    _pending: list[tuple[int, int, T]] = field(default_factory=list)  # (ts, frame, item)

    @property
    def held(self) -> int:
        """How many items are held back for a decision."""
        return len(self._pending)

    def calm(self, ts_ns: np.ndarray | list[int]) -> bool:
        """Whether none of these next timestamps can be damage (nothing held, no jump);
        if so they are taken as they are."""
        if self._pending or self.prev_ns is None or not len(ts_ns):
            return False
        if abs(int(ts_ns[0]) - self.prev_ns) > JUMP_NS:
            return False
        if isinstance(ts_ns, np.ndarray):
            if len(ts_ns) > 1 and int(np.abs(np.diff(ts_ns)).max()) > JUMP_NS:
                return False
        elif any(abs(b - a) > JUMP_NS for a, b in zip(ts_ns, ts_ns[1:], strict=False)):
            return False
        self.prev_ns = int(ts_ns[-1])
        return True

    def push(self, ts_ns: int, frame: int, item: T) -> list[tuple[T, bool]]:
        out: list[tuple[T, bool]] = []
        self._step(ts_ns, frame, item, out)
        return out

    def end(self) -> list[tuple[T, bool]]:
        """No more frames: decide what is still held back."""
        out: list[tuple[T, bool]] = []
        pending, self._pending = self._pending, []
        if self.prev_ns is None or len(pending) != 1:  # one or two frames: cannot tell
            out.extend((item, True) for _, _, item in pending)
            return out
        ts, frame, item = pending[0]
        if abs(ts - self.prev_ns) > LAST_JUMP_NS:
            self._drop(ts, frame, out, item)
        else:
            out.append((item, True))
        return out

    def _step(self, ts: int, frame: int, item: T, out: list[tuple[T, bool]]) -> None:
        pending = self._pending
        prev = self.prev_ns
        if prev is None and self.trust_first:
            self.prev_ns = ts
            out.append((item, True))
            return
        if prev is None:
            self._first(ts, frame, item, out)
            return
        if not pending:
            if abs(ts - prev) <= JUMP_NS:
                self.prev_ns = ts
                out.append((item, True))
            else:
                pending.append((ts, frame, item))
            return
        (held_ts, held_frame, held), self._pending = pending[0], []
        if abs(ts - prev) <= JUMP_NS and abs(ts - held_ts) > JUMP_NS:
            self._drop(held_ts, held_frame, out, held)  # back on the line: it was damage
        else:
            self.prev_ns = held_ts  # the capture went on from there
            out.append((held, True))
        self._step(ts, frame, item, out)

    def _first(self, ts: int, frame: int, item: T, out: list[tuple[T, bool]]) -> None:
        """The first frames: the first one has no frame before it to compare with."""
        pending = self._pending
        if len(pending) < 1:
            pending.append((ts, frame, item))
            return
        x_ts, x_frame, x = pending[0]
        if len(pending) == 1:
            if abs(ts - x_ts) <= JUMP_NS:
                self._pending = []
                self.prev_ns = x_ts
                out.append((x, True))
                self._step(ts, frame, item, out)
            else:
                pending.append((ts, frame, item))
            return
        n_ts, n_frame, n = pending[1]
        self._pending = []
        if abs(ts - n_ts) <= JUMP_NS:  # the second and third agree: the first was damage
            self.prev_ns = x_ts
            self._drop(x_ts, x_frame, out, x, around=n_ts)
            out.append((n, True))
            self.prev_ns = n_ts
        elif abs(ts - x_ts) <= JUMP_NS:  # the first and third agree: the second was
            self.prev_ns = x_ts
            out.append((x, True))
            self._drop(n_ts, n_frame, out, n)
        else:  # three far apart: nothing to go by
            out.append((x, True))
            out.append((n, True))
            self.prev_ns = n_ts
        self._step(ts, frame, item, out)

    def _drop(
        self, ts: int, frame: int, out: list[tuple[T, bool]], item: T, around: int | None = None
    ) -> None:
        ref = self.prev_ns if around is None else around
        assert ref is not None
        self.damage.append(OutOfSequence(self.path, frame, ts, ref))
        out.append((item, False))


def frame_chunks(chunks: Iterable[list[Frame]], line: TimeLine) -> Iterator[list[Frame]]:
    """Chunks of frames with the out-of-sequence ones left out."""
    for chunk in chunks:
        if line.calm([f.ts_ns for f in chunk]):
            yield chunk
            continue
        kept = [
            f for frame in chunk for f, keep in line.push(frame.ts_ns, frame.number, frame) if keep
        ]
        if kept:
            yield kept
    kept = [f for f, keep in line.end() if keep]
    if kept:
        yield kept


def record_blocks(blocks: Iterable[RecordBlock], line: TimeLine) -> Iterator[RecordBlock]:
    """Record blocks with the out-of-sequence frames left out.

    Rows go through the line one by one only around large steps (and at the very
    start); the calm stretches between are taken whole. A frame held back at the end of
    a block comes later in a small block of its own (its bytes copied: a block's buffer
    is reused by the reader).
    """
    for block in blocks:
        if line.calm(block.ts_ns):
            yield block
            continue
        ts = block.ts_ns
        n = len(ts)
        steps = np.flatnonzero(np.abs(np.diff(ts)) > JUMP_NS) + 1  # rows far from the last
        keep = np.zeros(n, bool)
        earlier: list[tuple[RecordBlock, int]] = []  # kept rows of blocks before
        pos = 0
        while pos < n:
            prev = line.prev_ns
            if not line.held and prev is not None and abs(int(ts[pos]) - prev) <= JUMP_NS:
                i = int(np.searchsorted(steps, pos, side="right"))  # the next large step
                nxt = int(steps[i]) if i < len(steps) else n
                keep[pos:nxt] = True
                line.prev_ns = int(ts[nxt - 1])
                pos = nxt
                continue
            for (owner, row), kept in line.push(int(ts[pos]), int(block.number[pos]), (block, pos)):
                if owner is block:
                    keep[row] = kept
                elif kept:
                    earlier.append((owner, row))
            pos += 1
        yield from _earlier(earlier)
        rows = np.flatnonzero(keep)
        if len(rows):
            yield block if len(rows) == n else _take(block, rows)
    yield from _earlier([item for item, kept in line.end() if kept])


def _earlier(items: list[tuple[RecordBlock, int]]) -> Iterator[RecordBlock]:
    """Rows held back from earlier blocks and kept, as copied blocks (one per block)."""
    while items:
        owner = items[0][0]
        rows = [row for block, row in items if block is owner]
        items = [(block, row) for block, row in items if block is not owner]
        yield _copy(owner, np.array(rows, np.int64))


def _take(block: RecordBlock, rows: np.ndarray) -> RecordBlock:
    return type(block)(
        block.data,
        block.start[rows],
        block.caplen[rows],
        block.orig[rows],
        block.ts_ns[rows],
        block.number[rows],
        block.linktype[rows],
        block.iface[rows],
        block.source[rows],
        block.iface_names,
        block.source_names,
    )


def _copy(block: RecordBlock, rows: np.ndarray) -> RecordBlock:
    from vrrpscope.columnar.frames import frames_block  # (columnar imports capture)

    frames = []
    for row in rows.tolist():
        start, caplen = int(block.start[row]), int(block.caplen[row])
        iface = int(block.iface[row])
        frames.append(
            Frame(
                int(block.ts_ns[row]),
                int(block.linktype[row]),
                block.data[start : start + caplen].tobytes(),
                int(block.orig[row]),
                int(block.number[row]),
                block.iface_names[iface] if iface >= 0 else None,
                block.source_names[int(block.source[row])],
            )
        )
    return frames_block(frames)
