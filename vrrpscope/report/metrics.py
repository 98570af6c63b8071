"""Prometheus metrics for `live --metrics`: read from the engine at scrape time.

Names and labels are documented in README ("Prometheus metrics"). Every virtual-router
series carries segment, family, proto and vrid labels; speaker series add speaker and mac.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from vrrpscope.findings import Kind, Severity
from vrrpscope.incidents import IncidentKind

if TYPE_CHECKING:
    from vrrpscope.engine.core import Engine
    from vrrpscope.incidents import Incident

ROUTER_LABELS = ["segment", "family", "proto", "vrid"]
SPEAKER_LABELS = [*ROUTER_LABELS, "speaker", "mac"]


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

    def collect(self) -> Iterator:
        with self.lock:
            yield from self._router_metrics()
            yield from self._finding_metrics()
            if self.incidents is not None:
                yield from self._incident_metrics(self.incidents())
            yield from self._capture_metrics()

    def _router_metrics(self) -> Iterator:
        masters = GaugeMetricFamily(
            "vrrpscope_router_masters",
            "Speakers advertising now for the virtual router (1 is healthy; 0 no master; "
            "2 or more split brain or duplicate VRID)",
            labels=ROUTER_LABELS,
        )
        failovers = CounterMetricFamily(
            "vrrpscope_router_failovers", "Mastership moves seen", labels=ROUTER_LABELS
        )
        is_master = GaugeMetricFamily(
            "vrrpscope_speaker_master",
            "1 while this speaker advertises (is master), else 0",
            labels=SPEAKER_LABELS,
        )
        priority = GaugeMetricFamily(
            "vrrpscope_speaker_priority",
            "Last advertised non-zero priority (CARP: 255 - advskew)",
            labels=SPEAKER_LABELS,
        )
        adverts = CounterMetricFamily(
            "vrrpscope_speaker_adverts", "Adverts received", labels=SPEAKER_LABELS
        )
        last_seen = GaugeMetricFamily(
            "vrrpscope_speaker_last_advert_timestamp_seconds",
            "Capture time of the last advert",
            labels=SPEAKER_LABELS,
        )
        gap_max = GaugeMetricFamily(
            "vrrpscope_speaker_gap_max_seconds",
            "Longest gap between two adverts",
            labels=SPEAKER_LABELS,
        )
        gap_median = GaugeMetricFamily(
            "vrrpscope_speaker_gap_median_seconds",
            "Median gap between adverts (compare with the advertised interval)",
            labels=SPEAKER_LABELS,
        )
        interval = GaugeMetricFamily(
            "vrrpscope_speaker_advertised_interval_seconds",
            "Advertisement interval the speaker announces",
            labels=SPEAKER_LABELS,
        )
        for router in self.engine.routers.values():
            rlabels = [router.segment, str(router.family), router.proto, str(router.vrid)]
            masters.add_metric(rlabels, len(router.active))
            failovers.add_metric(rlabels, router.failovers)
            for sp in router.speakers.values():
                labels = [*rlabels, sp.src, sp.mac or ""]
                is_master.add_metric(labels, 1 if sp.key in router.active else 0)
                rank = sp.priority if sp.advskew is None else 255 - sp.advskew
                if rank is not None:
                    priority.add_metric(labels, rank)
                adverts.add_metric(labels, sp.adverts)
                last_seen.add_metric(labels, sp.last_ts_ns / 1e9)
                if sp.interval_cs is not None:
                    interval.add_metric(labels, sp.interval_cs / 100)
                if sp.gaps is not None and sp.gaps.count:
                    if sp.gaps.max_s is not None:
                        gap_max.add_metric(labels, sp.gaps.max_s)
                    if sp.gaps.median_s is not None:
                        gap_median.add_metric(labels, sp.gaps.median_s)
        yield from (masters, failovers, is_master, priority, adverts, last_seen, interval)
        yield from (gap_max, gap_median)

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
