"""A virtual router's running counters in the VRRPv3 MIB's terms (RFC 6527): new-master
transitions by reason, received protocol errors by reason, priority-0 adverts and the
takeover times, kept by the engine for the Prometheus metrics (bounded, never reset)."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from vrrpscope.model import ISSUE_REASON

# vrrpv3StatisticsNewMasterReason, plus the resignation a passive observer tells apart
# (a priority-0 advert) and "other" (a handover it cannot explain).
NEW_MASTER_REASONS = ("priority", "preempted", "master_no_response", "resigned", "other")
FAILOVER_CAUSE_REASON = {
    "preempted": "preempted",
    "silence": "master_no_response",
    "resigned": "resigned",
}

# Why receivers discard an advert (vrrpv3StatisticsProtoErrReason and the MIB's error
# counters: IpTtlErrors, RouterVersionErrors, RouterChecksumErrors, RouterVrIdErrors,
# PacketLengthErrors, RcvdInvalidTypePackets, AdvIntervalErrors, auth).
PROTOCOL_ERROR_REASONS = (
    "ip_ttl",
    "version",
    "checksum",
    "vrid",
    "auth",
    "length",
    "type",
    "interval",
    "format",
)  # (model.ISSUE_REASON maps each advert issue to one)

# Upper bounds (seconds) of the takeover-time histogram: Skew_Time (well under 1 s) to
# Master_Down_Interval of long advert intervals.
TAKEOVER_BUCKETS_S = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0)


@dataclass(slots=True)
class RouterCounters:
    """Monotonic counts of one virtual router since the engine started."""

    transitions: Counter[str] = field(default_factory=Counter)  # by NEW_MASTER_REASONS
    errors: Counter[str] = field(default_factory=Counter)  # by PROTOCOL_ERROR_REASONS
    priority_zero: int = 0
    takeover_buckets: list[int] = field(default_factory=lambda: [0] * len(TAKEOVER_BUCKETS_S))
    takeovers: int = 0
    takeover_sum_s: float = 0.0
    slow_takeovers: int = 0

    def rejected(self, issues: tuple[str, ...]) -> None:
        """One discarded advert: each distinct reason among its issues counts once."""
        for reason in {ISSUE_REASON.get(issue, "format") for issue in issues}:
            self.errors[reason] += 1

    def new_master(self, cause: str | None, takeover_s: float | None, slow: bool) -> None:
        """A speaker became master: ``cause`` None for the router's first master (it won
        the election on priority), else the failover's cause."""
        reason = "priority" if cause is None else FAILOVER_CAUSE_REASON.get(cause, "other")
        self.transitions[reason] += 1
        if reason in ("master_no_response", "resigned") and takeover_s is not None:
            self.takeovers += 1
            self.takeover_sum_s += takeover_s
            at = bisect_left(TAKEOVER_BUCKETS_S, takeover_s)
            if at < len(self.takeover_buckets):
                self.takeover_buckets[at] += 1
            self.slow_takeovers += bool(slow)

    def cumulative_buckets(self) -> list[tuple[str, int]]:
        """Prometheus histogram buckets: (upper bound, count at or below), +Inf last."""
        out, running = [], 0
        for bound, count in zip(TAKEOVER_BUCKETS_S, self.takeover_buckets, strict=True):
            running += count
            out.append((repr(bound), running))
        out.append(("+Inf", self.takeovers))
        return out
