"""Byte inputs for the capture readers: files, pipes and decompressed streams.

Readers never load a whole file: they pull blocks of at most ``BLOCK`` bytes through a
:class:`Buffer`. On pipes, FIFOs and terminals (``interactive`` inputs) a read returns
whatever has arrived, and :meth:`ByteInput.ready` tells a reader whether the next read
would block, so it can hand over the frames it already has first.
"""

from __future__ import annotations

import bz2
import lzma
import os
import select
import stat
import zlib

BLOCK = 1 << 20  # read size for files and pipes
RAW_BLOCK = 1 << 13  # compressed bytes fed at a time (output of a piece that fails is lost)

# Magic bytes of the compressed formats we decompress, by name.
COMPRESSION_MAGIC = {
    "gzip": b"\x1f\x8b",
    "bzip2": b"BZh",
    "xz": b"\xfd7zXZ\x00",
}


class StreamDamage(Exception):
    """The input broke part way (corrupt or truncated compressed data); str() says how."""


class ByteInput:
    """A binary input read front to back."""

    path: str
    interactive: bool  # reads may wait for a writer (pipe, FIFO, terminal, socket)
    size: int | None  # bytes on disk, when known (for progress)

    @property
    def consumed(self) -> int:
        """Bytes taken from the file so far (compressed bytes for compressed input)."""
        raise NotImplementedError

    def read(self, n: int) -> bytes:
        """Return up to ``n`` bytes (fewer on pipes); b"" only at the end of the input."""
        raise NotImplementedError

    def ready(self) -> bool:
        """True when a read would return without waiting."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class FdInput(ByteInput):
    """A file descriptor: regular file, FIFO, pipe, socket or character device."""

    def __init__(self, fd: int, path: str, *, owns_fd: bool = True) -> None:
        self.path = path
        self._fd = fd
        self._owns_fd = owns_fd
        self._consumed = 0
        st = os.fstat(fd)
        self.interactive = not stat.S_ISREG(st.st_mode)
        self.size = None
        if not self.interactive:
            self.size = max(0, st.st_size - os.lseek(fd, 0, os.SEEK_CUR))

    @property
    def consumed(self) -> int:
        return self._consumed

    def read(self, n: int) -> bytes:
        data = os.read(self._fd, n)
        self._consumed += len(data)
        return data

    def ready(self) -> bool:
        if not self.interactive:
            return True
        readable, _, _ = select.select([self._fd], [], [], 0)
        return bool(readable)

    def close(self) -> None:
        if self._fd >= 0 and self._owns_fd:
            os.close(self._fd)
        self._fd = -1


class _Gzip:
    """zlib's gzip decompressor with the bz2/lzma decompressor interface."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)
        self._tail = b""

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    @property
    def needs_input(self) -> bool:
        return not self._tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(self._tail + data if self._tail else data, max_length)
        self._tail = self._d.unconsumed_tail
        return out


def _decompressor(kind: str) -> _Gzip | bz2.BZ2Decompressor | lzma.LZMADecompressor:
    if kind == "gzip":
        return _Gzip()
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)


class DecompressedInput(ByteInput):
    """The decompressed content of a gzip, bzip2 or xz input (concatenated streams too).

    Output is produced at most ``n`` bytes at a time, so a compression bomb cannot
    exhaust memory. Corrupt or truncated data raises :class:`StreamDamage`.
    """

    def __init__(self, inner: ByteInput, kind: str) -> None:
        self.path = inner.path
        self.kind = kind
        self.interactive = inner.interactive
        self.size = inner.size
        self._inner = inner
        self._dec = _decompressor(kind)
        self._fed = False  # the current stream has been given input
        self._leftover = b""  # input after the end of a stream

    @property
    def consumed(self) -> int:
        return self._inner.consumed

    def ready(self) -> bool:
        return bool(self._leftover) or not self._dec.needs_input or self._inner.ready()

    def close(self) -> None:
        self._inner.close()

    def read(self, n: int) -> bytes:
        try:
            return self._read(n)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real read error, not bad data
            raise StreamDamage(f"corrupt {self.kind} data ({exc})") from exc

    def _read(self, n: int) -> bytes:
        while True:
            dec = self._dec
            if dec.eof:
                if not self._next_stream():
                    return b""
                continue
            if not dec.needs_input:
                out = dec.decompress(b"", n)
                if out:
                    return out
                if dec.eof:
                    continue
            raw = self._leftover or self._inner.read(RAW_BLOCK)
            self._leftover = b""
            if not raw:
                out = dec.decompress(b"", n)  # zlib may still hold output
                if out:
                    return out
                if dec.eof:
                    continue
                if self._fed:
                    raise StreamDamage(f"{self.kind} data ends early (the file is truncated)")
                return b""
            self._fed = True
            out = dec.decompress(raw, n)
            if out:
                return out

    def _next_stream(self) -> bool:
        """After one compressed stream ends: start the next one, or False at the end."""
        rest = self._dec.unused_data + self._leftover
        magic = COMPRESSION_MAGIC[self.kind]
        while len(rest) < len(magic) and (more := self._inner.read(RAW_BLOCK)):
            rest += more
        if rest.startswith(magic):
            self._dec = _decompressor(self.kind)
            self._fed = False
            self._leftover = rest
            return True
        self._leftover = b""
        while rest:  # only zero padding may follow the last stream
            if rest.strip(b"\x00"):
                raise StreamDamage(f"unexpected data after the end of the {self.kind} data")
            rest = self._inner.read(RAW_BLOCK)
        return False


class Buffer:
    """A read-ahead window over a :class:`ByteInput` that tracks absolute offsets.

    ``data[pos:]`` is unread; ``base`` is the input offset of ``data[0]``.
    """

    __slots__ = ("inp", "data", "pos", "base")

    def __init__(self, inp: ByteInput, data: bytes = b"") -> None:
        self.inp = inp
        self.data = data
        self.pos = 0
        self.base = 0

    @property
    def offset(self) -> int:
        """Input offset of the next unread byte."""
        return self.base + self.pos

    @property
    def available(self) -> int:
        return len(self.data) - self.pos

    def fill(self, need: int) -> bool:
        """Make ``need`` unread bytes available; False if the input ends first.

        Raises :class:`StreamDamage` or :class:`OSError` when the input breaks; what was
        read before stays in the buffer.
        """
        avail = len(self.data) - self.pos
        if avail >= need:
            return True
        parts = [self.data[self.pos :]]
        self.base += self.pos
        self.pos = 0
        want = need - avail
        try:
            while want > 0:
                chunk = self.inp.read(BLOCK)  # never trust `need`: it may lie
                if not chunk:
                    break
                parts.append(chunk)
                want -= len(chunk)
        finally:
            self.data = b"".join(parts)
        return want <= 0


def failure_reason(exc: Exception) -> str:
    """One-line reason for a StreamDamage or a read error."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"read error: {exc.strerror}"
    return str(exc)
