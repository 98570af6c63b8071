"""Isolated out-of-sequence timestamps are damage named by frame, not time (issue 19)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile, PcapngWriter
from tests.helpers.cli import run as run_cli
from tests.helpers.routes import assert_same
from vrrpscope import analysis
from vrrpscope.capture.timeline import JUMP_NS, LAST_JUMP_NS, OutOfSequence, TimeLine
from vrrpscope.errors import EXIT_DAMAGED

S = 1_000_000_000
T0 = 1_800_000_000 * S
YEARS = 10 * 365 * 86400 * S


def _decide(times: list[int], chunk: int = 1) -> tuple[list[int], list[OutOfSequence]]:
    """Indices kept by a TimeLine fed ``times``, ``chunk`` at a time."""
    line: TimeLine[int] = TimeLine("x.pcap")
    kept: list[int] = []
    for start in range(0, len(times), chunk):
        part = times[start : start + chunk]
        if line.calm(part):
            kept.extend(range(start, start + len(part)))
            continue
        for i, ts in enumerate(part, start):
            kept.extend(item for item, keep in line.push(ts, i + 1, i) if keep)
    kept.extend(item for item, keep in line.end() if keep)
    return kept, line.damage


def _steady(n: int) -> list[int]:
    return [T0 + i * S for i in range(n)]


# The last frame has no next one: only a step past LAST_JUMP_NS counts there.
_PLACES = [
    (at, step)
    for at in (0, 1, 2, 30, 58, 59)
    for step in (YEARS, -YEARS, 2 * JUMP_NS, -T0)
    if at != 59 or abs(step) > LAST_JUMP_NS
]


@pytest.mark.parametrize("chunk", [1, 3, 100])
@pytest.mark.parametrize(("at", "step"), _PLACES)
def test_one_far_timestamp_anywhere_is_left_out(chunk: int, at: int, step: int) -> None:
    times = _steady(60)
    times[at] += step
    kept, damage = _decide(times, chunk)
    assert kept == [i for i in range(60) if i != at]
    (d,) = damage
    assert d.frame == at + 1 and d.ts_ns == times[at]
    assert f"frame {at + 1}:" in str(d) and str(d).startswith("x.pcap: ")


@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_real_pauses_and_steps_are_time(chunk: int) -> None:
    pause = _steady(10) + [T0 + 5 * JUMP_NS + i * S for i in range(10)]  # a long pause
    back = _steady(10) + [T0 - 3 * JUMP_NS + i * S for i in range(10)]  # concatenated files
    last = _steady(10) + [T0 + 2 * JUMP_NS]  # one frame after a quiet two hours
    first = [T0 - 2 * JUMP_NS] + _steady(1)  # two frames far apart: nothing to go by
    for times in (pause, back, last, first):
        kept, damage = _decide(times, chunk)
        assert kept == list(range(len(times))) and damage == []


def test_two_bad_frames_in_a_row_are_not_isolated() -> None:
    times = _steady(20)
    times[5] += YEARS
    times[6] += 2 * YEARS
    kept, damage = _decide(times)
    assert kept == list(range(20)) and damage == []  # a burst is no isolated slip: kept


def _advert(src: str, mac: str, prio: int) -> bytes:
    return P.ethernet(P.ipv4(P.vrrp_v2(7, prio, ["198.18.7.1"]), src=src), src_mac=mac)


A = ("198.18.7.11", "52:54:00:00:07:11")
B = ("198.18.7.12", "52:54:00:00:07:12")


def _story(bad: int | None) -> list[tuple[int, bytes]]:
    """A (150) master for a minute, resigns; B takes over at Skew_Time; one frame's time
    spoiled (index ``bad``)."""
    frames = []
    for s in range(120):
        if s < 60:
            frames.append((T0 + s * S, _advert(*A, 150)))
        elif s == 60:
            frames.append((T0 + s * S, _advert(*A, 0)))
        if s >= 60:
            frames.append((T0 + s * S + 600_000_000, _advert(*B, 100)))
    frames.sort(key=lambda f: f[0])
    if bad is not None:
        ts, data = frames[bad]
        frames[bad] = (ts + YEARS, data)
    return frames


def _pcap(frames: list[tuple[int, bytes]]) -> bytes:
    pcap = PcapFile()
    for ts, data in frames:
        pcap.add(ts, data)
    return pcap.to_bytes()


def _pcapng(frames: list[tuple[int, bytes]]) -> bytes:
    w = PcapngWriter()
    w.shb()
    w.idb(tsresol=9)
    for ts, data in frames:
        w.epb(0, ts, data)
    return w.to_bytes()


def _facts(result: analysis.Analysis) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((str(f.kind), f.speakers) for f in result.findings)


@pytest.mark.parametrize("block", [1 << 22, 3000])
@pytest.mark.parametrize("bad", [0, 30, 61, 120])
@pytest.mark.parametrize("form", ["pcap", "pcapng", "pcap.gz"])
def test_a_spoiled_timestamp_changes_nothing_but_the_damage_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, bad: int, form: str
) -> None:
    monkeypatch.setattr(analysis, "FAST_BLOCK", block)  # (3000 bytes: held across blocks)
    write = _pcapng if form == "pcapng" else _pcap
    clean, spoiled = tmp_path / f"clean.{form}", tmp_path / f"spoiled.{form}"
    for path, frames in ((clean, _story(None)), (spoiled, _story(bad))):
        data = write(frames)
        path.write_bytes(gzip.compress(data) if form.endswith(".gz") else data)
    want = assert_same([str(clean)])
    got = assert_same([str(spoiled)])
    assert want is not None and got is not None
    assert _facts(got) == _facts(want)  # one failover, the resignation: no no-master
    assert got.first_ts_ns == (want.first_ts_ns if bad else T0 + S)  # (frame 2's time)
    assert got.last_ts_ns == (want.last_ts_ns if bad < 120 else want.last_ts_ns - S)
    (d,) = got.damage
    assert isinstance(d, OutOfSequence) and d.frame == bad + 1
    assert got.stats.frames == want.stats.frames - 1 and got.backwards_ts == 0


def test_a_spoiled_frame_in_one_of_two_merged_files(tmp_path: Path) -> None:
    story = _story(None)
    one, two = tmp_path / "one.pcap", tmp_path / "two.pcap"
    spoiled = list(story[:60])
    spoiled[20] = (spoiled[20][0] + YEARS, spoiled[20][1])
    one.write_bytes(_pcap(spoiled))
    two.write_bytes(_pcap(story[60:]))
    got = assert_same([str(one), str(two)])
    assert got is not None
    assert sorted(str(f.kind) for f in got.findings if f.severity >= "warning") == ["failover"]
    assert [(type(d), d.path, d.frame) for d in got.damage] == [(OutOfSequence, str(one), 21)]


def test_cli_names_the_frame_and_exits_damaged(tmp_path: Path) -> None:
    path = tmp_path / "spoiled.pcap"
    path.write_bytes(_pcap(_story(30)))
    result = run_cli("analyze", "--json", str(path))
    assert result.returncode == EXIT_DAMAGED, result.stderr
    err = result.stderr.decode()
    assert "Traceback" not in err and f"{path}: frame 31: timestamp 2037-" in err
    records = [json.loads(line) for line in result.stdout.splitlines()]
    (summary,) = [r for r in records if r["type"] == "summary"]
    assert summary["damage"] == [next(iter(summary["damage"]))]
    assert "frame 31" in summary["damage"][0] and summary["timestamps_backwards"] == 0
    assert not [r for r in records if r["type"] == "finding" and r["kind"] == "no-master"]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_crosscheck_explains_the_frame_left_out(tmp_path: Path) -> None:
    path = tmp_path / "spoiled.pcap"
    path.write_bytes(_pcap(_story(30)))
    result = run_cli("decode", "--crosscheck", str(path))
    out = result.stdout.decode()
    assert "frame 31: decoded: vrrpscope=False wireshark=True  (explained: its timestamp" in out
    assert "1 difference(s), 0 unexplained" in out
    assert result.returncode == EXIT_DAMAGED
