"""Detectors: each module turns state changes of the engine into findings of its kinds.

Detectors never scan history: the engine calls them at the moments their cause can start,
change or end (a new speaker, a configuration change, a gap, an expiry, a timer).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vrrpscope.engine.state import ClaimRecord, RouterKey, RouterState, SpeakerState
from vrrpscope.findings import Finding, FindingBook, Kind, Scope
from vrrpscope.thresholds import Thresholds


class Seen(Protocol):
    """Anything with a last-seen time: a speaker or a virtual router."""

    last_ts_ns: int


@dataclass(slots=True, eq=False)
class Context:
    """What detectors share: the finding book, thresholds and timer scheduling."""

    book: FindingBook
    th: Thresholds
    # schedule_quiet(finding, quiet_ns): close `finding` once quiet_ns pass with no update.
    schedule_quiet: Callable[[Finding, int], None]
    # Findings whose last_ts follows the last advert of some speakers (refreshed lazily).
    followers: dict[object, tuple[Seen, ...]] = field(default_factory=dict)
    # Address claims per segment: VIP -> MAC -> its claims.
    claims: dict[str, dict[str, dict[str, ClaimRecord]]] = field(default_factory=dict)
    # The engine's virtual routers per segment (read only: free VRIDs for advice).
    segments: dict[str, dict[RouterKey, RouterState]] = field(default_factory=dict)

    def follow(self, finding: Finding | None, sources: Iterable[Seen]) -> None:
        """Let `finding`'s last_ts follow the last advert of `sources` while it is open."""
        if finding is not None:
            self.followers[finding.key] = tuple(sources)

    def refresh(self) -> None:
        """Bring followed open findings' last_ts up to their speakers' last advert."""
        for key, speakers in list(self.followers.items()):
            finding = self.book.get(key)
            if finding is None:
                del self.followers[key]
                continue
            last = max(s.last_ts_ns for s in speakers)
            if last > finding.last_ts_ns:
                finding.last_ts_ns = last


def pair_get(router: RouterState, key: object) -> Finding | None:
    """The open pair finding for `key` on `router` (cheap when the router has none)."""
    if not router.pair_findings:
        return None
    finding = router.pair_findings.get(key)
    if finding is not None and not finding.open:
        del router.pair_findings[key]
        return None
    return finding


def pair_track(router: RouterState, finding: Finding | None) -> None:
    if finding is not None:
        router.pair_findings[finding.key] = finding


def pair_close(ctx: Context, router: RouterState, finding: Finding, ts_ns: int | None) -> None:
    ctx.book.close(finding, ts_ns)
    router.pair_findings.pop(finding.key, None)


def scope(router: RouterState) -> Scope:
    return Scope(router.segment, router.family, router.proto, router.vrid)


def open_speaker(
    ctx: Context,
    router: RouterState,
    sp: SpeakerState,
    key: Hashable,
    kind: Kind,
    ts_ns: int,
    frame: int,
    message: str,
    details: dict[str, Any],
    follow: bool = True,
) -> Finding | None:
    """Open a finding about one speaker of ``router`` at ``ts_ns``, its advert ``frame``
    the evidence; with ``follow`` its last_ts follows the speaker's last advert."""
    finding = ctx.book.open(
        key, kind, scope(router), (sp.src,), ts_ns, ts_ns, (frame,), message, details
    )
    if follow:
        ctx.follow(finding, (sp,))
    return finding


def pair(a: SpeakerState, b: SpeakerState) -> tuple[SpeakerState, SpeakerState]:
    """Two speakers in a stable order (by key), so one pair gets one finding."""
    return (a, b) if _order(a) <= _order(b) else (b, a)


def _order(s: SpeakerState) -> tuple[str, str]:
    return (s.src, s.mac or "")


def virtual_mac(proto: str, family: int, vrid: int) -> str:
    """The RFC virtual MAC: 00:00:5e:00:01:VRID (IPv4, CARP), 00:00:5e:00:02:VRID (IPv6)."""
    block = 2 if family == 6 and proto == "vrrp" else 1
    return f"00:00:5e:00:{block:02x}:{vrid & 0xFF:02x}"


def who(sp: SpeakerState) -> str:
    """A speaker for messages: its IP, and the MAC when it has one."""
    return f"{sp.src} ({sp.mac})" if sp.mac else sp.src


def name(router: RouterState, src: str, mac: str | None) -> str:
    """A speaker by its IP, with its MAC when the IP alone is ambiguous (a node that
    changed MAC, e.g. by enabling use_vmac, is two speakers with one IP)."""
    if mac and any(k[0] == src and k[1] != mac for k in router.speakers):
        return f"{src} ({mac})"
    return src


def secs(ns: int | float | None) -> str:
    """Nanoseconds as '1.23 s'."""
    if ns is None:
        return "?"
    return f"{ns / 1e9:.2f} s"


def sec(ns: int | None) -> float | None:
    """Nanoseconds as float seconds rounded for details."""
    return None if ns is None else round(ns / 1e9, 4)
