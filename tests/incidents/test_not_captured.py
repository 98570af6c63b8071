"""Silences across the time between two capture files: the capture's, said so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.advertfactory import AdvertFactory, capture, write_pcap
from tests.helpers.cli import run
from tests.helpers.findings import T0, S, drift, no_master
from tests.helpers.routes import assert_same
from vrrpscope.analysis import analyze_files
from vrrpscope.capture.coverage import Uncovered
from vrrpscope.findings import Finding, Kind, Severity
from vrrpscope.incidents import correlate
from vrrpscope.incidents.records import IncidentKind

# a.pcap ends 100 s after T0, c.pcap starts 400 s after T0
HOLE = Uncovered(T0 + 100 * S, T0 + 400 * S, "a.pcap", "c.pcap")


def _silent(vrid: int, master: str, at_s: float, until_s: float, resumed_by: str) -> Finding:
    f = no_master(vrid, master, at_s, until_s - at_s, resumed_by)
    f.details["master_down_s"] = 3.61
    return f


def test_a_silence_across_the_files_resumed_by_its_master_is_an_info() -> None:
    silence = _silent(7, "198.18.1.1", 99.4, 400.3, "198.18.1.1")
    alone = correlate([_silent(7, "198.18.1.1", 99.4, 400.3, "198.18.1.1")])
    assert alone[0].severity == Severity.CRITICAL  # without knowing the files
    [incident] = correlate([silence], uncovered=[HOLE])
    assert incident.kind == IncidentKind.NOT_CAPTURED
    assert incident.severity == Severity.INFO and silence.severity == Severity.INFO
    assert "nothing captured for 5 min 00 s between a.pcap and c.pcap" in incident.message
    assert incident.details["before"] == "a.pcap" and incident.details["seconds"] == 300.0
    assert silence.details["uncaptured"]["after"] == "c.pcap"
    # correlated again without the files (as a notebook may): critical again
    assert correlate([silence])[0].severity == Severity.CRITICAL


def test_a_drift_whose_worst_gap_is_the_hole_is_not_captured() -> None:
    gap = drift(8, "198.18.1.2", 99.8, 300.9)
    [incident] = correlate([gap], uncovered=[HOLE])
    assert incident.kind == IncidentKind.NOT_CAPTURED and gap.severity == Severity.INFO


def test_a_takeover_across_the_files_stays_and_says_when_is_unknown() -> None:
    silence = _silent(7, "198.18.1.1", 99.4, 400.3, "198.18.1.2")
    [incident] = correlate([silence], uncovered=[HOLE])
    assert incident.kind != IncidentKind.NOT_CAPTURED
    assert silence.severity == Severity.CRITICAL
    assert "Nothing was captured between a.pcap and c.pcap, 5 min 00 s" in silence.message
    correlate([silence], uncovered=[HOLE])
    assert silence.message.count("Nothing was captured") == 1


@pytest.mark.parametrize(
    "at_s, until_s",
    [
        (60.0, 400.3),  # silent 40 s before a.pcap ended: the wire's own silence
        (99.4, 420.0),  # resumed 20 s after c.pcap began
        (150.0, 300.0),  # inside the hole (cannot be seen: no frame), not across it
    ],
)
def test_silences_not_explained_by_the_hole_are_left(at_s: float, until_s: float) -> None:
    silence = _silent(7, "198.18.1.1", at_s, until_s, "198.18.1.1")
    [incident] = correlate([silence], uncovered=[HOLE])
    assert incident.kind != IncidentKind.NOT_CAPTURED
    assert silence.severity == Severity.CRITICAL and "uncaptured" not in silence.details


def _two_files(tmp_path: Path) -> list[str]:
    """A master on VRID 51 captured for 60 s, then again ten minutes later for 60 s."""
    day = AdvertFactory(vrid=51, priority=150).train("198.18.1.1", 0, 720)
    start = day[0].ts_ns
    first = [a for a in day if a.ts_ns <= start + 60 * S]
    later = [a for a in day if a.ts_ns >= start + 660 * S]
    return [
        str(write_pcap(tmp_path / "a.pcap", capture(first))),
        str(write_pcap(tmp_path / "c.pcap", capture(later))),
    ]


def test_two_captures_ten_minutes_apart_are_not_a_failure(tmp_path: Path) -> None:
    paths = _two_files(tmp_path)
    analysis = assert_same(paths)
    [hole] = analysis.uncovered
    assert (hole.before, hole.after) == tuple(paths)
    assert 599 * S < hole.length_ns < 601 * S
    assert [f.kind for f in analysis.findings if f.severity > Severity.INFO] == []
    [gap] = [i for i in analysis.incidents if i.kind == IncidentKind.NOT_CAPTURED]
    assert {f.kind for f in gap.findings} <= {Kind.NO_MASTER, Kind.INTERVAL_DRIFT}
    result = run("analyze", *paths, "--json")
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["not_captured"][0]["before"] == paths[0]
    assert round(summary["not_captured"][0]["seconds"]) == 600
    text = run("analyze", *paths).stdout.decode()
    assert "not captured" in text and "no frame in any file" in text
    assert "CRITICAL" not in text and "OK " in text


def test_one_file_has_nothing_uncovered(tmp_path: Path) -> None:
    paths = _two_files(tmp_path)
    assert analyze_files(paths[:1]).uncovered == []
