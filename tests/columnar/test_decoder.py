"""The columnar fast path gives exactly what the general path gives: table, counts, damage."""

from __future__ import annotations

import glob
import gzip
from pathlib import Path

import numpy as np
import pytest

from bench import generate
from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from tests.helpers.frames import SRC4, SRC6, _v2, crafted_frames
from vrrpscope.columnar.adverts import AdvertTable
from vrrpscope.columnar.decoder import ColumnarDecoder, fast_table, iter_chunks
from vrrpscope.columnar.vrrp import FORMS, issue_names
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession

ROOT = Path(__file__).resolve().parents[2]
PEER = sorted(glob.glob(str(ROOT / "tests/fixtures/peer/*/*.pcap*")))
CAPTURES = sorted(glob.glob(str(ROOT / "captures/*.pcap*")))
FUZZ = sorted(glob.glob(str(ROOT / "tests/fuzz/corpus/*.pcap*")))
FILES = [p for p in PEER + CAPTURES + FUZZ if p.endswith((".pcap", ".pcapng"))]
SIDE_TABLES = ("files", "segments", "sources", "macs", "address_sets")
BLOCKS = (16 << 20, 4096, 97)  # one block, several, and a block smaller than a record


def general(path: str) -> tuple[AdvertTable, object, list, list[Advert]]:
    run = DecodeSession([path])
    adverts = [item for item in run.items() if isinstance(item, Advert)]
    return AdvertTable.from_adverts(adverts), run.decoder.stats, run.damage, adverts


def assert_same(path: str, blocks: tuple[int, ...] = BLOCKS) -> ColumnarDecoder:
    """Fast == general for every block size; returns the last fast run."""
    table, stats, damage, adverts = general(path)
    for block in blocks:
        run = ColumnarDecoder([path], block)
        chunks = list(run.chunks())
        rows = np.concatenate([c.table.rows for c in chunks]) if chunks else table.rows[:0]
        assert rows.dtype == table.rows.dtype
        assert len(rows) == len(table.rows), (block, len(rows), len(table.rows))
        assert np.array_equal(rows, table.rows), block
        fast = chunks[-1].table if chunks else AdvertTable(rows)
        for name in SIDE_TABLES:
            assert getattr(fast, name) == getattr(table, name), (name, block)
        assert run.stats == stats, block
        assert run.damage == damage, block
        issues = np.concatenate([c.issues for c in chunks]) if chunks else []
        forms = np.concatenate([c.form for c in chunks]) if chunks else []
        assert [set(issue_names(int(m))) for m in issues] == [set(a.issues) for a in adverts]
        assert [FORMS[int(f)] for f in forms] == [a.checksum_form for a in adverts]
    return run


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).name)
def test_same_as_general_path_on_every_capture(path: str) -> None:
    try:
        general(path)
    except Exception as exc:  # e.g. timestamps past 2262 overflow the table's int64
        with pytest.raises(type(exc)):
            fast_table(path)
        return
    assert_same(path)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"vlan": True},
        {"link": "sll"},
        {"link": "sll2"},
        {"fmt": "pcapng"},
        {"fmt": "pcapng", "link": "sll2"},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "plain",
)
def test_same_on_generated_captures(tmp_path: Path, options: dict) -> None:
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 6000, seed=5, **options)
    run = assert_same(path, blocks=(16 << 20, 20000))
    assert run.stats.adverts > 5000
    assert run.fallback_frames == 0  # everything took the vectorised path
    assert run.fast_frames == 6000


def test_compressed_and_merged_inputs_take_the_frames_path(tmp_path: Path) -> None:
    plain = tmp_path / "a.pcap"
    generate.write(str(plain), 3000, seed=8, link="sll2")
    packed = tmp_path / "a.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    run = assert_same(str(packed), blocks=(1 << 20,))
    assert run.fallback_frames == 0 and run.fast_frames == 3000


def _write(path: Path, frames: list[bytes], **options) -> str:
    pcap = PcapFile(**options)
    for i, data in enumerate(frames):
        pcap.add(1_700_000_000_000_000_000 + i * 1_000_000, data)
    path.write_bytes(pcap.to_bytes())
    return str(path)


@pytest.mark.parametrize(
    "options",
    [{}, {"big_endian": True}, {"nanosecond": True}, {"modified": True}],
    ids=["le", "be", "ns", "modified"],
)
def test_crafted_edge_cases(tmp_path: Path, options: dict) -> None:
    frames = crafted_frames() * 3
    run = assert_same(_write(tmp_path / "edge.pcap", frames, **options), blocks=(1 << 20, 300))
    assert run.fast_frames > 0 and run.fallback_frames > 0


def test_every_validation_issue_is_exercised(tmp_path: Path) -> None:
    table, _stats, _damage, adverts = general(_write(tmp_path / "e.pcap", crafted_frames()))
    seen = {issue for a in adverts for issue in a.issues}
    from vrrpscope.columnar.vrrp import ISSUE_BITS

    assert seen == set(ISSUE_BITS)
    assert {a.checksum_form for a in adverts} == set(FORMS)


def test_other_link_types(tmp_path: Path) -> None:
    msg = P.ipv4(_v2(), src=SRC4)
    v6 = P.ipv6(P.vrrp_v3(10, 100, ["fe80::1"], src=SRC6), src=SRC6)
    for linktype, frames in (
        (113, [P.sll(msg), P.sll(v6), P.sll(msg, pkttype=4)]),
        (276, [P.sll2(msg, ifindex=3), P.sll2(v6, ifindex=4), P.sll2(msg, ifindex=3)[:10]]),
        (101, [msg, v6, b"", b"\x70" + msg[1:]]),
        (0, [P.null_loopback(msg)]),  # NULL: general path for the whole file
    ):
        path = _write(tmp_path / f"l{linktype}.pcap", frames * 2, linktype=linktype)
        assert_same(path, blocks=(1 << 20, 64))


def test_odd_timestamps_take_the_stepping_path(tmp_path: Path) -> None:
    pcap = PcapFile()
    frame = P.ethernet(P.ipv4(_v2(), src=SRC4))
    for i, ts in enumerate([1_700_000_000, 5, 1_700_000_001, 4_000_000_000, 1_700_000_002] * 4):
        pcap.add(ts * 1_000_000_000 + i, frame)
    path = tmp_path / "ts.pcap"
    path.write_bytes(pcap.to_bytes())
    assert_same(str(path), blocks=(1 << 20, 200))


@pytest.mark.parametrize("cut", [1, 10, 17, 30])
def test_truncated_file_damage_matches(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.pcap"
    data = Path(_write(tmp_path / "full.pcap", crafted_frames()[:20])).read_bytes()
    path.write_bytes(data[:-cut])
    run = assert_same(str(path), blocks=(1 << 20, 128))
    assert len(run.damage) == 1


def test_impossible_caplen_damage_matches(tmp_path: Path) -> None:
    pcap = PcapFile()
    frame = P.ethernet(P.ipv4(_v2(), src=SRC4))
    for i in range(6):
        pcap.add(1_700_000_000_000_000_000 + i, frame)
    pcap.records[3].caplen = 10_000_000
    path = tmp_path / "bad.pcap"
    path.write_bytes(pcap.to_bytes())
    run = assert_same(str(path), blocks=(1 << 20, 100))
    assert run.damage[0].offset == pcap.offsets()[3]
    assert "claims 10000000 captured bytes" in run.damage[0].message


def test_progress_counts_bytes_read(tmp_path: Path) -> None:
    path = tmp_path / "gen.pcap"
    generate.write(str(path), 30_000, seed=2)
    run = ColumnarDecoder([str(path)], block=1 << 16)
    assert run.total_bytes == path.stat().st_size and run.bytes_read == 0
    seen = [run.bytes_read for _chunk in run.chunks()]
    assert seen == sorted(seen) and 0 < seen[0] < run.total_bytes
    assert run.bytes_read == run.total_bytes - 24  # all but the file header


def test_fast_table_and_streaming_agree(tmp_path: Path) -> None:
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 3000, seed=2)
    table, stats, damage = fast_table(path)
    chunks = list(iter_chunks(path, block=8192))
    assert len(chunks) > 3
    assert np.array_equal(np.concatenate([c.table.rows for c in chunks]), table.rows)
    assert stats.frames == 3000 and not damage
    assert table.sources == chunks[-1].table.sources


def test_several_files_use_the_general_merge(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")
    generate.write(a, 500, seed=1)
    generate.write(b, 500, seed=2)
    run = DecodeSession([a, b])
    adverts = [item for item in run.items() if isinstance(item, Advert)]
    table, stats, _damage = fast_table([a, b])
    assert np.array_equal(table.rows, AdvertTable.from_adverts(adverts).rows)
    assert stats == run.decoder.stats


# --- pcapng: the vectorised EPB walk ---------------------------------------------------

from tests.helpers.capturewriter import PcapngWriter  # noqa: E402
from vrrpscope.columnar import pcapng as fastpath_pcapng  # noqa: E402


def _pcapng(damage: str | None = None, big_endian: bool = False) -> bytes:
    """Two sections, several interfaces (names, resolutions, offsets), every block type."""
    frames = crafted_frames()
    w = PcapngWriter()
    w.shb(big_endian=big_endian)
    w.idb(name="eth0")
    w.idb(tsresol=9, name="eth1.30")
    w.idb(linktype=101)  # raw IP, unnamed: "pcapng-if2"
    ticks = 1_700_000_000_000_000
    for i, data in enumerate(frames * 3):
        w.epb(i % 2, ticks + i * 1000 if i % 2 == 0 else (ticks + i * 1000) * 1000, data)
    raw = P.ipv4(_v2(), src=SRC4)
    w.epb(2, ticks, raw)
    w.isb(0)
    w.nrb()
    w.spb(frames[0])
    w.pb(0, ticks + 5, frames[1])
    w.epb(0, ticks + 6, frames[2], comment="with an option")
    w.shb(big_endian=not big_endian)
    w.idb(name="wan0", tsoffset=100)
    for i, data in enumerate(frames[:30]):
        w.epb(0, ticks + i, data)
    if damage == "trailer":
        w.block(6, bytes(24) + frames[0], trailer=8)
    elif damage == "interface":
        w.epb(5, ticks, frames[0])
    elif damage == "caplen":
        w.epb(0, ticks, frames[0], caplen=4000)
    out = w.to_bytes()
    if damage == "cut":
        out = out[:-10]
    return out


@pytest.mark.parametrize("damage", [None, "trailer", "interface", "caplen", "cut"])
@pytest.mark.parametrize("read", [4 << 20, 300, 64])
def test_pcapng_epb_walk_matches_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str | None, read: int
) -> None:
    monkeypatch.setattr(fastpath_pcapng, "READ", read)
    path = tmp_path / "t.pcapng"
    path.write_bytes(_pcapng(damage, big_endian=read == 300))
    run = assert_same(str(path), blocks=(1 << 20,))
    assert run.fast_frames > 100
    assert (len(run.damage) == 1) == (damage is not None)
    table, _stats, _damage = fast_table(str(path))
    assert {"eth0", "eth1.30.vlan30", "wan0", "pcapng-if2"} <= set(table.segments)


# --- the classic pcap block reader -----------------------------------------------------

import threading  # noqa: E402

from vrrpscope.columnar.records import THREAD_NAME, PcapBlocks, read_header  # noqa: E402


def test_reader_thread_gives_the_same_blocks_and_stops_when_abandoned(tmp_path: Path) -> None:
    path = tmp_path / "gen.pcap"
    generate.write(str(path), 20_000, seed=4)
    info = read_header(path.read_bytes()[:24])
    assert info is not None

    def records(prefetch: bool) -> list[tuple[int, bytes]]:
        out = []
        for block in PcapBlocks(str(path), info, 4096, prefetch=prefetch):
            for s, c, n in zip(block.start, block.caplen, block.number, strict=True):
                out.append((int(n), block.data[s : s + c].tobytes()))
        return out

    threaded = records(True)
    assert threaded == records(False)
    assert [n for n, _ in threaded] == list(range(1, 20_001))
    blocks = iter(PcapBlocks(str(path), info, 4096))
    next(blocks)
    blocks.close()  # abandoning the iteration ends the reader thread
    assert THREAD_NAME not in {t.name for t in threading.enumerate()}


# --- randomly damaged captures -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_randomly_damaged_captures_match(tmp_path: Path, seed: int) -> None:
    """Bytes overwritten anywhere after the file header, sometimes cut short."""
    import random

    rng = random.Random(seed)
    bases = []
    for i, options in enumerate(({}, {"link": "sll2"}, {"fmt": "pcapng"}, {"vlan": True})):
        path = tmp_path / f"base{i}"
        generate.write(str(path), 300, seed=seed, **options)
        bases.append(path.read_bytes())
    bases.append(Path(_write(tmp_path / "crafted.pcap", crafted_frames() * 2)).read_bytes())
    for round_ in range(10):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(24, len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(24, len(data))]
        path = tmp_path / f"damaged{round_}.cap"
        path.write_bytes(bytes(data))
        try:
            general(str(path))
        except Exception:  # a general-path bug the fuzz tests track; nothing to compare
            continue
        assert_same(str(path), blocks=(1 << 20, rng.choice([300, 4096])))


def test_ip_offsets_agree_with_the_link_parser() -> None:
    """dedup.ip_offsets finds the IPv4 header where parse_link does (or gives -1)."""
    from vrrpscope.columnar.frames import frames_block
    from vrrpscope.columnar.grouping import ip_offsets
    from vrrpscope.model import Frame
    from vrrpscope.proto.link import LinkError, parse_link

    ip = P.ipv4(_v2(), src=SRC4)
    cases = [(1, f) for f in crafted_frames()]
    cases += [(1, P.ethernet(ip, vlans=tags)) for tags in [(10,), (10, 20), (10, 20, 30)]]
    cases += [(1, P.ethernet(ip)[:20]), (1, P.ethernet(ip)[:40]), (1, b"\xff" * 60)]
    cases += [(101, ip), (228, ip), (229, ip), (101, P.ipv6(b"x" * 40, src="2001:db8::1"))]
    cases += [(113, P.sll(ip)), (276, P.sll2(ip, ifindex=3))]
    found = 0
    for linktype, data in cases:
        block = frames_block([Frame(0, linktype, data, len(data), 1)])
        at = int(ip_offsets(block, np.array([0]), linktype)[0])
        try:
            link = parse_link(linktype, data)
            want = len(data) - len(link.payload)
            is_v4 = link.ethertype == 0x0800 and len(link.payload) >= 12
        except LinkError:
            is_v4 = False
        if at >= 0:
            found += 1
            assert is_v4 and at == want, (linktype, data.hex())
    assert found >= len(crafted_frames()) // 2 + 6
