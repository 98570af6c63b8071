"""HSRP groups heard on each segment, for the segment inventory and the VIP check.

Operators with Cisco gear run HSRP beside VRRP on one segment. Each sender of a group is
kept with its message count, first and last time, and what its latest message says
(latest by time, then frame number: the same whichever order the frames are counted in,
so the bulk route, which counts a block's identical hellos at once, keeps what the
general route keeps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vrrpscope.proto.hsrp import HsrpHello
from vrrpscope.secrets import mask_secret

MAX_GROUPS = 4096  # per segment (HSRPv2 numbers groups 0-4095)
MAX_SENDERS = 16  # per group


@dataclass(slots=True)
class HsrpSender:
    """One router's messages for one HSRP group."""

    src: str
    messages: int
    first_ns: int
    last_ns: int
    first_frame: int
    last_frame: int
    last: HsrpHello  # its latest message
    coups: int = 0
    resigns: int = 0
    states: set[str] = field(default_factory=set)

    def note(self, hello: HsrpHello, n: int, first: tuple[int, int], last: tuple[int, int]) -> None:
        self.messages += n
        if first < (self.first_ns, self.first_frame):
            self.first_ns, self.first_frame = first
        if last >= (self.last_ns, self.last_frame):
            self.last_ns, self.last_frame = last
            self.last = hello
        self.coups += n if hello.opcode == "coup" else 0
        self.resigns += n if hello.opcode == "resign" else 0
        self.states.add(hello.state)


GroupKey = tuple[int, int, int]  # (IP family, HSRP version, group)


@dataclass
class HsrpBook:
    """segment -> (family, version, group) -> sender address -> HsrpSender."""

    max_segments: int
    segments: dict[str, dict[GroupKey, dict[str, HsrpSender]]] = field(default_factory=dict)

    def note(
        self,
        segment: str,
        family: int,
        src: str,
        hello: HsrpHello,
        n: int,
        first: tuple[int, int],
        last: tuple[int, int],
    ) -> None:
        """``n`` messages ``hello`` from ``src``, the first and last at (time, frame)."""
        groups = self.segments.get(segment)
        if groups is None:
            if len(self.segments) >= self.max_segments:
                return
            groups = self.segments[segment] = {}
        key = (family, hello.version, hello.group)
        senders = groups.get(key)
        if senders is None:
            if len(groups) >= MAX_GROUPS:
                return
            senders = groups[key] = {}
        sender = senders.get(src)
        if sender is None:
            if len(senders) >= MAX_SENDERS:
                return
            sender = senders[src] = HsrpSender(src, 0, first[0], last[0], first[1], last[1], hello)
        sender.note(hello, n, first, last)

    def groups(self, segment: str) -> list[dict[str, Any]]:
        """The segment's groups as inventory records (by group number)."""
        out = []
        for key, senders in sorted((self.segments.get(segment) or {}).items(), key=_order):
            out.append(summarise_group(key, list(senders.values())))
        return out


def _order(item: tuple[GroupKey, Any]) -> tuple[int, int, int]:
    (family, version, group), _ = item
    return group, version, family


def summarise_group(key: GroupKey, senders: list[HsrpSender]) -> dict[str, Any]:
    """One group: its virtual IP(s), who is active and standby at the end, the timers."""
    family, version, group = key
    end = max(s.last_ns for s in senders)
    senders.sort(key=lambda s: (-s.last.priority, s.src))
    vips = list(dict.fromkeys(s.last.virtual_ip for s in senders if s.last.virtual_ip))

    def current(state: str) -> list[str]:
        return [
            s.src
            for s in senders
            if s.last.state == state and s.last.opcode != "resign" and end - s.last_ns <= _hold(s)
        ]

    lead = next((s for s in senders if s.src in current("active")), senders[0])
    auths = {s.last.auth for s in senders}
    return {
        "group": group,
        "version": version,
        "family": family,
        "virtual_ips": vips,
        "active": current("active"),
        "standby": current("standby"),
        "hello_s": lead.last.hello_ms / 1000,
        "hold_s": lead.last.hold_ms / 1000,
        "messages": sum(s.messages for s in senders),
        "first_ts": min(s.first_ns for s in senders) / 1e9,
        "last_ts": end / 1e9,
        "auth": sorted(a for a in auths if a) or None,
        "senders": [
            {
                "src": s.src,
                "state": s.last.state,
                "priority": s.last.priority,
                "virtual_ip": s.last.virtual_ip,
                "messages": s.messages,
                "coups": s.coups,
                "resigns": s.resigns,
                "states_seen": sorted(s.states),
                "auth": s.last.auth,
                "auth_masked": mask_secret(s.last.auth_data) if s.last.auth == "text" else None,
                "identifier": s.last.identifier,
                "first_ts": s.first_ns / 1e9,
                "last_ts": s.last_ns / 1e9,
            }
            for s in senders
        ],
    }


def _hold(sender: HsrpSender) -> int:
    """The sender's hold time in ns (10 s when it states none)."""
    return (sender.last.hold_ms or 10_000) * 1_000_000
