"""RFC 3768 / RFC 5798 timers in nanoseconds, as keepalived computes them.

VRRPv3: Skew_Time = ((256 - priority) x Master_Adver_Interval) / 256.
VRRPv2: Skew_Time = (256 - priority) / 256 seconds (not scaled by the interval).
Master_Down_Interval = 3 x interval + Skew_Time.
CARP: a backup waits 3 x (advbase + advskew / 256); the skew is part of the interval.
"""

from __future__ import annotations

CS_NS = 10_000_000  # one centisecond in nanoseconds
S_NS = 1_000_000_000


def interval_ns(interval_cs: int) -> int:
    """Advertisement interval in nanoseconds (at least 1 cs, so timers never collapse)."""
    return max(interval_cs, 1) * CS_NS


def skew_time_ns(proto: str, version: int, priority: int | None, interval_cs: int) -> int:
    """Skew_Time for a backup of `priority`; 0 for CARP (advskew is inside the interval)."""
    if proto == "carp" or priority is None:
        return 0
    p = min(max(priority, 1), 255)
    if version >= 3:
        return (256 - p) * interval_ns(interval_cs) // 256
    return (256 - p) * S_NS // 256


def master_down_ns(proto: str, version: int, priority: int | None, interval_cs: int) -> int:
    """Master_Down_Interval of a backup with `priority` hearing adverts every `interval_cs`."""
    return 3 * interval_ns(interval_cs) + skew_time_ns(proto, version, priority, interval_cs)


def max_master_down_ns(proto: str, version: int, interval_cs: int) -> int:
    """Longest Master_Down_Interval any backup may use: priority 1 (CARP: advskew 254)."""
    if proto == "carp":
        return 3 * (interval_ns(interval_cs) + S_NS)
    return master_down_ns(proto, version, 1, interval_cs)
