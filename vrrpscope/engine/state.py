"""Per virtual router and per speaker state that the engine keeps and detectors read."""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vrrpscope import reprs
from vrrpscope.engine.counters import RouterCounters
from vrrpscope.engine.gapstats import GapStats
from vrrpscope.engine.signing import SigningStats
from vrrpscope.engine.timers import interval_ns, master_down_ns, max_master_down_ns, skew_time_ns
from vrrpscope.model import Advert

RouterKey = tuple[str, int, str, int]  # (segment, family, proto, vrid)
SpeakerKey = tuple[str, str | None]  # (source IP, source MAC)
Standing = tuple[int | None, int | None, int | None]  # (priority, CARP advskew, CARP demote)


@dataclass(slots=True)
class MasterPeriod:
    """One stretch during which a speaker advertised (only a master advertises)."""

    src: str
    mac: str | None
    start_ns: int
    end_ns: int  # last advert of the stretch (so far, when open)
    priority: int | None
    adverts: int
    end_reason: str | None = None  # "silence", "resigned", "evicted"; None while open

    def to_dict(self) -> dict[str, Any]:
        return {
            "src": self.src,
            "mac": self.mac,
            "start_ts": self.start_ns / 1e9,
            "end_ts": self.end_ns / 1e9,
            "priority": self.priority,
            "adverts": self.adverts,
            "end_reason": self.end_reason,
        }


@dataclass(slots=True)
class Contest:
    """A pair of speakers taking over from each other within an interval (alternating
    masters): the first and latest move, moves, contested ones, the first's frame."""

    first_ns: int
    last_ns: int
    handovers: int
    contested: int
    first_frame: int


@dataclass(slots=True)
class ClaimRecord:
    """One MAC's gratuitous ARPs / unsolicited NAs for one address on one segment."""

    first_ns: int
    last_ns: int
    count: int
    first_frame: int


@dataclass(frozen=True, slots=True)
class PendingClaim:
    """A claim for a router's VIP, judged once the next adverts show who advertised."""

    mac: str
    vip: str
    ts_ns: int
    frame: int


@dataclass(slots=True, eq=False)
class DeferredDrift:
    """An interval-drift evaluation a bulk apply left for later: the gap statistics
    before it, the gaps up to its point (their bins and end times), its time and frame."""

    before: GapStats
    gaps: Any  # numpy arrays (int64)
    bins: Any
    ts: Any
    at_ns: int
    frame: int


@dataclass(slots=True, eq=False)
class SpeakerState:
    """What one source (IP + MAC) advertised for one virtual router."""

    __repr__ = reprs.speaker

    src: str
    mac: str | None
    first_ts_ns: int
    last_ts_ns: int  # any advert, valid or not
    first_frame: int
    last_frame: int = 0
    adverts: int = 0
    invalid: int = 0
    # Last accepted (valid) advert and its configuration.
    last_valid_ns: int | None = None
    version: int | None = None
    priority: int | None = None  # last non-zero priority (CARP: None)
    prio_min: int | None = None
    prio_max: int | None = None
    advskew: int | None = None
    advbase: int | None = None
    demote: int | None = None
    interval_cs: int | None = None
    auth_type: int | None = None
    auth_data: bytes | None = None
    hmac_key: int | None = None  # auth_hmac key id of its last valid advert (None: unsigned)
    signing: SigningStats | None = None  # once it has sent a signed advert
    addresses: tuple[str, ...] = ()
    address_set: frozenset[str] = frozenset()
    checksum_forms: dict[str, int] = field(default_factory=dict)
    config_sig: tuple[Any, ...] | None = None
    # What its invalid adverts said while none was valid (for the inventory only).
    heard_priority: int | None = None
    heard_addresses: tuple[str, ...] = ()
    priority_history: deque[tuple[int, int]] = field(default_factory=deque)
    # An interval-drift evaluation a bulk apply left for later (heldruns).
    drift_pending: DeferredDrift | None = field(default=None, repr=False, compare=False)
    priority_changes: int = 0
    resigned_ns: int | None = None  # last priority-0 advert
    resigns: int = 0
    gaps: GapStats | None = None
    peer_gaps: int = 0  # long gaps during which a peer advertised (kept out of `gaps`)
    gaps_since_ns: int | None = None
    # Current advertising episode (None when not advertising).
    active_since_ns: int | None = None
    episode_start_ns: int | None = None  # start of the current or last episode
    episode_frame: int = 0
    episode_adverts: int = 0
    mdi_ns: int = 0  # own Master_Down_Interval at its advertised interval
    expiry_ns: int = 0  # silence after which the episode ends
    settle_ns: int = 0  # end of capture: silence after which, with a peer going on, it yielded
    deadline_ns: int = 0
    timer_due_ns: int | None = None
    end_ns: int | None = None  # end of the last episode and why
    end_reason: str | None = None
    # Election standing when the current/last episode started and when it ended.
    start_standing: Standing | None = None
    end_standing: Standing | None = None
    # What peers must agree on (config-mismatch compares these first, cheaply).
    comparable: tuple[Any, ...] | None = None
    key: SpeakerKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = (self.src, self.mac)

    @property
    def active(self) -> bool:
        return self.active_since_ns is not None

    @property
    def standing(self) -> Standing:
        """What decides an election now: priority (CARP: advskew and demotion)."""
        return (self.priority, self.advskew, self.demote)

    def skew_ns(self, master_interval_cs: int | None = None, priority: int | None = None) -> int:
        """Skew_Time of this speaker as a backup (at `priority`, default its current one)."""
        iv = master_interval_cs or self.interval_cs or 100
        prio = self.priority if priority is None else priority
        return skew_time_ns(self.proto_hint, self.version or 2, prio, iv)

    def master_down_ns(
        self, master_interval_cs: int | None = None, priority: int | None = None
    ) -> int:
        """Master_Down_Interval of this speaker as a backup (at `priority`)."""
        iv = master_interval_cs or self.interval_cs or 100
        prio = self.priority if priority is None else priority
        return master_down_ns(self.proto_hint, self.version or 2, prio, iv)

    @property
    def proto_hint(self) -> str:
        return "carp" if self.advbase is not None else "vrrp"


def election_rank(src: str, standing: Standing) -> tuple[int, int, int]:
    """Order of an election (RFC 5798 6.4.3): priority, then the higher primary IP wins.

    CARP: lower demotion counter, then lower advskew wins.
    """
    priority, advskew, demote = standing
    if advskew is not None:
        return (-(demote or 0), -advskew, _ip_int(src))
    return (0, priority or 0, _ip_int(src))


@lru_cache(maxsize=4096)
def _ip_int(src: str) -> int:
    try:
        return int(ipaddress.ip_address(src))
    except ValueError:
        return 0


def yields_to(master: SpeakerState, better: SpeakerState) -> bool:
    """Whether `master` becomes backup on hearing `better`'s advert (RFC 5798 6.4.3: a
    higher priority, or an equal one from a higher primary IP; CARP: lower demotion
    counter, then lower advskew — equal ones are no election there)."""
    mine = election_rank(master.src, master.standing)
    theirs = election_rank(better.src, better.standing)
    if master.advskew is not None:
        return theirs[:2] > mine[:2]
    return theirs > mine


@dataclass(slots=True, eq=False)
class RouterState:
    """One virtual router `(segment, family, proto, vrid)`: its speakers and master timeline."""

    __repr__ = reprs.router
    _repr_html_ = reprs.router_html

    segment: str
    family: int
    proto: str
    vrid: int
    first_ts_ns: int
    last_ts_ns: int = 0
    adverts: int = 0
    invalid: int = 0
    speakers: OrderedDict[SpeakerKey, SpeakerState] = field(default_factory=OrderedDict)
    active: dict[SpeakerKey, SpeakerState] = field(default_factory=dict)
    master: SpeakerKey | None = None  # last speaker that advertised alone
    master_since_ns: int | None = None
    periods: deque[MasterPeriod] = field(default_factory=deque)
    periods_dropped: int = 0
    failovers: int = 0
    transition_times: deque[int] = field(default_factory=deque)
    evicted_speakers: int = 0
    silent_since_ns: int | None = None  # everyone stopped (resigned or silent) at this time
    last_valid_ns: int | None = None
    versions: set[int] = field(default_factory=set)
    # Open findings about a pair of speakers (split-brain, duplicate-vrid, config and
    # checksum mismatch), by finding key: lets detectors skip lookups when there are none.
    pair_findings: dict[Any, Any] = field(default_factory=dict)
    # Pairs taking over from each other within an interval (alternating masters).
    contests: dict[tuple[SpeakerKey, SpeakerKey], Contest] = field(default_factory=dict)
    # Gratuitous ARP / unsolicited NA for a VIP, judged once the next adverts show who
    # was advertising around it.
    pending_claims: list[PendingClaim] = field(default_factory=list)
    drift_pending: bool = field(default=False, repr=False, compare=False)  # a speaker's is
    # MIB-style running counts (transitions, protocol errors, takeovers) for the metrics.
    counters: RouterCounters = field(default_factory=RouterCounters, repr=False, compare=False)
    # Engine position of its latest advert (orders routers least recently used first).
    touch: int = field(default=0, repr=False, compare=False)
    key: RouterKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = router_key(self)

    @property
    def label(self) -> str:
        """Human name, e.g. 'VRRP VRID 51 (IPv4) on eth0'."""
        word = "vhid" if self.proto == "carp" else "VRID"
        return f"{self.proto.upper()} {word} {self.vrid} (IPv{self.family}) on {self.segment}"

    @property
    def current_masters(self) -> list[SpeakerState]:
        """Speakers advertising now (more than one: a conflict or a handover in progress)."""
        return list(self.active.values())

    def takeover_ns(self, master: SpeakerState, interval_cs: int | None = None) -> int:
        """Master_Down_Interval of the backup that would take over from `master` (advertising
        every `interval_cs`, default its own): the one number the findings and plots show.

        That is the best other speaker seen (a VRRPv3 backup runs on the master's
        interval); with none seen yet, `master`'s own timer (a backup just below it).
        """
        others = [s for s in self.speakers.values() if s is not master]
        if not others:
            return master.mdi_ns if interval_cs is None else master.master_down_ns(interval_cs)
        if master.advskew is not None:  # CARP: lowest advskew first; own advbase/advskew
            return min(others, key=lambda s: s.advskew or 0).master_down_ns()
        best = max(others, key=lambda s: s.priority or 0)
        return best.master_down_ns(interval_cs or master.interval_cs)

    def timeline(self) -> list[MasterPeriod]:
        """Master periods, closed ones and those still open, in start order."""
        out = list(self.periods)
        for sp in self.active.values():
            assert sp.active_since_ns is not None and sp.last_valid_ns is not None
            out.append(
                MasterPeriod(
                    sp.src,
                    sp.mac,
                    sp.active_since_ns,
                    sp.last_valid_ns,
                    sp.priority,
                    sp.episode_adverts,
                )
            )
        out.sort(key=lambda p: p.start_ns)
        return out

    def expiry_for(self, advert: Advert, slack: float) -> int:
        """Silence after which a speaker advertising like `advert` has stopped."""
        return expiry_ns(advert, slack)


def router_key(item: Any) -> RouterKey:
    """The virtual router an advert (or a finding) is about: (segment, family, proto, vrid)."""
    return (item.segment, item.family, item.proto, item.vrid)


def expiry_ns(advert: Advert, slack: float) -> int:
    """Silence after which a speaker advertising like `advert` has stopped."""
    iv = advert.interval_cs
    return max_master_down_ns(advert.proto, advert.version, iv) + int(slack * interval_ns(iv))
