"""The report's first screen: verdict, incidents and nodes, cut without --details."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from bench import generate
from tests.helpers.cli import run
from vrrpscope.analysis import analyze_files
from vrrpscope.report.text import SHOWN_FINDINGS, SHOWN_ROUTERS, render

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def _report(path: Path, width: int, details: bool = False) -> list[str]:
    out = io.StringIO()
    render(analyze_files([str(path)]), Console(file=out, width=width), details=details)
    return out.getvalue().splitlines()


def _section(lines: list[str], head: str) -> list[str]:
    start = next(n for n, line in enumerate(lines) if line.startswith(head))
    end = next((n for n in range(start + 1, len(lines)) if lines[n] == ""), len(lines))
    return lines[start:end]


@pytest.mark.parametrize("width", [80, 120])
def test_a_node_restart_leads_the_report_as_two_incidents(width: int):
    lines = _report(CAPTURES / "many-vrids.pcap", width)
    heads = [line for line in lines if line and not line.startswith(" ")]
    assert heads[:4] == [
        "Capture",
        "Verdict",
        "Incidents (2 warning, 4 info), worst first",
        "Nodes on default",
    ]
    verdict = _section(lines, "Verdict")
    assert verdict[1] == (
        "  WARNING  default: 20 virtual routers, 2 nodes; 1 node stopped, 1 preemption"
    )
    incidents = " ".join(_section(lines, "Incidents"))
    starts = re.findall(r"  (i\d+) +(WARNING|INFO) +\d\d:\d\d:\d\d\.\d\d  ", incidents)
    assert starts == [("i1", "WARNING"), ("i2", "WARNING")] + [
        (f"i{n}", "INFO") for n in range(3, 7)
    ]
    assert "198.18.1.2 stopped: resigned VRIDs 2,4,...,20" in re.sub(r"\s+", " ", incidents)
    nodes = _section(lines, "Nodes on default")
    assert nodes[3].split()[:3] == ["198.18.1.1", "02:00:00:00:01:01", "1,"]
    assert nodes[4].split()[-4:] == ["i1", "i2", "i5", "i6"]
    # the first screen: everything up to the node view fits a terminal's height
    assert lines.index("Nodes on default") + len(nodes) < 50
    assert max(map(len, lines)) <= width


def test_findings_are_cut_to_the_serious_ones_unless_details():
    short = _report(CAPTURES / "many-vrids.pcap", 100)
    heads = [line for line in short if line.startswith("[")]
    assert len(heads) == SHOWN_FINDINGS and all(h.startswith("[WARNING]") for h in heads)
    assert heads[0].startswith("[WARNING] failover default VRID 2 (i1)  ")
    assert "... 78 more findings (--details shows all; --json keeps everything)" in short
    full = _report(CAPTURES / "many-vrids.pcap", 100, details=True)
    assert len([line for line in full if line.startswith("[")]) == 90
    assert not any("more findings" in line for line in full)
    assert len(short) < len(full) / 2


def test_a_big_segment_is_cut_with_counts_and_details_shows_everything(tmp_path: Path):
    path = tmp_path / "big.pcap"
    generate.write(str(path), 20000, seed=3)
    analysis = analyze_files([str(path)])
    routers = {seg.segment: len(seg.routers) for seg in analysis.inventory}
    assert routers["default"] > SHOWN_ROUTERS
    serious = [i for i in analysis.incidents if i.severity != "info"]
    assert serious
    short = run("analyze", str(path), env={"COLUMNS": "120"}).stdout.decode().splitlines()
    left = routers["default"] - SHOWN_ROUTERS
    assert f"  ... {left:,} more virtual routers (--details shows all)" in short
    assert any(
        re.fullmatch(r"  \.\.\. [\d,]+ more nodes \(--details shows all\)", x) for x in short
    )
    table = short[short.index(next(x for x in short if x.startswith("Segment default"))) :]
    for incident in serious:  # the rows of every VRID in trouble are kept
        for vrid in incident.vrids:
            assert any(re.match(rf"\s+{vrid}  ", row) for row in table), vrid
    full = run("analyze", "--details", str(path), env={"COLUMNS": "120"}).stdout.decode()
    assert "more virtual routers" not in full and "more nodes" not in full
    assert "more incidents" not in full and "more findings" not in full
    assert len(short) * 2 < len(full.splitlines())
    assert max(map(len, short)) <= 120
