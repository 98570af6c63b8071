"""Classic pcap reading: every form, link types, damage, and agreement with tshark."""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture import oracle_frames, oracle_is_tshark, peer_captures
from tests.helpers.capturewriter import LINKTYPE_RAW, PcapFile, ether_frame
from vrrpscope.capture import open_capture, read_frames, stream
from vrrpscope.errors import EXIT_UNREADABLE, InputError
from vrrpscope.model import Frame

TS0 = 1_700_000_000_123_456_789


def write(tmp_path: Path, pcap: PcapFile, name: str = "test.pcap") -> str:
    path = tmp_path / name
    path.write_bytes(pcap.to_bytes())
    return str(path)


def read_all(path: str) -> tuple[list[Frame], list]:
    with open_capture(path) as source:
        frames = [f for chunk in source.chunks() for f in chunk]
        return frames, source.damage


@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
@pytest.mark.parametrize("nanosecond", [False, True], ids=["usec", "nsec"])
def test_four_forms(tmp_path: Path, big_endian: bool, nanosecond: bool) -> None:
    pcap = PcapFile(big_endian=big_endian, nanosecond=nanosecond)
    for i in range(5):
        pcap.add(TS0 + i * 1_000_001_001, ether_frame(i, 60 + i))
    path = write(tmp_path, pcap)
    frames, damage = read_all(path)
    assert damage == []
    assert [f.number for f in frames] == [1, 2, 3, 4, 5]
    for i, frame in enumerate(frames):
        ts = TS0 + i * 1_000_001_001
        assert frame.ts_ns == (ts if nanosecond else ts // 1000 * 1000)
        assert frame.data == ether_frame(i, 60 + i)
        assert frame.orig_len == 60 + i
        assert frame.linktype == 1
        assert frame.interface is None
        assert frame.source == path


def test_modified_pcap_records_have_24_byte_headers(tmp_path: Path) -> None:
    pcap = PcapFile(modified=True).add(TS0, b"abc").add(TS0 + 5000, b"defg")
    frames, damage = read_all(write(tmp_path, pcap))
    assert damage == []
    assert [(f.data, f.ts_ns) for f in frames] == [
        (b"abc", TS0 // 1000 * 1000),
        (b"defg", (TS0 + 5000) // 1000 * 1000),
    ]


@pytest.mark.parametrize("linktype", [0, 1, 101, 113, 127, 276])
def test_any_link_type_is_passed_through(tmp_path: Path, linktype: int) -> None:
    frames, _ = read_all(write(tmp_path, PcapFile(linktype=linktype).add(TS0, b"x" * 20)))
    assert frames[0].linktype == linktype


def test_fcs_bits_are_not_part_of_the_link_type(tmp_path: Path) -> None:
    # libpcap: bit 26 says "FCS length present", bits 28-31 give it in 16-bit words.
    header_linktype = (2 << 28) | 0x04000000 | 1
    path = write(tmp_path, PcapFile(linktype=header_linktype).add(TS0, b"y" * 64))
    with open_capture(path) as source:
        frames = list(source)
        assert source.reader.fcs_len == 4
    assert frames[0].linktype == 1
    with open_capture(write(tmp_path, PcapFile(), "plain.pcap")) as source:
        assert source.reader.fcs_len is None


def test_snaplen_cut_frames_keep_their_wire_length(tmp_path: Path) -> None:
    pcap = PcapFile(snaplen=96, linktype=LINKTYPE_RAW).add(TS0, b"z" * 96, orig_len=1514)
    frames, damage = read_all(write(tmp_path, pcap))
    assert damage == []
    assert (len(frames[0].data), frames[0].orig_len) == (96, 1514)


def test_old_versions_with_swapped_lengths_are_swapped_back(tmp_path: Path) -> None:
    # pcap before 2.3 wrote (len, caplen) instead of (caplen, len); libpcap swaps them back.
    pcap = PcapFile(version=(2, 2)).add(TS0, b"q" * 40, orig_len=40, caplen=1500)
    raw = bytearray(pcap.to_bytes())
    struct.pack_into("<II", raw, 24 + 8, 1500, 40)  # caplen field 1500, len field 40
    path = tmp_path / "old.pcap"
    path.write_bytes(bytes(raw))
    frames, damage = read_all(str(path))
    assert damage == []
    assert (frames[0].data, frames[0].orig_len) == (b"q" * 40, 1500)


def test_header_only_file_has_no_frames_and_no_damage(tmp_path: Path) -> None:
    frames, damage = read_all(write(tmp_path, PcapFile()))
    assert frames == [] and damage == []


def test_truncated_file_header_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(PcapFile().header()[:10])
    with pytest.raises(InputError) as err:
        open_capture(str(path))
    assert err.value.exit_code == EXIT_UNREADABLE
    assert str(err.value) == (
        f"{path}: truncated pcap file header (10 of 24 bytes); "
        "the capture was cut short before its first packet"
    )


def test_unsupported_version_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unsupported pcap version 3\.1"):
        open_capture(write(tmp_path, PcapFile(version=(3, 1))))


def test_truncated_record_header_is_damage_at_its_offset(tmp_path: Path) -> None:
    pcap = PcapFile().add(TS0, b"a" * 50).add(TS0 + 1, b"b" * 50)
    raw = pcap.to_bytes() + b"\x01\x02\x03\x04\x05\x06"
    path = tmp_path / "t.pcap"
    path.write_bytes(raw)
    frames, damage = read_all(str(path))
    assert [f.data for f in frames] == [b"a" * 50, b"b" * 50]
    assert len(damage) == 1
    assert damage[0].offset == len(pcap.to_bytes())
    assert str(damage[0]) == (
        f"{path}: byte {len(pcap.to_bytes())}: truncated packet record header (6 of 16 bytes)"
    )


def test_truncated_record_data_is_damage_at_its_offset(tmp_path: Path) -> None:
    pcap = PcapFile()
    for i in range(3):
        pcap.add(TS0 + i, ether_frame(i, 100))
    raw = pcap.to_bytes()[:-30]
    path = tmp_path / "t.pcap"
    path.write_bytes(raw)
    frames, damage = read_all(str(path))
    assert [f.number for f in frames] == [1, 2]
    assert damage[0].offset == pcap.offsets()[2]
    assert damage[0].message == (
        "truncated packet record 3: 100 captured bytes announced, only 70 present"
    )


def test_absurd_caplen_is_damage_without_a_giant_read(tmp_path: Path) -> None:
    pcap = PcapFile().add(TS0, b"ok").add(TS0 + 1, b"x" * 8, caplen=0xFFFFFFF0)
    pcap.add(TS0 + 2, b"never read")
    path = write(tmp_path, pcap)
    reader = read_frames([path])
    frames = [f for chunk in reader for f in chunk]
    damage = reader.damage
    assert reader.bytes_read <= Path(path).stat().st_size  # never tried to read 4 GiB
    assert [f.data for f in frames] == [b"ok"]
    assert damage[0].offset == pcap.offsets()[1]
    assert "claims 4294967280 captured bytes, more than the largest possible (262144)" in str(
        damage[0]
    )


def test_caplen_limit_follows_a_large_snaplen(tmp_path: Path) -> None:
    big = bytes(range(256)) * 1200  # 307200 bytes, above libpcap's usual 262144
    pcap = PcapFile(snaplen=400_000).add(TS0, big)
    frames, damage = read_all(write(tmp_path, pcap))
    assert damage == [] and frames[0].data == big
    frames, damage = read_all(write(tmp_path, PcapFile().add(TS0, big), "small.pcap"))
    assert frames == [] and damage[0].offset == 24


def test_caplen_beyond_the_end_of_the_file_is_damage(tmp_path: Path) -> None:
    pcap = PcapFile().add(TS0, b"a" * 10).add(TS0, b"b" * 10, caplen=200_000)
    frames, damage = read_all(write(tmp_path, pcap))
    assert len(frames) == 1
    assert damage[0].offset == pcap.offsets()[1]
    assert "200000 captured bytes announced, only 10 present" in damage[0].message


def test_chunks_hold_at_most_chunk_size_frames(tmp_path: Path) -> None:
    pcap = PcapFile()
    for i in range(10):
        pcap.add(TS0 + i, ether_frame(i))
    with open_capture(write(tmp_path, pcap)) as source:
        assert [len(c) for c in source.chunks(3)] == [3, 3, 3, 1]


def test_reading_across_buffer_refills_keeps_every_byte(tmp_path: Path) -> None:
    pcap = PcapFile()
    sizes = [60 + (i * 37) % 1400 for i in range(4000)]  # about 3 MiB: several 1 MiB reads
    for i, size in enumerate(sizes):
        pcap.add(TS0 + i * 1000, ether_frame(i, size))
    path = write(tmp_path, pcap)
    reader = read_frames([path], chunk_size=1000)
    frames = [f for chunk in reader for f in chunk]
    assert reader.damage == []
    assert len(frames) == 4000
    assert all(f.data == ether_frame(i, sizes[i]) for i, f in enumerate(frames))
    assert reader.bytes_read == reader.total_bytes == Path(path).stat().st_size


def test_many_frames_take_few_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """200,000 frames: every frame, the input read in blocks, not per frame (work, not time)."""
    record = struct.pack("<IIII", 1_700_000_000, 0, 60, 60) + ether_frame(0)
    path = tmp_path / "many.pcap"
    path.write_bytes(PcapFile().header() + record * 200_000)
    fills = 0
    real_fill = stream.Buffer.fill

    def counting_fill(self: stream.Buffer, need: int) -> bool:
        nonlocal fills
        fills += 1
        return real_fill(self, need)

    monkeypatch.setattr(stream.Buffer, "fill", counting_fill)
    count = sum(len(chunk) for chunk in read_frames([str(path)]))
    assert count == 200_000
    size = path.stat().st_size
    assert fills <= 2 * (size // stream.BLOCK + 2)  # a refill per block read, not per frame


PEER_PCAPS = peer_captures("tcpdump/*.pcap", "pcapplusplus/*.pcap")


@pytest.mark.skipif(not PEER_PCAPS, reason="public peer captures not present")
@pytest.mark.parametrize("path", PEER_PCAPS, ids=lambda p: p.name)
def test_real_pcaps_match_the_oracle(path: Path) -> None:
    frames, damage = read_all(str(path))
    expected = oracle_frames(path)
    assert damage == []
    got = [(f.number, f.ts_ns) for f in frames]
    if not oracle_is_tshark():  # tcpdump prints microseconds
        got = [(n, ts // 1000 * 1000) for n, ts in got]
    assert got == expected


frame_lists = st.lists(
    st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 999_999_999), st.binary(max_size=300)),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    frames=frame_lists,
    big_endian=st.booleans(),
    nanosecond=st.booleans(),
    modified=st.booleans(),
)
def test_round_trip(frames, big_endian: bool, nanosecond: bool, modified: bool) -> None:
    pcap = PcapFile(big_endian=big_endian, nanosecond=nanosecond, modified=modified)
    nanosecond = nanosecond and not modified
    for sec, ns, data in frames:
        pcap.add(sec * 1_000_000_000 + ns, data, orig_len=len(data) + 7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pcap"
        path.write_bytes(pcap.to_bytes())
        got, damage = read_all(str(path))
    assert damage == []
    assert [(f.ts_ns, f.data, f.orig_len, f.number) for f in got] == [
        (s * 1_000_000_000 + (ns if nanosecond else ns // 1000 * 1000), d, len(d) + 7, i)
        for i, (s, ns, d) in enumerate(frames, 1)
    ]


@settings(max_examples=60, deadline=None)
@given(frames=frame_lists.filter(bool), cut=st.integers(1, 10_000))
def test_any_truncation_gives_a_prefix_and_damage_at_a_record(frames, cut: int) -> None:
    pcap = PcapFile(nanosecond=True)
    for sec, ns, data in frames:
        pcap.add(sec * 1_000_000_000 + ns, data)
    raw = pcap.to_bytes()
    cut = 24 + cut % (len(raw) - 24)  # somewhere inside the records
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pcap"
        path.write_bytes(raw[:cut])
        got, damage = read_all(str(path))
    offsets = pcap.offsets()
    assert [f.data for f in got] == [d for _, _, d in frames][: len(got)]
    if cut in offsets:  # cut exactly between records: a clean, shorter file
        assert damage == [] and len(got) == offsets.index(cut)
    else:
        assert len(damage) == 1 and damage[0].offset == offsets[len(got)]
