"""The findings panel of a router timeline: one lane per kind, spans, failover arrows.

Spans are one PolyCollection per severity (gid "findings:<severity>"); failovers are
arrows from the old master's last advert to the new one's first (gid "failover"),
labelled with the takeover time ("failover-label"); the Axes label is "findings".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection

from vrrpscope.findings import Finding, Kind, Severity
from vrrpscope.report.plot.data import RouterData
from vrrpscope.report.plot.shapes import bars, note
from vrrpscope.report.plot.style import SEVERITY_COLOUR
from vrrpscope.report.plot.timeaxis import to_num

MAX_LABELLED_FAILOVERS = 40


def finding_lanes(findings: Sequence[Finding]) -> list[str]:
    """Kinds present, worst severity first (top lane first)."""
    worst: dict[str, Severity] = {}
    for f in findings:
        worst[f.kind] = max(worst.get(f.kind, Severity.INFO), f.severity)
    return sorted(worst, key=lambda k: (-worst[k].rank, k))


def findings_panel(ax: Axes, data: RouterData, kinds: list[str], min_w: float) -> None:
    """Each finding as a span in its kind's lane; failovers as labelled arrows."""
    ax.set_label("findings")
    lane = {k: len(kinds) - 1 - i for i, k in enumerate(kinds)}
    slots = _sub_lanes(data.findings, min_w)
    for sev in (Severity.INFO, Severity.WARNING, Severity.CRITICAL):
        mine = [f for f in data.findings if f.severity == sev]
        if not mine:
            continue
        verts = []
        for f in mine:
            row, rows = slots[id(f)]
            h = 0.64 / rows
            y0 = lane[f.kind] - 0.32 + (rows - 1 - row) * h
            verts += bars([(f.first_ts_ns, f.last_ts_ns)], y0 + 0.04 * h, 0.92 * h, min_w)
        ax.add_collection(
            PolyCollection(
                verts,
                facecolors=SEVERITY_COLOUR[sev],
                edgecolors=SEVERITY_COLOUR[sev],
                alpha=0.55 if sev != Severity.INFO else 0.35,
                linewidths=0.8,
                gid=f"findings:{sev}",
            ),
            autolim=False,
        )
    _failover_arrows(ax, data, lane.get(Kind.FAILOVER))
    ax.set_yticks(list(lane.values()), list(lane))
    ax.set_ylim(-0.6, max(len(kinds), 1) - 0.4)
    if not kinds:
        note(ax, "no findings for this virtual router")


def _sub_lanes(findings: Sequence[Finding], min_w: float) -> dict[int, tuple[int, int]]:
    """Per finding (by id): (row, rows) so that findings of one kind never overlap."""
    out: dict[int, tuple[int, int]] = {}
    by_kind: dict[str, list[Finding]] = {}
    for f in findings:
        by_kind.setdefault(f.kind, []).append(f)
    gap = int(min_w * 86_400e9)
    for group in by_kind.values():
        ends: list[int] = []  # last end per row
        rows: dict[int, int] = {}
        for f in sorted(group, key=lambda f: f.first_ts_ns):
            row = next((i for i, e in enumerate(ends) if f.first_ts_ns > e + gap), len(ends))
            if row == len(ends):
                ends.append(f.last_ts_ns)
            else:
                ends[row] = f.last_ts_ns
            rows[id(f)] = row
        n = min(len(ends), 6)
        out.update({k: (min(r, n - 1), n) for k, r in rows.items()})
    return out


def _failover_arrows(ax: Axes, data: RouterData, y: int | None) -> None:
    failovers = sorted(
        (f for f in data.findings if f.kind == Kind.FAILOVER), key=lambda f: f.first_ts_ns
    )
    if y is None or not failovers:
        return
    span = max(data.end_ns - data.start_ns, 1)
    last_label = -np.inf
    for i, f in enumerate(failovers[:MAX_LABELLED_FAILOVERS]):
        d = f.details
        x0, x1 = to_num(f.first_ts_ns), to_num(f.last_ts_ns)
        ax.annotate(
            "",
            xy=(x1, y),
            xytext=(x0, y),
            arrowprops={
                "arrowstyle": "-|>",
                "color": "black",
                "lw": 1.1,
                "shrinkA": 0,
                "shrinkB": 0,
            },
            gid="failover",
        )
        frac = (f.first_ts_ns - data.start_ns) / span
        if frac - last_label < 0.07:
            continue  # too close to the previous label to read
        last_label = frac
        takeover = d.get("takeover_s")
        text = f"→ {d.get('to', '?')}"
        if takeover is not None:
            text += f"\n{takeover:.2f} s ({d.get('cause', '?')})"
            text += " slow" if d.get("slow") else ""
        ax.annotate(
            text,
            xy=(x1, y),
            xytext=(3, 5 if i % 2 == 0 else -5),
            textcoords="offset points",
            fontsize=6.5,
            va="bottom" if i % 2 == 0 else "top",
            ha="left",
            gid="failover-label",
        )
    rest = failovers[MAX_LABELLED_FAILOVERS:]
    if rest:
        segments = [[(to_num(f.first_ts_ns), y), (to_num(f.last_ts_ns), y)] for f in rest]
        ax.add_collection(
            LineCollection(segments, colors="black", linewidths=1.1, gid="failover"),
            autolim=False,
        )
