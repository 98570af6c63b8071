"""Segment inventory: which VRIDs are used and free, who speaks, who is master, how often.

Built on demand from engine state (`Engine.inventory()`); every record has `to_dict()`
for JSON lines (`type` "segment" with its routers nested, or "router" on its own).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vrrpscope import reprs
from vrrpscope.engine.hsrp import HsrpBook
from vrrpscope.engine.state import ClaimRecord, MasterPeriod, RouterKey, RouterState, SpeakerState
from vrrpscope.model import AUTH_NAMES, frame_of
from vrrpscope.secrets import mask_secret

VRID_RANGE = range(1, 256)


@dataclass(slots=True)
class SpeakerSummary:
    """One speaker of a virtual router."""

    __repr__ = reprs.speaker_summary

    src: str
    mac: str | None
    version: int | None
    priority: int | None  # last non-zero priority (CARP: None)
    priority_min: int | None
    priority_max: int | None
    priority_changes: int
    advskew: int | None
    advbase: int | None
    adverts: int
    invalid: int
    resigns: int
    first_ts: float
    last_ts: float
    interval_s: float | None  # advertised
    observed: dict[str, Any]  # gap statistics (median_s, p95_s, max_s, missed, ...)
    checksum_forms: dict[str, int]
    auth: str | None
    auth_masked: str | None
    signing: dict[str, Any] | None  # keepalived auth_hmac (engine/signing.py), None: never
    addresses: list[str]
    master_now: bool
    # What the capture shows it doing at the end (see STATES).
    state: str = "-"

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


# A speaker's state at the end of the capture, as far as the wire shows it.
STATES = {
    "MASTER": "advertising at the end",
    "last master": "the last to advertise alone; nobody advertises now (no master)",
    "resigned": "its last advert had priority 0 (keepalived stopped, or FAULT)",
    "backup": "stopped advertising while another speaker is master (a backup, or down: "
    "the wire cannot tell)",
    "silent": "stopped advertising, and it was not the last master (down, or a backup "
    "of a router that has no master now)",
}


def speaker_state(router: RouterState, sp: SpeakerState) -> str:
    """One of STATES for `sp` at the end of the capture."""
    if sp.key in router.active:
        return "MASTER"
    if sp.end_reason == "resigned" or (sp.priority == 0 and sp.advskew is None):
        return "resigned"
    if router.master == sp.key and not router.active:
        return "last master"
    return "backup" if router.active else "silent"


@dataclass(slots=True)
class RouterSummary:
    """One virtual router `(segment, family, proto, vrid)`."""

    __repr__ = reprs.router_summary

    segment: str
    family: int
    proto: str
    vrid: int
    versions: list[int]
    addresses: list[str]
    masters: list[str]  # speakers advertising at the last event (two or more: a conflict)
    last_master: str | None
    adverts: int
    invalid: int
    failovers: int
    interval_s: float | None  # advertised by the (last) master
    observed_median_s: float | None
    observed_p95_s: float | None
    observed_max_s: float | None
    checksum_forms: dict[str, int]
    first_ts: float
    last_ts: float
    speakers: list[SpeakerSummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "router"}
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            out[name] = [s.to_dict() for s in value] if name == "speakers" else value
        return out


@dataclass(slots=True)
class SegmentInventory:
    """One layer-2 segment: routers, VRIDs in use per protocol/family, free VRIDs."""

    __repr__ = reprs.segment
    _repr_html_ = reprs.segment_html

    segment: str
    routers: list[RouterSummary]
    vrids_in_use: dict[str, list[int]]  # "vrrp/ipv4", "vrrp/ipv6", "carp/ipv4", ...
    free_vrids: dict[int, list[int]]  # family -> VRIDs 1-255 free for VRRP on it
    other_protocols: dict[str, int]  # non-VRRP multicast label -> frames
    speakers: int
    # Nodes seen only by their gratuitous ARPs / unsolicited NAs for a VIP of a virtual
    # router here (they never advertised: a master whose adverts do not reach the wire).
    silent_claimants: list[dict[str, Any]] = field(default_factory=list)
    # Cisco HSRP groups heard here (vrrpscope.engine.hsrp.summarise_group).
    hsrp_groups: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "segment",
            "segment": self.segment,
            "vrids_in_use": self.vrids_in_use,
            "free_vrids": {str(f): format_ranges(v) for f, v in self.free_vrids.items()},
            "other_protocols": self.other_protocols,
            "speakers": self.speakers,
            "silent_claimants": self.silent_claimants,
            "hsrp_groups": self.hsrp_groups,
            "routers": [r.to_dict() for r in self.routers],
        }


def format_ranges(numbers: Iterable[int]) -> str:
    """Compact a set of numbers: [1, 2, 3, 7, 9, 10] -> '1-3,7,9-10'."""
    nums = sorted(set(numbers))
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(parts)


def free_vrids(routers: Iterable[RouterState]) -> dict[int, list[int]]:
    """VRIDs a new VRRP instance can use per family on a segment.

    A VRRP VRID is taken in its own family (IPv4 and IPv6 use different virtual MACs,
    00:00:5e:00:01:XX and 00:00:5e:00:02:XX); a CARP vhid takes the IPv4 VRID (same
    virtual MAC, group and protocol), and over IPv6 the IPv6 one too.
    """
    taken: dict[int, set[int]] = {4: set(), 6: set()}
    for r in routers:
        if r.proto == "carp":  # CARP over IPv4 or IPv6 uses the IPv4 virtual MAC block
            taken[4].add(r.vrid)
            if r.family == 6:
                taken[6].add(r.vrid)
        else:
            taken.setdefault(r.family, set()).add(r.vrid)
    return {fam: [v for v in VRID_RANGE if v not in used] for fam, used in sorted(taken.items())}


def silent_between(periods: Iterable[MasterPeriod], key: object, start: int, end: int) -> bool:
    """Whether no speaker but `key` advertised between `start` and `end`: a silence of the
    whole virtual router (an outage), not a stretch as backup while another was master."""
    return not any((p.src, p.mac) != key and p.start_ns < end and p.end_ns > start for p in periods)


def outage_ns(periods: list[MasterPeriod], key: object) -> tuple[int, int | None]:
    """The longest silence of speaker `key` between two of its own master periods while
    nobody else advertised, and when it began (inter-advert gaps within a period are
    GapStats' business)."""
    mine = sorted((p for p in periods if (p.src, p.mac) == key), key=lambda p: p.start_ns)
    best, at = 0, None
    for p, q in zip(mine, mine[1:], strict=False):
        gap = q.start_ns - p.end_ns
        if gap > best and silent_between(periods, key, p.end_ns, q.start_ns):
            best, at = gap, p.end_ns
    return best, at


def router_outage_ns(periods: list[MasterPeriod]) -> int:
    """The longest time between two master periods of a virtual router with nobody
    advertising."""
    best, reach = 0, None
    for p in sorted(periods, key=lambda p: p.start_ns):
        if reach is not None and p.start_ns - reach > best:
            best = p.start_ns - reach
        reach = p.end_ns if reach is None else max(reach, p.end_ns)
    return best


def _observed(sp: SpeakerState, periods: list[MasterPeriod]) -> dict[str, Any]:
    """Gap statistics; `max_s` includes the speaker's outages (a silence between its
    periods with nobody else advertising), given on their own as `outage_s`."""
    out: dict[str, Any] = sp.gaps.to_dict() if sp.gaps is not None else {}
    silence, at = outage_ns(periods, sp.key)
    if silence:
        out["outage_s"] = round(silence / 1e9, 4)
        out["outage_at_ts"] = None if at is None else at / 1e9
        if out.get("max_s") is None or silence / 1e9 > out["max_s"]:
            out["max_s"] = out["outage_s"]
    return out


def summarise_speaker(
    router: RouterState, sp: SpeakerState, periods: list[MasterPeriod] | None = None
) -> SpeakerSummary:
    heard = sp.config_sig is None  # only invalid adverts: what they said
    return SpeakerSummary(
        src=sp.src,
        mac=sp.mac,
        version=sp.version,
        priority=sp.heard_priority if heard else sp.priority,
        priority_min=sp.prio_min,
        priority_max=sp.prio_max,
        priority_changes=sp.priority_changes,
        advskew=sp.advskew,
        advbase=sp.advbase,
        adverts=sp.adverts,
        invalid=sp.invalid,
        resigns=sp.resigns,
        first_ts=sp.first_ts_ns / 1e9,
        last_ts=sp.last_ts_ns / 1e9,
        interval_s=None if sp.interval_cs is None else sp.interval_cs / 100,
        observed=_observed(sp, router.timeline() if periods is None else periods),
        checksum_forms=dict(sp.checksum_forms),
        auth=None if sp.auth_type is None else AUTH_NAMES.get(sp.auth_type, str(sp.auth_type)),
        auth_masked=mask_secret(sp.auth_data) if sp.auth_type == 1 else None,
        signing=None if sp.signing is None else sp.signing.to_dict(),
        addresses=list(sp.heard_addresses if heard else sp.addresses),
        master_now=sp.key in router.active,
        state=speaker_state(router, sp),
    )


def summarise_router(router: RouterState) -> RouterSummary:
    periods = router.timeline()
    speakers = [summarise_speaker(router, sp, periods) for sp in router.speakers.values()]
    speakers.sort(key=lambda s: (-(s.priority or 0), s.src))
    addresses: dict[str, None] = {}
    forms: Counter[str] = Counter()
    for sp in router.speakers.values():
        addresses.update(
            dict.fromkeys(sp.heard_addresses if sp.config_sig is None else sp.addresses)
        )
        forms.update(sp.checksum_forms)
    master = router.speakers.get(router.master) if router.master else None
    if master is None and router.active:
        master = next(iter(router.active.values()))
    gaps = master.gaps if master is not None else None
    interval = master.interval_cs if master is not None else None
    return RouterSummary(
        segment=router.segment,
        family=router.family,
        proto=router.proto,
        vrid=router.vrid,
        versions=sorted(router.versions),
        addresses=list(addresses),
        masters=[sp.src for sp in router.active.values()],
        last_master=router.master[0] if router.master else None,
        adverts=router.adverts,
        invalid=router.invalid,
        failovers=router.failovers,
        interval_s=None if interval is None else interval / 100,
        observed_median_s=_r(gaps.median_s) if gaps else None,
        observed_p95_s=_r(gaps.p95_s) if gaps else None,
        observed_max_s=_max(gaps.max_s if gaps else None, router_outage_ns(periods)),
        checksum_forms=dict(forms),
        first_ts=router.first_ts_ns / 1e9,
        last_ts=router.last_ts_ns / 1e9,
        speakers=speakers,
    )


def build_inventory(
    segments: Mapping[str, Mapping[RouterKey, RouterState]],
    other: Mapping[str, Counter[str]],
    claims: Mapping[str, Mapping[str, Mapping[str, ClaimRecord]]] | None = None,
    files: Sequence[str] = (),
    hsrp: HsrpBook | None = None,
) -> list[SegmentInventory]:
    """One SegmentInventory per segment that had adverts or other multicast traffic.

    `claims`: per segment, VIP -> MAC -> its claims; `files`: the inputs, when several;
    `hsrp`: the HSRP groups heard.
    """
    out = []
    for name in sorted(set(segments) | set(other)):
        routers = sorted(
            (segments.get(name) or {}).values(), key=lambda r: (r.vrid, r.family, r.proto)
        )
        in_use: dict[str, list[int]] = {}
        for r in routers:
            in_use.setdefault(f"{r.proto}/ipv{r.family}", []).append(r.vrid)
        out.append(
            SegmentInventory(
                segment=name,
                routers=[summarise_router(r) for r in routers],
                vrids_in_use={k: sorted(set(v)) for k, v in sorted(in_use.items())},
                free_vrids=free_vrids(routers),
                other_protocols=dict((other.get(name) or Counter()).most_common()),
                speakers=len({sp.src for r in routers for sp in r.speakers.values()}),
                silent_claimants=silent_claimants(routers, (claims or {}).get(name) or {}, files),
                hsrp_groups=hsrp.groups(name) if hsrp is not None else [],
            )
        )
    return out


def silent_claimants(
    routers: Iterable[RouterState],
    claims: Mapping[str, Mapping[str, ClaimRecord]],
    files: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """MACs that claimed a VIP of these routers but never advertised from that MAC
    (``files``: the inputs, when several: each claim's first frame names its file)."""
    routers = list(routers)
    advertising = {(sp.mac or "").lower() for r in routers for sp in r.speakers.values()}
    out = []
    for r in routers:
        vips = dict.fromkeys(a for sp in r.speakers.values() for a in sp.addresses)
        for vip in vips:
            for mac, claim in sorted((claims.get(vip) or {}).items()):
                if mac in advertising:
                    continue
                out.append(
                    {
                        "vrid": r.vrid,
                        "proto": r.proto,
                        "family": r.family,
                        "vip": vip,
                        "mac": mac,
                        "claims": claim.count,
                        "first_ts": claim.first_ns / 1e9,
                        "last_ts": claim.last_ns / 1e9,
                        "first_frame": frame_of(claim.first_frame)[1],
                        **({"first_file": files[frame_of(claim.first_frame)[0]]} if files else {}),
                    }
                )
    return out[:64]


def _max(gap_s: float | None, outage: int) -> float | None:
    """The longest gap between the router's adverts: within the master's run, or an
    outage with nobody advertising."""
    if not outage:
        return _r(gap_s)
    return _r(max(gap_s or 0.0, outage / 1e9))


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
