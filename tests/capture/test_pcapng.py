"""pcapng reading: sections, interfaces, timestamps, packet blocks, damage, oracle checks."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture import oracle_frames, oracle_is_tshark, peer_captures
from tests.helpers.capturewriter import LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapngWriter, ether_frame
from vrrpscope.capture import open_capture
from vrrpscope.capture.pcapng import tsresol_scale
from vrrpscope.errors import InputError
from vrrpscope.model import Frame

US0 = 1_700_000_000_123_456  # microseconds


def write(tmp_path: Path, w: PcapngWriter, name: str = "test.pcapng") -> str:
    path = tmp_path / name
    path.write_bytes(w.to_bytes())
    return str(path)


def read_all(path: str) -> tuple[list[Frame], list]:
    with open_capture(path) as source:
        assert source.format == "pcapng"
        return [f for chunk in source.chunks() for f in chunk], source.damage


def simple(big_endian: bool = False) -> PcapngWriter:
    w = PcapngWriter()
    w.shb(big_endian=big_endian)
    w.idb(name="eth0")
    return w


@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
def test_enhanced_packet_blocks_in_both_byte_orders(tmp_path: Path, big_endian: bool) -> None:
    w = simple(big_endian)
    w.epb(0, US0, ether_frame(1, 60))
    w.epb(0, US0 + 1500, ether_frame(2, 61), orig_len=1514, comment="second")
    path = write(tmp_path, w)
    frames, damage = read_all(path)
    assert damage == []
    assert frames == [
        Frame(US0 * 1000, LINKTYPE_ETHERNET, ether_frame(1, 60), 60, 1, "eth0", path),
        Frame((US0 + 1500) * 1000, LINKTYPE_ETHERNET, ether_frame(2, 61), 1514, 2, "eth0", path),
    ]


def test_interfaces_without_name_are_numbered_across_sections(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb()
    w.idb(linktype=LINKTYPE_ETHERNET)
    w.idb(linktype=LINKTYPE_RAW, name="tun0")
    w.epb(1, US0, b"raw ip")
    w.epb(0, US0 + 1, b"ether")
    w.shb(big_endian=True)  # a new section: interfaces start again at index 0
    w.idb(linktype=113)
    w.epb(0, US0 + 2, b"sll")
    frames, damage = read_all(write(tmp_path, w))
    assert damage == []
    assert [(f.interface, f.linktype, f.data, f.number) for f in frames] == [
        ("tun0", LINKTYPE_RAW, b"raw ip", 1),
        ("pcapng-if0", LINKTYPE_ETHERNET, b"ether", 2),
        ("pcapng-if2", 113, b"sll", 3),
    ]


def test_a_new_section_forgets_the_previous_interfaces(tmp_path: Path) -> None:
    w = simple()
    w.idb(name="eth1")
    w.epb(1, US0, b"ok")
    w.shb()
    w.idb(name="eth9")
    bad = w.epb(1, US0, b"interface 1 is gone")
    frames, damage = read_all(write(tmp_path, w))
    assert [f.interface for f in frames] == ["eth1"]
    assert damage[0].offset == bad
    assert damage[0].message == (
        "packet block names interface 1, but the section describes 1 interface(s)"
    )


@pytest.mark.parametrize(
    ("tsresol", "ticks", "expected_ns"),
    [
        (None, 5, 5_000),  # default: microseconds
        (0, 2, 2_000_000_000),
        (3, 1_700_000_000_123, 1_700_000_000_123_000_000),
        (9, 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
        (12, 1_500, 2),  # picoseconds: 1.5 ns rounds to 2
        (12, 1_499, 1),
        (0x80 | 10, 1, 976_563),  # 2^-10 s = 976562.5 ns, rounded to nearest
        (0x80 | 20, 1, 954),  # 953.67 ns
        (0x80 | 30, 3 << 30, 3_000_000_000),
        (0x80 | 32, (1_700_000_000 << 32) + (1 << 31), 1_700_000_000_500_000_000),
    ],
)
def test_if_tsresol(tmp_path: Path, tsresol: int | None, ticks: int, expected_ns: int) -> None:
    w = PcapngWriter()
    w.shb()
    w.idb(tsresol=tsresol)
    w.epb(0, ticks, b"p")
    frames, damage = read_all(write(tmp_path, w))
    assert damage == []
    assert frames[0].ts_ns == expected_ns


def test_tsresol_scale_is_exact() -> None:
    assert tsresol_scale(6) == (1000, 1)
    assert tsresol_scale(15) == (1, 1_000_000)
    assert tsresol_scale(0x80 | 7) == (1_000_000_000, 128)


@pytest.mark.parametrize("offset_s", [3600, -7200])
def test_if_tsoffset_adds_seconds(tmp_path: Path, offset_s: int) -> None:
    w = PcapngWriter()
    w.shb()
    w.idb(tsoffset=offset_s, tsresol=9)
    w.epb(0, 10_000_000_001, b"p")
    frames, _ = read_all(write(tmp_path, w))
    assert frames[0].ts_ns == 10_000_000_001 + offset_s * 1_000_000_000


def test_per_interface_resolution_and_link_type(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb()
    w.idb(linktype=LINKTYPE_ETHERNET, tsresol=3, name="a")
    w.idb(linktype=LINKTYPE_RAW, tsresol=9, name="b")
    w.epb(0, 1_000, b"x")
    w.epb(1, 1_000, b"y")
    frames, _ = read_all(write(tmp_path, w))
    assert [(f.interface, f.linktype, f.ts_ns) for f in frames] == [
        ("a", LINKTYPE_ETHERNET, 1_000_000_000),
        ("b", LINKTYPE_RAW, 1_000),
    ]


def test_simple_packet_blocks_use_interface_0_and_the_previous_timestamp(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb()
    w.idb(snaplen=8, name="wan")
    w.spb(b"0123456789", orig_len=1000)  # no packet before: timestamp 0, cut to snaplen 8
    w.epb(0, US0, b"epb")
    w.spb(b"abc")
    frames, damage = read_all(write(tmp_path, w))
    assert damage == []
    assert [(f.number, f.ts_ns, f.data, f.orig_len, f.interface) for f in frames] == [
        (1, 0, b"01234567", 1000, "wan"),
        (2, US0 * 1000, b"epb", 3, "wan"),
        (3, US0 * 1000, b"abc", 3, "wan"),
    ]


def test_obsolete_packet_block(tmp_path: Path) -> None:
    w = simple(big_endian=True)
    w.idb(name="eth1", tsresol=9)
    w.pb(1, 42, b"old block", orig_len=100)
    frames, _ = read_all(write(tmp_path, w))
    assert [(f.interface, f.ts_ns, f.data, f.orig_len) for f in frames] == [
        ("eth1", 42, b"old block", 100)
    ]


def test_other_blocks_and_options_are_skipped(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb(comment="made by a test")
    w.idb(name="eth0", comment="uplink", extra=[(4, b"\xc0\x00\x02\x01\xff\xff\xff\x00")])
    w.nrb()
    w.epb(0, US0, b"first", comment="a packet comment")
    w.isb()
    w.dsb()
    w.custom()
    w.block(0x40000BAD, b"\x00\x00\x7e\xd9 do not copy")
    w.block(0x0123, b"unknown block type")
    w.epb(0, US0 + 1, b"second")
    frames, damage = read_all(write(tmp_path, w))
    assert damage == []
    assert [(f.number, f.data) for f in frames] == [(1, b"first"), (2, b"second")]


def test_empty_section_has_no_frames(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb()
    frames, damage = read_all(write(tmp_path, w))
    assert frames == [] and damage == []


# -- damage: reading stops at the block, after every good frame ------------------------


def damaged(tmp_path: Path, spoil) -> tuple[list[Frame], list, int]:
    w = simple()
    w.epb(0, US0, b"good")
    offset = spoil(w)
    w.epb(0, US0 + 2, b"never reached")
    frames, damage = read_all(write(tmp_path, w))
    assert [f.data for f in frames] == [b"good"]
    assert len(damage) == 1 and damage[0].offset == offset
    return frames, damage, offset


def test_block_length_not_a_multiple_of_4(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.block(6, b"x" * 28, length=42))
    assert damage[0].message == (
        "block length 42 is impossible (must be a multiple of 4, at least 12)"
    )


def test_block_length_below_12(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.block(6, b"", length=8))
    assert "block length 8 is impossible" in damage[0].message


def test_block_trailer_differs_from_header(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.block(6, b"y" * 28, trailer=36))
    assert damage[0].message == "block trailer length 36 does not match its header (40)"


def test_captured_length_larger_than_its_block(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.epb(0, US0 + 1, b"tiny", caplen=400))
    assert damage[0].message == "captured length 400 does not fit in its 36-byte packet block"


def test_idb_option_running_past_its_block(tmp_path: Path) -> None:
    def spoil(w: PcapngWriter) -> int:
        body = b"\x01\x00\x00\x00\x00\x00\x00\x00" + b"\x02\x00\x40\x00eth0"
        return w.block(1, body)

    _, damage, _ = damaged(tmp_path, spoil)
    assert damage[0].message == "option 2 runs past the end of its block"


def test_bad_byte_order_magic_in_a_later_section(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.shb(magic=0x11223344))
    assert damage[0].message == "section header has a bad byte-order magic 0x11223344"


def test_unsupported_version_in_a_later_section(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.shb(version=(2, 0)))
    assert damage[0].message == "unsupported pcapng version 2.0"


def test_block_longer_than_the_file(tmp_path: Path) -> None:
    w = simple()
    w.epb(0, US0, b"good")
    last = w.epb(0, US0 + 1, b"cut off" * 20)
    raw = w.to_bytes()[:-50]
    path = tmp_path / "cut.pcapng"
    path.write_bytes(raw)
    frames, damage = read_all(str(path))
    assert [f.data for f in frames] == [b"good"]
    assert damage[0].offset == last
    assert damage[0].message == (
        f"truncated block: its length is 172 bytes but only {len(raw) - last} remain"
    )


def test_absurd_block_length(tmp_path: Path) -> None:
    _, damage, _ = damaged(tmp_path, lambda w: w.block(6, b"z" * 28, length=0x7FFFFFF0))
    assert damage[0].message == "block length 2147483632 is absurd (over 67108864 bytes)"


def test_truncated_block_header_at_the_end(tmp_path: Path) -> None:
    w = simple()
    w.epb(0, US0, b"good")
    end = w.raw(b"\x06\x00\x00\x00\x20")
    frames, damage = read_all(write(tmp_path, w))
    assert len(frames) == 1
    assert (damage[0].offset, damage[0].message) == (end, "truncated block header (5 of 12 bytes)")


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda raw: raw[:20], "truncated block: its length is 28 bytes but only 20 remain"),
        (lambda raw: raw[:8] + b"\x01\x02\x03\x04" + raw[12:], "bad byte-order magic"),
        (lambda raw: raw[:12] + b"\x02\x00" + raw[14:], "unsupported pcapng version 2.0"),
    ],
    ids=["truncated", "byte-order", "version"],
)
def test_a_bad_first_section_header_is_an_input_error(tmp_path: Path, spoil, message) -> None:
    w = PcapngWriter()
    w.shb()
    path = tmp_path / "bad.pcapng"
    path.write_bytes(spoil(w.to_bytes()))
    with pytest.raises(InputError, match=message):
        open_capture(str(path))


# -- oracles -------------------------------------------------------------------------


@pytest.mark.skipif(not oracle_is_tshark(), reason="tshark is not installed (reads pcapng)")
def test_written_features_read_as_tshark_reads_them(tmp_path: Path) -> None:
    w = PcapngWriter()
    w.shb(comment="section 1")
    w.idb(name="eth0", tsresol=9, tsoffset=100)
    w.idb(name="eth1", tsresol=0x80 | 20)
    w.nrb()
    w.epb(0, 1_700_000_000_123_456_789, ether_frame(1), comment="hello")
    w.epb(1, (1_700_000_001 << 20) + 12345, ether_frame(2))
    w.pb(0, 1_700_000_002_000_000_001, ether_frame(3))
    w.isb()
    w.shb(big_endian=True)
    w.idb(name="eth2", tsresol=3)
    w.epb(0, 1_700_000_003_456, ether_frame(4))
    path = write(tmp_path, w)
    frames, damage = read_all(path)
    assert damage == []
    assert [(f.number, f.ts_ns) for f in frames] == oracle_frames(path)


PEER_PCAPNGS = peer_captures("tcpdump/*.pcapng")


@pytest.mark.skipif(not PEER_PCAPNGS, reason="public peer captures not present")
@pytest.mark.parametrize("path", PEER_PCAPNGS, ids=lambda p: p.name)
def test_real_pcapng_matches_the_oracle(path: Path) -> None:
    frames, damage = read_all(str(path))
    assert damage == []
    got = [(f.number, f.ts_ns) for f in frames]
    if not oracle_is_tshark():
        got = [(n, ts // 1000 * 1000) for n, ts in got]
    assert got == oracle_frames(path)
    assert {f.interface for f in frames} == {r"\Device\NPF_{08CBC0D0-BD89-48BE-9696-8047B3534AD3}"}


@settings(max_examples=60, deadline=None)
@given(
    packets=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2**64 - 1), st.binary(max_size=200)),
        max_size=20,
    ),
    big_endian=st.booleans(),
    resolutions=st.tuples(*[st.sampled_from([None, 0, 3, 6, 9, 12, 0x80 | 16, 0x80 | 30])] * 3),
)
def test_round_trip(packets, big_endian: bool, resolutions) -> None:
    w = PcapngWriter()
    w.shb(big_endian=big_endian)
    for i, resol in enumerate(resolutions):
        w.idb(linktype=100 + i, tsresol=resol, name=f"n{i}")
    for index, ticks, data in packets:
        w.epb(index, ticks, data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pcapng"
        path.write_bytes(w.to_bytes())
        got, damage = read_all(str(path))
    assert damage == []

    def ns(ticks: int, resol: int | None) -> int:
        scale = Fraction(1, 10**6) if resol is None else tsresol_fraction(resol)
        return round(ticks * scale * 10**9 + Fraction(1, 10**12))  # halves round up

    assert [(f.interface, f.linktype, f.data, f.ts_ns) for f in got] == [
        (f"n{i}", 100 + i, data, ns(ticks, resolutions[i])) for i, ticks, data in packets
    ]


def tsresol_fraction(value: int) -> Fraction:
    exponent = value & 0x7F
    return Fraction(1, 2**exponent) if value & 0x80 else Fraction(1, 10**exponent)
