"""Our decode of every lab capture against Wireshark (tshark) and tcpdump run in the test."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession

CAPTURES = sorted((Path(__file__).parents[2] / "captures").glob("*.pcap"))
CARP_LINE = re.compile(
    r"^\s*(\d+)\s.*CARPv2-advertise 36: vhid=(\d+) advbase=(\d+) advskew=(\d+) authlen=7 "
    r"counter=(\d+)"
)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_crosscheck_with_wireshark_has_no_unexplained_difference(capture: Path):
    result = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "decode", "--crosscheck", str(capture)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.endswith("0 unexplained"), summary
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_carp_fields_match_tcpdump_carp_decoder():
    capture = next(p for p in CAPTURES if p.name == "carp-collision.pcap")
    out = subprocess.run(
        ["tcpdump", "-#", "-nn", "-T", "carp", "-r", str(capture)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    theirs = {
        int(m[1]): tuple(int(x) for x in m.groups()[1:])
        for m in map(CARP_LINE.match, out.splitlines())
        if m
    }
    ours = {
        a.frame: (a.vrid, a.advbase, a.advskew, a.counter)
        for a in DecodeSession([str(capture)]).items()
        if isinstance(a, Advert) and a.proto == "carp"
    }
    assert ours and ours == theirs
