"""The overview: one row per virtual router on every segment, coloured by master.

All master periods go into one PolyCollection (gid "masters"), concurrent masters into
one hatched collection ("concurrent"), critical findings into one red collection
("critical") and failovers into one LineCollection ("failovers"), so the figure stays
fast and small with hundreds of routers. Rows are ordered by segment, family, VRID.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Finding, Kind, Severity
from vrrpscope.report.plot.data import concurrent_spans, router_key
from vrrpscope.report.plot.shapes import rect
from vrrpscope.report.plot.style import CONFLICT, CONFLICT_HATCH, plain, speaker_colour
from vrrpscope.report.plot.timeaxis import MIN_SPAN_NS, days, format_time_axis, to_num
from vrrpscope.reprs import plural

ROW_INCHES = 0.22  # per router, shrinking for very many rows
MAX_HEIGHT_INCHES = 300
MAX_NAMED_SPEAKERS = 16  # masters named in the legend; more: colours explained only


def row_label(router: RouterState) -> str:
    """'eth0  VRID 51 v4' (CARP: 'vhid')."""
    word = "vhid" if router.proto == "carp" else "VRID"
    return f"{plain(router.segment)}  {word} {router.vrid} v{router.family}"


def overview_figure(
    routers: Sequence[RouterState],
    findings: Sequence[Finding],
    files: Sequence[str] = (),
    local: bool = False,
    note: str | None = None,
    span: tuple[int, int] | None = None,
) -> Figure:
    """One row per virtual router: who was master when, critical findings in red.

    `span` (first, last timestamp in ns) sets the time axis when there are no routers.
    """
    rows = sorted(routers, key=lambda r: (r.segment, r.family, r.proto, r.vrid))
    n = max(len(rows), 1)
    per_row = ROW_INCHES if n <= 60 else max(0.11, ROW_INCHES * (60 / n) ** 0.35)
    height = min(1.9 + per_row * n, MAX_HEIGHT_INCHES)
    font = 8 if n <= 40 else (6.5 if n <= 150 else 5)
    fig = Figure(figsize=(13, height), layout="constrained")
    ax = fig.add_subplot()
    ax.set_label("overview")
    y_of = {r.key: n - 1 - i for i, r in enumerate(rows)}
    start = min((r.first_ts_ns for r in rows), default=span[0] if span else 0)
    end = max((r.last_ts_ns for r in rows), default=span[1] if span else 1)
    min_w = days(max(end - start, MIN_SPAN_NS)) * 0.0015
    masters, colours, conflicts = [], [], []
    named: list[Patch] = []  # one legend entry per master speaker, while they are few
    for r in rows:
        y = y_of[r.key]
        order = {
            k: i for i, k in enumerate(sorted(r.speakers, key=lambda k: r.speakers[k].first_ts_ns))
        }
        seen = dict.fromkeys((p.src, p.mac) for p in r.timeline())
        word = "vhid" if r.proto == "carp" else "VRID"
        named += [
            Patch(
                facecolor=speaker_colour(order.get(k, len(order))),
                label=f"{k[0]}  ({word} {r.vrid} v{r.family})",
            )
            for k in seen
        ]
        periods = r.timeline()
        for p in periods:
            masters.append(rect(p.start_ns, p.end_ns, y - 0.36, 0.72, min_w))
            colours.append(speaker_colour(order.get((p.src, p.mac), len(order))))
        conflicts += [rect(a, b, y - 0.45, 0.9, min_w) for a, b in concurrent_spans(periods)]
    ax.add_collection(
        PolyCollection(masters, facecolors=colours, edgecolors="none", gid="masters"),
        autolim=False,
    )
    if conflicts:
        ax.add_collection(
            PolyCollection(
                conflicts,
                facecolors=(1, 0, 0, 0.1),
                edgecolors=CONFLICT,
                hatch=CONFLICT_HATCH,
                linewidths=0,
                gid="concurrent",
            ),
            autolim=False,
        )
    critical, moves = [], []
    for f in findings:
        key = router_key(f)
        if key not in y_of:
            continue
        y = y_of[key]
        if f.severity == Severity.CRITICAL:
            critical.append(rect(f.first_ts_ns, f.last_ts_ns, y - 0.18, 0.36, min_w))
        elif f.kind == Kind.FAILOVER:
            x = to_num(f.last_ts_ns)
            moves.append([(x, y - 0.45), (x, y + 0.45)])
    if critical:
        ax.add_collection(
            PolyCollection(critical, facecolors=CONFLICT, edgecolors="none", gid="critical"),
            autolim=False,
        )
    if moves:
        ax.add_collection(
            LineCollection(moves, colors="black", linewidths=0.9, gid="failovers"), autolim=False
        )
    pad = days(max(end - start, MIN_SPAN_NS)) * 0.01
    ax.set_xlim(to_num(start) - pad, to_num(end) + pad)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks([y_of[r.key] for r in rows], [row_label(r) for r in rows], fontsize=font)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    format_time_axis(ax, local)
    if n > 40:  # tall: time labels on top as well
        ax.tick_params(axis="x", top=True, labeltop=True)
    if n > 60:
        ax.tick_params(axis="y", length=0, pad=1)
    names = ", ".join(plain(Path(f).name) for f in files[:3]) + (" …" if len(files) > 3 else "")
    heading = plural(len(rows), "virtual router") + (f" · {names}" if names else "")
    fig.suptitle(heading + (f"\n{note}" if note else ""), fontsize=10, x=0.01, ha="left")
    if len(named) <= MAX_NAMED_SPEAKERS:
        speakers = named
    else:
        speakers = [
            Patch(facecolor=speaker_colour(0), label="master (colour per speaker\nwithin a row)"),
            Patch(facecolor=speaker_colour(1), label="another master"),
        ]
    fig.legend(
        handles=[
            *speakers,
            Patch(facecolor=CONFLICT, label="critical finding"),
            Patch(
                facecolor=(1, 0, 0, 0.1),
                edgecolor=CONFLICT,
                hatch=CONFLICT_HATCH,
                label="two or more masters",
            ),
            Patch(facecolor="white", edgecolor="#999999", label="blank: no master / no data"),
            Patch(facecolor="black", label="failover"),
        ],
        loc="outside right upper",
        fontsize=7.5,
        frameon=False,
    )
    return fig
