"""Findings made by hand, for the layers that read them (incidents, reports)."""

from __future__ import annotations

from itertools import count
from typing import Any

from vrrpscope.findings import SEVERITY, Finding, Kind

S = 1_000_000_000
T0 = 1_796_000_000 * S  # an arbitrary capture start
_ids = count(1)


def finding(
    kind: Kind,
    vrid: int | None,
    speakers: tuple[str, ...],
    at_s: float,
    until_s: float | None = None,
    segment: str = "default",
    proto: str = "vrrp",
    **details: Any,
) -> Finding:
    """A closed finding of ``kind`` from ``at_s`` to ``until_s`` (seconds after T0)."""
    first = T0 + int(at_s * S)
    last = T0 + int((at_s if until_s is None else until_s) * S)
    label = f"VRRP VRID {vrid} (IPv4) on {segment}" if vrid is not None else segment
    return Finding(
        kind=kind,
        severity=SEVERITY[kind],
        segment=segment,
        family=4,
        proto=proto,
        vrid=vrid,
        speakers=speakers,
        first_ts_ns=first,
        last_ts_ns=last,
        frames=[],
        message=f"{label}: {kind} of {', '.join(speakers)}. More words",
        details=details,
        open=False,
        id=next(_ids),
    )


def failover(vrid: int, old: str, new: str, at_s: float, cause: str, **extra: Any) -> Finding:
    details = {"from": old, "to": new, "cause": cause, "takeover_s": 0.61, **extra}
    details.setdefault("expected_s", 0.609)
    details.setdefault("expected_rule", "Skew_Time")
    details.setdefault("slow", False)
    return finding(Kind.FAILOVER, vrid, (old, new), at_s, at_s + 0.61, **details)


def no_master(vrid: int, master: str, at_s: float, silence_s: float, resumed_by: str | None):
    return finding(
        Kind.NO_MASTER,
        vrid,
        (master,),
        at_s,
        at_s + silence_s,
        last_master=master,
        resumed_by=resumed_by,
        silence_s=silence_s,
    )


def drift(vrid: int, master: str, gap_at_s: float, gap_s: float, *reasons: str, **extra: Any):
    """An interval drift of ``master`` whose worst gap starts at ``gap_at_s`` (open to the
    end, as a worst gap near the takeover keeps it), 1 s adverts."""
    details = {
        "reasons": list(reasons or ("worst-gap",)),
        "advertised_s": 1.0,
        "worst_gap_s": gap_s,
        "worst_gap_at": (T0 + int(gap_at_s * S)) / S,
        "master_down_s": 3.61,
        "worst_gap_of_master_down": round(gap_s / 3.61, 3),
        "missed_in_window": round(gap_s) - 1,
        **extra,
    }
    f = finding(Kind.INTERVAL_DRIFT, vrid, (master,), gap_at_s, 3600.0, **details)
    f.open = True
    return f
