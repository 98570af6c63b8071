"""Adverts captured twice, in two files of one segment (e.g. on both nodes)."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vrrpscope.model import Advert

# What decides about an advert: (speaker key, content, file, window in ns).
Facts = tuple[tuple, tuple, str, float]


class CrossFileDuplicates:
    """Adverts captured twice, in two files of one segment (e.g. on both nodes).

    The same advert arrives in each file within a fraction of its interval; counting it
    twice would halve every gap and invent interval drift. Only adverts from different
    files are compared, so a real burst from one speaker is kept. Adverts are judged in
    the order of the merged files, each against the last one of its speaker kept.
    """

    WINDOW = 0.1  # of the advert interval

    def __init__(self) -> None:
        self.dropped = 0
        self._last: dict[tuple, tuple[str, int, tuple]] = {}  # one entry per speaker

    def seen(self, advert: Advert) -> bool:
        """Whether ``advert`` is a copy of one already kept (then it is counted)."""
        return self.seen_at(self.facts(advert), advert.ts_ns)

    @classmethod
    def facts(cls, advert: Advert) -> Facts:
        """What :meth:`seen_at` reads of an advert (the same for all its repeats)."""
        return (
            (advert.segment, advert.family, advert.proto, advert.vrid, advert.src),
            (advert.src_mac, advert.priority, advert.checksum, advert.counter),
            advert.source,
            cls.WINDOW * max(advert.interval_cs, 1) * 10_000_000,
        )

    def seen_at(self, facts: Facts, ts_ns: int) -> bool:
        """:meth:`seen` for an advert of ``facts`` at ``ts_ns``."""
        key, content, source, window = facts
        previous = self._last.get(key)
        if (
            previous is not None
            and previous[0] != source
            and previous[2] == content
            and abs(ts_ns - previous[1]) <= window
        ):
            self.dropped += 1
            return True
        self._last[key] = (source, ts_ns, content)
        return False


def distinct_files(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """``paths`` without repeats of one regular file (the same path twice, or a link to
    it), and a note for each repeat dropped: read twice, every advert would count twice
    (halved gaps, invented drift). Paths that cannot be examined are kept as given: the
    reader reports them."""
    kept: list[str] = []
    notes: list[str] = []
    first: dict[tuple[int, int], str] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            kept.append(path)
            continue
        if not stat.S_ISREG(st.st_mode):
            kept.append(path)  # a pipe or device reads differently each time
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in first:
            same = "" if first[ident] == path else f" (as {first[ident]})"
            notes.append(f"{path}: given twice{same}: read once")
            continue
        first[ident] = path
        kept.append(path)
    return kept, notes
