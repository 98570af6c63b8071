"""The terminal report: what a user reads for a capture."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from vrrpscope.analysis import analyze_files
from vrrpscope.report.text import render

PEER = Path(__file__).resolve().parents[1] / "fixtures/peer"


def _text(path: Path) -> str:
    out = io.StringIO()
    render(analyze_files([str(path)]), Console(file=out, width=200, highlight=False))
    return out.getvalue()


def test_speaker_without_a_valid_advert_shows_no_priority() -> None:
    """Its only advert is invalid (truncated address): priority unknown, shown as -."""
    text = _text(PEER / "pcapplusplus/VRRP-V2-trailing-partial-address.pcap")
    row = next(line for line in text.splitlines() if "10.0.0.1 " in line and "00:00:00" in line)
    assert "None" not in row
    assert row.split()[row.split().index("00:00:00:00:00:02") + 1] == "-"


def test_priorities_of_valid_adverts_are_shown() -> None:
    text = _text(PEER / "tcpdump/vrrp.pcap")
    assert "MASTER" in text and " 197 " in text and "None" not in text
