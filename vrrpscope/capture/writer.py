"""Write frames to a classic pcap file (nanosecond form), flushed so Wireshark can follow it."""

from __future__ import annotations

import struct
from typing import BinaryIO

from vrrpscope.errors import VrrpscopeError
from vrrpscope.model import Frame

PCAP_MAGIC_NS = 0xA1B23C4D
SNAPLEN = 262144


class PcapWriter:
    """Append frames of one link type to a new pcap file."""

    def __init__(self, path: str, linktype: int = 1) -> None:
        self.path = path
        self.frames = 0
        try:
            self._out: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise VrrpscopeError(f"{path}: cannot write the capture: {exc.strerror}") from exc
        self._out.write(struct.pack("<IHHiIII", PCAP_MAGIC_NS, 2, 4, 0, 0, SNAPLEN, linktype))
        self._out.flush()

    def write(self, frames: list[Frame]) -> None:
        """Write a batch and flush it to the file."""
        out = self._out
        for frame in frames:
            sec, nsec = divmod(frame.ts_ns, 1_000_000_000)
            data = frame.data[:SNAPLEN]
            out.write(struct.pack("<IIII", sec, nsec, len(data), max(frame.orig_len, len(data))))
            out.write(data)
        self.frames += len(frames)
        out.flush()

    def close(self) -> None:
        self._out.close()
