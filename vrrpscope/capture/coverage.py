"""What several capture files leave uncovered: the spans between them with no frame.

Files analysed together are merged in time; where none of them has a frame (two
captures taken an hour apart, a rotation that lost a file) the wire was not seen.
Silences there are the capture's, and :func:`vrrpscope.incidents.correlate` says so
instead of reporting a master that stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vrrpscope.errors import display_name

NS = 1_000_000_000
MIN_UNCOVERED_NS = 1 * NS  # shorter spans between files are the wire's own pauses


@dataclass(frozen=True, slots=True)
class Uncovered:
    """A span between files with no frame in any of them."""

    first_ns: int  # the last frame before it (``before``'s)
    last_ns: int  # the first frame after it (``after``'s)
    before: str  # the file that ends at ``first_ns``
    after: str  # the file that starts at ``last_ns``

    @property
    def length_ns(self) -> int:
        return self.last_ns - self.first_ns

    def between(self) -> str:
        """``a.pcap and c.pcap``: the files on either side."""
        return f"{display_name(self.before)} and {display_name(self.after)}"

    def to_dict(self) -> dict[str, object]:
        return {
            "from_ts": self.first_ns / NS,
            "until_ts": self.last_ns / NS,
            "seconds": round(self.length_ns / NS, 6),
            "before": self.before,
            "after": self.after,
        }


def uncovered(
    spans: Mapping[str, Sequence[int]], min_ns: int = MIN_UNCOVERED_NS
) -> list[Uncovered]:
    """The spans of at least ``min_ns`` that no file's [first, last] frame covers, in
    time order (``spans``: file -> (first, last) frame time in ns)."""
    ordered = sorted((int(s[0]), int(s[1]), name) for name, s in spans.items())
    out: list[Uncovered] = []
    end, last_file = None, ""
    for first, last, name in ordered:
        if end is not None and first - end >= min_ns:
            out.append(Uncovered(end, first, last_file, name))
        if end is None or last >= end:
            end, last_file = last, name
    return out
