"""Incident records: findings that share one cause, told as one story."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vrrpscope.findings import Finding, Severity


class IncidentKind(StrEnum):
    """Incident kinds (stable: they appear in JSON output)."""

    NODE_STOPPED = "node-stopped"  # a node resigned / went silent; others took over
    NODE_RETURNED = "node-returned"  # a node came back and preempted / rejoined
    SPLIT_BRAIN = "split-brain"  # a pair (or more) of nodes both master over VRIDs
    DUPLICATE_VRID = "duplicate-vrid"  # two clusters on the same VRIDs
    HIJACK = "hijack"  # a stranger claiming an established VRID, and what it caused
    FLAPPING = "flapping"  # one cause repeating (tracker, link): count and times
    CAPTURE_GAP = "capture-gap"  # every speaker of a segment silent at once
    NOT_CAPTURED = "not-captured"  # silences across the time between two capture files
    MISMATCH = "mismatch"  # config / checksum form / auth disagreements between nodes
    ROLLUP = "rollup"  # informational notes that repeat per VRID, per node and segment
    SINGLE = "single"  # a finding with nothing to share its cause


@dataclass(slots=True, eq=False)
class Incident:
    """One cause: the findings it explains, who and what it touched, when."""

    id: str  # "i1", "i2", ...: stable for one analysis
    kind: IncidentKind
    severity: Severity  # the worst of its findings (a capture gap: at most warning)
    segment: str | None
    nodes: tuple[str, ...]  # speaker IPs (MAC in details when one IP has several)
    vrids: tuple[int, ...]
    first_ts_ns: int
    last_ts_ns: int
    findings: list[Finding]
    message: str  # one line, e.g. "198.18.1.2 stopped: resigned VRIDs 2,4-20 ..."
    details: dict[str, Any] = field(default_factory=dict)
    open: bool = False

    def sort_key(self) -> tuple[int, int, str]:
        """Worst first, then earliest."""
        return (-self.severity.rank, self.first_ts_ns, self.id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, in the style of :meth:`Finding.to_dict`."""
        return {
            "type": "incident",
            "id": self.id,
            "kind": str(self.kind),
            "severity": str(self.severity),
            "segment": self.segment,
            "nodes": list(self.nodes),
            "vrids": list(self.vrids),
            "first_ts": self.first_ts_ns / 1e9,
            "last_ts": self.last_ts_ns / 1e9,
            "open": self.open,
            "findings": [f.id for f in self.findings],
            "message": self.message,
            "details": self.details,
        }
