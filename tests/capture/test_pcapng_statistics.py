"""pcapng Interface Statistics Blocks: what the capturing host dropped, said once.

Wireshark's capinfos counts the blocks (it prints no drop counts); dumpcap writes real ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from vrrpscope import api
from vrrpscope.analysis import analyze_files
from vrrpscope.capture.opener import open_capture
from vrrpscope.capture.writer import PcapngWriter

ROOT = Path(__file__).parents[2]
CAPTURES = ROOT / "captures"


def _frames(name: str = "failover.pcap") -> list:
    with open_capture(str(CAPTURES / name)) as source:
        return [replace(f, interface="br0") for f in source]


def _written(path: Path, received: int, dropped: int, frames: list | None = None) -> Path:
    frames = _frames() if frames is None else frames
    writer = PcapngWriter(str(path))
    writer.write(frames)
    writer.write_statistics(received, dropped, frames[0].ts_ns, frames[-1].ts_ns)
    writer.close()
    return path


def _capinfos_stat_entries(path: Path) -> dict[str, int]:
    """Interface name -> statistics blocks Wireshark read for it."""
    out = subprocess.run(
        ["capinfos", "-I", str(path)], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    found = re.findall(r"Name = (\S+)\n(?:.*\n)*?\s+Number of stat entries = (\d+)", out)
    return {name: int(n) for name, n in found}


@pytest.mark.skipif(shutil.which("capinfos") is None, reason="capinfos (Wireshark) missing")
def test_the_writers_statistics_block_is_read_back(tmp_path: Path) -> None:
    path = _written(tmp_path / "lossy.pcapng", received=57, dropped=7)
    assert _capinfos_stat_entries(path) == {"br0": 1}  # well formed to Wireshark
    with open_capture(str(path)) as source:
        frames = list(source)
        assert source.drops == {"br0": 7}
    assert len(frames) == 50  # the statistics block holds no frame


@pytest.mark.parametrize("general", [False, True], ids=["fast", "general"])
def test_drops_are_one_note_in_the_summary_and_json(tmp_path: Path, general: bool) -> None:
    path = _written(tmp_path / "lossy.pcapng", received=57, dropped=7)
    result = analyze_files([str(path)], general=general)
    assert dict(result.stats.capture_drops) == {"br0": 7}
    notes = [n for n in result.notes if n.startswith("capture loss")]
    assert len(notes) == 1 and "dropped 7 frame(s)" in notes[0] and "br0 7" in notes[0]
    clean = analyze_files([str(CAPTURES / "failover.pcap")], general=general)
    assert [str(f.kind) for f in result.findings] == [str(f.kind) for f in clean.findings]


def test_no_drops_no_note(tmp_path: Path) -> None:
    path = _written(tmp_path / "clean.pcapng", received=50, dropped=0)
    result = api.analyze(str(path)).analysis
    assert dict(result.stats.capture_drops) == {"br0": 0}
    assert not [n for n in result.notes if n.startswith("capture loss")]


def test_the_last_statistics_block_counts(tmp_path: Path) -> None:
    """Counters are cumulative: a second block replaces the first (dumpcap writes one at
    the end; a ring buffer writes one per file)."""
    frames = _frames()
    path = tmp_path / "twice.pcapng"
    writer = PcapngWriter(str(path))
    writer.write(frames[:20])
    writer.write_statistics(20, 3, frames[0].ts_ns, frames[19].ts_ns)
    writer.write(frames[20:])
    writer.write_statistics(60, 10, frames[0].ts_ns, frames[-1].ts_ns)
    writer.close()
    with open_capture(str(path)) as source:
        assert len(list(source)) == 50 and source.drops == {"br0": 10}


def test_analyze_json_and_text_say_it(tmp_path: Path) -> None:
    path = _written(tmp_path / "lossy.pcapng", received=57, dropped=7)
    run = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "analyze", "--json", str(path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip
    summary = json.loads(run.stdout.splitlines()[0])
    assert summary["capture_drops"] == {"br0": 7}
    assert sum(n.startswith("capture loss") for n in summary["notes"]) == 1
    text = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "analyze", str(path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        env={**os.environ, "COLUMNS": "80"},
    ).stdout  # fmt: skip
    assert text.count("capture loss") == 1, text


@pytest.mark.skipif(os.geteuid() != 0, reason="dumpcap in a network namespace needs root")
@pytest.mark.skipif(shutil.which("dumpcap") is None, reason="dumpcap (Wireshark) missing")
def test_dumpcaps_own_statistics_block_is_read(tmp_path: Path) -> None:
    """A real dumpcap file (loopback of a namespace of our own, 1 s): its end-of-capture
    statistics block (comment, start/end times, ifrecv, ifdrop, usrdeliv) is read."""
    ns = f"vsisb{uuid.uuid4().hex[:8]}"
    path = tmp_path / "dumpcap.pcapng"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, timeout=10)
        subprocess.run(
            ["ip", "netns", "exec", ns, "timeout", "10", "dumpcap", "-q", "-i", "lo",
             "-a", "duration:1", "-w", str(path)],
            check=True, timeout=20, capture_output=True,
        )  # fmt: skip
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=10)
    assert _capinfos_stat_entries(path) == {"lo": 1}
    with open_capture(str(path)) as source:
        list(source)
        assert source.drops == {"lo": 0}
