"""Read captures and decode them: the one pipeline every command and the API share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from vrrpscope.capture import FrameReader, read_frames
from vrrpscope.errors import Damage
from vrrpscope.model import file_bases
from vrrpscope.proto.decode import Decoded, Decoder, DecodeStats
from vrrpscope.proto.link import LINKTYPE_LINUX_SLL, linktype_name


@dataclass
class DecodeSession:
    """A decode in progress: iterate `items()`, then read `damage` and `notes()`."""

    paths: Sequence[str]
    chunk_size: int = 4096
    decoder: Decoder = field(default_factory=Decoder)
    reader: FrameReader | None = None

    def __post_init__(self) -> None:
        # Opening every input first makes unreadable files fail before any output.
        self.reader = read_frames(list(self.paths), chunk_size=self.chunk_size)
        self.decoder.file_bases = file_bases(self.paths)

    def items(self) -> Iterator[Decoded]:
        assert self.reader is not None
        try:
            yield from self.decoder.decode_all(self.reader)
        finally:
            self.reader.close()
        self.decoder.stats.capture_drops.update(self.reader.drops)

    @property
    def damage(self) -> list[Damage]:
        assert self.reader is not None
        return list(self.reader.damage)

    def notes(self) -> list[str]:
        """One-line notes on what could not be decoded (unknown link types, bad frames)."""
        return decode_notes(self.decoder.stats)


def decode_notes(stats: DecodeStats) -> list[str]:
    """One-line notes on what could not be decoded (unknown link types, bad frames), from
    the decode counts of either route."""
    notes = [
        f"{count} frame(s) of unsupported {linktype_name(linktype)} skipped"
        for linktype, count in sorted(stats.unknown_link_types.items())
    ]
    if stats.link_types.get(LINKTYPE_LINUX_SLL):
        notes.append(
            "Linux cooked v1 (SLL) frames carry no interface: with `tcpdump -i any`, "
            "adverts from different segments look like one segment here (recapture "
            "with `tcpdump -i any -y LINUX_SLL2` to keep the interface)"
        )
    dropped = sum(stats.capture_drops.values())
    if dropped:
        where = ", ".join(f"{name} {n:,}" for name, n in sorted(stats.capture_drops.items()) if n)
        notes.append(
            f"capture loss: the capturing host dropped {dropped:,} frame(s) (pcapng "
            f"interface statistics: {where}): adverts missing from the capture may never "
            "have been missing on the wire"
        )
    if stats.undecodable:
        notes.append(f"{stats.undecodable} frame(s) too short or malformed below VRRP were skipped")
    return notes
