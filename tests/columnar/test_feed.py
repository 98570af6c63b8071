"""analyze_files on the fast route gives exactly what the general route gives.

Compared: every item fed to the engine (adverts, other traffic, address claims, in
order), the JSON output of `analyze --json` (summary with counts, notes, damage and
inventory; one object per virtual router; one per finding), the finding events as they
were emitted, the engine's counts, and the kept adverts table.
"""

from __future__ import annotations

import glob
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench import generate
from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile, PcapngWriter
from tests.helpers.frames import crafted_frames
from tests.helpers.routes import _state, assert_same
from vrrpscope.analysis import analyze_files
from vrrpscope.columnar.feed import BatchDecoder
from vrrpscope.columnar.records import BLOCK

ROOT = Path(__file__).resolve().parents[2]
PEER = sorted(glob.glob(str(ROOT / "tests/fixtures/peer/*/*.pcap*")))
CAPTURES = sorted(glob.glob(str(ROOT / "captures/*.pcap*")))
FUZZ = sorted(glob.glob(str(ROOT / "tests/fuzz/corpus/*.pcap*")))
FILES = [p for p in PEER + CAPTURES + FUZZ if p.endswith((".pcap", ".pcapng"))]


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).name)
def test_same_findings_on_every_capture(path: str) -> None:
    assert_same([path])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"vlan": True},
        {"link": "sll"},
        {"link": "sll2"},
        {"fmt": "pcapng"},
        {"fmt": "pcapng", "link": "sll2"},
        {"fmt": "pcapng", "vlan": True},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "plain",
)
def test_same_findings_on_generated_captures(tmp_path: Path, options: dict) -> None:
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 8000, seed=3, **options)
    analysis = assert_same([path])
    assert analysis is not None and analysis.stats.adverts > 6000
    assert analysis.findings  # the generator's failovers and split brains


def test_same_on_sll2_any_capture() -> None:
    assert_same([str(ROOT / "captures/any-sll2.pcap")])


def test_same_on_merged_multi_segment_files(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.pcap"), str(tmp_path / "b.pcapng")
    generate.write(a, 3000, seed=11, vlan=True)
    generate.write(b, 3000, seed=12, fmt="pcapng", link="sll2")
    assert_same([a, b])
    assert_same([str(ROOT / "captures/failover.pcap"), str(ROOT / "captures/any-sll2.pcap")])


def test_same_on_a_file_captured_twice(tmp_path: Path) -> None:
    copy = tmp_path / "copy.pcap"
    shutil.copy(ROOT / "captures/split-brain.pcap", copy)
    analysis = assert_same([str(ROOT / "captures/split-brain.pcap"), str(copy)])
    assert analysis is not None and any("counted once" in n for n in analysis.notes)


def test_same_on_compressed_input(tmp_path: Path) -> None:
    plain = tmp_path / "a.pcap"
    generate.write(str(plain), 3000, seed=8, link="sll2")
    packed = tmp_path / "a.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert_same([str(packed)])


def test_same_on_crafted_frames_repeated(tmp_path: Path) -> None:
    """Every validation issue and fallback branch, each frame repeated (grouped)."""
    path = tmp_path / "crafted.pcap"
    frames = crafted_frames()
    pcap = PcapFile()
    for rnd in range(4):
        for i, data in enumerate(frames):
            pcap.add(1_700_000_000_000_000_000 + (rnd * 100 + i) * 500_000_000, data)
    path.write_bytes(pcap.to_bytes())
    assert_same([str(path)])


def test_same_with_odd_timestamps_and_lengths(tmp_path: Path) -> None:
    """Backwards steps, and one frame captured with different original lengths."""
    frames = crafted_frames()
    pcap = PcapFile()
    for i, ts in enumerate([1_700_000_000, 5, 1_700_000_001, 4_000_000_000, 1_700_000_002] * 4):
        pcap.add(ts * 1_000_000_000 + i, frames[0], orig_len=len(frames[0]) + i % 3)
        pcap.add(ts * 1_000_000_000 + i + 7, frames[-5])
    path = tmp_path / "ts.pcap"
    path.write_bytes(pcap.to_bytes())
    assert_same([str(path)])


def test_general_route_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(ROOT / "captures/failover.pcap")
    seen: list = []
    monkeypatch.setenv("VRRPSCOPE_GENERAL", "1")
    analyze_files([path], on_progress=seen.append)
    monkeypatch.setenv("VRRPSCOPE_GENERAL", "0")
    analyze_files([path], on_progress=seen.append)
    # (progress is reported every 50,000 items: none on a small capture)
    assert seen == []


@pytest.mark.parametrize("where", [0, 1, 3_000])  # 3,000 padded frames: past a 4 MiB block
def test_timestamp_past_int64_in_pcapng(tmp_path: Path, where: int) -> None:
    """A time a column cannot hold, in the first block or after one (read on). Frames
    carry Ethernet padding up to 1,500 bytes, so few of them fill a block."""
    frame = P.ethernet(P.ipv4(P.vrrp_v2(7, 100, ["198.18.1.1"]), src="198.18.1.11"))
    other = P.ethernet(P.ipv4(b"", src="198.18.1.12", dst="224.0.0.5", proto=89))
    frame, other = (f + bytes(1500 - len(f)) for f in (frame, other))
    w = PcapngWriter()
    w.shb()
    w.idb(name="eth0", tsresol=9)
    base = 1_700_000_000_000_000_000
    for i in range(where + 5):
        w.epb(0, base + i * 10_000_000, frame if i % 7 else other)
        if i == where:
            w.epb(0, (1 << 64) - 1, frame)
    path = tmp_path / "huge-ts.pcapng"
    path.write_bytes(w.to_bytes())
    assert where < 3_000 or path.stat().st_size > BLOCK  # the bad time is past a block
    assert_same([str(path)])


def test_progress_reports_bytes_on_both_routes(tmp_path: Path) -> None:
    """The progress bar reads run.reader.total_bytes / bytes_read every 50,000 items."""
    path = tmp_path / "p.pcap"
    generate.write(str(path), 120_000, seed=2)
    for general, parallel in ((True, False), (False, False), (False, True)):
        seen: list[tuple[int | None, int]] = []

        def note(run, seen=seen) -> None:
            seen.append((run.reader.total_bytes, run.reader.bytes_read))

        analyze_files([str(path)], general=general, on_progress=note, parallel=parallel)
        assert len(seen) == 2, (general, parallel)
        assert all(total == path.stat().st_size and 0 < done <= total for total, done in seen)


def test_kept_adverts_table_on_the_bulk_route(tmp_path: Path) -> None:
    """The notebook API keeps the adverts table: the bulk route gives the same one."""
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 8000, seed=5, vlan=True)
    for paths in ([path], [str(ROOT / "captures/split-brain.pcap")]):
        slow = analyze_files(paths, keep_adverts=True, general=True)
        fast = analyze_files(paths, keep_adverts=True, general=False)
        assert _state(fast) == _state(slow)
        assert fast.adverts is not None and slow.adverts is not None
        assert np.array_equal(fast.adverts.rows, slow.adverts.rows)
        assert fast.adverts.sources == slow.adverts.sources


def _live_batches(frames: list, sizes: list[int]) -> tuple[BatchDecoder, list]:
    live = BatchDecoder()
    got = []
    at = k = 0
    while at < len(frames):
        size = sizes[k % len(sizes)]
        got.extend(live.decode_frames(frames[at : at + size]))
        at, k = at + size, k + 1
    return live, got


def _assert_live_batches(frames: list) -> BatchDecoder:
    from vrrpscope.proto.decode import Decoder

    general = Decoder()
    expected = [item for f in frames if (item := general.decode(f)) is not None]
    live, got = _live_batches(frames, [1, 5, 300, 37, 2, 4096])
    assert got == expected
    assert live.stats == general.stats
    return live


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).name)
def test_live_batches_decode_as_the_general_decoder(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """decode_frames (a live capture's batches) gives the general decoder's items and
    counts, every batch columnar here, even of one frame."""
    from vrrpscope.capture import read_frames
    from vrrpscope.columnar import feed as fastfeed

    monkeypatch.setattr(fastfeed, "COLUMNAR_BATCH", 1)
    frames = [f for chunk in read_frames([path], chunk_size=4096) for f in chunk]
    live = _assert_live_batches(frames)
    if all(-(1 << 63) <= f.ts_ns < 1 << 63 for f in frames):  # (else: frame by frame)
        assert live.fast_frames + live.fallback_frames == len(frames)  # all columnar


@pytest.mark.parametrize(("link", "vlan"), [("ether", False), ("ether", True), ("sll2", False)])
def test_live_batches_of_generated_traffic(tmp_path: Path, link: str, vlan: bool) -> None:
    """Batches big enough for the columnar decode (and small ones) on generated traffic."""
    from vrrpscope.capture import read_frames

    path = tmp_path / "live.pcap"
    generate.write(str(path), 6000, seed=4, link=link, vlan=vlan)
    frames = [f for chunk in read_frames([str(path)], chunk_size=4096) for f in chunk]
    live = _assert_live_batches(frames)
    assert 0 < live.fast_frames < len(frames)  # big batches columnar, small ones not


@pytest.mark.parametrize(("at", "ts"), [(10, 1 << 64), (0, -(1 << 64))])
def test_live_batch_after_a_time_past_int64(tmp_path: Path, at: int, ts: int) -> None:
    """A batch decoded frame by frame (a time past int64) and then a columnar one."""
    from dataclasses import replace

    from vrrpscope.capture import read_frames

    path = tmp_path / "live.pcap"
    generate.write(str(path), 2000, seed=6)
    frames = [f for chunk in read_frames([str(path)], chunk_size=4096) for f in chunk]
    frames[at] = replace(frames[at], ts_ns=ts)
    cut = at + 1 if at == 0 else 300
    from vrrpscope.proto.decode import Decoder

    general = Decoder()
    expected = [item for f in frames if (item := general.decode(f)) is not None]
    live = BatchDecoder()
    got = live.decode_frames(frames[:cut]) + live.decode_frames(frames[cut:])
    assert got == expected
    assert live.stats == general.stats
    assert live.fast_frames == len(frames) - cut  # the second batch was columnar


@pytest.mark.parametrize("block", [1 << 22, 20000])
def test_same_on_two_nodes_captures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """One segment captured on two nodes: most frames in both files, a little apart in
    time, some in one only. The bulk route drops the copies as the general route does."""
    import random

    from vrrpscope import analysis
    from vrrpscope.capture import read_frames

    first = tmp_path / "node1.pcap"
    generate.write(str(first), 6000, seed=9)
    frames = [f for chunk in read_frames([str(first)], chunk_size=4096) for f in chunk]
    rng = random.Random(9)
    node1, node2 = PcapFile(nanosecond=True), PcapFile(nanosecond=True)
    for f in frames:
        where = rng.random()
        if where < 0.9:
            node1.add(f.ts_ns, f.data)
        if where > 0.1:
            node2.add(f.ts_ns + rng.choice([0, 2_000, 40_000_000, 300_000_000]), f.data)
    node2.records.sort(key=lambda r: r.ts_ns)
    paths = [str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")]
    Path(paths[0]).write_bytes(node1.to_bytes())
    Path(paths[1]).write_bytes(node2.to_bytes())
    monkeypatch.setattr(analysis, "FAST_BLOCK", block)
    planned = []
    original = analysis.feed_plans
    monkeypatch.setattr(
        analysis, "feed_plans", lambda *a, **k: planned.append(1) or original(*a, **k)
    )
    result = assert_same(paths)
    assert planned  # the bulk route
    assert result is not None and any("counted once" in n for n in result.notes)
