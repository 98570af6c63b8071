"""Every number the engine decides with, with RFC-rooted defaults.

The RFC timers themselves (Skew_Time, Master_Down_Interval) are not settings: they follow
from each advert's priority and interval (see `vrrpscope.engine.timers`). The thresholds below
say how much slack to grant them and how much evidence a finding needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _f(default: Any, help: str, unit: str = "") -> Any:
    return field(default=default, metadata={"help": help, "unit": unit})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Engine thresholds. `Thresholds.describe()` lists them with help text for a CLI."""

    timer_slack: float = _f(
        0.1,
        "grace added to RFC timers, in advertisement intervals (sender scheduling and "
        "capture timestamp jitter); a master counts as silent after "
        "3 x interval + Skew_Time(priority 1) + slack",
        "intervals",
    )
    settle_intervals: float = _f(
        2.0,
        "at the end of a capture, a speaker silent for this many intervals (+ slack) "
        "while another of its virtual router kept advertising has handed mastership over "
        "(a preempted master stops at once; its silence timer cannot run out any more)",
        "intervals",
    )
    concurrency_factor: float = _f(
        1.0,
        "split-brain / duplicate-vrid when two speakers of one virtual router keep "
        "advertising side by side for longer than this many Master_Down_Intervals "
        "(a preemption or equal-priority tie overlaps for under one interval)",
        "master-down intervals",
    )
    flap_transitions: int = _f(3, "flapping: mastership moves at least this often ...", "moves")
    flap_window_s: float = _f(60.0, "... within this many seconds", "s")
    priority_flap_changes: int = _f(
        3, "priority-flap: a speaker's priority (CARP: advskew) changes this often ...", "changes"
    )
    priority_flap_window_s: float = _f(60.0, "... within this many seconds", "s")
    hijack_established_s: float = _f(
        20.0,
        "hijack-suspected: a new speaker is judged when the master has been advertising this long",
        "s",
    )
    hmac_skew_s: float = _f(
        5.0,
        "hmac-clock-skew when a signer's auth_hmac timestamp differs from the capture's "
        "clock by more than this (keepalived's freshness window is at least 5 s)",
        "s",
    )
    drift_min_samples: int = _f(
        20,
        "interval-drift judges median and jitter only from this many inter-advert gaps of "
        "one speaker on (missed adverts and the worst gap count from the first gap)",
        "gaps",
    )
    drift_median_tolerance: float = _f(
        0.1, "interval-drift when |median gap - advertised interval| exceeds this", "intervals"
    )
    drift_jitter_tolerance: float = _f(
        0.2, "interval-drift when p95 gap - median gap exceeds this", "intervals"
    )
    # Missed adverts are judged as a rate over a sliding window, not as a count over the
    # capture: a healthy day of a 1 s master loses a few adverts to the capture alone
    # (0.05 % loss is ~40 a day). Independent losses at that rate put 4 in one minute
    # about once in 10^5 minutes per speaker; 4 missed in a minute (7 % at 1 s) is a
    # sender in trouble. Two in a row need no count: one gap of 3 intervals is over
    # three quarters of the Master_Down_Interval, the worst-gap reason below.
    drift_missed_min: int = _f(
        4,
        "interval-drift when at least this many adverts went missing within the window "
        "(a gap of g intervals, g >= 1.5, misses round(g) - 1 adverts) ...",
        "adverts",
    )
    drift_missed_rate: float = _f(
        0.02,
        "... and they are at least this fraction of the adverts due in the window",
        "fraction",
    )
    drift_window_s: float = _f(60.0, "... the window for missed adverts", "s")
    drift_worst_gap_fraction: float = _f(
        0.75,
        "interval-drift when the worst gap reaches this fraction of the Master_Down_Interval "
        "(at 1.0 the backup takes over)",
        "master-down intervals",
    )
    failover_slow_tolerance: float = _f(
        0.5,
        "a failover whose takeover took longer than the RFC predicts by more than this is "
        "marked slow in its details",
        "intervals",
    )
    quiet_close_s: float = _f(
        60.0,
        "invalid-packet findings close after this long without another such packet, and "
        "a split brain seen as alternating masters after this long without a handover "
        "(two fast handovers between a pair within it make one)",
        "s",
    )
    max_speakers_per_router: int = _f(
        64, "speakers kept per virtual router (stalest evicted beyond; a finding says so)"
    )
    max_routers: int = _f(
        4096, "virtual routers kept in all (stalest evicted beyond; a finding says so)"
    )
    max_segments: int = _f(
        1024, "segments tallied for other multicast protocols and address claims"
    )
    max_findings: int = _f(
        10000,
        "findings kept (those that rank first: worst, then earliest); the rest are counted "
        "per kind and one finding says so",
    )
    max_evidence_frames: int = _f(8, "evidence frame numbers kept per finding")
    max_history: int = _f(
        1024, "priority changes per speaker and master periods per router kept for timelines"
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TypeError(f"threshold {f.name} must be a number, not {value!r}")
            if value < 0 or (value == 0 and f.name.startswith("max_")):
                raise ValueError(f"threshold {f.name} must be positive, not {value!r}")
        for name in ("flap_transitions", "priority_flap_changes", "drift_min_samples"):
            if getattr(self, name) < 2:
                raise ValueError(f"threshold {name} must be at least 2")

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str, str]]:
        """(name, default, unit, help) for every threshold, in declaration order."""
        return [
            (f.name, f.default, f.metadata.get("unit", ""), f.metadata["help"]) for f in fields(cls)
        ]
