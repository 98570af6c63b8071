"""The compiled core (vrrpscope/_core.c) against the capture readers, the numpy sums and
hostile bytes."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vrrpscope import compiled
from vrrpscope.capture import open_capture
from vrrpscope.columnar.core import fast_info
from vrrpscope.columnar.records import PcapBlocks

pytestmark = pytest.mark.skipif(not compiled.BUILT, reason="the compiled core is not built")

ROOT = Path(__file__).resolve().parents[1]
PCAPS = sorted(
    p
    for p in [*ROOT.glob("captures/**/*.pcap"), *ROOT.glob("tests/fixtures/**/*.pcap")]
    if fast_info(str(p)) is not None
)


def _columns(n: int, k: int) -> list[np.ndarray]:
    return [np.full(n, -7, np.int64) for _ in range(k)]


def _reference_pcap(data: bytes, hlen: int, big: bool, limit: int, ns: int) -> tuple:
    """The walk in plain Python: what the C code must give."""
    order = ">" if big else "<"
    pos, out = 0, []
    while pos + hlen <= len(data):
        sec, frac, incl, orig = struct.unpack_from(order + "IIII", data, pos)
        if incl > limit:
            return out, pos, True
        if pos + hlen + incl > len(data):
            break
        out.append((pos, incl, orig, sec * 1_000_000_000 + frac * ns))
        pos += hlen + incl
    return out, pos, False


def _run_pcap(data: bytes, hlen: int, big: bool, limit: int, ns: int, capacity: int) -> tuple:
    cols = _columns(capacity, 4)
    n, stop, damaged = compiled.walk_pcap(data, 0, len(data), hlen, big, limit, ns, *cols)
    assert 0 <= n <= capacity and 0 <= stop <= len(data)
    assert all((col[n:] == -7).all() for col in cols)  # nothing written past the records
    return list(zip(*(col[:n].tolist() for col in cols), strict=True)), stop, damaged


@pytest.mark.parametrize("path", PCAPS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_pcap_walks_as_the_reader_reads_it(path: Path) -> None:
    info = fast_info(str(path))
    assert info is not None
    walked = [
        (ts, caplen, orig)
        for block in PcapBlocks(str(path), info, 4096, prefetch=False)
        for ts, caplen, orig in zip(
            block.ts_ns.tolist(), block.caplen.tolist(), block.orig.tolist(), strict=True
        )
    ]
    source = open_capture(str(path))  # the reader itself (before the time line's checks)
    try:
        read = [(f.ts_ns, len(f.data), f.orig_len) for c in source.reader.chunks() for f in c]
    finally:
        source.close()
    assert walked == read and walked


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=600),
    st.sampled_from([16, 24]),
    st.booleans(),
    st.integers(0, 300),
    st.sampled_from([1, 1000]),
    st.integers(1, 40),
)
def test_pcap_walk_of_any_bytes_is_the_reference_walk(
    data: bytes, hlen: int, big: bool, limit: int, ns: int, capacity: int
) -> None:
    records, stop, damaged = _run_pcap(data, hlen, big, limit, ns, capacity)
    want, want_stop, want_damaged = _reference_pcap(data, hlen, big, limit, ns)
    if len(want) > capacity:  # the arrays were full: it stopped at the next record
        assert records == want[:capacity] and not damaged
        assert stop == want[capacity][0]
    else:
        assert (records, stop, damaged) == (want, want_stop, want_damaged)


def test_lying_lengths_never_read_past_the_buffer() -> None:
    """A record claiming 4 GiB, a size argument past the buffer's end, a start past it."""
    head = struct.pack("<IIII", 1, 2, 0xFFFFFFFF, 60)
    assert compiled.walk_pcap(head, 0, len(head), 16, False, 0xFFFFFFFF, 1, *_columns(4, 4)) == (
        0,
        0,
        False,
    )
    short = struct.pack("<IIII", 1, 2, 4, 4) + b"abcd"
    n, stop, damaged = compiled.walk_pcap(short, 0, 1 << 30, 16, False, 100, 1, *_columns(4, 4))
    assert (n, stop, damaged) == (1, 20, False)
    assert compiled.walk_pcap(short, 1 << 40, 1 << 41, 16, False, 100, 1, *_columns(4, 4))[0] == 0


def test_output_arrays_must_be_int64_and_writable() -> None:
    data = struct.pack("<IIII", 1, 2, 0, 0)
    with pytest.raises(TypeError):
        compiled.walk_pcap(data, 0, 16, 16, False, 100, 1, *[np.zeros(4, np.int32)] * 4)
    frozen = np.zeros(4, np.int64)
    frozen.flags.writeable = False
    with pytest.raises((TypeError, BufferError, ValueError)):
        compiled.walk_pcap(data, 0, 16, 16, False, 100, 1, frozen, *_columns(4, 3))


def _epb(iface: int, payload: bytes, big: bool = False, trailer: int | None = None) -> bytes:
    order = ">" if big else "<"
    pad = b"\0" * (-len(payload) % 4)
    length = 32 + len(payload) + len(pad)
    body = struct.pack(order + "IIIIIII", 6, length, iface, 3, 4, len(payload), 99)
    return body + payload + pad + struct.pack(order + "I", length if trailer is None else trailer)


def _reference_epb(data: bytes, big: bool, interfaces: int) -> tuple[list, int]:
    order = ">" if big else "<"
    pos, out = 0, []
    while pos + 32 <= len(data):
        btype, length, iface, high, low, incl, orig = struct.unpack_from(
            order + "IIIIIII", data, pos
        )
        if btype != 6 or length & 3 or length < 32 or length > len(data) - pos:
            break
        if incl > length - 32 or iface >= interfaces:
            break
        if struct.unpack_from(order + "I", data, pos + length - 4)[0] != length:
            break
        out.append((pos, incl, orig, iface, high, low))
        pos += length
    return out, pos


def test_epb_walk_stops_at_the_first_block_that_is_not_a_good_epb() -> None:
    good = _epb(0, b"frame-1") + _epb(1, b"frame-two")
    for bad in (
        _epb(2, b"no such interface"),
        _epb(0, b"bad trailer", trailer=8),
        struct.pack("<II", 3, 12) + b"\0\0\0\0",  # a simple packet block: the reader's
    ):
        data = good + bad + _epb(0, b"after")
        cols = _columns(8, 6)
        n, stop = compiled.walk_epb(data, 0, len(data), False, 2, *cols)
        assert (n, stop) == (2, len(good))
        assert cols[0][:2].tolist() == [0, len(_epb(0, b"frame-1"))]
        assert cols[1][:2].tolist() == [7, 9] and cols[3][:2].tolist() == [0, 1]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=40), st.booleans()), max_size=6),
    st.binary(max_size=40),
    st.booleans(),
    st.integers(1, 8),
)
def test_epb_walk_of_any_bytes_is_the_reference_walk(
    blocks: list, junk: bytes, big: bool, capacity: int
) -> None:
    data = b"".join(_epb(i, p, big, None if ok else 12) for i, p, ok in blocks) + junk
    for cut in (len(data), max(len(data) - 5, 0)):
        chunk = data[:cut]
        cols = _columns(capacity, 6)
        n, stop = compiled.walk_epb(chunk, 0, len(chunk), big, 3, *cols)
        want, want_stop = _reference_epb(chunk, big, 3)
        got = list(zip(*(c[:n].tolist() for c in cols), strict=True))
        assert all((c[n:] == -7).all() for c in cols)
        if len(want) > capacity:
            assert got == want[:capacity] and stop == want[capacity][0]
        else:
            assert (got, stop) == (want, want_stop)


@pytest.mark.parametrize("name", ["failover.pcap", "many-vrids.pcap"])
@pytest.mark.parametrize("form", ["pcap", "pcapng"])
def test_without_the_compiled_walk_the_results_are_the_same(
    name: str, form: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Installed without a compiler: the fast route reads through the capture readers
    and gives the same state model as with the walk and as the general route."""
    from tests.helpers.routes import _state
    from vrrpscope.analysis import analyze_files

    path = str(ROOT / "captures" / name)
    if form == "pcapng":  # the same frames as pcapng (Wireshark's editcap)
        converted = tmp_path / "capture.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", path, str(converted)], check=True)
        path = str(converted)
    walked = _state(analyze_files([path], general=False))
    monkeypatch.setattr(compiled, "COMPILED", False)
    assert _state(analyze_files([path], general=False)) == walked
    assert _state(analyze_files([path], general=True)) == walked


def test_a_missing_walk_is_said_once(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(compiled, "BUILT", False)
    monkeypatch.setattr(compiled, "_said", False)
    compiled.say_if_not_built()
    compiled.say_if_not_built()
    err = capsys.readouterr().err
    assert err.count("compiled core was not built") == 1 and "python3-dev" in err


def _summaries(gaps: np.ndarray, known: dict[int, int] | None) -> tuple:
    from vrrpscope.engine.bulk import runs

    bins = np.minimum(gaps * 200 // 1_000_000_000, 1600)
    ts = np.cumsum(gaps) + 1_700_000_000 * 10**9
    fast = runs.summarize(gaps, bins, ts, known)
    before = compiled.COMPILED
    compiled.COMPILED = False
    try:
        slow = runs.summarize(gaps, bins, ts, known)
    finally:
        compiled.COMPILED = before
    return fast, slow


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 4_000_000_000), min_size=1, max_size=200),
    st.one_of(st.none(), st.dictionaries(st.integers(0, 1600), st.integers(1, 9), max_size=6)),
)
def test_gap_summary_is_numpys_to_the_histogram_order(gaps: list[int], known) -> None:
    """Sums, squares (exact past 64 bits), first longest gap, bins and the order new bins
    enter the histogram: the same as numpy's summary."""
    fast, slow = _summaries(np.array(gaps, np.int64), known)
    assert fast == slow and list(fast.hist) == list(slow.hist)


def test_gap_summary_leaves_what_it_cannot_sum_exactly_to_numpy() -> None:
    """A gap past 2**52 ns (its square could overflow 128 bits in a long run), a
    negative one: the compiled sum says None and numpy sums."""
    for gaps in ([1 << 53, 5], [7, -1, 3]):
        array = np.array(gaps, np.int64)
        assert compiled.gap_summary(array, np.zeros(len(gaps), np.int64), array) is None
    with pytest.raises(ValueError):
        compiled.gap_summary(np.zeros(3, np.int64), np.zeros(2, np.int64), np.zeros(3, np.int64))
    fast, slow = _summaries(np.array([1 << 53, 5], np.int64), None)
    assert fast == slow
