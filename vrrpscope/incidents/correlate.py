"""Group findings by cause into incidents.

The rules run in order, each taking the findings it explains out of the pool, so every
finding lands in exactly one incident:

0. not captured: silences across the time between two capture files that no file
   covers, resumed by the same master (several files only);
1. capture gaps: masters of several VRIDs (of more than one node) silent at once and
   the same masters resuming: the capture or the link lost them;
2. duplicate VRIDs and CARP collisions (per VRID, then merged across VRIDs sharing a
   node), with the split brains, disagreements and failovers they cause;
2b. suspected hijacks: a stranger's claim on an established VRID, with every finding
   on that VRID it takes part in (the VIP moving to it and back, a split brain with
   it, its notes); a forged priority 0, the resignation and takeover it forced;
3. split brains between a pair (per VRID, merged across VRIDs), with the mismatch that
   explains them and the failovers that began or ended them;
4. flapping: mastership or priority changing over and over on a VRID, with its failovers;
5. node events: a node resigning / going silent on its VRIDs (and who took over, or
   nobody), and its return (preemption of the VRIDs back);
6. configuration and checksum-form disagreements per pair of nodes;
7. the rest per kind and node: notes that repeat per VRID roll up into one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from vrrpscope.capture.coverage import Uncovered
from vrrpscope.findings import SEVERITY, Finding, Kind, Severity
from vrrpscope.incidents import words
from vrrpscope.incidents.records import Incident, IncidentKind
from vrrpscope.incidents.roles import arrival_of, departure_of
from vrrpscope.incidents.story import lost_span, missed_in_worst_gap, tell

S = 1_000_000_000

# A node's VRIDs stop within one advert interval of each other (keepalived sends every
# priority-0 advert at once when it stops; after a crash the last adverts are spread over
# one interval): departures of one node chained by gaps of up to this are one event. A
# restart comes back later than this, so its return is an event of its own.
NODE_GAP_NS = 5 * S
# Findings this close before / after a split brain, a duplicate or a flap (the failover
# that began it, the resignation that ended it) are part of it.
SLACK_NS = 5 * S
# No-master periods starting within this of each other are "at once" (capture gaps).
GAP_TOGETHER_NS = 2 * S
GAP_MIN_VRIDS = 3
GAP_MIN_NODES = 3  # ... of this many nodes when none was silent past the takeover time
# A drift the capture explains is marked so and counts as info (undone when the
# findings are correlated again, live: they are until the capture gap forms again).
CAPTURE_LOSS = "capture_loss"
# A finding whose silence spans the time between two files is marked with that span
# (``details["uncaptured"]``); the silence may stretch this much past it on each side
# in advert intervals (the last advert before a file ends, the first after the next
# one starts).
UNCAPTURED = "uncaptured"
_UNCAPTURED_NOTE = " (Nothing was captured between "
# Warnings of one kind on one node are one incident while they come within this of each
# other (a node whose adverts drift on all its VRIDs at once); info notes: any time.
REPEAT_GAP_NS = 60 * S
# An info note from more nodes than this on one segment is one roll-up for the segment
# (a fleet of keepalived pairs without use_vmac), not one per node.
ROLLUP_NODES = 4

_MISMATCH = (Kind.CONFIG_MISMATCH, Kind.CHECKSUM_FORM_MISMATCH)
_FLAPS = (Kind.FLAPPING, Kind.PRIORITY_FLAP)
# What a daemon's log and the wire say together explains a split brain or a duplicate.
_LOGGED = (Kind.EGRESS_BLOCKED, Kind.INGRESS_DROPPED, Kind.LOGGED_REJECTS)


@dataclass
class _Group:
    kind: IncidentKind
    findings: list[Finding] = field(default_factory=list)
    core: tuple[int, int] | None = None  # span of the findings that define it

    def __post_init__(self) -> None:
        if self.findings and self.core is None:
            self.core = (self.first, self.last)

    @property
    def span(self) -> tuple[int, int]:
        """When the cause itself was seen (what it absorbed may last longer: a
        disagreement that stays until the capture ends)."""
        return self.core or (self.first, self.last)

    @property
    def first(self) -> int:
        return min(f.first_ts_ns for f in self.findings)

    @property
    def last(self) -> int:
        return max(f.last_ts_ns for f in self.findings)

    @property
    def nodes(self) -> set[str]:
        return {s for f in self.findings for s in f.speakers}

    @property
    def vrids(self) -> set[int]:
        return {f.vrid for f in self.findings if f.vrid is not None}

    @property
    def segment(self) -> str | None:
        return self.findings[0].segment

    def of(self, *kinds: Kind) -> list[Finding]:
        return [f for f in self.findings if f.kind in kinds]


class _Pool:
    """The findings no rule has taken yet, in report order, also by (segment, VRID)."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self._order = sorted(findings, key=Finding.sort_key)
        self._gone: set[int] = set()
        self._at: dict[tuple[str | None, int | None], list[Finding]] = {}
        for f in self._order:
            self._at.setdefault((f.segment, f.vrid), []).append(f)

    @property
    def left(self) -> list[Finding]:
        return [f for f in self._order if id(f) not in self._gone]

    def take(
        self,
        keep: Callable[[Finding], bool],
        where: tuple[str | None, Iterable[int]] | None = None,
    ) -> list[Finding]:
        """Those that ``keep``; with ``where`` (a segment and VRIDs) only those there
        are looked at (a rule absorbing what happened on its VRIDs)."""
        if where is None:
            candidates: Iterable[Finding] = self._order
        else:
            segment, vrids = where
            candidates = (f for v in sorted(vrids) for f in self._at.get((segment, v), ()))
        taken = [f for f in candidates if id(f) not in self._gone and keep(f)]
        self._gone.update(id(f) for f in taken)
        return taken

    def take_these(self, findings: list[Finding]) -> list[Finding]:
        ids = {id(f) for f in findings}
        return self.take(lambda f: id(f) in ids)


def correlate(
    findings: Iterable[Finding],
    name: Callable[[Incident, int], str] | None = None,
    uncovered: Sequence[Uncovered] = (),
) -> list[Incident]:
    """Group findings by cause into incidents, worst first; sets each finding's
    ``incident`` to its incident's id: ``name(incident, n)`` for the n-th (from 1), by
    default ``i1``, ``i2``, ... in that order (live names them by what they began with).
    ``uncovered``: the spans between capture files with no frame in any of them."""
    findings = list(findings)
    for f in findings:
        if f.details.pop(CAPTURE_LOSS, False):
            f.severity = SEVERITY[f.kind]
    pool = _Pool(findings)
    groups = [
        *_not_captured(pool, uncovered),
        *_capture_gaps(pool),
        *_collisions(pool),
        *_hijacks(pool),
        *_split_brains(pool),
        *_flapping(pool),
        *_node_events(pool),
        *_mismatches(pool),
        *_the_rest(pool),
    ]
    incidents = [tell(g.kind, g.findings) for g in groups]
    incidents.sort(key=Incident.sort_key)
    for n, incident in enumerate(incidents, 1):
        incident.id = f"i{n}" if name is None else name(incident, n)
        for finding in incident.findings:
            finding.incident = incident.id
    _link_returns(incidents)
    return incidents


# --- grouping helpers -------------------------------------------------------------------


def _chains(findings: Sequence[Finding], gap_ns: int) -> list[list[Finding]]:
    """Findings in time order, cut where nothing happened for more than ``gap_ns``."""
    out: list[list[Finding]] = []
    end = None
    for f in sorted(findings, key=lambda f: (f.first_ts_ns, f.id)):
        if end is None or f.first_ts_ns - end > gap_ns:
            out.append([])
            end = f.last_ts_ns
        out[-1].append(f)
        end = max(end, f.last_ts_ns)
    return out


def _by(findings: Iterable[Finding], key: Callable[[Finding], object]) -> dict:
    out: dict[object, list[Finding]] = {}
    for f in findings:
        out.setdefault(key(f), []).append(f)
    return out


def _near(f: Finding, first: int, last: int, before: int = SLACK_NS) -> bool:
    return f.last_ts_ns >= first - before and f.first_ts_ns <= last + SLACK_NS


def _absorb(
    pool: _Pool,
    group: _Group,
    kinds: tuple[Kind, ...],
    before: int = SLACK_NS,
    among_nodes: bool = True,
    unless: Callable[[Finding], bool] | None = None,
) -> None:
    """Take the findings of ``kinds`` on the group's VRIDs near it (and among its
    nodes, with ``among_nodes``), but not those ``unless`` says."""
    (first, last), nodes, vrids = group.span, group.nodes, group.vrids
    seg = group.segment

    def belongs(f: Finding) -> bool:
        return (
            f.kind in kinds
            and f.segment == seg
            and f.vrid in vrids
            and (not among_nodes or set(f.speakers) <= nodes)
            and _near(f, first, last, before)
            and not (unless is not None and unless(f))
        )

    group.findings += pool.take(belongs, (seg, vrids))


def _merge(groups: list[_Group]) -> list[_Group]:
    """Merge groups of one segment that share a node and overlap in time (one cause
    across VRIDs: a pair in split brain on all its VRIDs is one incident); each joins
    the earliest made group it matches."""
    out: list[_Group] = []
    by_node: dict[tuple[str | None, str], dict[int, int]] = {}  # -> {index in out: 0}
    for group in sorted(groups, key=lambda g: g.span[0]):
        first, last = group.span
        seg, nodes = group.segment, group.nodes
        near = sorted({n for node in nodes for n in by_node.get((seg, node), ())})
        into = next(
            (
                n
                for n in near
                if first <= out[n].span[1] + SLACK_NS and out[n].span[0] <= last + SLACK_NS
            ),
            None,
        )
        if into is None:
            into = len(out)
            out.append(group)
        else:
            target = out[into]
            i_first, i_last = target.span
            target.findings += group.findings
            target.core = (min(first, i_first), max(last, i_last))
        for node in nodes:
            by_node.setdefault((seg, node), {})[into] = 0
    return out


# --- the rules --------------------------------------------------------------------------


def _not_captured(pool: _Pool, uncovered: Sequence[Uncovered]) -> list[_Group]:
    """Silences across a span no capture file covers: no-masters and drifts whose
    silence (worst gap) contains it and stretches past it by at most one
    Master_Down_Interval. Resumed by the same master, nothing is known to have
    happened: an info of its own. Resumed by another, the takeover is real but when
    and how it went is unknown: the finding stays where it belongs, saying so."""
    out = []
    for hole in uncovered:
        mine: list[Finding] = []
        for f in pool.left:
            if not _spans_hole(f, hole):
                continue
            f.details[UNCAPTURED] = hole.to_dict()
            resumed = f.details.get("resumed_by")
            if f.kind == Kind.INTERVAL_DRIFT or (
                resumed is not None and resumed == f.details.get("last_master")
            ):
                mine.append(f)
            elif _UNCAPTURED_NOTE not in f.message:
                f.message += (
                    f"{_UNCAPTURED_NOTE}{hole.between()}, "
                    f"{words.duration(hole.length_ns / S)}: when the takeover happened "
                    "is not known.)"
                )
        for group in _by(mine, lambda f: f.segment).values():
            for f in group:
                f.details[CAPTURE_LOSS] = True
                f.severity = Severity.INFO
            out.append(_Group(IncidentKind.NOT_CAPTURED, pool.take_these(group)))
    return out


def _spans_hole(f: Finding, hole: Uncovered) -> bool:
    """Whether ``f`` is a silence containing ``hole`` and little more."""
    d = f.details
    if f.kind == Kind.NO_MASTER:
        if d.get("resumed_by") is None:
            return False
        first, last = f.first_ts_ns, f.last_ts_ns
        slack = d.get("master_down_s") or 0.0
    elif f.kind == Kind.INTERVAL_DRIFT and d.get("worst_gap_at") is not None:
        first = int(d["worst_gap_at"] * S)
        last = first + int((d.get("worst_gap_s") or 0.0) * S)
        slack = 3 * (d.get("advertised_s") or 0.0)
    else:
        return False
    slack_ns = int(slack * S) + S // 10
    return (
        first <= hole.first_ns
        and last >= hole.last_ns
        and ((last - first) - hole.length_ns <= slack_ns)
    )


def _capture_gaps(pool: _Pool) -> list[_Group]:
    """Adverts of several VRIDs, of several nodes, missing over one span and the same
    masters going on after it: nobody failed, the capture (or link) lost them.

    The evidence: no-masters each resumed by its own last master, starting together;
    and interval drifts whose only cause is their worst gap (or the adverts it missed).
    Gaps that overlap in time are one loss; it counts when it covers GAP_MIN_VRIDS
    VRIDs of two or more nodes silent past the takeover time, or of GAP_MIN_NODES nodes
    otherwise (the gaps of one node, or of a pair, may be theirs: a paused VM)."""
    silences = [
        f
        for f in pool.left
        if f.kind == Kind.NO_MASTER
        and f.details.get("resumed_by") is not None
        and f.details.get("resumed_by") == f.details.get("last_master")
    ]
    drifts = [f for f in pool.left if _lost_gap(f) is not None]
    out = []
    for mine in _by([*silences, *drifts], lambda f: f.segment).values():
        losses = [
            (min(f.first_ts_ns for f in c), max(f.last_ts_ns for f in c), c)
            for c in _starts_together([f for f in mine if f.kind == Kind.NO_MASTER])
        ]
        for f in mine:
            if f.kind == Kind.INTERVAL_DRIFT:
                losses.append((*lost_span(f), [f]))
        for chain in _overlapping(losses):
            silent = {f.details.get("last_master") for f in chain if f.kind == Kind.NO_MASTER}
            nodes = silent | {f.speakers[0] for f in chain if f.kind == Kind.INTERVAL_DRIFT}
            enough = len(silent) > 1 or len(nodes) >= GAP_MIN_NODES
            if len({f.vrid for f in chain}) >= GAP_MIN_VRIDS and enough:
                group = _Group(IncidentKind.CAPTURE_GAP, pool.take_these(chain))
                spans = [lost_span(f) for f in group.findings]
                group.core = (min(a for a, _ in spans), max(b for _, b in spans))
                _gap_drifts(pool, group)
                out.append(group)
    return out


def _lost_gap(f: Finding) -> tuple[int, int] | None:
    """When a drift explained by missing adverts alone lost them (its worst gap, the
    span of its missed adverts): None for one with a skewed median or jitter."""
    d = f.details
    if f.kind != Kind.INTERVAL_DRIFT or d.get("worst_gap_at") is None:
        return None
    reasons = set(d.get("reasons") or ())
    if not reasons or not reasons <= {"worst-gap", "missed"}:
        return None
    explained_by_gap = "worst-gap" in reasons and missed_in_worst_gap(f)
    if not explained_by_gap and d.get("missed_from") is None:
        return None
    return lost_span(f)


def _overlapping(losses: list[tuple[int, int, list[Finding]]]) -> list[list[Finding]]:
    """The findings of spans that overlap, chained in time order."""
    out: list[list[Finding]] = []
    end = None
    for first, last, findings in sorted(losses, key=lambda x: (x[0], x[1])):
        if end is None or first > end:
            out.append([])
            end = last
        out[-1] += findings
        end = max(end, last)
    return out


def _starts_together(findings: list[Finding]) -> list[list[Finding]]:
    """Chains of silences each starting within GAP_TOGETHER_NS of the one before (the
    last adverts before a gap spread over one advert interval)."""
    out: list[list[Finding]] = []
    for f in sorted(findings, key=lambda f: f.first_ts_ns):
        if out and f.first_ts_ns - out[-1][-1].first_ts_ns <= GAP_TOGETHER_NS:
            out[-1].append(f)
        else:
            out.append([f])
    return out


def _gap_drifts(pool: _Pool, group: _Group) -> None:
    """Drift findings explained by their gaps whose worst gap lies in the capture gap
    (a slow master's gap shorter than its Master_Down_Interval): the capture's. Each
    is marked (``capture_loss``) and counts as info: the sender did nothing wrong."""
    first, last = group.span
    seg = group.segment

    def lost_here(f: Finding) -> bool:
        gap = _lost_gap(f)
        return f.segment == seg and gap is not None and gap[0] < last and first < gap[1]

    group.findings += pool.take(lost_here)
    for f in group.of(Kind.INTERVAL_DRIFT):
        f.details[CAPTURE_LOSS] = True
        f.severity = Severity.INFO


def _collisions(pool: _Pool) -> list[_Group]:
    """Two clusters on one VRID (or CARP and VRRP on one ID): per VRID over time, then
    across VRIDs; the split brains, disagreements and moves on those VRIDs meanwhile are
    its consequences."""
    groups = []
    for kind, ik in (
        (Kind.DUPLICATE_VRID, IncidentKind.DUPLICATE_VRID),
        (Kind.CARP_COLLISION, IncidentKind.DUPLICATE_VRID),
    ):
        found = pool.take(lambda f, kind=kind: f.kind == kind)
        for per_vrid in _by(found, lambda f: (f.segment, f.vrid)).values():
            groups += [_Group(ik, chain) for chain in _chains(per_vrid, SLACK_NS)]
    for group in groups:
        _absorb(pool, group, (Kind.SPLIT_BRAIN, *_MISMATCH, *_LOGGED), among_nodes=False)
        # mastership moving between the two clusters (not within one: a node event)
        sides = {
            frozenset(f.speakers)
            for f in group.of(Kind.DUPLICATE_VRID, Kind.CARP_COLLISION, Kind.SPLIT_BRAIN)
        }
        span = group.span
        group.findings += pool.take(
            lambda f, sides=sides, span=span: (
                f.kind == Kind.FAILOVER and frozenset(f.speakers) in sides and _near(f, *span)
            ),
            (group.segment, group.vrids),
        )
    return _merge(groups)


def _hijacks(pool: _Pool) -> list[_Group]:
    """A stranger claiming a VRID: what it then does there (or, for a forged priority
    0 in the master's name, the resignation and takeover near it) is the hijack's."""
    groups = []
    found = pool.take(lambda f: f.kind == Kind.HIJACK_SUSPECTED)
    for per_vrid in _by(found, lambda f: (f.segment, f.vrid)).values():
        groups += [_Group(IncidentKind.HIJACK, chain) for chain in _chains(per_vrid, SLACK_NS)]
    for group in groups:
        first, last = group.span
        forged = {f.details.get("master") for f in group.findings if _forged_resign(f)}
        strangers = {f.details.get("speaker") for f in group.findings} - forged

        def caused(
            f: Finding,
            first: int = first,
            last: int = last,
            strangers: set = strangers,
            forged: set = forged,
        ) -> bool:
            if f.last_ts_ns < first - SLACK_NS:
                return False
            if strangers & set(f.speakers):
                return True
            move = f.kind == Kind.RESIGNED or (
                f.kind == Kind.FAILOVER and f.details.get("cause") == "resigned"
            )
            return move and bool(forged & set(f.speakers)) and _near(f, first, last)

        group.findings += pool.take(caused, (group.segment, group.vrids))
        group.core = (group.first, group.last)
    return _merge(groups)


def _forged_resign(f: Finding) -> bool:
    """A hijack finding for a priority-0 advert in the master's own name."""
    return f.details.get("priority") == 0 and f.details.get("speaker") == f.details.get("master")


def _split_brains(pool: _Pool) -> list[_Group]:
    found = pool.take(lambda f: f.kind == Kind.SPLIT_BRAIN)
    groups = []
    for per_pair in _by(found, lambda f: (f.segment, f.vrid, frozenset(f.speakers))).values():
        groups += [_Group(IncidentKind.SPLIT_BRAIN, c) for c in _chains(per_pair, SLACK_NS)]
    for group in groups:
        kinds = (*_MISMATCH, *_LOGGED, Kind.FAILOVER, Kind.RESIGNED, Kind.NO_MASTER)
        _absorb(pool, group, (*kinds, Kind.STALE_ARP), unless=_stopped_after(group.last))
    return _merge(groups)


def _stopped_after(end: int) -> Callable[[Finding], bool]:
    """A node resigning (priority 0) after a split brain ended, and the takeover that
    follows, is a stop of its own (a restart, a tracker), not how the split healed."""

    def later_stop(f: Finding) -> bool:
        resign = f.kind == Kind.RESIGNED or (
            f.kind == Kind.FAILOVER and f.details.get("cause") == "resigned"
        )
        return resign and f.first_ts_ns > end

    return later_stop


def _flapping(pool: _Pool) -> list[_Group]:
    found = pool.take(lambda f: f.kind in _FLAPS)
    groups = [
        _Group(IncidentKind.FLAPPING, chain)
        for per_vrid in _by(found, lambda f: (f.segment, f.vrid)).values()
        for chain in _chains(per_vrid, SLACK_NS)
    ]
    for group in groups:
        window = max(int(f.details.get("window_s") or 0) for f in group.findings) * S
        # the moves that led up to the flap count (it opens once enough happened)
        _absorb(pool, group, (Kind.FAILOVER, Kind.RESIGNED), before=max(window, SLACK_NS))
    return _merge(groups)


def _node_events(pool: _Pool) -> list[_Group]:
    out = []
    for node_of, kind in (
        (departure_of, IncidentKind.NODE_STOPPED),
        (arrival_of, IncidentKind.NODE_RETURNED),
    ):
        found = pool.take(lambda f, node_of=node_of: node_of(f) is not None)
        for per_node in _by(found, lambda f, node_of=node_of: (f.segment, node_of(f))).values():
            out += [_Group(kind, chain) for chain in _chains(per_node, NODE_GAP_NS)]
    return out


def _mismatches(pool: _Pool) -> list[_Group]:
    found = pool.take(lambda f: f.kind in _MISMATCH)
    return [
        _Group(IncidentKind.MISMATCH, per_pair)
        for per_pair in _by(found, lambda f: (f.segment, frozenset(f.speakers))).values()
    ]


def _the_rest(pool: _Pool) -> list[_Group]:
    out = []
    left = pool.take(lambda f: True)
    for same in _by(left, lambda f: (f.kind, f.segment)).values():
        nodes = {f.speakers[:1] for f in same}
        if all(f.severity == Severity.INFO for f in same) and len(nodes) > ROLLUP_NODES:
            # the same note from many nodes: one line for the segment
            out.append(_Group(IncidentKind.ROLLUP, same))
            continue
        for per_node in _by(same, lambda f: f.speakers[:1]).values():
            chains = (
                [per_node]
                if all(f.severity == Severity.INFO for f in per_node)
                else _chains(per_node, REPEAT_GAP_NS)
            )
            for chain in chains:
                kind = IncidentKind.ROLLUP if len(chain) > 1 else IncidentKind.SINGLE
                out.append(_Group(kind, chain))
    return out


def _link_returns(incidents: list[Incident]) -> None:
    """A node's return names the stop it came back from and how long it was away."""
    stops = sorted(
        (i for i in incidents if i.kind == IncidentKind.NODE_STOPPED),
        key=lambda i: i.first_ts_ns,
    )
    for back in incidents:
        if back.kind != IncidentKind.NODE_RETURNED:
            continue
        before = [
            i
            for i in stops
            if i.segment == back.segment
            and i.details.get("node") == back.details.get("node")
            and i.first_ts_ns <= back.first_ts_ns
        ]
        if before:
            stop = before[-1]
            back.details["after"] = stop.id
            back.details["away_s"] = round((back.first_ts_ns - stop.first_ts_ns) / S, 3)
            away = words.duration(back.details["away_s"])
            back.message += f" ({away} after it stopped: {stop.id})"
