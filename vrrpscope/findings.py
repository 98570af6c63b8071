"""Finding records, severities and the book that deduplicates them.

A finding has one cause, named by a key (kind + virtual router + speakers, or whatever
the detector chooses). While the cause lasts the finding stays open and is updated;
when it ends the finding closes; a later occurrence opens a new finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from vrrpscope import reprs
from vrrpscope.errors import display_name


class Severity(StrEnum):
    """How bad a finding is; compares in the order info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        them = _severity(other)
        return NotImplemented if them is None else self.rank < them.rank

    def __le__(self, other: object) -> bool:
        them = _severity(other)
        return NotImplemented if them is None else self.rank <= them.rank

    def __gt__(self, other: object) -> bool:
        them = _severity(other)
        return NotImplemented if them is None else self.rank > them.rank

    def __ge__(self, other: object) -> bool:
        them = _severity(other)
        return NotImplemented if them is None else self.rank >= them.rank


def _severity(other: object) -> Severity | None:
    """A severity, or its name (``f.severity > "info"`` compares by rank, not as text)."""
    if isinstance(other, Severity):
        return other
    if isinstance(other, str):
        try:
            return Severity(other)
        except ValueError:
            return None
    return None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Kind(StrEnum):
    """Finding kinds (stable: they appear in JSON output)."""

    DUPLICATE_VRID = "duplicate-vrid"
    SPLIT_BRAIN = "split-brain"
    CARP_COLLISION = "carp-collision"
    NO_MASTER = "no-master"
    FAILOVER = "failover"
    FLAPPING = "flapping"
    PRIORITY_FLAP = "priority-flap"
    INTERVAL_DRIFT = "interval-drift"
    CONFIG_MISMATCH = "config-mismatch"
    CHECKSUM_FORM_MISMATCH = "checksum-form-mismatch"
    INVALID_PACKET = "invalid-packet"
    PLAINTEXT_AUTH = "plaintext-auth"
    RESIGNED = "resigned"
    NON_STANDARD_MAC = "non-standard-mac"
    TIMESTAMPS_BACKWARDS = "timestamps-backwards"
    CAPACITY = "capacity"
    EGRESS_BLOCKED = "egress-blocked"  # from a daemon log and the wire together
    INGRESS_DROPPED = "ingress-dropped"
    LOGGED_REJECTS = "logged-rejects"
    LOGGED_FAULT = "logged-fault"
    HIJACK_SUSPECTED = "hijack-suspected"
    HSRP_VIP_CONFLICT = "hsrp-vip-conflict"
    HMAC_REPLAY = "hmac-replay"
    HMAC_CLOCK_SKEW = "hmac-clock-skew"
    STALE_ARP = "stale-arp"
    IPV6_FIRST_ADDRESS = "ipv6-first-address"


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A finding kind as its detector declares it: severity and a one-line summary."""

    kind: Kind
    severity: Severity
    summary: str
    detector: str = ""  # the declaring module (set by :func:`declare`)


_REGISTRY: dict[Kind, KindSpec] = {}


def declare(module: str, *specs: KindSpec) -> tuple[KindSpec, ...]:
    """Register the finding kinds detector ``module`` owns (each kind has one owner)."""
    out = []
    for spec in specs:
        owner = _REGISTRY.get(spec.kind)
        if owner is not None and owner.detector != module:
            raise ValueError(f"finding kind {spec.kind} declared by {owner.detector} and {module}")
        out.append(_REGISTRY.setdefault(spec.kind, replace(spec, detector=module)))
    return tuple(out)


def registry() -> dict[Kind, KindSpec]:
    """Every finding kind, gathered from the detectors' declarations (DESIGN: contract)."""
    if len(_REGISTRY) < len(Kind):
        import vrrpscope.engine.contract  # noqa: F401  (imports every detector: they declare)
    return dict(_REGISTRY)


class _Severities(Mapping[Kind, Severity]):
    """Kind -> severity, read from the registry."""

    def __getitem__(self, kind: Kind) -> Severity:
        spec = _REGISTRY.get(kind)
        if spec is None:
            spec = registry()[kind]
        return spec.severity

    def __iter__(self) -> Iterator[Kind]:
        return iter(registry())

    def __len__(self) -> int:
        return len(registry())


SEVERITY: Mapping[Kind, Severity] = _Severities()


@dataclass(slots=True, eq=False)
class Finding:
    """One diagnosed cause, with its time span, evidence frames and structured details."""

    __repr__ = reprs.finding

    kind: Kind
    severity: Severity
    segment: str | None
    family: int | None
    proto: str | None
    vrid: int | None
    speakers: tuple[str, ...]
    first_ts_ns: int
    last_ts_ns: int
    frames: list[int]
    message: str
    details: dict[str, Any]
    open: bool = True
    key: Hashable = field(default=None, repr=False)
    id: int = 0  # 1, 2, ...: opening order live, time order once the capture ended
    incident: str | None = None  # the id of the incident it belongs to (vrrpscope.incidents)
    #: several input files: the file of each of ``frames`` (empty for one file)
    frame_files: list[str] = field(default_factory=list)

    def evidence(self) -> str:
        """The evidence frames as a user opens them: ``12,40`` or, of several files,
        ``a.pcap:12 c.pcap:3,40`` (files in the order given, frames in order)."""
        if not self.frame_files:
            return ",".join(str(n) for n in sorted(set(self.frames)))
        per_file: dict[str, list[int]] = {}
        for name, n in zip(self.frame_files, self.frames, strict=True):
            per_file.setdefault(name, []).append(n)
        return " ".join(
            f"{display_name(name)}:{','.join(map(str, sorted(set(ns))))}"
            for name, ns in per_file.items()
        )

    def sort_key(self) -> tuple[int, int, str, str, int, str, int, tuple[str, ...]]:
        """Worst first, then earliest (then by where and who: an order that does not
        depend on which of two simultaneous findings opened first)."""
        return (
            -self.severity.rank,
            self.first_ts_ns,
            self.kind,
            self.segment or "",
            self.vrid or 0,
            self.proto or "",
            self.family or 0,
            self.speakers,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stable field names; times in float seconds since the epoch)."""
        return {
            "type": "finding",
            "id": self.id,
            "incident": self.incident,
            "kind": str(self.kind),
            "severity": str(self.severity),
            "segment": self.segment,
            "vrid": self.vrid,
            "family": self.family,
            "proto": self.proto,
            "speakers": list(self.speakers),
            "first_ts": self.first_ts_ns / 1e9,
            "last_ts": self.last_ts_ns / 1e9,
            "open": self.open,
            "frames": list(self.frames),
            **({"frame_files": list(self.frame_files)} if self.frame_files else {}),
            "message": self.message,
            "details": self.details,
        }


@dataclass(slots=True)
class FindingEvent:
    """A finding opened, changed materially, or closed."""

    action: Literal["open", "update", "close"]
    finding: Finding


@dataclass(slots=True)
class Scope:
    """Where a finding belongs: the virtual router (or segment) it is about."""

    segment: str | None
    family: int | None = None
    proto: str | None = None
    vrid: int | None = None


class FindingBook:
    """Keeps every finding, one open finding per key, and tells a listener what changed.

    The findings cap: without a listener (a capture read to its end) it keeps the
    ``max_findings`` findings that rank first (worst kind, then earliest, then by where
    and who) whatever order they were made in, so that a route that makes a block's
    findings in another order keeps the same ones; the others are only counted, and
    closed ones past the cap are dropped as the book grows (bounded memory). Only past
    :data:`HARD_CAP_FACTOR` times the cap (a flood) are new findings no longer made at
    all. With a listener (live), findings past the cap are never made, so that none is
    announced and then withdrawn.
    """

    def __init__(
        self,
        max_findings: int,
        max_frames: int,
        on_event: Callable[[FindingEvent], None] | None = None,
    ) -> None:
        self._all: list[Finding] = []
        self._open: dict[Hashable, Finding] = {}
        self._max = max_findings
        self.max_frames = max_frames
        self._on_event = on_event
        self._ranked = on_event is None
        self._limit = max_findings * HARD_CAP_FACTOR if self._ranked else max_findings
        self._made = 0  # findings made (the hard limit counts these)
        self._next_trim = 2 * max_findings
        self._past_cap: Counter[str] = Counter()  # ranked past the cap and dropped
        self._past_span: tuple[int, int] | None = None  # their first .. last time
        self._suppressed: Counter[str] = Counter()  # never made (the hard limit)
        # hashes of the keys counted once each (bounded): an int, not the key's tuple of
        # strings (a hash collision only leaves one suppressed finding uncounted)
        self._suppressed_keys: set[int] = set()
        self._cap_finding: Finding | None = None

    def __len__(self) -> int:
        return len(self._all)

    @property
    def suppressed(self) -> Counter[str]:
        """Findings the cap kept out, by kind (in kind order: the same whatever order
        they were counted in)."""
        both = self._suppressed + self._past_cap
        return Counter(dict(sorted(both.items())))

    def room(self, n: int) -> bool:
        """Whether ``n`` more findings, made in any order, leave the book's outcome the
        same (the bulk route holds a block's regular adverts back only then)."""
        if self._ranked and self.full:
            return True  # past the hard limit: every new one is only counted
        return self._made + n < self._limit

    def get(self, key: Hashable) -> Finding | None:
        """The open finding for `key`, if any."""
        return self._open.get(key)

    def all(self) -> list[Finding]:
        """Every finding, worst first then by time (past the cap, once numbered: the
        ones kept and the one that says how many were not)."""
        extra = [self._cap_finding] if self._ranked and self._cap_finding is not None else []
        return sorted([*self._all, *extra], key=Finding.sort_key)

    def open(
        self,
        key: Hashable,
        kind: Kind,
        scope: Scope,
        speakers: Iterable[str],
        first_ts_ns: int,
        last_ts_ns: int,
        frames: Iterable[int],
        message: str,
        details: dict[str, Any],
        severity: Severity | None = None,
    ) -> Finding | None:
        """Open a finding for `key` (returns None when the findings cap suppressed it).

        Already open (a speaker forgotten at the speaker cap and back): that one, extended.
        """
        mine = self._open.get(key)
        if mine is not None:
            self.update(mine, last_ts_ns, frames=frames, notify=False)
            return mine
        if self.full:
            self.suppress(key, kind, last_ts_ns)
            return None
        finding = Finding(
            kind=kind,
            severity=severity or SEVERITY[kind],
            segment=scope.segment,
            family=scope.family,
            proto=scope.proto,
            vrid=scope.vrid,
            speakers=tuple(speakers),
            first_ts_ns=first_ts_ns,
            last_ts_ns=max(first_ts_ns, last_ts_ns),
            frames=_dedup(frames)[: self.max_frames],
            message=message,
            details=details,
            key=key,
            id=len(self._all) + 1,
        )
        self._all.append(finding)
        self._open[key] = finding
        self._made += 1
        self._emit("open", finding)
        if self._ranked and len(self._all) > self._next_trim:
            self._trim(final=False)
        return finding

    def update(
        self,
        finding: Finding,
        ts_ns: int | None = None,
        frames: Iterable[int] = (),
        message: str | None = None,
        details: dict[str, Any] | None = None,
        speakers: Iterable[str] | None = None,
        notify: bool = True,
    ) -> None:
        """Extend an open finding; `notify=False` for routine last-seen updates."""
        if ts_ns is not None and ts_ns > finding.last_ts_ns:
            finding.last_ts_ns = ts_ns
        if len(finding.frames) < self.max_frames:
            for frame in frames:
                if frame not in finding.frames and len(finding.frames) < self.max_frames:
                    finding.frames.append(frame)
        if message is not None:
            finding.message = message
        if details:
            finding.details.update(details)
        if speakers is not None:
            finding.speakers = tuple(speakers)
        if notify and finding.open:
            self._emit("update", finding)

    def close(self, finding: Finding, ts_ns: int | None = None) -> None:
        """Close an open finding, optionally setting its end time."""
        if not finding.open:
            return
        if ts_ns is not None:
            finding.last_ts_ns = max(finding.first_ts_ns, ts_ns)
        finding.open = False
        self._open.pop(finding.key, None)
        self._emit("close", finding)

    def close_all(self, ts_ns: int | None = None) -> None:
        """Close everything still open (end of capture); end times never move backwards."""
        for finding in sorted(self._open.values(), key=Finding.sort_key):
            end = finding.last_ts_ns if ts_ns is None else max(finding.last_ts_ns, ts_ns)
            self.close(finding, end if finding.kind in _RUNS_TO_END else None)

    def number(self) -> None:
        """Give every finding its final id: 1, 2, ... in time order (then by kind, where
        and who), so that the ids of one capture do not depend on the route that read it.
        Past the cap, only the findings that rank first are kept (and one says so).
        """
        if self._ranked:
            self._trim(final=True)
            self._note_capacity()
        extra = [self._cap_finding] if self._ranked and self._cap_finding is not None else []
        ordered = sorted(
            [*self._all, *extra],
            key=lambda f: (
                f.first_ts_ns,
                f.kind,
                f.segment or "",
                f.vrid or 0,
                f.proto or "",
                f.family or 0,
                f.speakers,
                f.last_ts_ns,
            ),
        )
        for n, finding in enumerate(ordered, 1):
            finding.id = n

    @property
    def full(self) -> bool:
        """Whether new findings are no longer made, only counted (a detector may then
        :meth:`suppress` without making the finding's message): the cap with a
        listener, its hard limit without one."""
        return self._made >= self._limit

    def _trim(self, final: bool) -> None:
        """Drop the findings ranked past the cap: the closed ones (an open one may still
        change; at the end, all), counting them by kind."""
        ranked = sorted(self._all, key=_cap_rank)
        keep = ranked[: self._max]
        for finding in ranked[self._max :]:
            if finding.open and not final:
                keep.append(finding)
                continue
            self._past_cap[str(finding.kind)] += 1
            self._past_span = _widen(self._past_span, finding.first_ts_ns, finding.last_ts_ns)
            if finding.open:
                self._open.pop(finding.key, None)
        kept = {id(f) for f in keep}
        self._all = [f for f in self._all if id(f) in kept]
        self._next_trim = max(2 * self._max, 2 * len(self._all))

    def _note_capacity(self) -> None:
        """The finding that says the cap was reached (ranked book, when numbered)."""
        if self._past_span is None:
            return
        details = {"limit": self._max, "suppressed": dict(self.suppressed)}
        first, last = self._past_span
        self._cap_finding = Finding(
            kind=Kind.CAPACITY,
            severity=Severity.WARNING,
            segment=None,
            family=None,
            proto=None,
            vrid=None,
            speakers=(),
            first_ts_ns=first,
            last_ts_ns=last,
            frames=[],
            message=(
                f"more than {self._max} findings: the {self._max} that rank first (worst, "
                "then earliest) are kept, the others only counted (raise max_findings, or "
                "look for hostile or broken traffic)"
            ),
            details=details,
            key=("capacity", "findings"),
            id=0,
            open=False,
        )

    def suppress(self, key: Hashable, kind: Kind, ts_ns: int) -> None:
        """Count a finding the cap keeps out (each key once, as far as memory allows)."""
        digest = hash(key)
        if digest in self._suppressed_keys:
            return
        if len(self._suppressed_keys) < 16 * self._max:
            self._suppressed_keys.add(digest)
        self._suppressed[str(kind)] += 1
        if self._ranked:
            self._past_span = _widen(self._past_span, ts_ns, ts_ns)
        else:
            self._note_suppressed(ts_ns)

    def count_suppressed(self, kind: Kind, n: int, ts_ns: int) -> None:
        """Count ``n`` findings of ``kind`` the cap keeps out, without their keys (a
        detector in a flood that does not look at each)."""
        if n:
            self._suppressed[str(kind)] += n
            if self._ranked:
                self._past_span = _widen(self._past_span, ts_ns, ts_ns)
            else:
                self._note_suppressed(ts_ns)

    def _note_suppressed(self, ts_ns: int) -> None:
        total = self._suppressed.total()
        details = {"limit": self._max, "suppressed": dict(self.suppressed)}
        if self._cap_finding is None:
            self._cap_finding = Finding(
                kind=Kind.CAPACITY,
                severity=Severity.WARNING,
                segment=None,
                family=None,
                proto=None,
                vrid=None,
                speakers=(),
                first_ts_ns=ts_ns,
                last_ts_ns=ts_ns,
                frames=[],
                message=(
                    f"more than {self._max} findings: further ones are only counted "
                    "(raise max_findings, or look for hostile or broken traffic)"
                ),
                details=details,
                key=("capacity", "findings"),
                id=len(self._all) + 1,
            )
            self._all.append(self._cap_finding)
            self._open[self._cap_finding.key] = self._cap_finding
            self._emit("open", self._cap_finding)
        else:
            self._cap_finding.details.update(details)
            self._cap_finding.last_ts_ns = max(self._cap_finding.last_ts_ns, ts_ns)
            if total & (total - 1) == 0:  # notify at powers of two, not per suppression
                self._emit("update", self._cap_finding)

    def _emit(self, action: Literal["open", "update", "close"], finding: Finding) -> None:
        if self._on_event is not None:
            self._on_event(FindingEvent(action, finding))


HARD_CAP_FACTOR = 10  # without a listener, findings stop being made at this many caps


def _cap_rank(f: Finding) -> tuple:
    """The findings cap's order, from what never changes once a finding is made: its
    kind's severity (worst first), its start, then where and its key."""
    return (
        -SEVERITY[f.kind].rank,
        f.first_ts_ns,
        f.kind,
        f.segment or "",
        f.vrid or 0,
        f.proto or "",
        f.family or 0,
        repr(f.key),
    )


def _widen(span: tuple[int, int] | None, first: int, last: int) -> tuple[int, int]:
    if span is None:
        return (first, last)
    return (min(span[0], first), max(span[1], last))


# Findings whose cause still holds when the capture ends: their end is the capture's end.
_RUNS_TO_END = frozenset({Kind.NO_MASTER})


def _dedup(frames: Iterable[int]) -> list[int]:
    out: list[int] = []
    for frame in frames:
        if frame not in out:
            out.append(frame)
    return out
