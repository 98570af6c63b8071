"""The terminal report: what a user reads for a capture."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from tests.helpers.cli import run
from vrrpscope.analysis import analyze_files
from vrrpscope.report.text import render

PEER = Path(__file__).resolve().parents[1] / "fixtures/peer"


def _text(path: Path) -> str:
    out = io.StringIO()
    render(analyze_files([str(path)]), Console(file=out, width=200, highlight=False))
    return out.getvalue()


def test_speaker_without_a_valid_advert_shows_what_it_said() -> None:
    """Its only advert is invalid (truncated address): the priority it carried (tcpdump:
    prio 100), never None; it is no master."""
    text = _text(PEER / "pcapplusplus/VRRP-V2-trailing-partial-address.pcap")
    table = text[text.index("\nSegment ") :]  # the speaker table (not the node view)
    row = next(line for line in table.splitlines() if "10.0.0.1 " in line and "00:00:00" in line)
    assert "None" not in row and "MASTER" not in row
    assert row.split()[row.split().index("00:00:00:00:00:02") + 1] == "100"


def test_priorities_of_valid_adverts_are_shown() -> None:
    text = _text(PEER / "tcpdump/vrrp.pcap")
    assert "MASTER" in text and " 197 " in text and "None" not in text


ROOT = Path(__file__).resolve().parents[2]
REPORTED = [*sorted((ROOT / "captures").glob("*.pcap")), PEER / "tcpdump/vrrp.pcap"]
REPORTED += [PEER / "tcpdump/erspan-type-ii-2.pcap"]  # HSRP v1 and v2 groups


def _addresses(analysis) -> tuple[set[str], set[str]]:
    """(speaker and VIP addresses: always shown, MACs: shown when they fit)."""
    shown: set[str] = set()
    macs: set[str] = set()
    for seg in analysis.inventory:
        for r in seg.routers:
            shown.update(r.addresses)
            for s in r.speakers:
                shown.update([s.src, *s.addresses])
                macs.update([s.mac] if s.mac else [])
        for group in seg.hsrp_groups:
            shown.update(group["virtual_ips"] + group["active"] + group["standby"])
    return shown, macs


@pytest.mark.parametrize("capture", REPORTED, ids=lambda p: p.name)
@pytest.mark.parametrize("width", [80, 120])
def test_report_fits_the_width_and_never_splits_an_address(capture: Path, width: int) -> None:
    analysis = analyze_files([str(capture)])
    out = io.StringIO()
    render(analysis, Console(file=out, width=width, highlight=False))
    lines = out.getvalue().splitlines()
    assert [line for line in lines if len(line) > width] == []
    assert [line for line in lines if line != line.rstrip()] == []  # no trailing blanks
    text = "\n".join(lines)
    glued = re.sub(r"\n\s*", "", text)  # what a split address would read as, glued again
    shown, macs = _addresses(analysis)
    assert shown
    for address in shown | macs:
        assert text.count(address) == glued.count(address), f"{address} split at {width}"
    assert [address for address in shown if address not in text] == []


def test_speaker_table_at_80_columns_keeps_the_essentials() -> None:
    out = io.StringIO()
    analysis = analyze_files([str(PEER / "tcpdump/vrrp.pcap")])
    render(analysis, Console(file=out, width=80, highlight=False))
    text = out.getvalue()
    header = next(i for i, line in enumerate(text.splitlines()) if "speaker" in line.split())
    assert "VRID" in text.splitlines()[header] and "state" in text.splitlines()[header]
    assert "MASTER" in text and "10.0.0.97" in text


def test_large_counts_have_thousands_separators(tmp_path: Path) -> None:
    frames = [
        (
            1_700_000_000 * 10**9 + i * 10**9,
            P.ethernet(P.ipv4(P.vrrp_v2(7, 100, ["198.18.1.100"]), src="198.18.1.1")),
        )
        for i in range(1234)
    ]
    path = tmp_path / "many.pcap"
    path.write_bytes(pcap_bytes(frames))
    text = _text(path)
    assert "frames       1,234 (1,234 VRRP/CARP adverts" in text
    assert "EN10MB (Ethernet): 1,234" in text and " 1,234  " in text


def test_piped_report_follows_columns_and_has_no_trailing_blanks() -> None:
    capture = ROOT / "captures" / "split-brain.pcap"
    for columns in ("80", "120"):
        result = run("analyze", str(capture), env={"COLUMNS": columns})
        lines = result.stdout.decode().splitlines()
        assert max(map(len, lines)) <= int(columns)
        assert max(map(len, lines)) > int(columns) - 20  # the width is used
        assert all(line == line.rstrip() for line in lines)
        assert "\x1b[" not in result.stdout.decode()  # plain text in a pipe


def test_local_times_name_their_zone() -> None:
    capture = ROOT / "captures" / "split-brain.pcap"
    result = run("analyze", "--local", str(capture), env={"TZ": "Asia/Kolkata"})
    text = result.stdout.decode()
    assert "2026-11-25 14:50:21.809201 IST .. 2026-11-25 14:50:41.855348 IST" in text
    assert re.search(r"\[CRITICAL\] split-brain .* 14:50:30\.825975 IST \.\. 14:50:38", text)
