"""One virtual router's timeline: mastership, priorities, advert gaps, findings.

The figure stacks four panels on one time axis (plot_panels, plot_findings) under a
title naming the virtual router, its VIPs and the files, with the speakers' legend
(IP, MAC, priority, VIPs) outside on the right. Artists carry a `gid` and each Axes a
label, so tests and notebooks can find what was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from vrrpscope.report.plot.data import RouterData
from vrrpscope.report.plot.findings import finding_lanes, findings_panel
from vrrpscope.report.plot.panels import band_panel, gap_panel, priority_panel
from vrrpscope.report.plot.style import (
    CONFLICT,
    CONFLICT_HATCH,
    NO_MASTER,
    NO_MASTER_HATCH,
    plain,
    speaker_colour,
)
from vrrpscope.report.plot.timeaxis import MIN_SPAN_NS, days, format_time_axis, to_num

MIN_WIDTH_FRACTION = 0.002  # narrowest bar, as a fraction of the time axis


def router_figure(data: RouterData, local: bool = False) -> Figure:
    """The four-panel timeline of one virtual router (time axes shared)."""
    n_sp = max(len(data.speakers), 1)
    kinds = finding_lanes(data.findings)
    heights = [0.9 + 0.32 * n_sp, 1.8, 2.2, 0.9 + 0.36 * max(len(kinds), 1)]
    if data.log_events:  # the daemons' logs: one more panel, one lane per node
        heights.append(0.7 + 0.35 * len(data.log_events))
    fig = Figure(figsize=(13, sum(heights) + 1.2), layout="constrained")
    axes = fig.subplots(len(heights), 1, sharex=True, gridspec_kw={"height_ratios": heights})
    band, prio, gaps, finds = axes[:4]
    if data.log_events:
        from vrrpscope.report.plot.logpanel import logs_panel

        logs_panel(axes[4], data.log_events)
    span_ns = max(data.end_ns - data.start_ns, MIN_SPAN_NS)
    min_w = days(span_ns) * MIN_WIDTH_FRACTION
    pad = days(span_ns) * 0.01
    band_panel(band, data, min_w)
    priority_panel(prio, data)
    gap_panel(gaps, data)
    findings_panel(finds, data, kinds, min_w)
    band.set_xlim(to_num(data.start_ns) - pad, to_num(data.end_ns) + pad)
    for ax in axes:
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        format_time_axis(ax, local, label=ax is axes[-1])
    fig.suptitle(title(data), fontsize=10, x=0.01, ha="left")
    fig.legend(
        handles=_legend_handles(data),
        loc="outside right upper",
        fontsize=7.5,
        frameon=False,
        title="speakers",
        title_fontsize=8,
        alignment="left",
    )
    return fig


def title(data: RouterData) -> str:
    """'VRRP VRID 51 (IPv4) on segment eth0 · VIPs a, b · file.pcap'."""
    r = data.router
    word = "vhid" if r.proto == "carp" else "VRID"
    head = f"{r.proto.upper()} {word} {r.vrid} (IPv{r.family}) on segment {plain(r.segment)}"
    vips = "not advertised (CARP)" if r.proto == "carp" else _vips(data) or "-"
    files = ", ".join(plain(Path(f).name) for f in data.files[:3]) + (
        " …" if len(data.files) > 3 else ""
    )
    return f"{head}   ·   VIPs {vips}\n{files}"


def _vips(data: RouterData, limit: int = 4) -> str:
    seen: dict[str, None] = {}
    for sp in data.speakers:
        seen.update(dict.fromkeys(sp.addresses))
    names = list(seen)
    return ", ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")


def _legend_handles(data: RouterData) -> list:
    differ = len({sp.addresses for sp in data.speakers}) > 1
    handles: list = []
    for sp in data.speakers:
        rank = "advskew" if data.carp else "prio"
        value = "?" if sp.priority is None else sp.priority
        text = f"{sp.src}\n{sp.mac or 'MAC ?'}  {rank} {value}"
        if (differ or len(data.speakers) == 1) and not data.carp:
            text += "\nVIPs " + (_short(sp.addresses) or "-")
        handles.append(Patch(facecolor=speaker_colour(sp.index), label=text))
    if data.concurrent:
        handles.append(
            Patch(
                facecolor=(1, 0, 0, 0.08),
                edgecolor=CONFLICT,
                hatch=CONFLICT_HATCH,
                label="two or more masters",
            )
        )
    if data.no_master:
        handles.append(
            Patch(facecolor="white", edgecolor=NO_MASTER, hatch=NO_MASTER_HATCH, label="no master")
        )
    return handles


def _short(addresses: Sequence[str], limit: int = 3) -> str:
    extra = f" +{len(addresses) - limit}" if len(addresses) > limit else ""
    return ", ".join(addresses[:limit]) + extra
