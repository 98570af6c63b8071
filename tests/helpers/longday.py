"""Long generated captures (bench/longday.py) and their injected incidents, matched."""

from __future__ import annotations

from pathlib import Path

from bench.longday import GroundTruth, InjectedIncident, healthy_day, incident_day
from vrrpscope.incidents import Incident

# What each injected story reads as.
EXPECTED_KIND = {
    "node-stopped": "node-stopped",
    "node-crashed": "node-stopped",
    "node-returned": "node-returned",
    "split-brain": "split-brain",
    "mismatch": "split-brain",  # each drops the other's adverts: both master
    "flapping": "flapping",
    "duplicate-vrid": "duplicate-vrid",
    "capture-gap": "capture-gap",
}
SLACK_S = 15.0  # timers (Master_Down_Interval at 3 s adverts: 9.4 s) around an injection


def make_healthy_day(tmp_path: Path, duration_s: float, groups: int, seed: int = 1) -> Path:
    path = tmp_path / f"healthy-{duration_s:g}s-{groups}.pcap"
    healthy_day(path, duration_s, groups, seed)
    return path


def make_incident_day(
    tmp_path: Path, duration_s: float, groups: int = 200, seed: int = 1
) -> tuple[Path, GroundTruth]:
    path = tmp_path / f"incidents-{duration_s:g}s-{groups}.pcap"
    return path, incident_day(path, duration_s, groups, seed)


def matches(injected: InjectedIncident, incident: Incident, start_epoch_s: float) -> bool:
    """Whether ``incident`` tells ``injected``: its kind, its time, its nodes and VRIDs."""
    if incident.kind != EXPECTED_KIND[injected.kind]:
        return False
    first = incident.first_ts_ns / 1e9 - start_epoch_s
    if not injected.start_s - SLACK_S <= first <= injected.end_s + SLACK_S:
        return False
    if injected.nodes and not set(injected.nodes) <= set(incident.nodes):
        return False
    if injected.kind == "capture-gap":  # every fast master; slow ones outlast the gap
        return len(incident.vrids) > len(injected.vrids) / 2
    return set(incident.vrids) == set(injected.vrids)
