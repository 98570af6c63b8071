"""Several captures read as one stream in timestamp order."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.helpers.capturewriter import PcapFile, PcapngWriter
from vrrpscope.capture import FrameReader, read_frames

S = 1_000_000_000


def pcap_file(tmp_path: Path, name: str, stamps: list[int], compress: bool = False) -> str:
    pcap = PcapFile(nanosecond=True)
    for i, ts in enumerate(stamps, 1):
        pcap.add(ts, f"{name}#{i}".encode())
    raw = pcap.to_bytes()
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return str(path)


def pcapng_file(tmp_path: Path, name: str, stamps: list[int]) -> str:
    w = PcapngWriter()
    w.shb()
    w.idb(name="eth1", tsresol=9)
    for i, ts in enumerate(stamps, 1):
        w.epb(0, ts, f"{name}#{i}".encode())
    path = tmp_path / name
    path.write_bytes(w.to_bytes())
    return str(path)


def labels(reader: FrameReader) -> list[str]:
    return [f.data.decode() for chunk in reader for f in chunk]


def test_interleaved_files_come_out_in_timestamp_order(tmp_path: Path) -> None:
    a = pcap_file(tmp_path, "a", [1 * S, 4 * S, 7 * S])
    b = pcapng_file(tmp_path, "b", [2 * S, 5 * S, 8 * S])
    c = pcap_file(tmp_path, "c", [3 * S, 6 * S, 9 * S], compress=True)
    reader = read_frames([a, b, c], chunk_size=4)
    chunks = list(reader)
    assert [len(chunk) for chunk in chunks] == [4, 4, 1]
    frames = [f for chunk in chunks for f in chunk]
    assert [f.data.decode() for f in frames] == [
        "a#1", "b#1", "c#1", "a#2", "b#2", "c#2", "a#3", "b#3", "c#3",
    ]  # fmt: skip
    assert [f.ts_ns for f in frames] == [n * S for n in range(1, 10)]
    assert [(f.source, f.number) for f in frames[:3]] == [(a, 1), (b, 1), (c, 1)]
    assert [f.interface for f in frames[:3]] == [None, "eth1", None]
    assert [s.format for s in reader.sources] == ["pcap", "pcapng", "pcap"]
    assert reader.sources[2].compression == "gzip"


def test_equal_timestamps_keep_file_order_then_frame_order(tmp_path: Path) -> None:
    a = pcap_file(tmp_path, "a", [5 * S, 5 * S])
    b = pcap_file(tmp_path, "b", [5 * S, 5 * S])
    assert labels(read_frames([b, a])) == ["b#1", "b#2", "a#1", "a#2"]
    assert labels(read_frames([a, b])) == ["a#1", "a#2", "b#1", "b#2"]


def test_a_file_going_back_in_time_is_not_resorted(tmp_path: Path) -> None:
    # Like mergecap: each file is taken as it is, the merge only interleaves.
    a = pcap_file(tmp_path, "a", [5 * S, 1 * S])
    b = pcap_file(tmp_path, "b", [3 * S])
    assert labels(read_frames([a, b])) == ["b#1", "a#1", "a#2"]


def test_damage_in_one_file_keeps_the_others(tmp_path: Path) -> None:
    a = pcap_file(tmp_path, "a", [1 * S, 3 * S, 5 * S])
    raw = Path(a).read_bytes()
    Path(a).write_bytes(raw[:-2])  # the last record loses two bytes
    b = pcap_file(tmp_path, "b", [2 * S, 4 * S, 6 * S])
    reader = read_frames([a, b])
    assert labels(reader) == ["a#1", "b#1", "a#2", "b#2", "b#3"]
    assert [(d.path, d.offset) for d in reader.damage] == [(a, 24 + 2 * (16 + 3))]
    assert reader.sources[1].damage == []


def test_progress_counts_bytes_on_disk(tmp_path: Path) -> None:
    a = pcap_file(tmp_path, "a", [1 * S, 2 * S])
    c = pcap_file(tmp_path, "c", [3 * S], compress=True)
    reader = read_frames([a, c])
    size = Path(a).stat().st_size + Path(c).stat().st_size
    assert reader.total_bytes == size
    assert reader.bytes_read < size
    labels(reader)
    assert reader.bytes_read == size


def test_one_source_is_passed_through_in_its_own_chunks(tmp_path: Path) -> None:
    a = pcap_file(tmp_path, "a", [n * S for n in range(10)])
    reader = read_frames([a], chunk_size=4)
    assert [len(chunk) for chunk in reader] == [4, 4, 2]


def test_a_single_path_string_is_accepted(tmp_path: Path) -> None:
    a = pcap_file(tmp_path, "a", [S])
    with read_frames(a) as reader:
        assert labels(reader) == ["a#1"]
