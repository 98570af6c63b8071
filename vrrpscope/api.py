"""The notebook API (DESIGN §5): `vrrpscope.analyze(paths, **thresholds)`.

    >>> result = vrrpscope.analyze("captures/split-brain.pcap")
    >>> result.findings.where(kind="split-brain")
    >>> result.plot(vrid=51)                  # a matplotlib Figure
    >>> df = result.adverts.to_pandas()       # one row per advert

`routers`, `findings` and `incidents` (findings grouped by cause) are lists with a rich
HTML view in Jupyter and `to_pandas()`; `nodes` is the node view per segment.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from matplotlib.figure import Figure

from vrrpscope import reprs
from vrrpscope.analysis import Analysis, analyze_files
from vrrpscope.columnar.adverts import AdvertTable
from vrrpscope.engine.inventory import SegmentInventory
from vrrpscope.engine.state import RouterState
from vrrpscope.errors import UsageError
from vrrpscope.findings import Finding, Severity
from vrrpscope.incidents import Incident
from vrrpscope.nodes import Node
from vrrpscope.report.adverts import format_time
from vrrpscope.thresholds import Thresholds

PathLike = str | os.PathLike[str]
_SEVERITY_CSS = {"critical": "#d62728", "warning": "#b36b00", "info": "#4e79a7"}


def analyze(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    logs: Sequence[str] = (),
    log_tz: str | None = None,
    config: str | None = None,
    **thresholds: Any,
) -> Result:
    """Analyse one capture or several (merged in time order); thresholds as keywords.

    ``logs``: daemon logs read beside it (``"r1:/var/log/messages"`` names the node),
    aligned with the wire (``Result.logs``, ``Result.log_events()``); ``log_tz``: their
    zone when lines carry none (default UTC); ``config``: a keepalived.conf naming the
    instances' VRIDs. Threshold names are those of `vrrpscope.thresholds.Thresholds`
    (e.g. ``concurrency_factor=2.0``); an unknown name or bad value raises UsageError.
    """
    if isinstance(path_or_paths, str | os.PathLike):
        paths = [os.fspath(path_or_paths)]
    else:
        paths = [os.fspath(p) for p in path_or_paths]
    if not paths:
        raise UsageError("analyze() needs at least one capture file")
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(thresholds) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise UsageError(f"unknown threshold(s) {', '.join(unknown)}; known: {names}")
    try:
        th = Thresholds(**thresholds)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    zone = None
    if log_tz is not None:
        from vrrpscope.logs.formats import parse_zone

        try:
            zone = parse_zone(log_tz)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if logs:
        from vrrpscope.logs.attach import check_logs

        check_logs([os.fspath(spec) for spec in logs])
    analysis = analyze_files(paths, th, keep_adverts=True)
    if logs:
        from vrrpscope.logs.attach import load_logs

        load_logs([os.fspath(spec) for spec in logs], analysis, zone, config)
    return Result(analysis)


class FindingList(list[Finding]):
    """Findings, worst first; `where()` filters, `to_pandas()` tabulates."""

    def where(
        self,
        kind: str | None = None,
        severity: str | None = None,
        vrid: int | None = None,
        segment: str | None = None,
    ) -> FindingList:
        """Findings of this kind / at least this severity / on this VRID or segment."""
        bar = Severity(severity) if severity else None
        return FindingList(
            f
            for f in self
            if (kind is None or f.kind == kind)
            and (bar is None or f.severity >= bar)
            and (vrid is None or f.vrid == vrid)
            and (segment is None or f.segment == segment)
        )

    def __repr__(self) -> str:
        items = [f"{f.severity} {f.kind}" + (f" VRID {f.vrid}" if f.vrid else "") for f in self]
        return f"<FindingList {reprs.plural(len(self), 'finding')}: {reprs.names(items)}>"

    def to_pandas(self):
        """One row per finding (times as UTC datetimes, details as a dict column; of
        several files, ``frame_files`` names the file of each of ``frames``)."""
        columns = list(_FINDING_COLUMNS)
        if any(f.frame_files for f in self):
            columns.insert(columns.index("frames") + 1, "frame_files")
        return _records_frame(self, columns)

    def _repr_html_(self) -> str:
        return self.html(f"{len(self)} finding(s)")

    def html(self, caption: str) -> str:
        """The findings as an HTML table under `caption`."""
        rows = [
            [
                f'<b style="color:{_SEVERITY_CSS[str(f.severity)]}">{f.severity}</b>',
                html.escape(str(f.kind)),
                html.escape(_router_name(f.segment, f.vrid, f.family)),
                html.escape(", ".join(f.speakers)),
                html.escape(format_time(f.first_ts_ns)),
                f"{(f.last_ts_ns - f.first_ts_ns) / 1e9:.2f} s",
                html.escape(f.message),
            ]
            for f in self
        ]
        head = ["severity", "kind", "virtual router", "speakers", "first (UTC)", "lasted", "what"]
        return _table(caption, head, rows)


_FINDING_COLUMNS = [
    "type", "id", "incident", "kind", "severity", "segment", "vrid", "family", "proto", "speakers",
    "first_ts", "last_ts", "open", "frames", "message", "details",
]  # fmt: skip


_LOG_EVENT_COLUMNS = (
    "type", "node", "path", "line", "ts", "aligned_ts", "daemon", "kind", "instance", "vrid",
    "family", "details", "text",
)  # fmt: skip


class RouterList(list[RouterState]):
    """Virtual routers `(segment, family, proto, vrid)`; `get()` picks one."""

    def get(
        self,
        vrid: int | None = None,
        segment: str | None = None,
        family: int | None = None,
        proto: str | None = None,
    ) -> RouterState:
        """The one router matching the filters (UsageError when none or several match)."""
        from vrrpscope.report.plot.figures import matching

        found = matching(self, vrid, segment, family, proto)
        if len(found) == 1:
            return found[0]
        asked = ", ".join(
            f"{k}={v!r}"
            for k, v in (("vrid", vrid), ("segment", segment), ("family", family), ("proto", proto))
            if v is not None
        )
        if not found:
            seen = reprs.names([r.label for r in self], 20) or "none: the capture has no adverts"
            raise UsageError(f"no virtual router matches {asked or 'at all'}; there are: {seen}")
        raise UsageError(
            f"{len(found)} virtual routers match {asked or '(no filter)'}: "
            f"{reprs.names([r.label for r in found], 20)}; narrow it with vrid=, segment=, "
            "family= or proto="
        )

    def __repr__(self) -> str:
        labels = [r.label for r in self]
        return f"<RouterList {reprs.plural(len(self), 'virtual router')}: {reprs.names(labels)}>"

    def to_pandas(self):
        """One row per virtual router with its speakers, master and failover count."""
        import pandas as pd

        return pd.DataFrame([_router_row(r) for r in self])

    def _repr_html_(self) -> str:
        rows = [[html.escape(str(v)) for v in _router_row(r).values()] for r in self]
        head = list(_router_row(self[0])) if self else ["segment"]
        return _table(f"{len(self)} virtual router(s)", head, rows)


def _router_row(r: RouterState) -> dict[str, Any]:
    speakers = sorted(r.speakers.values(), key=lambda sp: sp.first_ts_ns)
    vips: dict[str, None] = {}
    for sp in speakers:
        vips.update(dict.fromkeys(sp.addresses))
    return {
        "segment": r.segment,
        "proto": r.proto,
        "family": r.family,
        "vrid": r.vrid,
        "vips": ", ".join(vips),
        "speakers": ", ".join(sp.src for sp in speakers),
        "masters_now": ", ".join(sp.src for sp in r.current_masters),
        "failovers": r.failovers,
        "adverts": r.adverts,
        "first": format_time(r.first_ts_ns),
        "last": format_time(r.last_ts_ns),
    }


class IncidentList(list[Incident]):
    """Incidents (findings grouped by cause), worst first; `where()`, `to_pandas()`."""

    def where(
        self,
        kind: str | None = None,
        severity: str | None = None,
        node: str | None = None,
        vrid: int | None = None,
        segment: str | None = None,
    ) -> IncidentList:
        """Incidents of this kind / at least this severity / about this node, VRID or
        segment."""
        bar = Severity(severity) if severity else None
        return IncidentList(
            i
            for i in self
            if (kind is None or i.kind == kind)
            and (bar is None or i.severity >= bar)
            and (node is None or node in i.nodes)
            and (vrid is None or vrid in i.vrids)
            and (segment is None or i.segment == segment)
        )

    def __repr__(self) -> str:
        items = [f"{i.id} {i.severity} {i.kind}" for i in self]
        return f"<IncidentList {reprs.plural(len(self), 'incident')}: {reprs.names(items)}>"

    def to_pandas(self):
        """One row per incident (times as UTC datetimes; `findings` lists finding ids)."""
        return _records_frame(self, _INCIDENT_COLUMNS)

    def _repr_html_(self) -> str:
        rows = [
            [
                html.escape(i.id),
                f'<b style="color:{_SEVERITY_CSS[str(i.severity)]}">{i.severity}</b>',
                html.escape(str(i.kind)),
                html.escape(format_time(i.first_ts_ns)),
                f"{(i.last_ts_ns - i.first_ts_ns) / 1e9:.2f} s",
                str(len(i.findings)),
                html.escape(i.message),
            ]
            for i in self
        ]
        head = ["id", "severity", "kind", "first (UTC)", "lasted", "findings", "what"]
        return _table(f"{len(self)} incident(s)", head, rows)


_INCIDENT_COLUMNS = [
    "type", "id", "kind", "severity", "segment", "nodes", "vrids", "first_ts", "last_ts",
    "open", "findings", "message", "details",
]  # fmt: skip


def nodes_frame(nodes: dict[str, list[Node]]):
    """The node view as one pandas row per node and segment."""
    import pandas as pd

    rows = [n.to_dict() for per_segment in nodes.values() for n in per_segment]
    columns = ["segment", "ip", "macs", "masters", "backups", "priorities", "states"]
    return pd.DataFrame(rows, columns=[*columns, "adverts", "incidents"])


class InventoryList(list[SegmentInventory]):
    """Per-segment inventories, with an HTML table per segment in Jupyter."""

    def __repr__(self) -> str:
        names = [s.segment for s in self]
        return f"<InventoryList {reprs.plural(len(self), 'segment')}: {reprs.names(names)}>"

    def _repr_html_(self) -> str:
        return "\n".join(s._repr_html_() for s in self) or "no segments"


class Result:
    """An analysed capture: adverts, routers, findings, inventory, and figures of them."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.incidents = IncidentList(analysis.incidents)  # (names each finding's incident)
        self.findings = FindingList(analysis.findings)
        self.routers = RouterList(
            sorted(analysis.routers.values(), key=lambda r: (r.segment, r.family, r.vrid))
        )

    @property
    def adverts(self) -> AdvertTable:
        """Every advert as columns (`.rows` numpy, `.to_pandas()` with names resolved)."""
        assert self.analysis.adverts is not None
        return self.analysis.adverts

    @property
    def inventory(self) -> InventoryList:
        """Per segment: VRIDs used and free, speakers, masters, intervals, other protocols."""
        return InventoryList(self.analysis.inventory)

    @property
    def nodes(self) -> dict[str, list[Node]]:
        """Segment -> its nodes: IP, MACs, VRIDs mastered / backed up, priorities,
        incidents (`nodes_frame(result.nodes)` tabulates)."""
        return self.analysis.nodes

    @property
    def logs(self) -> list:
        """The daemon logs read beside the capture (counts, format, clock offset)."""
        return self.analysis.logs

    def log_events(self):
        """One row per daemon log event (``time``: on the capture's clock when the log
        was aligned, else the log's own)."""
        import pandas as pd

        rows = [e.to_dict() for log in self.analysis.logs for e in log.events]
        frame = pd.DataFrame(rows, columns=list(_LOG_EVENT_COLUMNS))
        ns = [e.when_ns for log in self.analysis.logs for e in log.events]
        frame.insert(0, "time", pd.to_datetime(pd.Series(ns, dtype="Int64"), unit="ns", utc=True))
        return frame.drop(columns=["type"])

    @property
    def files(self) -> list[str]:
        return self.analysis.files

    def plot(
        self,
        vrid: int | None = None,
        segment: str | None = None,
        family: int | None = None,
        local: bool = False,
        proto: str | None = None,
    ) -> Figure:
        """The timeline of one virtual router (filters as for `routers.get()`)."""
        from vrrpscope.report.plot.figures import timeline_figure

        router = self.routers.get(vrid, segment, family, proto)
        return timeline_figure(self.analysis, router, local)

    def overview(self, local: bool = False) -> Figure:
        """One row per virtual router, coloured by master, critical findings in red."""
        from vrrpscope.report.plot.figures import overview

        return overview(self.analysis, local=local)

    def save_plots(self, out: PathLike, local: bool = False) -> list:
        """Write the figures as `vrrpscope analyze --plot OUT` does; the paths written."""
        from vrrpscope.report.plot.figures import save_plots

        return save_plots(self.analysis, os.fspath(out), local=local)

    def __repr__(self) -> str:
        return (
            f"<vrrpscope Result: {reprs.names(self.files, 3)}: "
            f"{reprs.plural(len(self.adverts), 'advert')}, "
            f"{reprs.plural(len(self.routers), 'virtual router')}, "
            f"{reprs.plural(len(self.findings), 'finding')} in "
            f"{reprs.plural(len(self.incidents), 'incident')}>"
        )

    def _repr_html_(self) -> str:
        a = self.analysis
        counts = {s: sum(f.severity == s for f in self.findings) for s in Severity}
        span = "-"
        if a.first_ts_ns is not None and a.last_ts_ns is not None:
            span = (
                f"{format_time(a.first_ts_ns)} .. {format_time(a.last_ts_ns)} UTC "
                f"({(a.last_ts_ns - a.first_ts_ns) / 1e9:.1f} s)"
            )
        summary = _table(
            "vrrpscope analysis",
            ["files", "span", "frames", "adverts", "virtual routers", "findings"],
            [
                [
                    html.escape(", ".join(self.files)),
                    html.escape(span),
                    str(a.stats.frames),
                    str(len(self.adverts)),
                    str(len(self.routers)),
                    ", ".join(f"{counts[s]} {s}" for s in reversed(Severity)),
                ]
            ],
        )
        serious = self.findings.where(severity="warning")
        caption = f"{len(serious)} warning or critical finding(s) (all: .findings)"
        return (
            summary
            + self.incidents._repr_html_()
            + self.routers._repr_html_()
            + serious.html(caption)
        )


def _records_frame(records: Sequence[Finding] | Sequence[Incident], columns: list[str]):
    """Records' ``to_dict()`` as rows, their first/last times as UTC datetimes."""
    import pandas as pd

    frame = pd.DataFrame([r.to_dict() for r in records], columns=columns)
    for col, attr in (("first_ts", "first_ts_ns"), ("last_ts", "last_ts_ns")):
        ns = [getattr(r, attr) for r in records]
        frame[col] = pd.to_datetime(pd.Series(ns, dtype="int64"), unit="ns", utc=True)
    return frame.drop(columns=["type"])


def _router_name(segment: str | None, vrid: int | None, family: int | None) -> str:
    if vrid is None:
        return segment or "-"
    return f"VRID {vrid} IPv{family} on {segment}"


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A small HTML table; cells are already escaped by the caller."""
    return reprs.table(caption, head, rows)
