"""Read several captures as one stream of frames in timestamp order."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Sequence
from operator import attrgetter
from types import TracebackType

from vrrpscope.capture.opener import CaptureSource, open_capture
from vrrpscope.capture.timeline import TimeLine, frame_chunks
from vrrpscope.errors import Damage, InputError
from vrrpscope.model import Frame


class FrameReader:
    """Frames of one or more sources, merged by timestamp, as lists of frames.

    Frames with equal timestamps keep file order, then frame order; a file whose clock
    goes backwards is not re-sorted (like mergecap). One source streams as it is read,
    so a pipe's frames arrive while its writer is still running.
    """

    def __init__(self, sources: Sequence[CaptureSource], chunk_size: int = 4096) -> None:
        self.sources = list(sources)
        self.chunk_size = chunk_size

    @property
    def damage(self) -> list[Damage]:
        """Damage met in every source, in source order."""
        return [d for source in self.sources for d in source.damage]

    @property
    def drops(self) -> dict[str, int]:
        """Frames the capturing hosts dropped per interface, summed over the sources."""
        out: Counter[str] = Counter()
        for source in self.sources:
            out.update(source.drops)
        return dict(out)

    @property
    def bytes_read(self) -> int:
        return sum(source.bytes_read for source in self.sources)

    @property
    def total_bytes(self) -> int | None:
        """Total size on disk, or None when a source is a pipe or stdin."""
        sizes = [source.total_bytes for source in self.sources]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[list[Frame]]:
        if len(self.sources) == 1:
            yield from _chunks(self.sources[0], self.chunk_size)
            return
        size = self.chunk_size
        merged = heapq.merge(*(_frames(s, size) for s in self.sources), key=attrgetter("ts_ns"))
        chunk: list[Frame] = []
        for frame in merged:
            chunk.append(frame)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def close(self) -> None:
        for source in self.sources:
            source.close()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _chunks(source: CaptureSource, size: int) -> Iterator[list[Frame]]:
    """The source's chunks, frames with out-of-sequence timestamps left out (they land
    in its damage); the source is closed once they are all read."""
    line: TimeLine[Frame] = TimeLine(source.path, trust_first=source.interactive)
    yield from frame_chunks(source.chunks(size), line)
    source.damage[:0] = line.damage  # (frames left out come before where reading broke)
    source.close()


def _frames(source: CaptureSource, size: int) -> Iterator[Frame]:
    for chunk in _chunks(source, size):
        yield from chunk


def read_frames(paths: Sequence[str] | str, chunk_size: int = 4096) -> FrameReader:
    """Open every path ("-" is stdin) and return a reader merging them by timestamp.

    Every open error is raised here, before any frame is read; damage found while
    reading is collected in ``FrameReader.damage``.
    """
    if isinstance(paths, str):
        paths = [paths]
    if list(paths).count("-") > 1:
        raise InputError("-", "stdin can be read only once; give '-' a single time")
    sources: list[CaptureSource] = []
    try:
        for path in paths:
            sources.append(open_capture(path))
    except BaseException:
        for source in sources:
            source.close()
        raise
    return FrameReader(sources, chunk_size)
