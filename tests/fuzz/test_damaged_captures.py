"""Real captures, damaged every way a file from a ticket can be: cut at every record
boundary and in between, bits flipped in headers and payloads, pcapng block lengths that
lie, caplen beyond the file, empty files, directories, FIFOs whose writer stops early.

`vrrpscope decode` (text and --json) must exit with the documented code (0, 3 or 4), print
no traceback, name the damage with its byte offset, and print exactly the adverts the intact
file gives up to the damaged record. Most runs call ``vrrpscope.cli.main`` in-process (fast);
a few run ``python -m vrrpscope`` as a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fuzz import CORPUS, REPO, known_bug, rng, rounds, time_limit
from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapngWriter
from vrrpscope import cli
from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK, EXIT_UNREADABLE

PEER = REPO / "tests" / "fixtures" / "peer"


def real_captures() -> list[Path]:
    """Every real capture in the tests, plus captures/ when it is there."""
    found = [*PEER.glob("*/*.pcap"), *PEER.glob("*/*.pcapng")]
    found += [*(REPO / "captures").glob("*.pcap"), *(REPO / "captures").glob("*.pcapng")]
    return sorted(found)


CAPTURES = real_captures()
IDS = [str(p.relative_to(REPO)) for p in CAPTURES]


# -- an independent record walker ---------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A pcap record or pcapng block: where it starts, its header, its packet bytes."""

    start: int
    header: int  # bytes of record header (pcap) or fixed block fields (pcapng)
    data: int  # offset of the packet bytes (== start + header)
    caplen: int  # packet bytes (0 for blocks without a packet)
    end: int
    frames_before: int  # packets in the file before this record
    is_shb: bool = False


LITTLE_ENDIAN_PCAP = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1")


def byte_order(data: bytes) -> str:
    """struct byte order of a pcap file or of a pcapng file's first section."""
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    return (
        "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1") else ">"
    )


def walk(data: bytes) -> tuple[int, list[Record]]:
    """(file header length, records) of an intact pcap or pcapng file."""
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return 0, _walk_pcapng(data)
    order = byte_order(data)
    header = 24 if data[:4] in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34") else 16
    records, pos = [], 24
    while pos < len(data):
        caplen = struct.unpack_from(order + "I", data, pos + 8)[0]
        end = pos + header + caplen
        records.append(Record(pos, header, pos + header, caplen, end, len(records)))
        pos = end
    assert pos == len(data)
    return 24, records


def _walk_pcapng(data: bytes) -> list[Record]:
    records, pos, frames, order = [], 0, 0, "<"
    while pos < len(data):
        if data[pos : pos + 4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        btype, length = struct.unpack_from(order + "II", data, pos)
        header, caplen = 8, 0
        if btype == 6:
            header, caplen = 28, struct.unpack_from(order + "I", data, pos + 20)[0]
        records.append(
            Record(pos, header, pos + header, caplen, pos + length, frames, btype == 0x0A0D0D0A)
        )
        frames += btype in (2, 3, 6)
        pos += length
    assert pos == len(data)
    return records


# -- running the CLI ----------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str


RUNS = {"in-process": 0, "process": 0}  # decode runs made, for the results table


@pytest.fixture(scope="module", autouse=True)
def _count_runs() -> Iterator[None]:
    yield
    print(f"\ndamaged-capture decode runs: {RUNS}")  # shown with pytest -s


def decode(path: Path | str, *options: str) -> Run:
    """``vrrpscope decode`` in-process, under the hang watchdog."""
    RUNS["in-process"] += 1
    out, err = io.StringIO(), io.StringIO()
    with (
        time_limit(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = cli.main(["decode", *options, str(path)])
    return Run(code, out.getvalue(), err.getvalue())


def decode_process(path: Path | str, *options: str, stdin: bytes | None = None) -> Run:
    """``python -m vrrpscope decode`` as a real process."""
    RUNS["process"] += 1
    result = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "decode", *options, str(path)],
        input=stdin,
        capture_output=True,
        timeout=60,
        cwd=REPO,
    )
    return Run(result.returncode, result.stdout.decode(), result.stderr.decode())


def json_adverts(run: Run) -> list[dict]:
    rows = [json.loads(line) for line in run.out.splitlines()]
    for row in rows:
        row.pop("file")
    return rows


def text_adverts(run: Run) -> list[str]:
    return run.out.splitlines()


def frame_of(line: str) -> int:
    return int(line.split()[0])


def assert_clean(run: Run, code: int) -> None:
    assert run.code == code, run.err
    assert "Traceback" not in run.err
    assert all(line.startswith("vrrpscope: ") for line in run.err.splitlines()), run.err


def assert_damage_at(run: Run, name: str, offset: int) -> None:
    """Exit 4 and the damage is named, with its byte offset, on one line."""
    assert_clean(run, EXIT_DAMAGED)
    damage = [line for line in run.err.splitlines() if "damaged input" in line]
    assert len(damage) == 1, run.err
    assert f"{name}: byte {offset}: " in damage[0], damage[0]


@dataclass
class Intact:
    """A capture and what its intact copy decodes to."""

    data: bytes
    header: int
    records: list[Record]
    rows: list[dict]
    lines: list[str]

    def rows_before(self, frames: int) -> list[dict]:
        return [row for row in self.rows if row["frame"] <= frames]

    def lines_before(self, frames: int) -> list[str]:
        return [line for line in self.lines if frame_of(line) <= frames]

    def record_at(self, offset: int) -> Record:
        return next(r for r in self.records if r.start <= offset < r.end)


def intact(capture: Path, scratch: Path) -> Intact:
    """Snapshot the capture (captures/ may be rewritten meanwhile) and decode it whole."""
    data = capture.read_bytes()
    path = scratch / f"intact{capture.suffix}"
    path.write_bytes(data)
    try:
        as_json, as_text = decode(path, "--json"), decode(path)
    except Exception as exc:
        bug = known_bug(exc)
        if bug is None:
            raise
        pytest.xfail(f"{capture.name} hits a known bug: {bug.name}")
    for _ in range(3):  # (a repair may show the next slip)
        if as_json.code != EXIT_DAMAGED or not _out_of_sequence(as_json):
            break
        data = _repair_times(data, _out_of_sequence(as_json))  # fuzz the repaired copy
        path.write_bytes(data)
        as_json, as_text = decode(path, "--json"), decode(path)
    if as_json.code != EXIT_OK:  # a capture damaged on purpose: nothing intact to compare
        pytest.skip(f"{capture.name} is not intact: {as_json.err.strip()}")
    assert_clean(as_json, EXIT_OK)
    assert_clean(as_text, EXIT_OK)
    header, records = walk(data)
    return Intact(data, header, records, json_adverts(as_json), text_adverts(as_text))


def _out_of_sequence(run: Run) -> list[int]:
    """Frames a decode left out for their out-of-sequence timestamps (and nothing else)."""
    lines = [line for line in run.err.splitlines() if "damaged input" in line]
    if not lines or not all(": timestamp " in line and ": byte " not in line for line in lines):
        return []
    return [int(line.split(": frame ")[1].split(":")[0]) for line in lines]


def _repair_times(data: bytes, frames: list[int]) -> bytes:
    """``data`` with each of ``frames`` stamped with the time of the frame before it (or
    after it, for the first): the public oobr captures carry such slips; fuzzing their
    repaired copies keeps the comparisons exact."""
    out = bytearray(data)
    order = byte_order(data)
    packets = [r for r in walk(data)[1] if not r.is_shb and (r.header in (16, 24, 28))]
    field = (12, 8) if data[:4] == b"\x0a\x0d\x0d\x0a" else (0, 8)  # (EPB / pcap) ts
    for frame in frames:
        bad = packets[frame - 1]
        good = packets[frame - 2] if frame > 1 else packets[frame]
        at, size = field
        out[bad.start + at : bad.start + at + size] = out[good.start + at : good.start + at + size]
    assert order  # (both forms keep the file's byte order: bytes are copied as they are)
    return bytes(out)


def check_cut(whole: Intact, path: Path, cut: int, text: bool) -> None:
    """Decode the first ``cut`` bytes (as JSON, and as text when ``text``) and check the
    exit code, the damage offset and that the adverts are the intact file's up to there."""
    path.write_bytes(whole.data[:cut])
    first = whole.records[0]
    if cut < whole.header or (first.is_shb and cut < first.end) or cut == 0:
        for options in (("--json",), ()):
            run = decode(path, *options)
            assert_clean(run, EXIT_UNREADABLE)  # not even a whole file header
            assert run.out == ""
        return
    starting = [r for r in whole.records if r.start == cut]
    frames = starting[0].frames_before if starting else whole.record_at(cut).frames_before
    for options in (("--json",), ()) if text else (("--json",),):
        run = decode(path, *options)
        if starting:  # a clean cut between two records: the file just ends there
            assert_clean(run, EXIT_OK)
        else:
            assert_damage_at(run, path.name, whole.record_at(cut).start)
        if options:
            assert json_adverts(run) == whole.rows_before(frames)
        else:
            assert text_adverts(run) == whole.lines_before(frames)


MAX_CUTS = 300  # cuts decoded per capture (all of them on captures with no more)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_cut_at_every_record_boundary_and_inside_every_record(capture: Path, fast_tmp: Path):
    whole = intact(capture, fast_tmp)
    path = fast_tmp / f"cut{capture.suffix}"
    cuts = {0, 1, whole.header // 2, whole.header}
    for i, record in enumerate(whole.records):
        inside = (record.start + 1, record.data, record.data + record.caplen // 2, record.end - 1)
        cuts |= {record.start, inside[i % 4]}  # a different part of each record
    cuts = sorted(c for c in cuts if c < len(whole.data))
    # A decode per cut: past the first 100, at most MAX_CUTS in all, spread evenly over
    # the file with an odd step (boundaries and record insides alternate, so both stay
    # covered); every cut with VRRPSCOPE_FUZZ_ROUNDS >= 2. The suite stays quick.
    step = 1
    if rounds(1) == 1 and len(cuts) > MAX_CUTS:
        step = math.ceil((len(cuts) - 100) / (MAX_CUTS - 100)) | 1
    for i, cut in enumerate(cuts):
        if i < 100 or i % step == 0 or i == len(cuts) - 1:
            check_cut(whole, path, cut, text=i % 10 == 0)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_cut_at_random_offsets(capture: Path, fast_tmp: Path):
    whole = intact(capture, fast_tmp)
    gen = rng(f"cuts {capture.name}")
    path = fast_tmp / f"cut{capture.suffix}"
    for _ in range(rounds(6)):
        check_cut(whole, path, gen.randrange(len(whole.data)), text=True)


def _decode_or_known_bug(path: Path, *options: str) -> Run | None:
    try:
        return decode(path, *options)
    except Exception as exc:
        if known_bug(exc) is None:
            raise
        return None  # a known bug (see KNOWN_BUGS and the corpus); nothing else to check


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_bit_flips_in_headers(capture: Path, fast_tmp: Path):
    """A flipped bit in a record header or block framing: exit 0, 3 or 4, no traceback,
    damage never before the flip, and every advert before the flipped record unchanged."""
    whole = intact(capture, fast_tmp)
    gen = rng(f"headers {capture.name}")
    path = fast_tmp / f"flip{capture.suffix}"
    for _ in range(rounds(16)):
        record = gen.choice(whole.records)
        at = record.start + gen.randrange(record.header)
        if gen.random() < 0.15:
            at = gen.randrange(max(whole.header, 1))  # the file header
        data = bytearray(whole.data)
        data[at] ^= 1 << gen.randrange(8)
        path.write_bytes(data)
        run = _decode_or_known_bug(path, "--json")
        if run is None:
            continue
        assert run.code in (EXIT_OK, EXIT_UNREADABLE, EXIT_DAMAGED), run.err
        assert "Traceback" not in run.err
        if run.code == EXIT_UNREADABLE:
            assert at < whole.header or whole.records[0].is_shb and at < whole.records[0].end
            continue
        if run.code == EXIT_DAMAGED:
            for line in [line for line in run.err.splitlines() if "damaged input" in line]:
                if ": byte " in line:
                    offset = int(line.split(": byte ")[1].split(":")[0])
                    flipped = whole.record_at(at).start if at >= whole.header else 0
                    assert flipped <= offset <= len(data)
                else:  # a frame out of sequence (its time flipped, or misframed after)
                    frame = int(line.split(": frame ")[1].split(":")[0])
                    assert ": timestamp " in line and at >= whole.header, line
                    assert frame >= whole.record_at(at).frames_before + 1, line
        if at >= whole.header:
            before = whole.record_at(at).frames_before
            rows = [row for row in json_adverts(run) if row["frame"] <= before]
            assert rows == whole.rows_before(before)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_bit_flips_in_packet_bytes(capture: Path, fast_tmp: Path):
    """A flipped bit inside a packet: the framing holds (same exit code, no damage) and
    every other frame's advert is unchanged."""
    whole = intact(capture, fast_tmp)
    packets = [r for r in whole.records if r.caplen]
    gen = rng(f"payload {capture.name}")
    path = fast_tmp / f"flip{capture.suffix}"
    for _ in range(rounds(10)):
        record = gen.choice(packets)
        data = bytearray(whole.data)
        data[record.data + gen.randrange(record.caplen)] ^= 1 << gen.randrange(8)
        path.write_bytes(data)
        run = _decode_or_known_bug(path, "--json")
        if run is None:
            continue
        assert_clean(run, EXIT_OK)
        flipped = record.frames_before + 1
        others = [row for row in json_adverts(run) if row["frame"] != flipped]
        assert others == [row for row in whole.rows if row["frame"] != flipped]


# -- pcapng blocks whose lengths lie ------------------------------------------------------


def advert_pcapng() -> bytes:
    """A pcapng with adverts in EPBs, an SPB and a PB, between other kinds of block."""
    w = PcapngWriter()
    w.shb()
    w.idb(name="eth0")
    w.nrb()
    for i in range(4):
        msg = P.vrrp_v2(10 + i, 100, ["198.18.1.100"])
        w.epb(0, 1_700_000_000_000_000 + i, P.ethernet(P.ipv4(msg, src="198.18.1.11")))
    w.spb(P.ethernet(P.ipv4(P.carp(51), src="198.18.1.31")))
    w.isb()
    w.pb(0, 1_700_000_001_000_000, P.ethernet(P.ipv4(P.vrrp_v2(20, 50, []), src="198.18.1.12")))
    w.custom()
    w.epb(0, 1_700_000_002_000_000, P.ethernet(P.ipv4(P.vrrp_v2(21, 50, []), src="198.18.1.12")))
    return w.to_bytes()


PCAPNGS = {"built": advert_pcapng}
for _capture in CAPTURES:
    if _capture.suffix == ".pcapng":
        PCAPNGS[_capture.name] = _capture.read_bytes


@pytest.mark.parametrize("name", sorted(PCAPNGS))
def test_pcapng_block_lengths_that_lie(name: str, fast_tmp: Path):
    source = fast_tmp / "intact.pcapng"
    source.write_bytes(PCAPNGS[name]())
    whole = intact(source, fast_tmp)
    assert whole.rows or name != "built"
    path = fast_tmp / "lie.pcapng"
    for record in whole.records[1:]:
        length = record.end - record.start
        for field, lie in [
            *((4, value) for value in (length + 4, length - 4, 0, 8, 13, 0xFFFFFFFC, 1 << 27)),
            *((length - 4, value) for value in (length + 4, 0)),
        ]:
            data = bytearray(whole.data)
            struct.pack_into(byte_order(data) + "I", data, record.start + field, lie)
            path.write_bytes(data)
            run = decode(path, "--json")
            assert_damage_at(run, path.name, record.start)
            assert json_adverts(run) == whole.rows_before(record.frames_before)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_caplen_far_beyond_the_file(capture: Path, fast_tmp: Path):
    whole = intact(capture, fast_tmp)
    gen = rng(f"caplen {capture.name}")
    path = fast_tmp / f"caplen{capture.suffix}"
    order = byte_order(whole.data)
    packets = [r for r in whole.records if r.caplen and (whole.header or r.header == 28)]
    for record in gen.sample(packets, min(len(packets), 3)):
        field = record.start + (8 if whole.header else 20)
        for caplen in (0xFFFFFFFF, 0x7FFFFFFF, 262144, len(whole.data) - record.data + 1):
            data = bytearray(whole.data)
            struct.pack_into(order + "I", data, field, caplen)
            path.write_bytes(data)
            run = decode(path, "--json")
            assert_damage_at(run, path.name, record.start)
            assert json_adverts(run) == whole.rows_before(record.frames_before)


# -- not a file, nothing in it, a writer that stops early ------------------------------------


def test_zero_length_file_and_directory(fast_tmp: Path):
    empty = fast_tmp / "empty.pcap"
    empty.write_bytes(b"")
    for path in (empty, fast_tmp):
        for options in ((), ("--json",)):
            run = decode(path, *options)
            assert_clean(run, EXIT_UNREADABLE)
            assert run.out == "" and str(path) in run.err


VRRP_PCAP = PEER / "tcpdump" / "vrrp.pcap"


def _fifo_writer(fifo: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as f:
            f.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("options", [(), ("--json",)], ids=["text", "json"])
def test_fifo_whose_writer_closes_early(fast_tmp: Path, options: tuple[str, ...]):
    """The real CLI on a FIFO: the writer stops inside record 51, or writes nothing."""
    whole = intact(VRRP_PCAP, fast_tmp)
    record = whole.records[50]
    fifo = fast_tmp / "live.fifo"
    os.mkfifo(fifo)
    writer = _fifo_writer(fifo, whole.data[: record.data + 5])
    run = decode_process(fifo, *options)
    writer.join(timeout=10)
    assert_damage_at(run, str(fifo), record.start)
    expected = whole.rows_before(50) if options else whole.lines_before(50)
    assert (json_adverts(run) if options else text_adverts(run)) == expected

    writer = _fifo_writer(fifo, b"")
    run = decode_process(fifo, *options)
    writer.join(timeout=10)
    assert_clean(run, EXIT_UNREADABLE)
    assert "empty" in run.err


@pytest.mark.parametrize("cut", [24 + 3, 9000])
def test_real_process_on_a_cut_file_and_on_cut_stdin(fast_tmp: Path, cut: int):
    whole = intact(VRRP_PCAP, fast_tmp)
    record = whole.record_at(cut % len(whole.data))
    data = whole.data[:cut]
    path = fast_tmp / "cut.pcap"
    path.write_bytes(data)
    for options in ((), ("--json",)):
        for run, name in (
            (decode_process(path, *options), str(path)),
            (decode_process("-", *options, stdin=data), "stdin"),
        ):
            assert_damage_at(run, name, record.start)
            if options:
                assert json_adverts(run) == whole.rows_before(record.frames_before)
            else:
                assert text_adverts(run) == whole.lines_before(record.frames_before)


# -- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What decoding a corpus file must give: exit code, adverts printed, damage offset."""

    code: int
    adverts: int
    damage: int | None = None
    damage_frame: int | None = None  # a frame left out for its out-of-sequence timestamp
    bug: str | None = None  # a known bug: the replay is xfail(strict=True) with this reason
    bug_in: tuple[str, ...] = ("text", "json")  # the outputs the bug shows in
    raises: tuple[type[BaseException], ...] = (AssertionError,)  # how the bug shows


CORPUS_EXPECT = {
    # Each of the first six once crashed or misled `decode`; fixed, they stay as regressions.
    "ipv6-esp.pcap": Expect(0, 2),  # ESP hides the upper protocol: counted, not a crash
    "ipv6-fragment-then-hopopts.pcap": Expect(0, 2),  # dpkt AttributeError -> undecodable
    "gre-truncated.pcap": Expect(0, 2),  # LinkError inside the tunnel -> undecodable
    # Its second frame lies in year 586524, between frames of 2023: damage, not time
    # (issue 19), named in raw seconds where datetime cannot go.
    "pcapng-timestamp-year-586524.pcapng": Expect(EXIT_DAMAGED, 2, damage_frame=2),
    "pcapng-tsoffset-negative.pcapng": Expect(0, 1),
    "pcapng-ifname-control-characters.pcapng": Expect(0, 1),  # escaped: no forged lines
    "pcap-caplen-ffffffff.pcap": Expect(EXIT_DAMAGED, 1, damage=94),
    "pcap-caplen-16mib-snaplen-16mib.pcap": Expect(EXIT_DAMAGED, 1, damage=94),
    "pcapng-block-length-64mib.pcapng": Expect(EXIT_DAMAGED, 1, damage=136),
    # Crashed `analyze` (fast route: KeyError in the planner), not `decode` (issue 17).
    "igmp-v1-zzuf-2386.pcap": Expect(EXIT_DAMAGED, 0, damage=1674),
}


def corpus_params() -> list:
    params = []
    for path in sorted(CORPUS.glob("*.pcap*")):
        expect = CORPUS_EXPECT.get(path.name, Expect(EXIT_OK, 0, bug="no expectation"))
        for output in ("text", "json"):
            marks = []
            if expect.bug and output in expect.bug_in:
                xfail = pytest.mark.xfail(strict=True, reason=expect.bug, raises=expect.raises)
                marks = [xfail]
            params.append(
                pytest.param(path, expect, output, marks=marks, id=f"{path.name}-{output}")
            )
    return params


def test_every_corpus_file_has_an_expectation():
    assert sorted(p.name for p in CORPUS.glob("*.pcap*")) == sorted(CORPUS_EXPECT)


@pytest.mark.parametrize(("path", "expect", "output"), corpus_params())
def test_corpus_replays_cleanly(path: Path, expect: Expect, output: str):
    """Each input once found interesting decodes with the documented outcome, and no text
    line carries a control character (one advert, one line)."""
    run = decode(path, *(("--json",) if output == "json" else ()))
    assert_clean(run, expect.code)
    lines = run.out.splitlines()
    assert len(lines) == expect.adverts
    assert all(line.isprintable() for line in lines), lines
    if expect.damage is not None:
        assert_damage_at(run, str(path), expect.damage)
    if expect.damage_frame is not None:
        (line,) = [line for line in run.err.splitlines() if "damaged input" in line]
        assert f"{path}: frame {expect.damage_frame}: timestamp " in line, line
        assert " s since the epoch lies " in line, line
