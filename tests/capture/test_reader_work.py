"""The fast pcap reader's work grows with records, not with the time a capture spans.

Work is counted, not timed: records stepped one at a time in Python, candidate searches
(each costs the rest of a block) and candidates handed to the chain walk.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from bench.generate import steady, write_scenario
from tests.helpers.capturewriter import PcapFile, PcapngWriter, ether_frame
from vrrpscope.capture import open_capture
from vrrpscope.columnar import pcapng as fastpath_pcapng
from vrrpscope.columnar import records
from vrrpscope.columnar.pcapng import PcapngBlocks
from vrrpscope.columnar.records import PcapBlocks, read_header

BLOCK = 64 << 10  # small blocks: several per file, carried-over records included


def fast_read(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[PcapBlocks, list, int]:
    """(reader, [(number, ts_ns)], candidates given to chain_from_first)."""
    walked = 0
    real_chain = records.chain_from_first

    def counting_chain(cand: np.ndarray, length: np.ndarray) -> np.ndarray:
        nonlocal walked
        walked += len(cand)
        return real_chain(cand, length)

    monkeypatch.setattr(records, "chain_from_first", counting_chain)
    info = read_header(path.read_bytes()[:24])
    assert info is not None
    reader = PcapBlocks(str(path), info, BLOCK, prefetch=False)
    got = [(int(n), int(t)) for b in reader for n, t in zip(b.number, b.ts_ns, strict=True)]
    return reader, got, walked


def general_read(path: Path) -> list[tuple[int, int]]:
    with open_capture(str(path)) as source:
        return [(f.number, f.ts_ns) for chunk in source.chunks() for f in chunk]


@pytest.mark.parametrize("interval_cs", [100, 500, 1000, 13100])
def test_steady_adverts_are_read_in_vectorised_runs_at_any_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval_cs: int
) -> None:
    """131 s apart, 8000 adverts span 16 changes of the seconds' second byte."""
    path = tmp_path / "steady.pcap"
    count = write_scenario(str(path), steady(8000, interval_cs))
    reader, got, walked = fast_read(path, monkeypatch)
    assert got == general_read(path)
    assert len(got) == count == 8000
    blocks = path.stat().st_size // BLOCK + 1
    assert reader.stepped <= 2 * 18 + blocks  # two records where the seconds move on
    assert reader.searches <= 18 + 2 * blocks
    assert walked <= 3 * count + records.CHAIN_WINDOW * (reader.stepped + 2 * blocks)


def test_a_nul_tail_is_walked_vectorised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file padded with 256 KiB of zeros (16-byte empty records) after real ones."""
    path = tmp_path / "tail.pcap"
    write_scenario(str(path), steady(2000, 500))
    with path.open("ab") as f:
        f.write(bytes(256 << 10))
    reader, got, _walked = fast_read(path, monkeypatch)
    assert got == general_read(path)
    assert len(got) == 2000 + (256 << 10) // 16
    assert reader.stepped <= 10
    assert reader.damage == []


def test_alternating_far_timestamps_cost_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other record a day later: each is stepped, but searches stay few and each
    stepped record costs at most one small chain window."""
    pcap = PcapFile()
    for i in range(6000):
        pcap.add((1_700_000_000 + i + (86_400 * 3 if i % 2 else 0)) * 10**9, ether_frame(i))
    path = tmp_path / "alternating.pcap"
    path.write_bytes(pcap.to_bytes())
    reader, got, walked = fast_read(path, monkeypatch)
    assert got == general_read(path)
    blocks = path.stat().st_size // BLOCK + 1
    assert reader.searches <= 40 * blocks
    assert walked <= 3 * 6000 + records.CHAIN_WINDOW * (reader.stepped + 2 * blocks)


def test_many_small_records_read_in_few_chain_calls(tmp_path: Path) -> None:
    """200,000 identical records: nothing stepped, one search per block."""
    record = struct.pack("<IIII", 1_700_000_000, 0, 60, 60) + ether_frame(0)
    path = tmp_path / "many.pcap"
    path.write_bytes(PcapFile().header() + record * 200_000)
    info = read_header(path.read_bytes()[:24])
    assert info is not None
    reader = PcapBlocks(str(path), info, prefetch=False)
    assert sum(len(b.start) for b in reader) == 200_000
    assert reader.stepped == 0
    assert reader.searches <= path.stat().st_size // records.BLOCK + 2


def test_pcapng_blocks_stepped_often_cost_a_small_scan_each(tmp_path: Path) -> None:
    """EPBs each followed by a name resolution block (stepped by the reader): every
    vectorised pass after a step looks at a few KiB, not at the rest of the buffer."""
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
    assert blocks.scanned <= 4 * path.stat().st_size + fastpath_pcapng.SPAN * 3001
