"""`analyze` on every bundled lab capture finds exactly what the lab injected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.scenario_checks import CHECKS, Sidecar
from vrrpscope.analysis import analyze_files

CAPTURES = Path(__file__).parents[1] / "captures"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_bundled_capture(name: str):
    pcap = CAPTURES / f"{name}.pcap"
    sidecar = Sidecar(json.loads((CAPTURES / f"{name}.events.json").read_text()))
    analysis = analyze_files([str(pcap)])
    assert analysis.damage == []
    CHECKS[name](analysis, sidecar)


@pytest.mark.parametrize("name", sorted(set(CHECKS) - {"hijack"}))
def test_no_scenario_of_real_daemons_reads_as_a_hijack(name: str):
    """Failovers, preemptions, restarts, duplicate VRIDs, CARP next door: the protocol at
    work, never hijack-suspected (the hijack scenario is the injected one)."""
    analysis = analyze_files([str(CAPTURES / f"{name}.pcap")])
    assert [f for f in analysis.findings if f.kind == "hijack-suspected"] == []
