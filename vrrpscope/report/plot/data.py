"""What the timelines draw, computed with numpy from the analysis (no matplotlib here).

Per virtual router: its speakers (lane order = first seen) with their valid adverts,
master periods, spans with two or more masters, spans with none, and its findings.
Per-advert series are reduced before drawing: priority lines keep only change points,
gap scatters keep the extremes per time bin plus every missed advert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vrrpscope.columnar.adverts import AdvertTable
from vrrpscope.engine.inventory import silent_between
from vrrpscope.engine.state import MasterPeriod, RouterKey, RouterState
from vrrpscope.engine.timers import CS_NS, S_NS
from vrrpscope.findings import Finding

MISSED_FACTOR = 1.5  # a gap of at least 1.5 advertised intervals misses an advert
MIN_GAP_S = 1e-4  # gaps drawn no smaller than 0.1 ms (log axis)
MAX_GAP_POINTS = 4000  # per speaker, after decimation (missed adverts always kept)

Span = tuple[int, int]


@dataclass(slots=True)
class SpeakerSeries:
    """One speaker of a virtual router and its adverts (valid ones, in time order)."""

    src: str
    mac: str | None
    index: int  # lane and colour, in first-seen order
    first_ts_ns: int
    priority: int | None = None
    addresses: tuple[str, ...] = ()
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # prio/advskew
    interval_cs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    invalid_ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    breaks: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per gap
    # per gap: a break with nobody else advertising (an outage: drawn among the gaps)
    outages: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.src, self.mac)


@dataclass(slots=True)
class RouterData:
    """Everything one virtual router's figure shows."""

    router: RouterState
    speakers: list[SpeakerSeries]
    periods: list[MasterPeriod]
    concurrent: list[Span]
    no_master: list[Span]
    findings: list[Finding]
    start_ns: int
    end_ns: int
    files: list[str]
    has_adverts: bool  # per-advert series available (AdvertTable kept)
    log_events: dict = field(default_factory=dict)  # node -> its daemon's events (logpanel)

    @property
    def carp(self) -> bool:
        return self.router.proto == "carp"

    def speaker(self, src: str, mac: str | None = None) -> SpeakerSeries | None:
        for sp in self.speakers:
            if sp.src == src and (mac is None or sp.mac == mac):
                return sp
        return None


def router_key(finding: Finding) -> RouterKey | None:
    """The virtual router a finding is about, or None for segment/capture-wide findings."""
    if finding.segment is None or finding.vrid is None or finding.family is None:
        return None
    return (finding.segment, finding.family, finding.proto or "vrrp", finding.vrid)


class AdvertIndex:
    """Rows of an AdvertTable grouped by virtual router, built once per analysis."""

    def __init__(self, table: AdvertTable | None) -> None:
        self.table = table
        self._slices: dict[RouterKey, np.ndarray] = {}
        if table is None or not len(table):
            return
        rows = table.rows
        code = (
            rows["segment"].astype(np.int64) << 16
            | rows["family"].astype(np.int64) << 9
            | rows["carp"].astype(np.int64) << 8
            | rows["vrid"].astype(np.int64)
        )
        order = np.argsort(code, kind="stable")
        codes, starts = np.unique(code[order], return_index=True)
        bounds = [*starts[1:], len(order)]
        for c, lo, hi in zip(codes.tolist(), starts.tolist(), bounds, strict=True):
            key = (
                table.segments[c >> 16],
                (c >> 9) & 0x7F,
                "carp" if (c >> 8) & 1 else "vrrp",
                c & 0xFF,
            )
            self._slices[key] = order[lo:hi]

    def rows(self, key: RouterKey) -> np.ndarray:
        """The router's rows in time order (empty when the table was not kept)."""
        if self.table is None or key not in self._slices:
            from vrrpscope.columnar.adverts import ADVERT_DTYPE

            return np.zeros(0, ADVERT_DTYPE)
        rows = self.table.rows[self._slices[key]]
        return rows[np.argsort(rows["ts_ns"], kind="stable")]


def concurrent_spans(periods: Sequence[MasterPeriod]) -> list[Span]:
    """Time spans during which two or more speakers advertised (merged)."""
    events = sorted(
        [(p.start_ns, 1) for p in periods if p.end_ns > p.start_ns]
        + [(p.end_ns, -1) for p in periods if p.end_ns > p.start_ns],
        key=lambda e: (e[0], e[1]),
    )
    spans: list[Span] = []
    active = 0
    since = 0
    for t, step in events:
        before = active
        active += step
        if before < 2 <= active:
            since = t
        elif before >= 2 > active and t > since:
            if spans and spans[-1][1] >= since:
                spans[-1] = (spans[-1][0], t)
            else:
                spans.append((since, t))
    return spans


def no_master_spans(periods: Sequence[MasterPeriod], end_ns: int) -> list[Span]:
    """Spans after the first master during which nobody advertised.

    Silence after the last period counts only when that period has ended (silence or
    resignation), not when the capture simply stops.
    """
    if not periods:
        return []
    spans: list[Span] = []
    ordered = sorted(periods, key=lambda p: p.start_ns)
    reach = ordered[0].end_ns
    last = ordered[0]
    for p in ordered[1:]:
        if p.start_ns > reach:
            spans.append((reach, p.start_ns))
        if p.end_ns >= reach:
            reach, last = p.end_ns, p
    if last.end_reason is not None and end_ns > reach:
        spans.append((reach, end_ns))
    return spans


def episode_breaks(
    ts: np.ndarray, value: np.ndarray, interval_cs: np.ndarray, ends: Iterable[int], carp: bool
) -> np.ndarray:
    """Per gap (len(ts) - 1): True where the speaker stopped advertising in between.

    A gap breaks the series after a resignation (priority 0), at the end of a master period
    the engine closed, or when it is longer than any Master_Down_Interval could be.
    """
    if len(ts) < 2:
        return np.zeros(0, bool)
    gaps = np.diff(ts)
    iv = np.maximum(interval_cs[1:], 1).astype(np.int64) * CS_NS
    longest = 3 * iv + (3 * S_NS if carp else np.maximum(iv, S_NS))
    out = gaps > longest
    if not carp:
        out |= value[:-1] == 0
    end_list = np.fromiter(ends, np.int64)
    if len(end_list):
        out |= np.isin(ts[:-1], end_list)
    return out


def step_points(ts: np.ndarray, value: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, ...]:
    """(x_ns as float, y) for a steps-post line: change points only, NaN between episodes."""
    if not len(ts):
        return np.zeros(0), np.zeros(0)
    n = len(ts)
    run_start = np.ones(n, bool)
    run_start[1:] = breaks
    run_end = np.ones(n, bool)
    run_end[:-1] = breaks
    changed = np.ones(n, bool)
    changed[1:] = value[1:] != value[:-1]
    keep = run_start | run_end | changed
    idx = np.flatnonzero(keep)
    x = ts[idx].astype(np.float64)
    y = value[idx].astype(np.float64)
    cut = np.flatnonzero(run_end[idx][:-1]) + 1  # insert a NaN after each run's last point
    return np.insert(x, cut, np.nan), np.insert(y, cut, np.nan)


@dataclass(slots=True)
class GapSeries:
    """Inter-advert gaps of one speaker, decimated for drawing."""

    t_ns: np.ndarray  # time of the advert that ended the gap
    gap_s: np.ndarray
    missed: np.ndarray  # bool: gap >= MISSED_FACTOR x advertised interval
    total: int  # gaps before decimation
    intervals_s: tuple[float, ...]  # distinct advertised intervals


def gap_series(sp: SpeakerSeries, max_points: int = MAX_GAP_POINTS) -> GapSeries:
    """Gaps between consecutive adverts within master periods, and across an outage (nobody
    advertising in between); extremes kept per bin."""
    if len(sp.ts) < 2:
        empty = np.zeros(0)
        return GapSeries(empty.astype(np.int64), empty, empty.astype(bool), 0, _ivs(sp))
    within = ~sp.breaks
    if len(sp.outages) == len(within):
        within |= sp.outages
    t = sp.ts[1:][within]
    # duplicates (a frame captured twice) give 0: clamp so a log axis can show them
    gap = np.maximum(np.diff(sp.ts)[within].astype(np.float64) / S_NS, MIN_GAP_S)
    iv = sp.interval_cs[1:][within].astype(np.float64) / 100
    missed = gap >= MISSED_FACTOR * np.maximum(iv, 0.01)
    total = len(t)
    if total > max_points:
        keep = _extremes_per_bin(t, gap, max_points // 2) | missed
        t, gap, missed = t[keep], gap[keep], missed[keep]
    return GapSeries(t, gap, missed, total, _ivs(sp))


def _ivs(sp: SpeakerSeries) -> tuple[float, ...]:
    return tuple(float(v) / 100 for v in np.unique(sp.interval_cs))


def _extremes_per_bin(t: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    """Mask keeping the smallest and largest `y` in each of `bins` equal time bins."""
    span = max(int(t[-1] - t[0]), 1)
    b = ((t - t[0]).astype(np.float64) * (bins - 1) / span).astype(np.int64)
    order = np.lexsort((y, b))
    sorted_bins = b[order]
    first = np.ones(len(order), bool)
    first[1:] = sorted_bins[1:] != sorted_bins[:-1]
    last = np.ones(len(order), bool)
    last[:-1] = sorted_bins[:-1] != sorted_bins[1:]
    keep = np.zeros(len(t), bool)
    keep[order[first | last]] = True
    return keep


def _series_from_rows(
    rows: np.ndarray, table: AdvertTable, router: RouterState
) -> dict[tuple[str, str | None], SpeakerSeries]:
    out: dict[tuple[str, str | None], SpeakerSeries] = {}
    if not len(rows):
        return out
    code = rows["src"].astype(np.int64) << 32 | (rows["src_mac"].astype(np.int64) + 1)
    codes, inverse = np.unique(code, return_inverse=True)
    carp = router.proto == "carp"
    for i, c in enumerate(codes.tolist()):
        mine = rows[inverse == i]
        mac_i = (c & 0xFFFFFFFF) - 1
        key = (table.sources[c >> 32], table.macs[mac_i] if mac_i >= 0 else None)
        valid = mine[mine["valid"]]
        value = valid["advskew" if carp else "priority"].astype(np.int64)
        out[key] = SpeakerSeries(
            src=key[0],
            mac=key[1],
            index=0,
            first_ts_ns=int(mine["ts_ns"][0]),
            ts=valid["ts_ns"].astype(np.int64),
            value=value,
            interval_cs=valid["interval_cs"].astype(np.int64),
            invalid_ts=mine["ts_ns"][~mine["valid"]].astype(np.int64),
        )
    return out


def router_data(
    router: RouterState,
    index: AdvertIndex,
    findings: Iterable[Finding],
    files: Sequence[str],
    end_ns: int | None = None,
) -> RouterData:
    """Gather one virtual router's speakers, periods, conflict spans and findings."""
    periods = router.timeline()
    table = index.table
    series = _series_from_rows(index.rows(router.key), table, router) if table else {}
    for sp in router.speakers.values():
        s = series.get(sp.key)
        if s is None:
            s = series[sp.key] = SpeakerSeries(sp.src, sp.mac, 0, sp.first_ts_ns)
            if sp.priority_history:  # no advert table: priority changes from the engine
                hist = np.array(list(sp.priority_history), dtype=np.int64)
                s.ts, s.value = hist[:, 0], hist[:, 1]
                s.interval_cs = np.full(len(hist), sp.interval_cs or 100, np.int64)
        s.priority = sp.priority if sp.advskew is None else sp.advskew
        s.addresses = sp.addresses
        s.first_ts_ns = min(s.first_ts_ns, sp.first_ts_ns)
    for p in periods:
        if (p.src, p.mac) not in series:
            series[(p.src, p.mac)] = SpeakerSeries(p.src, p.mac, 0, p.start_ns, p.priority)
    speakers = sorted(series.values(), key=lambda s: (s.first_ts_ns, s.src))
    carp = router.proto == "carp"
    for i, s in enumerate(speakers):
        s.index = i
        ends = [p.end_ns for p in periods if p.end_reason and (p.src, p.mac) == s.key]
        s.breaks = episode_breaks(s.ts, s.value, s.interval_cs, ends, carp)
        s.outages = np.zeros(len(s.breaks), bool)
        for j in np.flatnonzero(s.breaks).tolist():
            s.outages[j] = silent_between(periods, s.key, int(s.ts[j]), int(s.ts[j + 1]))
    mine = [f for f in findings if router_key(f) == router.key]
    start = min([router.first_ts_ns, *(f.first_ts_ns for f in mine)])
    end = max([router.last_ts_ns, end_ns or 0, *(f.last_ts_ns for f in mine)])
    return RouterData(
        router=router,
        speakers=speakers,
        periods=periods,
        concurrent=concurrent_spans(periods),
        no_master=no_master_spans(periods, end),
        findings=mine,
        start_ns=start,
        end_ns=end,
        files=list(files),
        has_adverts=table is not None,
    )


def takeover_threshold_ns(data: RouterData, interval_cs: int) -> tuple[int, int | None]:
    """Master_Down_Interval after which the best backup takes over, and that backup's priority.

    The best backup is the speaker with the second-highest priority (with one speaker:
    that speaker itself). CARP uses advskew inside its own timer.
    """
    state = data.router.speakers
    ranked = sorted(state.values(), key=lambda s: -(s.priority or 0))
    if data.carp:
        ranked = sorted(state.values(), key=lambda s: s.advskew or 0)
    if not ranked:
        return 3 * interval_cs * CS_NS, None
    backup = ranked[1] if len(ranked) > 1 else ranked[0]
    # The engine's function (no-master and drift findings print the same number).
    threshold = data.router.takeover_ns(ranked[0], interval_cs)
    return threshold, backup.advskew if data.carp else backup.priority
