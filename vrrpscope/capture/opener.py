"""Open one capture: file, FIFO or stdin; detect compression and format by content."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterator
from types import TracebackType

from vrrpscope.capture.pcap import PcapReader, is_pcap
from vrrpscope.capture.pcapng import PcapngReader, is_pcapng
from vrrpscope.capture.stream import (
    COMPRESSION_MAGIC,
    Buffer,
    ByteInput,
    DecompressedInput,
    FdInput,
    StreamDamage,
    failure_reason,
)
from vrrpscope.errors import Damage, InputError
from vrrpscope.model import Frame

SNIFF_LEN = 24  # enough to recognise every format and hold a pcap file header
HINT = "give a capture written by tcpdump -w or Wireshark"

# Leading bytes of files people mistake for captures -> (what it is, what to do).
_KNOWN_OTHERS: list[tuple[bytes, str, str]] = [
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first with zstd -d"),
    (b"\x04\x22\x4d\x18", "lz4-compressed", "decompress it first with lz4 -d"),
    (b"PK\x03\x04", "a zip archive", "unzip it and give the capture inside"),
    (b"snoop\x00\x00\x00", "a Solaris snoop capture", "convert it with editcap -F pcap"),
    (b"GMBU", "a Microsoft Network Monitor capture", "convert it with editcap -F pcap"),
    (b"\x7fELF", "an executable", HINT),
    (b"%PDF", "a PDF document", HINT),
]


class CaptureSource:
    """One opened capture; iterate :meth:`chunks` once to read its frames.

    ``damage`` fills when reading stops early; frames before the damage were delivered.
    ``format`` is "pcap" or "pcapng"; ``compression`` "gzip", "bzip2", "xz" or None.
    """

    def __init__(
        self,
        path: str,
        inp: ByteInput,
        reader: PcapReader | PcapngReader,
        compression: str | None,
    ) -> None:
        self.path = path
        self.format = reader.format
        self.compression = compression
        self.reader = reader
        self.damage: list[Damage] = reader.damage
        self._inp = inp
        self._started = False

    @property
    def interactive(self) -> bool:
        """True for pipes, FIFOs and sockets: frames arrive while a writer runs."""
        return self._inp.interactive

    @property
    def bytes_read(self) -> int:
        """Bytes taken from the file so far (compressed bytes when compressed)."""
        return self._inp.consumed

    @property
    def total_bytes(self) -> int | None:
        """Size of the file on disk, or None for pipes and stdin."""
        return self._inp.size

    @property
    def frames_read(self) -> int:
        return self.reader.frames_read

    @property
    def drops(self) -> dict[str, int]:
        """Frames the capturing host dropped per interface (pcapng statistics blocks)."""
        return getattr(self.reader, "drops", {})

    def chunks(self, size: int = 4096) -> Iterator[list[Frame]]:
        """Yield the frames as lists of at most ``size``; a source can be read once."""
        if self._started:
            raise RuntimeError(f"{self.path}: capture source already read")
        self._started = True
        return self.reader.chunks(size)

    def __iter__(self) -> Iterator[Frame]:
        for chunk in self.chunks():
            yield from chunk

    def close(self) -> None:
        self._inp.close()

    def __enter__(self) -> CaptureSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"CaptureSource({self.path!r}, format={self.format!r}, "
            f"compression={self.compression!r})"
        )


def open_capture(path: str) -> CaptureSource:
    """Open a pcap or pcapng file, possibly gzip/bzip2/xz-compressed; "-" is stdin.

    Raises :class:`InputError` when nothing can be read from it.
    """
    inp: ByteInput = _open_input(path)
    try:
        head = _peek(inp, path, SNIFF_LEN)
        if not head:
            raise InputError(path, f"empty file; {HINT}")
        compression = next(
            (kind for kind, magic in COMPRESSION_MAGIC.items() if head.startswith(magic)), None
        )
        if compression:
            inp = DecompressedInput(_Replay(inp, head), compression)
            head = _peek(inp, path, SNIFF_LEN)
            if not head:
                raise InputError(path, f"{compression}-compressed, but empty inside; {HINT}")
        buf = Buffer(inp, head)
        if is_pcap(head):
            reader: PcapReader | PcapngReader = PcapReader(buf, path)
        elif is_pcapng(head):
            reader = PcapngReader(buf, path)
        else:
            raise InputError(path, _not_a_capture(head, compression))
        return CaptureSource(path, inp, reader, compression)
    except BaseException:
        inp.close()
        raise


def _open_input(path: str) -> FdInput:
    if path == "-":
        try:
            fd = sys.stdin.buffer.fileno()
        except (AttributeError, ValueError, io.UnsupportedOperation) as exc:
            raise InputError(path, "not available to read a capture from (closed?)") from exc
        if os.isatty(fd):
            raise InputError(
                path,
                "is a terminal, not a capture; pipe one in "
                "(tcpdump -U -w - | vrrpscope ... -) or give a file name",
            )
        return FdInput(fd, path, owns_fd=False)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(path, "no such file; check the name and path") from None
    except PermissionError:
        raise InputError(
            path, "permission denied; make the file readable or run with more privileges"
        ) from None
    except IsADirectoryError:
        raise InputError(path, f"is a directory; {HINT}") from None
    except OSError as exc:
        raise InputError(path, f"cannot open: {exc.strerror or exc}") from None
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise InputError(path, f"is a directory; {HINT}")
        return FdInput(fd, path)
    except BaseException:
        os.close(fd)
        raise


def _peek(inp: ByteInput, path: str, n: int) -> bytes:
    """Read the first ``n`` bytes (fewer if the input is shorter)."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < n:
            chunk = inp.read(n - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
    except IsADirectoryError:
        raise InputError(path, f"is a directory; {HINT}") from None
    except (StreamDamage, OSError) as exc:
        raise InputError(path, f"{failure_reason(exc)}; nothing could be read") from exc
    return b"".join(parts)


class _Replay(ByteInput):
    """An input whose first bytes were already read: give them again, then the rest."""

    def __init__(self, inner: ByteInput, head: bytes) -> None:
        self.path = inner.path
        self.interactive = inner.interactive
        self.size = inner.size
        self._inner = inner
        self._head = head

    @property
    def consumed(self) -> int:
        return self._inner.consumed - len(self._head)

    def read(self, n: int) -> bytes:
        if self._head:
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._inner.read(n)

    def ready(self) -> bool:
        return bool(self._head) or self._inner.ready()

    def close(self) -> None:
        self._inner.close()


def describe_bytes(head: bytes) -> tuple[str, str, str]:
    """(preview, what it looks like, what to do) for the first bytes of an unknown file."""
    for magic, what, advice in _KNOWN_OTHERS:
        if head.startswith(magic):
            return _hex(head[:8]), what, advice
    text = head.decode("utf-8", "ignore")
    if len(text) * 2 >= len(head) and all(c.isprintable() or c in "\t\r\n" for c in text):
        return repr(text[:8]), "looks like text", HINT
    return _hex(head[:8]), "binary data of an unknown kind", HINT


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


def _not_a_capture(head: bytes, compression: str | None) -> str:
    preview, what, advice = describe_bytes(head)
    inside = f"{compression}-compressed, but what is inside is " if compression else ""
    return f"{inside}not a pcap or pcapng file (starts with {preview}, {what}); {advice}"
