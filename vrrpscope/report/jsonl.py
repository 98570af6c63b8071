"""JSON lines: the one writer of every JSON object vrrpscope prints (analyze, decode,
live's events, snapshots and summary). Field names are documented in README."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from vrrpscope.findings import Severity
from vrrpscope.nodes import node_view
from vrrpscope.proto.link import linktype_name

if TYPE_CHECKING:
    from vrrpscope.result import Analysis


def json_line(obj: Mapping[str, Any]) -> str:
    """One compact JSON object, without the newline."""
    return json.dumps(obj, separators=(",", ":"))


def write_line(obj: Mapping[str, Any], out: TextIO, flush: bool = False) -> None:
    """One compact JSON object on one line."""
    out.write(json_line(obj) + "\n")
    if flush:
        out.flush()


def summary_dict(analysis: Analysis, inventory: list, findings: list) -> dict:
    stats = analysis.stats
    return {
        "type": "summary",
        "files": analysis.files,
        "frames": stats.frames,
        "adverts": stats.adverts,
        "other_multicast": stats.other,
        "address_claims": stats.claims,
        "undecodable": stats.undecodable,
        "ignored": stats.ignored,
        "link_types": {linktype_name(k): v for k, v in sorted(stats.link_types.items())},
        "unknown_link_types": {str(k): v for k, v in stats.unknown_link_types.items()},
        "first_ts": None if analysis.first_ts_ns is None else analysis.first_ts_ns / 1e9,
        "last_ts": None if analysis.last_ts_ns is None else analysis.last_ts_ns / 1e9,
        "timestamps_backwards": analysis.backwards_ts,
        "capture_drops": dict(sorted(stats.capture_drops.items())),
        "not_captured": [hole.to_dict() for hole in analysis.uncovered],
        **({"logs": [log.to_dict() for log in analysis.logs]} if analysis.logs else {}),
        "damage": [str(d) for d in analysis.damage],
        "notes": analysis.notes,
        **({"selection": analysis.selection.to_dict()} if analysis.selection is not None else {}),
        "segments": [
            {k: v for k, v in seg.to_dict().items() if k not in ("routers", "type")}
            for seg in inventory
        ],
        "findings": {sev.value: sum(f.severity == sev for f in findings) for sev in Severity},
    }


def write_json(
    analysis: Analysis, out: TextIO, summary_extra: Mapping[str, Any] | None = None
) -> None:
    """JSON lines: one summary (with ``summary_extra``'s fields after its own, e.g. live's
    ``capture``), one object per virtual router, one per node, one per incident, one
    per finding."""
    inventory, findings = analysis.inventory, analysis.findings  # each built once
    incidents = analysis.incidents  # (gives each finding its incident id)
    write_line({**summary_dict(analysis, inventory, findings), **(summary_extra or {})}, out)
    for segment in inventory:
        for router in segment.routers:
            write_line(router.to_dict(), out)
    for nodes in node_view(inventory, incidents).values():
        for node in nodes:
            write_line(node.to_dict(), out)
    for incident in incidents:
        write_line(incident.to_dict(), out)
    for finding in findings:
        write_line(finding.to_dict(), out)
    for log in analysis.logs:
        for event in log.events:
            write_line(event.to_dict(), out)
