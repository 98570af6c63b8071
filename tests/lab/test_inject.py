"""The lab's advert injector builds frames tshark and both routes read as valid adverts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.capturewriter import PcapFile
from tests.helpers.difffuzz import analyze_json
from tests.lab.inject import advert_frame

MAC = bytes.fromhex("020000000103")
CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def _frames(tmp_path: Path) -> Path:
    pcap = PcapFile()
    for i, (vrid, prio) in enumerate([(51, 255), (7, 0), (200, 101)]):
        pcap.add(
            1_700_000_000_000_000_000 + i * 10**9,
            advert_frame(MAC, "198.18.1.3", vrid, prio, "198.18.1.100"),
        )
    path = tmp_path / "injected.pcap"
    path.write_bytes(pcap.to_bytes())
    return path


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("source", ["built", "bundled"])
def test_tshark_reads_injected_adverts_as_valid(tmp_path: Path, source: str) -> None:
    """Frames made here, and those the hijack scenario put on the lab's wire."""
    path = _frames(tmp_path) if source == "built" else CAPTURES / "hijack.pcap"
    fields = ["eth.src", "ip.src", "ip.ttl", "ip.checksum.status", "vrrp.virt_rtr_id"]
    fields += ["vrrp.prio", "vrrp.ip_addr", "vrrp.checksum.status"]
    out = subprocess.run(
        ["tshark", "-n", "-o", "ip.check_checksum:TRUE", "-r", str(path), "-Y", "vrrp"]
        + ["-T", "fields", *(arg for f in fields for arg in ("-e", f))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    injected = [r for r in rows if r[1] == "198.18.1.3"]
    expected = [(51, 255), (7, 0), (200, 101)] if source == "built" else [(51, 255)] * 6
    assert [(int(r[4]), int(r[5])) for r in injected] == expected
    for r in injected:
        assert r[0] == "02:00:00:00:01:03" and r[2] == "255" and r[6] == "198.18.1.100"
        assert r[3] == "1" and r[7] == "1"  # 1: checksum verified good (0 bad, 2 unverified)


@pytest.mark.parametrize("general", [False, True])
def test_both_routes_decode_injected_adverts_as_valid(tmp_path: Path, general: bool) -> None:
    out = analyze_json(_frames(tmp_path), general)
    assert '"kind":"invalid-packet"' not in out and '"vrid":51' in out
