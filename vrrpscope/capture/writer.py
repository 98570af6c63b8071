"""Write frames to a pcapng file, flushed per batch so Wireshark can follow it live.

pcapng (not classic pcap) so that each frame keeps the interface it was captured on:
the file analysed later gives the same segments, hence the same findings, as the live run.
"""

from __future__ import annotations

import contextlib
import struct
from typing import BinaryIO

from vrrpscope import __version__
from vrrpscope.errors import VrrpscopeError
from vrrpscope.model import Frame

SNAPLEN = 262144
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_END = 0
_SHB_USERAPPL = 4
_IF_NAME = 2
_IF_TSRESOL = 9
_OPT_COMMENT = 1
_ISB_STARTTIME = 2
_ISB_ENDTIME = 3
_ISB_IFRECV = 4
_ISB_IFDROP = 5


def _option(code: int, value: bytes) -> bytes:
    padding = b"\x00" * (-len(value) % 4)
    return struct.pack("<HH", code, len(value)) + value + padding


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


class PcapngWriter:
    """Append frames to a new pcapng file, one interface block per capture interface."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.frames = 0
        self._interfaces: dict[tuple[str | None, int], int] = {}
        try:
            self._out: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise VrrpscopeError(f"{path}: cannot write the capture: {exc.strerror}") from exc
        options = _option(_SHB_USERAPPL, f"vrrpscope {__version__}".encode()) + _option(
            _OPT_END, b""
        )
        shb = struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + options
        self._put(_block(0x0A0D0D0A, shb))

    def _put(self, block: bytes) -> None:
        """Write one block and flush it (a failure: one error naming the file)."""
        try:
            self._out.write(block)
            self._out.flush()
        except OSError as exc:
            self._abandon()
            raise self._error(exc) from exc

    def _error(self, exc: OSError) -> VrrpscopeError:
        return VrrpscopeError(f"{self.path}: cannot write the capture: {exc.strerror or exc}")

    def _abandon(self) -> None:
        """Close after a failed write (what is still buffered cannot be written either)."""
        with contextlib.suppress(OSError):
            self._out.close()

    def _interface_id(self, frame: Frame) -> int:
        key = (frame.interface, frame.linktype)
        index = self._interfaces.get(key)
        if index is None:
            index = self._interfaces[key] = len(self._interfaces)
            options = b""
            if frame.interface:
                options += _option(_IF_NAME, frame.interface.encode())
            options += _option(_IF_TSRESOL, b"\x09") + _option(_OPT_END, b"")
            body = struct.pack("<HHI", frame.linktype, 0, SNAPLEN) + options
            self._out.write(_block(1, body))
        return index

    def write(self, frames: list[Frame]) -> None:
        """Write a batch and flush it to the file."""
        try:
            self._write(frames)
        except OSError as exc:  # disk full, reader of a pipe gone, ...
            self._abandon()
            raise self._error(exc) from exc
        self.frames += len(frames)

    def _write(self, frames: list[Frame]) -> None:
        out = self._out
        for frame in frames:
            data = frame.data[:SNAPLEN]
            body = struct.pack(
                "<IIIII",
                self._interface_id(frame),
                frame.ts_ns >> 32,
                frame.ts_ns & 0xFFFFFFFF,
                len(data),
                max(frame.orig_len, len(data)),
            )
            out.write(_block(6, body + data + b"\x00" * (-len(data) % 4)))
        out.flush()

    def write_statistics(
        self, received: int, dropped: int, first_ns: int | None, last_ns: int | None
    ) -> None:
        """An Interface Statistics Block, as dumpcap writes at the end: what the kernel
        passed (isb_ifrecv) and dropped (isb_ifdrop) on the capture socket. One socket
        serves every interface (``any``): the counters go on the first interface block."""
        if self._out.closed or not self._interfaces:  # (no frame: no interface block)
            return
        ts = last_ns if last_ns is not None else 0
        options = _option(_OPT_COMMENT, b"counters of the capture socket (all interfaces)")
        for code, value in ((_ISB_STARTTIME, first_ns), (_ISB_ENDTIME, last_ns)):
            if value is not None:
                options += _option(code, struct.pack("<II", value >> 32, value & 0xFFFFFFFF))
        options += _option(_ISB_IFRECV, struct.pack("<Q", received))
        options += _option(_ISB_IFDROP, struct.pack("<Q", dropped))
        options += _option(_OPT_END, b"")
        body = struct.pack("<III", 0, ts >> 32, ts & 0xFFFFFFFF) + options
        self._put(_block(5, body))

    def close(self) -> None:
        if self._out.closed:
            return
        try:
            self._out.close()
        except OSError as exc:
            self._abandon()
            raise self._error(exc) from exc
