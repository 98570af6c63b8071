"""Prometheus metrics for `live --metrics`: read from the engine at scrape time.

Named after the VRRPv3 MIB (RFC 6527): per virtual router (labels segment, family,
protocol, vrid; never an address or a state, so series do not churn) the masters heard,
the master's priority and intervals, new-master transitions and protocol errors by
reason, takeover times as a histogram. README ("Prometheus metrics") lists them;
monitoring/ holds the alert rules and the Grafana dashboard built on them.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry

from vrrpscope.engine.counters import NEW_MASTER_REASONS, PROTOCOL_ERROR_REASONS
from vrrpscope.engine.inventory import free_vrids
from vrrpscope.findings import Kind, Severity
from vrrpscope.incidents import IncidentKind

if TYPE_CHECKING:
    from vrrpscope.engine.core import Engine
    from vrrpscope.engine.state import RouterKey, RouterState
    from vrrpscope.incidents import Incident

ROUTER_LABELS = ["segment", "family", "protocol", "vrid"]
SEGMENT_LABELS = ["segment", "family", "protocol"]


class EngineCollector(Collector):
    """Turns engine state into metric families; `lock` guards the engine against the feeder."""

    def __init__(
        self,
        engine: Engine,
        lock: threading.Lock,
        capture_stats: Callable[[], dict[str, int]],
        incidents: Callable[[], list[Incident]] | None = None,
    ) -> None:
        self.engine = engine
        self.lock = lock
        self.capture_stats = capture_stats
        self.incidents = incidents  # live's tracker; None: no incident series
        # Finding kinds seen open per virtual router: their series stay, at 0 once closed.
        self._kinds_seen: defaultdict[tuple[str, ...], set[str]] = defaultdict(set)

    def collect(self) -> Iterator:
        with self.lock:
            yield from self._router_metrics()
            yield from self._router_findings()
            yield from self._segment_metrics()
            yield from self._finding_metrics()
            if self.incidents is not None:
                yield from self._incident_metrics(self.incidents())
            yield from self._capture_metrics()

    def _router_metrics(self) -> Iterator:
        f = _RouterFamilies()
        for router in self.engine.routers.values():
            f.add(router)
        yield from f.all()

    def _router_findings(self) -> Iterator:
        """Findings open now per virtual router and kind (the engine's judgement: a split
        brain past a handover's overlap, a duplicate VRID, a no-master)."""
        open_now: Counter[tuple[str, ...]] = Counter()
        for finding in self.engine.findings:
            f = finding
            segment, family, proto, vrid = f.segment, f.family, f.proto, f.vrid
            if not finding.open or segment is None or family is None or proto is None:
                continue
            if vrid is None:  # a segment's finding, not a virtual router's
                continue
            labels = tuple(router_labels((segment, family, proto, vrid)))
            open_now[(*labels, str(finding.kind))] += 1
            self._kinds_seen[labels].add(str(finding.kind))
        gauge = GaugeMetricFamily(
            "vrrpscope_vr_findings_open",
            "Findings open now about the virtual router, by kind (kinds once seen stay at 0)",
            labels=[*ROUTER_LABELS, "kind"],
        )
        for labels, kinds in sorted(self._kinds_seen.items()):
            for kind in sorted(kinds):
                gauge.add_metric([*labels, kind], open_now[(*labels, kind)])
        yield gauge

    def _segment_metrics(self) -> Iterator:
        """VRIDs heard per segment, family and protocol, and those free: the segment
        inventory's rule (a CARP vhid takes the IPv4 VRID: same virtual MAC block)."""
        in_use: Counter[tuple[str, str, str]] = Counter()
        by_segment: defaultdict[str, list[RouterState]] = defaultdict(list)
        for router in self.engine.routers.values():
            in_use[(router.segment, str(router.family), router.proto)] += 1
            by_segment[router.segment].append(router)
        used = GaugeMetricFamily(
            "vrrpscope_segment_vrids_in_use",
            "VRIDs (CARP vhids) heard on the segment",
            labels=SEGMENT_LABELS,
        )
        free = GaugeMetricFamily(
            "vrrpscope_segment_vrids_free",
            "VRIDs (CARP vhids) nobody advertises on the segment: room for a new cluster",
            labels=SEGMENT_LABELS,
        )
        free_of = {segment: free_vrids(routers) for segment, routers in by_segment.items()}
        for (segment, family, proto), count in sorted(in_use.items()):
            used.add_metric([segment, family, proto], count)
            # CARP uses the IPv4 virtual MAC block whatever its family
            free_family = 4 if proto == "carp" else int(family)
            free.add_metric([segment, family, proto], len(free_of[segment][free_family]))
        yield used
        yield free

    def _finding_metrics(self) -> Iterator:
        open_now: Counter[tuple[str, str]] = Counter()
        total: Counter[tuple[str, str]] = Counter()
        for finding in self.engine.findings:
            key = (str(finding.kind), str(finding.severity))
            total[key] += 1
            if finding.open:
                open_now[key] += 1
        gauge = GaugeMetricFamily(
            "vrrpscope_findings_open", "Findings open now", labels=["kind", "severity"]
        )
        counter = CounterMetricFamily(
            "vrrpscope_findings", "Findings opened since start", labels=["kind", "severity"]
        )
        for kind in Kind:
            labels = [str(kind), str(_severity_of(kind))]
            gauge.add_metric(labels, open_now[tuple(labels)])
            counter.add_metric(labels, total[tuple(labels)])
        yield gauge
        yield counter

    @staticmethod
    def _incident_metrics(incidents: list[Incident]) -> Iterator:
        """Incidents open now and seen since the start, per kind and severity (every
        kind and severity present, at 0 when none, so alerts need no absent())."""
        open_now: Counter[tuple[str, str]] = Counter()
        total: Counter[tuple[str, str]] = Counter()
        for incident in incidents:
            key = (str(incident.kind), str(incident.severity))
            total[key] += 1
            if incident.open:
                open_now[key] += 1
        gauge = GaugeMetricFamily(
            "vrrpscope_incidents_open",
            "Incidents going on now (findings grouped by cause: a node stopped, a split "
            "brain between two nodes, ...)",
            labels=["kind", "severity"],
        )
        counter = CounterMetricFamily(
            "vrrpscope_incidents", "Incidents seen since start", labels=["kind", "severity"]
        )
        for kind in IncidentKind:
            for severity in Severity:
                labels = [str(kind), str(severity)]
                gauge.add_metric(labels, open_now[tuple(labels)])
                counter.add_metric(labels, total[tuple(labels)])
        yield gauge
        yield counter

    def _capture_metrics(self) -> Iterator:
        stats = self.capture_stats()
        up = GaugeMetricFamily(
            "vrrpscope_capture_up",
            "1 while the capture interface is up and read, 0 while it is down",
        )
        up.add_metric([], stats.get("up", 1))
        yield up
        for name, help_text in (
            ("frames", "Frames captured and analysed"),
            ("kernel_packets", "Packets the kernel passed the filter"),
            ("kernel_drops", "Packets the kernel dropped (receive buffer full)"),
            ("adverts", "VRRP/CARP adverts decoded"),
            ("link_downs", "Times the interface went down (frames lost until it came back)"),
        ):
            metric = CounterMetricFamily(f"vrrpscope_capture_{name}", help_text)
            metric.add_metric([], stats.get(name, 0))
            yield metric


class _RouterFamilies:
    """The per-virtual-router families of one scrape."""

    def __init__(self) -> None:
        def gauge(name: str, help_text: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"vrrpscope_vr_{name}", help_text, labels=ROUTER_LABELS)

        def counter(name: str, help_text: str, extra: tuple[str, ...] = ()) -> CounterMetricFamily:
            return CounterMetricFamily(
                f"vrrpscope_vr_{name}", help_text, labels=[*ROUTER_LABELS, *extra]
            )

        self.masters = gauge(
            "masters",
            "Speakers advertising now, i.e. masters (1 healthy; 0 no master; 2 or more a "
            "split brain, a duplicate VRID or a handover in progress)",
        )
        self.speakers = gauge("speakers", "Sources (IP and MAC) heard advertising since start")
        self.priority = gauge(
            "priority",
            "Priority the master advertises (CARP: 255 - advskew; the highest while "
            "several advertise; absent while none does)",
        )
        self.advertised = gauge(
            "advertised_interval_seconds", "Advertisement interval the master announces"
        )
        self.observed = gauge(
            "observed_interval_seconds", "Median gap between the master's adverts on the wire"
        )
        self.down = gauge(
            "master_down_interval_seconds",
            "Master_Down_Interval: how long the best backup waits after the master's "
            "last advert before it takes over",
        )
        self.since = gauge(
            "last_transition_timestamp_seconds",
            "When the current (or last) master started advertising alone",
        )
        self.last_advert = gauge(
            "last_advert_timestamp_seconds", "Capture time of the last advert (any speaker)"
        )
        self.adverts = counter("adverts", "Adverts received (vrrpv3StatisticsRcvdAdvertisements)")
        self.zero = counter(
            "priority_zero_adverts",
            "Priority-0 adverts received: a master resigning (RcvdPriZeroPackets)",
        )
        self.transitions = counter(
            "master_transitions",
            "A speaker became master, by reason (vrrpv3StatisticsNewMasterReason: priority "
            "for the first master, preempted, master_no_response, resigned; other)",
            ("reason",),
        )
        self.errors = counter(
            "protocol_errors",
            "Adverts receivers discard, by reason (ip_ttl, version, checksum, vrid, auth, "
            "length, type, interval, format)",
            ("reason",),
        )
        self.slow = counter(
            "slow_takeovers",
            "Takeovers that took longer than the protocol's wait (Master_Down_Interval or "
            "Skew_Time) plus tolerance",
        )
        self.takeover = HistogramMetricFamily(
            "vrrpscope_vr_takeover_seconds",
            "Time from the old master's last advert (or resignation) to the new master's first",
            labels=ROUTER_LABELS,
        )

    def add(self, router: RouterState) -> None:
        labels = router_labels(router.key)
        self.masters.add_metric(labels, len(router.active))
        self.speakers.add_metric(labels, len(router.speakers))
        self.adverts.add_metric(labels, router.adverts)
        self.last_advert.add_metric(labels, router.last_ts_ns / 1e9)
        counters = router.counters
        self.zero.add_metric(labels, counters.priority_zero)
        for reason in NEW_MASTER_REASONS:
            self.transitions.add_metric([*labels, reason], counters.transitions[reason])
        for reason in PROTOCOL_ERROR_REASONS:
            self.errors.add_metric([*labels, reason], counters.errors[reason])
        self.slow.add_metric(labels, counters.slow_takeovers)
        self.takeover.add_metric(
            labels, counters.cumulative_buckets(), sum_value=counters.takeover_sum_s
        )
        if router.master_since_ns is not None:
            self.since.add_metric(labels, router.master_since_ns / 1e9)
        masters = list(router.active.values())
        if not masters:
            return
        master = max(masters, key=_rank)
        self.priority.add_metric(labels, _rank(master))
        if master.interval_cs is not None:
            self.advertised.add_metric(labels, master.interval_cs / 100)
        if master.gaps is not None and master.gaps.count and master.gaps.median_s is not None:
            self.observed.add_metric(labels, master.gaps.median_s)
        self.down.add_metric(labels, router.takeover_ns(master) / 1e9)

    def all(self) -> tuple:
        return (
            self.masters,
            self.speakers,
            self.priority,
            self.advertised,
            self.observed,
            self.down,
            self.since,
            self.last_advert,
            self.adverts,
            self.zero,
            self.transitions,
            self.errors,
            self.slow,
            self.takeover,
        )


def router_labels(key: RouterKey) -> list[str]:
    segment, family, proto, vrid = key
    return [segment, str(family), proto, str(vrid)]


def _rank(speaker) -> int:
    """Priority as an election reads it (CARP: 255 - advskew)."""
    if speaker.advskew is not None:
        return 255 - speaker.advskew
    return speaker.priority or 0


def _severity_of(kind: Kind) -> Severity:
    from vrrpscope.findings import SEVERITY

    return SEVERITY[kind]


def serve_metrics(address: str, collector: EngineCollector):
    """Start the HTTP exporter on HOST:PORT; returns the server (call .shutdown())."""
    from prometheus_client import start_http_server

    host, _, port = address.rpartition(":")
    registry = CollectorRegistry()
    registry.register(collector)
    server, _thread = start_http_server(
        int(port), addr=host.strip("[]") or "0.0.0.0", registry=registry
    )
    return server
