"""Opening inputs: compression by content, stdin and FIFOs, streaming, and open errors."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import pty
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.helpers.capturewriter import PcapFile, PcapngWriter, ether_frame
from vrrpscope.capture import open_capture, read_frames
from vrrpscope.capture.stream import RAW_BLOCK
from vrrpscope.errors import EXIT_UNREADABLE, InputError
from vrrpscope.model import Frame

TS0 = 1_700_000_000_000_000_000
COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": lambda data: bz2.compress(data, 1),  # 100 kB blocks: truncation keeps some
    "xz": lzma.compress,
}


def sample_pcap(count: int = 50) -> PcapFile:
    pcap = PcapFile(nanosecond=True)
    for i in range(count):
        pcap.add(TS0 + i * 1_000_000, ether_frame(i, 60 + i % 200))
    return pcap


def frames_of(path: str) -> tuple[list[Frame], list]:
    with open_capture(path) as source:
        return [f for chunk in source.chunks() for f in chunk], source.damage


def expected(pcap: PcapFile) -> list[tuple[int, bytes, int]]:
    return [(r.ts_ns, r.data, i) for i, r in enumerate(pcap.records, 1)]


def summary(frames: list[Frame]) -> list[tuple[int, bytes, int]]:
    return [(f.ts_ns, f.data, f.number) for f in frames]


# -- compression ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "misleading_name"),
    [("gzip", "capture.bz2"), ("bzip2", "capture.pcap"), ("xz", "capture.gz")],
)
def test_compression_is_detected_by_content(tmp_path: Path, kind: str, misleading_name: str):
    pcap = sample_pcap()
    path = tmp_path / misleading_name
    path.write_bytes(COMPRESSORS[kind](pcap.to_bytes()))
    with open_capture(str(path)) as source:
        assert (source.format, source.compression) == ("pcap", kind)
        frames = list(source)
        assert source.damage == []
        assert source.bytes_read == source.total_bytes == path.stat().st_size
    assert summary(frames) == expected(pcap)


def test_compressed_pcapng(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb()
    w.idb(name="eth0")
    w.epb(0, 1_700_000_000_000_000, b"packet")
    path = tmp_path / "c.pcapng.xz"
    path.write_bytes(lzma.compress(w.to_bytes()))
    with open_capture(str(path)) as source:
        assert (source.format, source.compression) == ("pcapng", "xz")
        assert [(f.data, f.interface) for f in source] == [(b"packet", "eth0")]


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_concatenated_streams_are_one_capture(tmp_path: Path, kind: str) -> None:
    raw = sample_pcap(40).to_bytes()
    compress = COMPRESSORS[kind]
    path = tmp_path / "multi"
    path.write_bytes(compress(raw[:1000]) + compress(raw[1000:2500]) + compress(raw[2500:]))
    frames, damage = frames_of(str(path))
    assert damage == []
    assert summary(frames) == expected(sample_pcap(40))


def test_zero_padding_after_gzip_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "padded.gz"
    path.write_bytes(gzip.compress(sample_pcap(3).to_bytes()) + b"\x00" * 512)
    frames, damage = frames_of(str(path))
    assert len(frames) == 3 and damage == []


def test_large_compressed_capture_streams_in_bounded_pieces(tmp_path: Path) -> None:
    pcap = sample_pcap(20_000)  # about 3.2 MB, several read blocks once decompressed
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(pcap.to_bytes(), compresslevel=1))
    frames, damage = frames_of(str(path))
    assert damage == []
    assert summary(frames) == expected(pcap)


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_truncated_compressed_file_is_damage_after_the_good_frames(tmp_path: Path, kind: str):
    pcap = sample_pcap(3000)
    raw = pcap.to_bytes()
    packed = COMPRESSORS[kind](raw)
    path = tmp_path / "cut"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    frames, damage = frames_of(str(path))
    assert 0 < len(frames) < 3000
    assert summary(frames) == expected(pcap)[: len(frames)]
    assert len(damage) == 1
    assert damage[0].message == f"{kind} data ends early (the file is truncated)"
    assert damage[0].offset == pcap.offsets()[len(frames)]


def test_corrupt_gzip_data_is_damage_after_the_good_frames(tmp_path: Path) -> None:
    pcap = sample_pcap(20_000)
    packed = bytearray(gzip.compress(pcap.to_bytes(), mtime=0))
    spot = len(packed) * 3 // 10
    packed[spot : spot + 64] = b"\xff" * 64
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(packed))
    frames, damage = frames_of(str(path))
    assert 1000 < len(frames) < 20_000
    # Deflate has no per-block check: corrupt data may first decode to garbage, which the
    # pcap layer then rejects. Either way every frame before the corruption is intact.
    assert summary(frames[:-1]) == expected(pcap)[: len(frames) - 1]
    assert len(damage) == 1
    assert damage[0].offset in pcap.offsets()
    assert damage[0].message.startswith(("corrupt gzip data", "packet record"))


def test_corrupt_xz_data_is_damage(tmp_path: Path) -> None:
    pcap = sample_pcap(3000)
    packed = bytearray(lzma.compress(pcap.to_bytes()))
    spot = len(packed) // 2
    packed[spot : spot + 16] = b"\x00" * 16
    path = tmp_path / "bad.xz"
    path.write_bytes(bytes(packed))
    frames, damage = frames_of(str(path))
    assert summary(frames[:-1]) == expected(pcap)[: len(frames) - 1]
    assert len(damage) == 1 and len(frames) < 3000


def test_garbage_after_the_compressed_data_is_damage(tmp_path: Path) -> None:
    raw = sample_pcap(5).to_bytes()
    path = tmp_path / "trailing.gz"
    path.write_bytes(gzip.compress(raw) + b"this is not gzip")
    frames, damage = frames_of(str(path))
    assert len(frames) == 5
    assert (damage[0].offset, damage[0].message) == (
        len(raw),
        "unexpected data after the end of the gzip data",
    )


def test_compressed_text_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap.gz"
    path.write_bytes(gzip.compress(b"hello world, these are my notes\n"))
    with pytest.raises(InputError) as err:
        open_capture(str(path))
    assert str(err.value) == (
        f"{path}: gzip-compressed, but what is inside is not a pcap or pcapng file "
        "(starts with 'hello wo', looks like text); give a capture written by tcpdump -w "
        "or Wireshark"
    )


def test_compressed_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.bz2"
    path.write_bytes(bz2.compress(b""))
    with pytest.raises(InputError, match="bzip2-compressed, but empty inside"):
        open_capture(str(path))


def test_compressed_garbage_from_the_start_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 40)
    with pytest.raises(InputError, match=r"corrupt gzip data .*; nothing could be read"):
        open_capture(str(path))


def test_compression_bomb_is_read_in_bounded_pieces(tmp_path: Path) -> None:
    # 64 MiB of zeros after a pcap header: a caplen of 0 repeated, decompressed piecewise
    raw = PcapFile().header() + b"\x00" * (64 << 20)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(raw, compresslevel=9))
    assert path.stat().st_size < 200_000
    with open_capture(str(path)) as source:
        chunks = source.chunks(100_000)
        first = next(chunks)
        assert len(first) == 100_000 and first[0].data == b""
        assert source.bytes_read < 10 * RAW_BLOCK


# -- open errors -----------------------------------------------------------------------


def error_of(path: str) -> InputError:
    with pytest.raises(InputError) as err:
        read_frames([path])
    assert err.value.exit_code == EXIT_UNREADABLE
    assert "\n" not in str(err.value)
    return err.value


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.pcap")
    assert str(error_of(path)) == f"{path}: no such file; check the name and path"


def test_directory(tmp_path: Path) -> None:
    assert str(error_of(str(tmp_path))) == (
        f"{tmp_path}: is a directory; give a capture written by tcpdump -w or Wireshark"
    )


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    assert str(error_of(str(path))).startswith(f"{path}: empty file;")


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "capture.txt"
    path.write_text("hello world\n")
    assert str(error_of(str(path))) == (
        f"{path}: not a pcap or pcapng file (starts with 'hello wo', looks like text); "
        "give a capture written by tcpdump -w or Wireshark"
    )


def test_tcpdump_text_output_is_text(tmp_path: Path) -> None:
    path = tmp_path / "out.pcap"
    path.write_text("12:00:01.000 IP 10.0.0.1 > 224.0.0.18: VRRPv2\n")
    assert "looks like text" in str(error_of(str(path)))


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 20, "zstd-compressed); decompress it first with zstd -d"),
        (b"PK\x03\x04" + b"\x00" * 20, "a zip archive); unzip it"),
        (b"snoop\x00\x00\x00\x00\x00\x00\x02", "a Solaris snoop capture); convert it"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08", "binary data of an unknown kind)"),
    ],
    ids=["zstd", "zip", "snoop", "binary"],
)
def test_other_binary_files(tmp_path: Path, head: bytes, what: str) -> None:
    path = tmp_path / "f.pcap"
    path.write_bytes(head)
    message = str(error_of(str(path)))
    assert message.startswith(f"{path}: not a pcap or pcapng file (starts with {head[0]:02x} ")
    assert what in message


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.pcap"
    path.write_bytes(sample_pcap(1).to_bytes())

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    assert str(error_of(str(path))) == (
        f"{path}: permission denied; make the file readable or run with more privileges"
    )


def test_open_errors_come_before_any_frame(tmp_path: Path) -> None:
    good = tmp_path / "good.pcap"
    good.write_bytes(sample_pcap(2).to_bytes())
    text = tmp_path / "notes.txt"
    text.write_text("not a capture")
    with pytest.raises(InputError, match="notes.txt: not a pcap"):
        read_frames([str(good), str(tmp_path / "missing.pcap"), str(text)][::2])
    with pytest.raises(InputError, match="missing.pcap: no such file"):
        read_frames([str(good), str(tmp_path / "missing.pcap")])


def test_stdin_only_once() -> None:
    with pytest.raises(InputError, match="stdin can be read only once"):
        read_frames(["-", "-"])


# -- stdin and FIFOs -------------------------------------------------------------------


@pytest.fixture
def use_as_stdin(monkeypatch: pytest.MonkeyPatch):
    """Make sys.stdin read from a binary stream for the duration of a test."""
    wrappers: list[io.TextIOWrapper] = []

    def use(binary) -> None:
        wrappers.append(io.TextIOWrapper(binary))
        monkeypatch.setattr(sys, "stdin", wrappers[-1])

    yield use
    monkeypatch.undo()
    for wrapper in wrappers:
        with contextlib.suppress(ValueError):  # already closed with its binary stream
            wrapper.detach()  # the test owns (and closes) the binary stream


def test_stdin_pipe(use_as_stdin) -> None:
    pcap = sample_pcap(200)
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(
        target=lambda: (os.write(write_fd, pcap.to_bytes()), os.close(write_fd))
    )
    writer.start()
    with os.fdopen(read_fd, "rb") as pipe:
        use_as_stdin(pipe)
        reader = read_frames(["-"])
        frames = [f for chunk in reader for f in chunk]
        assert reader.total_bytes is None
        assert reader.bytes_read == len(pcap.to_bytes())
    writer.join()
    assert summary(frames) == expected(pcap)
    assert {f.source for f in frames} == {"-"}


def test_stdin_redirected_from_a_compressed_file(tmp_path: Path, use_as_stdin) -> None:
    pcap = sample_pcap(10)
    path = tmp_path / "in.xz"
    path.write_bytes(lzma.compress(pcap.to_bytes()))
    with path.open("rb") as f:
        use_as_stdin(f)
        with open_capture("-") as source:
            assert source.compression == "xz"
            assert summary(list(source)) == expected(pcap)


def test_stdin_terminal_is_refused(use_as_stdin) -> None:
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "rb", closefd=False) as tty:
            use_as_stdin(tty)
            with pytest.raises(InputError, match="^stdin: is a terminal, not a capture;"):
                open_capture("-")
    finally:
        os.close(leader)
        os.close(follower)


def test_empty_stdin(use_as_stdin) -> None:
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        use_as_stdin(pipe)
        with pytest.raises(InputError, match="^stdin: empty file"):
            open_capture("-")


def test_fifo_path(tmp_path: Path) -> None:
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    pcap = sample_pcap(30)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(gzip.compress(pcap.to_bytes()))

    writer = threading.Thread(target=write)
    writer.start()
    with open_capture(str(fifo)) as source:
        assert source.interactive and source.total_bytes is None
        frames = list(source)
    writer.join()
    assert summary(frames) == expected(pcap)


# A writer like `tcpdump -U -w -`: header and one record, then it waits (for its stdin
# to close) before writing the second record.
WRITER = r"""
import sys
out = sys.stdout.buffer
first, second, mode = {first!r}, {second!r}, {mode!r}
if mode == "gzip":
    import gzip
    out = gzip.GzipFile(fileobj=out, mode="wb")
out.write(first)
out.flush()
sys.stdout.buffer.flush()
sys.stdin.buffer.read()  # wait until the test closes our stdin
out.write(second)
out.close()
"""


def streaming_parts(mode: str) -> tuple[bytes, bytes]:
    if mode == "pcapng":
        w = PcapngWriter()
        w.shb()
        w.idb(name="eth0")
        w.epb(0, 1_700_000_000_000_000, b"first frame")
        head = w.to_bytes()
        w.epb(0, 1_700_000_001_000_000, b"second frame")
        return head, w.to_bytes()[len(head) :]
    pcap = PcapFile().add(TS0, b"first frame")
    head = pcap.to_bytes()
    pcap.add(TS0 + 1_000_000_000, b"second frame")
    return head, pcap.to_bytes()[len(head) :]


@pytest.mark.parametrize("mode", ["pcap", "pcapng", "gzip"])
def test_stdin_frames_arrive_while_the_writer_still_runs(mode: str, use_as_stdin) -> None:
    first, second = streaming_parts(mode)
    script = WRITER.format(first=first, second=second, mode=mode)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    watchdog = threading.Timer(20, proc.kill)  # never hang the test suite
    watchdog.start()
    try:
        use_as_stdin(proc.stdout)
        reader = read_frames(["-"])
        chunks = iter(reader)
        chunk = next(chunks)
        assert proc.poll() is None, "the writer had to exit before the first frame arrived"
        assert [f.data for f in chunk] == [b"first frame"]
        proc.stdin.close()
        rest = [f for c in chunks for f in c]
        assert [(f.data, f.number) for f in rest] == [(b"second frame", 2)]
        assert reader.damage == []
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_damage_on_stdin_is_named_stdin(use_as_stdin) -> None:
    raw = sample_pcap(3).to_bytes()[:-10]
    read_fd, write_fd = os.pipe()
    os.write(write_fd, raw)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        use_as_stdin(pipe)
        reader = read_frames(["-"])
        assert len([f for chunk in reader for f in chunk]) == 2
    assert [str(d) for d in reader.damage] == [
        f"stdin: byte {sample_pcap(3).offsets()[2]}: truncated packet record 3: "
        "62 captured bytes announced, only 52 present"
    ]


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="a network namespace of our own needs root")
def test_tcpdump_pipe_delivers_frames_while_tcpdump_runs(use_as_stdin) -> None:
    # Network safety: capture only on the loopback of a namespace this test creates.
    netns = f"vsp{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", netns], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    in_ns = ["ip", "netns", "exec", netns]
    port = 40000 + os.getpid() % 20000
    proc = None
    watchdog = None
    try:
        subprocess.run([*in_ns, "ip", "link", "set", "lo", "up"], check=True, timeout=10)
        proc = subprocess.Popen(
            [*in_ns, "tcpdump", "-U", "-c", "5", "-n", "-w", "-", "-i", "lo", f"udp port {port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        watchdog = threading.Timer(20, proc.kill)
        watchdog.start()
        banner = proc.stderr.readline().decode()
        if "listening" not in banner:
            pytest.skip(f"tcpdump cannot capture here: {banner.strip()}")
        send = (
            "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
            f".sendto(b'vrrpscope streaming test', ('127.0.0.1', {port}))"
        )
        subprocess.run([*in_ns, sys.executable, "-c", send], check=True, timeout=10)
        use_as_stdin(proc.stdout)
        with read_frames(["-"]) as reader:
            chunk = next(iter(reader))
            assert proc.poll() is None, "tcpdump had to exit before the first frame arrived"
            assert chunk[0].data.endswith(b"vrrpscope streaming test")
            assert chunk[0].source == "-" and chunk[0].number == 1
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if proc is not None:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
