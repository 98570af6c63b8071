"""`decode --crosscheck` explains the differences it knows (issue 18: a truncated message
whose IP length runs past the frame, which Wireshark checksums anyway)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from vrrpscope.errors import EXIT_DAMAGED

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crosscheck" / "icmp-icmp_print-oobr-2.pcap"
pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


def crosscheck(path: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "decode", "--crosscheck", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout


def test_tcpdump_fuzzed_record_is_explained() -> None:
    code, out = crosscheck(FIXTURE)
    assert code == EXIT_DAMAGED, out  # its third frame (ICMP) lies in 1975: out of sequence
    assert "2 adverts, 2 Wireshark VRRP/CARP frames, 2 difference(s), 0 unexplained" in out
    assert "frame 1: checksum: vrrpscope='unverified' wireshark='bad'" in out
    assert "34 recorded, 64 captured" in out and "Invalid header" in out
    assert "frame 2: addresses" in out and "never shows them as an address" in out


def _truncated(path: Path, cut: int, orig: int) -> Path:
    """A VRRPv2 advert whose last ``cut`` bytes are missing, recorded as ``orig`` bytes
    longer than it holds (0: as long; ``cut``: as the whole frame)."""
    msg = P.vrrp_v2(7, 100, ["198.18.1.100"], auth_type=1, auth_data=b"hunter22")
    frame = P.ethernet(P.ipv4(msg, src="198.18.1.11"))[:-cut]
    path.write_bytes(PcapFile().add(0, frame, len(frame) + orig).to_bytes())
    return path


def test_ip_length_past_the_wire_length_is_explained(tmp_path: Path) -> None:
    # The record says the frame was as long as what it holds: the IP length lies.
    path = _truncated(tmp_path / "lying.pcap", cut=6, orig=0)
    code, out = crosscheck(path)
    assert code == 0, out
    assert "checksum: vrrpscope='unverified' wireshark='bad'" in out
    assert "1 difference(s), 0 unexplained" in out and "a lying length" in out
    assert "Invalid header" not in out


def test_snaplen_cut_needs_no_explanation(tmp_path: Path) -> None:
    # Cut by a snaplen (more bytes on the wire than captured): both leave it unverified.
    path = _truncated(tmp_path / "snaplen.pcap", cut=6, orig=6)
    code, out = crosscheck(path)
    assert code == 0, out
    assert "0 difference(s)" in out
