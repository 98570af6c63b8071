"""Fuzzing the pcap and pcapng readers: any bytes, from a file or a pipe, either read or
fail with the project's own errors (InputError at open, Damage while reading), quickly and
without allocating what a lying length field asks for."""

from __future__ import annotations

import gzip
import io
import os
import struct
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import Hang, fuzz_settings, time_limit, valid_frames
from tests.helpers.capturewriter import PcapFile, PcapngWriter, ether_frame
from vrrpscope.capture import open_capture
from vrrpscope.errors import EXIT_UNREADABLE, Damage, InputError
from vrrpscope.model import Frame
from vrrpscope.proto.link import SUPPORTED_LINKTYPES

U32 = st.integers(0, 0xFFFFFFFF)
LIES = [0, 1, 12, 13, 0x7FFFFFFF, 0xFFFFFFFF, 262144, 262145, 1 << 24, (1 << 26) + 4]
LINKTYPES = st.one_of(st.sampled_from(sorted(SUPPORTED_LINKTYPES)), st.integers(0, 0xFFFFFFFF))
PAYLOADS = st.one_of(
    st.binary(max_size=96), st.sampled_from([frame for _, frame in valid_frames()])
)
# One input's reading may allocate this much beyond the input's size: the 1 MiB read
# block, the copy of the buffer when it is refilled, plus slack (never what a length asks).
ALLOC_SLACK = 6 << 20


def length(actual: int) -> st.SearchStrategy[int]:
    """A length field: mostly true, sometimes a lie (small, huge, or any 32-bit value)."""
    return st.one_of(st.just(actual), st.just(actual), st.sampled_from(LIES), U32)


@st.composite
def pcap_files(draw: st.DrawFn) -> bytes:
    """Classic pcap: a real magic (any of the six), then records whose fields may lie."""
    magic = draw(st.sampled_from([0xA1B2C3D4, 0xA1B23C4D, 0xA1B2CD34]))
    order = draw(st.sampled_from("<>"))
    major, minor = draw(
        st.one_of(st.just((2, 4)), st.tuples(st.integers(0, 3), st.integers(0, 0xFFFF)))
    )
    snaplen = draw(st.one_of(st.sampled_from([0, 65535, 262144, 1 << 24, 0xFFFFFFFF]), U32))
    out = struct.pack(order + "IHHiII", magic, major, minor, 0, 0, snaplen)
    out += struct.pack(order + "I", draw(LINKTYPES))
    for _ in range(draw(st.integers(0, 6))):
        data = draw(PAYLOADS)
        caplen = draw(length(len(data)))
        out += struct.pack(order + "IIII", draw(U32), draw(U32), caplen, draw(length(len(data))))
        if magic == 0xA1B2CD34:
            out += draw(st.binary(min_size=8, max_size=8))
        out += data
    return _finish(draw, out)


def _finish(draw: st.DrawFn, out: bytes) -> bytes:
    """Maybe cut the file anywhere and maybe append junk."""
    if draw(st.booleans()):
        out = out[: draw(st.integers(0, len(out)))]
    if draw(st.integers(0, 3)) == 0:
        out += draw(st.binary(max_size=40))
    return out


@st.composite
def pcapng_files(draw: st.DrawFn) -> bytes:
    """pcapng: a section header first, then blocks of every kind whose lengths may lie."""
    order = draw(st.sampled_from("<>"))
    parts = [_shb(draw, order)]
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["shb", "idb", "idb", "epb", "epb", "spb", "pb", "other"]))
        if kind == "shb":
            order = draw(st.sampled_from("<>"))
            parts.append(_shb(draw, order))
            continue
        if kind == "idb":
            options = b""
            for _ in range(draw(st.integers(0, 3))):
                code = draw(st.sampled_from([0, 2, 9, 14, 1, 0xFFFF]))
                value = draw(st.binary(max_size=12))
                size = draw(length(len(value)))
                options += struct.pack(order + "HH", code, size & 0xFFFF) + _pad(value)
            head = struct.pack(order + "HHI", draw(LINKTYPES) & 0xFFFF, 0, draw(length(0)))
            btype, body = 1, head + options
        elif kind in ("epb", "pb"):
            data = draw(PAYLOADS)
            iface = draw(st.integers(0, 3))
            ts = draw(st.integers(0, (1 << 64) - 1))
            lens = (draw(length(len(data))), draw(length(len(data))))
            if kind == "epb":
                fields = struct.pack(order + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, *lens)
                btype = 6
            else:
                fields = struct.pack(order + "HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, *lens)
                btype = 2
            body = fields + _pad(data)
        elif kind == "spb":
            data = draw(PAYLOADS)
            btype, body = 3, struct.pack(order + "I", draw(length(len(data)))) + _pad(data)
        else:
            btype, body = draw(U32), _pad(draw(st.binary(max_size=32)))
        parts.append(_block(draw, order, btype, body))
    return _finish(draw, b"".join(parts))


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def _block(draw: st.DrawFn, order: str, btype: int, body: bytes) -> bytes:
    real = len(body) + 12
    head = struct.pack(order + "II", btype, draw(length(real)))
    return head + body + struct.pack(order + "I", draw(length(real)))


def _shb(draw: st.DrawFn, order: str) -> bytes:
    magic = draw(st.sampled_from([0x1A2B3C4D, 0x1A2B3C4D, 0x4D3C2B1A, 0]))
    version = draw(st.sampled_from([(1, 0), (1, 0), (1, 2), (2, 0)]))
    body = struct.pack(order + "IHHq", magic, *version, -1)
    return _block(draw, order, 0x0A0D0D0A, body)


ANY_INPUT = st.one_of(
    pcap_files(),
    pcapng_files(),
    st.binary(max_size=200),
    st.builds(
        lambda head, rest: head + rest,
        st.sampled_from(
            [b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"]
        ),
        st.binary(max_size=200),
    ),
)


# -- reading and checking one input -------------------------------------------------------


@dataclass
class Outcome:
    """What reading one input gave: an open error, or frames and damage."""

    error: str | None
    frames: list[tuple[int, int, bytes, int, int, str | None]]
    damage: list[tuple[int, str]]


def read(path: str, size: int) -> Outcome:
    """Open and read ``path`` under the watchdog, checking every documented invariant.

    ``size`` is the length of the (decompressed) capture data, the bound of every offset.
    """
    with time_limit():
        try:
            source = open_capture(path)
        except InputError as exc:
            assert exc.exit_code == EXIT_UNREADABLE
            assert str(exc).startswith(f"{'stdin' if path == '-' else path}: ")
            assert "\n" not in str(exc)
            return Outcome(exc.problem, [], [])
        with source:
            chunks = list(source.chunks(size=3))
    frames: list[Frame] = [frame for chunk in chunks for frame in chunk]
    assert all(0 < len(chunk) <= 3 for chunk in chunks)
    assert [f.number for f in frames] == list(range(1, len(frames) + 1))
    assert sum(len(f.data) for f in frames) <= size
    assert len(frames) <= size // 16  # no record or packet block is shorter than 16 bytes
    assert len(source.damage) <= 1  # reading stops at the first damage
    for damage in source.damage:
        assert isinstance(damage, Damage)
        assert 0 <= damage.offset <= size
        assert damage.message and "\n" not in damage.message
        assert f"byte {damage.offset}: " in str(damage)
    return Outcome(
        None,
        [(f.ts_ns, f.linktype, f.data, f.orig_len, f.number, f.interface) for f in frames],
        [(d.offset, d.message) for d in source.damage],
    )


@contextmanager
def stdin_from_pipe(data: bytes, piece: int) -> Iterator[None]:
    """sys.stdin reads ``data`` from a pipe, written ``piece`` bytes at a time by a thread."""
    read_fd, write_fd = os.pipe()

    def writer() -> None:
        try:
            for at in range(0, len(data), piece):
                os.write(write_fd, data[at : at + piece])
        except BrokenPipeError:  # the reader stopped early (open error, damage)
            pass
        finally:
            os.close(write_fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    saved = sys.stdin
    with os.fdopen(read_fd, "rb") as pipe:
        sys.stdin = io.TextIOWrapper(pipe)
        try:
            yield
        finally:
            sys.stdin.detach()
            sys.stdin = saved
    thread.join(timeout=10)
    assert not thread.is_alive(), "the pipe writer never finished"


# -- properties ---------------------------------------------------------------------------


def test_the_watchdog_catches_a_hang() -> None:
    with pytest.raises(Hang), time_limit(0.05):
        time.sleep(2)


@fuzz_settings(400)
@given(data=ANY_INPUT)
def test_any_file_reads_or_fails_cleanly(scratch: Path, data: bytes) -> None:
    path = scratch / "input.cap"
    path.write_bytes(data)
    read(str(path), len(data))


@fuzz_settings(150)
@given(data=ANY_INPUT, piece=st.sampled_from([1, 7, 64, 4096]))
def test_a_pipe_reads_exactly_like_the_file(scratch: Path, data: bytes, piece: int) -> None:
    """Through stdin the frames and the damage are the same as from the file, whatever the
    sizes the writer's pieces arrive in."""
    path = scratch / "input.cap"
    path.write_bytes(data)
    from_file = read(str(path), len(data))
    with stdin_from_pipe(data, piece):
        from_pipe = read("-", len(data))
    assert from_pipe == from_file


@fuzz_settings(60)
@given(data=st.one_of(pcap_files(), pcapng_files()), cut=st.integers(0, 1 << 16))
def test_gzip_compressed_and_cut_compressed_data(scratch: Path, data: bytes, cut: int) -> None:
    """Inside gzip the same frames come out; gzip cut short is damage, never a crash."""
    path = scratch / "input.cap"
    path.write_bytes(data)
    plain = read(str(path), len(data))
    packed = gzip.compress(data)
    path.write_bytes(packed)
    inside = read(str(path), len(data))
    assert (inside.error is None) == (plain.error is None)  # messages add "gzip-compressed"
    assert (inside.frames, inside.damage) == (plain.frames, plain.damage)
    path.write_bytes(packed[: min(cut, len(packed) - 1)])
    read(str(path), len(data))


# -- memory: lying lengths must not be allocated ------------------------------------------


def peak_while_reading(path: Path) -> tuple[int, Outcome]:
    tracemalloc.start()
    try:
        outcome = read(str(path), path.stat().st_size)
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


# Buffer.fill asks os.read for the whole length a record claims, so Python allocates it
# before learning that the file is shorter (freed at once; bounded by the readers' limits).


@pytest.mark.parametrize(
    "caplen",
    [
        0xFFFFFFFF,
        0x7FFFFFFF,
        262145,
        1 << 24,
    ],
)
def test_pcap_caplen_far_beyond_the_file_allocates_nothing_big(tmp_path: Path, caplen: int):
    pcap = PcapFile(snaplen=0xFFFFFFFF)
    pcap.add(1_000, ether_frame(1)).add(2_000, ether_frame(2), caplen=caplen)
    path = tmp_path / "lie.pcap"
    path.write_bytes(pcap.to_bytes())
    peak, outcome = peak_while_reading(path)
    assert peak < ALLOC_SLACK, f"{peak} bytes allocated for a {path.stat().st_size}-byte file"
    assert len(outcome.frames) == 1
    assert [offset for offset, _ in outcome.damage] == [pcap.offsets()[1]]


@pytest.mark.parametrize(
    "lie",
    [
        0xFFFFFFFC,
        (1 << 26) + 4,
        1 << 26,
        (1 << 26) - 4,
        1 << 20,
    ],
)
def test_pcapng_block_length_far_beyond_the_file_allocates_nothing_big(tmp_path: Path, lie: int):
    """A block length up to the reader's 64 MiB sanity limit is believed until the data
    runs out; what may be allocated is recorded in docs/ROBUSTNESS.md."""
    w = PcapngWriter()
    w.shb()
    w.idb()
    w.epb(0, 1, ether_frame(1))
    bad = w.block(w.EPB, struct.pack("<IIIII", 0, 0, 2, 60, 60) + ether_frame(2), length=lie)
    path = tmp_path / "lie.pcapng"
    path.write_bytes(w.to_bytes())
    peak, outcome = peak_while_reading(path)
    assert len(outcome.frames) == 1
    assert [offset for offset, _ in outcome.damage] == [bad]
    assert peak < ALLOC_SLACK, f"{peak} bytes allocated for a {path.stat().st_size}-byte file"
