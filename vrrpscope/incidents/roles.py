"""Which node a finding is about: the one that stopped, the one that came back."""

from __future__ import annotations

from vrrpscope.findings import Finding, Kind


def departure_of(f: Finding) -> str | None:
    """The node a finding says stopped being master (resigned, went silent)."""
    if f.kind == Kind.RESIGNED:
        return f.speakers[0] if f.speakers else None
    if f.kind == Kind.NO_MASTER:
        return f.details.get("last_master")
    if f.kind == Kind.FAILOVER and f.details.get("cause") != "preempted":
        return f.details.get("from")
    return None


def arrival_of(f: Finding) -> str | None:
    """The node a finding says took mastership back by outranking the master."""
    if f.kind == Kind.FAILOVER and f.details.get("cause") == "preempted":
        return f.details.get("to")
    return None
