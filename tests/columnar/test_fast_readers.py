"""The fast readers (the compiled record walk) read what the capture readers read, on
the inputs that once made the vectorised walk step or search: seconds moving on, NUL
tails, far timestamps, many small records, pcapng blocks the reader steps between EPBs.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from bench.generate import steady, write_scenario
from tests.helpers.capturewriter import PcapFile, PcapngWriter, ether_frame
from vrrpscope.capture import open_capture
from vrrpscope.columnar.pcapng import PcapngBlocks
from vrrpscope.columnar.records import PcapBlocks, read_header

BLOCK = 64 << 10  # small blocks: several per file, carried-over records included


def fast_read(path: Path) -> tuple[PcapBlocks, list]:
    """(reader, [(number, ts_ns)])."""
    info = read_header(path.read_bytes()[:24])
    assert info is not None
    reader = PcapBlocks(str(path), info, BLOCK, prefetch=False)
    got = [(int(n), int(t)) for b in reader for n, t in zip(b.number, b.ts_ns, strict=True)]
    return reader, got


def general_read(path: Path) -> list[tuple[int, int]]:
    with open_capture(str(path)) as source:
        return [(f.number, f.ts_ns) for chunk in source.chunks() for f in chunk]


@pytest.mark.parametrize("interval_cs", [100, 500, 1000, 13100])
def test_steady_adverts_are_read_at_any_interval(tmp_path: Path, interval_cs: int) -> None:
    """131 s apart, 8000 adverts span 16 changes of the seconds' second byte."""
    path = tmp_path / "steady.pcap"
    count = write_scenario(str(path), steady(8000, interval_cs))
    reader, got = fast_read(path)
    assert got == general_read(path)
    assert len(got) == count == 8000


def test_a_nul_tail_is_walked(tmp_path: Path) -> None:
    """A file padded with 256 KiB of zeros (16-byte empty records) after real ones."""
    path = tmp_path / "tail.pcap"
    write_scenario(str(path), steady(2000, 500))
    with path.open("ab") as f:
        f.write(bytes(256 << 10))
    reader, got = fast_read(path)
    assert got == general_read(path)
    assert len(got) == 2000 + (256 << 10) // 16
    assert reader.damage == []


def test_alternating_far_timestamps_are_read(tmp_path: Path) -> None:
    """Every other record a day later."""
    pcap = PcapFile()
    for i in range(6000):
        pcap.add((1_700_000_000 + i + (86_400 * 3 if i % 2 else 0)) * 10**9, ether_frame(i))
    path = tmp_path / "alternating.pcap"
    path.write_bytes(pcap.to_bytes())
    reader, got = fast_read(path)
    assert got == general_read(path) and len(got) == 6000


def test_many_small_records_across_blocks(tmp_path: Path) -> None:
    """200,000 identical records, records cut at every block end carried over."""
    record = struct.pack("<IIII", 1_700_000_000, 0, 60, 60) + ether_frame(0)
    path = tmp_path / "many.pcap"
    path.write_bytes(PcapFile().header() + record * 200_000)
    info = read_header(path.read_bytes()[:24])
    assert info is not None
    reader = PcapBlocks(str(path), info, prefetch=False)
    numbers = np.concatenate([b.number for b in reader])
    assert (numbers == np.arange(1, 200_001)).all() and reader.damage == []


def test_pcapng_blocks_stepped_often_between_epbs(tmp_path: Path) -> None:
    """EPBs each followed by a name resolution block (stepped by the reader), then a
    long run of EPBs alone."""
    w = PcapngWriter()
    w.shb()
    w.idb()
    for i in range(3000):
        w.epb(0, 1_700_000_000_000_000 + i * 1_000_000, ether_frame(i))
        w.nrb()
    for i in range(3000):  # then a long run of EPBs alone
        w.epb(0, 1_800_000_000_000_000 + i * 1_000_000, ether_frame(i))
    path = tmp_path / "stepped.pcapng"
    path.write_bytes(w.to_bytes())
    with open_capture(str(path)) as source:
        blocks = PcapngBlocks(source)
        got = [(int(n), int(t)) for b in blocks for n, t in zip(b.number, b.ts_ns, strict=True)]
        assert source.damage == []
    assert got == general_read(path)
    assert len(got) == 6000
