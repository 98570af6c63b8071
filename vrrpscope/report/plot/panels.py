"""The three upper panels of a router timeline: mastership band, priorities, advert gaps.

Artists carry a `gid` ("band:<src>", "concurrent", "no-master", "priority:<src>",
"resigned", "invalid", "gaps:<src>", "missed", "interval:<s>", "master-down:<s>") and
each Axes a label ("band", "priority", "gaps"). Per-advert data is drawn as one
collection or line per speaker, never one artist per packet.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from vrrpscope.report.plot.data import (
    MISSED_FACTOR,
    RouterData,
    gap_series,
    step_points,
    takeover_threshold_ns,
)
from vrrpscope.report.plot.shapes import bars, legend_above, note
from vrrpscope.report.plot.style import (
    CONFLICT,
    CONFLICT_HATCH,
    NO_MASTER,
    NO_MASTER_HATCH,
    speaker_colour,
)
from vrrpscope.report.plot.timeaxis import to_num


def band_panel(ax: Axes, data: RouterData, min_w: float) -> None:
    """One lane per speaker with its master periods; no-master and conflict spans."""
    ax.set_label("band")
    n = max(len(data.speakers), 1)
    lanes = {sp.key: sp for sp in data.speakers}
    for sp in data.speakers:
        spans = [(p.start_ns, p.end_ns) for p in data.periods if (p.src, p.mac) == sp.key]
        y = n - 1 - sp.index
        coll = PolyCollection(
            bars(spans, y - 0.32, 0.64, min_w),
            facecolors=speaker_colour(sp.index),
            edgecolors="none",
            gid=f"band:{sp.src}",
        )
        ax.add_collection(coll, autolim=False)
    top, bottom = n - 0.5, -0.5
    if data.no_master:
        ax.add_collection(
            PolyCollection(
                bars(data.no_master, bottom, top - bottom, min_w),
                facecolors=(0.6, 0.6, 0.6, 0.12),
                edgecolors=NO_MASTER,
                hatch=NO_MASTER_HATCH,
                linewidths=0,
                gid="no-master",
            ),
            autolim=False,
        )
    if data.concurrent:
        ax.add_collection(
            PolyCollection(
                bars(data.concurrent, bottom, top - bottom, min_w),
                facecolors=(1, 0, 0, 0.08),
                edgecolors=CONFLICT,
                hatch=CONFLICT_HATCH,
                linewidths=0,
                gid="concurrent",
            ),
            autolim=False,
        )
    ax.set_ylim(bottom, top)
    ax.set_yticks([n - 1 - sp.index for sp in lanes.values()], [sp.src for sp in lanes.values()])
    ax.set_ylabel("master", fontsize=8)


def priority_panel(ax: Axes, data: RouterData) -> None:
    """Advertised priority (CARP: advskew) per speaker as step lines; resignations marked."""
    ax.set_label("priority")
    values: list[float] = []
    n = len(data.speakers)
    for sp in data.speakers:
        x, y = step_points(sp.ts, sp.value, sp.breaks)
        if len(x):
            ax.plot(
                to_num(x),
                y,
                drawstyle="steps-post",
                color=speaker_colour(sp.index),
                # earlier speakers drawn wider, so equal priorities stay visible
                linewidth=1.3 + 1.7 * (n - 1 - sp.index) / max(n - 1, 1),
                marker="o",
                markevery=_run_ends(x),
                markersize=3.5,
                gid=f"priority:{sp.src}",
                solid_capstyle="butt",
            )
            values.extend(y[~np.isnan(y)].tolist())
    if not data.carp:
        t0 = np.concatenate([sp.ts[sp.value == 0] for sp in data.speakers] or [np.zeros(0)])
        if len(t0):
            ax.scatter(
                to_num(t0.astype(np.int64)),
                np.zeros(len(t0)),
                marker="v",
                s=40,
                color=CONFLICT,
                zorder=3,
                gid="resigned",
                label="priority 0 (resigned)",
            )
    bad = np.concatenate([sp.invalid_ts for sp in data.speakers] or [np.zeros(0)])
    if len(bad):
        low = min(values) if values else 0
        ax.scatter(
            to_num(bad.astype(np.int64)),
            np.full(len(bad), low),
            marker="x",
            s=18,
            color="#555555",
            gid="invalid",
            label="invalid (discarded)",
        )
    legend_above(ax)
    lo, hi = (min(values), max(values)) if values else (0.0, 255.0)
    margin = max((hi - lo) * 0.15, 3.0)
    ax.set_ylim(lo - margin, hi + margin)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, steps=[1, 2, 5, 10]))
    ax.set_ylabel("advskew\n(lower wins)" if data.carp else "priority", fontsize=8)
    if not data.has_adverts and not values:
        note(ax, "no per-advert data (analysis ran without keep_adverts)")


def gap_panel(ax: Axes, data: RouterData) -> None:
    """Inter-advert gaps (log), the advertised interval and the Master_Down_Interval."""
    ax.set_label("gaps")
    ax.set_yscale("log")
    intervals: set[float] = set()
    lo, hi = np.inf, 0.0
    missed_t: list[np.ndarray] = []
    missed_y: list[np.ndarray] = []
    for sp in data.speakers:
        gs = gap_series(sp)
        intervals.update(gs.intervals_s)
        if not len(gs.t_ns):
            continue
        ax.scatter(
            to_num(gs.t_ns),
            gs.gap_s,
            s=10,
            color=speaker_colour(sp.index),
            linewidths=0,
            gid=f"gaps:{sp.src}",
            rasterized=len(gs.t_ns) > 2000,
        )
        lo, hi = min(lo, float(gs.gap_s.min())), max(hi, float(gs.gap_s.max()))
        missed_t.append(gs.t_ns[gs.missed])
        missed_y.append(gs.gap_s[gs.missed])
    if missed_t and sum(len(m) for m in missed_t):
        ax.scatter(
            to_num(np.concatenate(missed_t)),
            np.concatenate(missed_y),
            s=46,
            facecolors="none",
            edgecolors=CONFLICT,
            linewidths=1.3,
            gid="missed",
            label=f"missed advert (gap ≥ {MISSED_FACTOR:g} intervals)",
        )
    ivs = sorted(intervals)[:3]
    mdis = [takeover_threshold_ns(data, round(iv * 100)) for iv in ivs]
    rank = "advskew" if data.carp else "prio"
    who = ""
    if len(ivs) == 1 and mdis[0][1] is not None:
        who = f", backup {rank} {mdis[0][1]}"
        if len(data.router.speakers) == 1:
            who = f" at {rank} {mdis[0][1]} (no backup seen)"
    iv_text = ", ".join(f"{iv:g}" for iv in ivs)
    mdi_text = ", ".join(dict.fromkeys(f"{m / 1e9:.2f}" for m, _ in mdis))
    if not np.isfinite(lo):  # no gap drawn: a provisional range, so that the lines
        ax.set_ylim(0.5, 5.0)  # below do not autoscale an empty log axis (a warning)
    for i, (iv, (mdi_ns, _)) in enumerate(zip(ivs, mdis, strict=True)):
        mdi = mdi_ns / 1e9
        ax.axhline(
            iv,
            color="#2ca02c",
            linestyle="--",
            linewidth=1,
            gid=f"interval:{iv:g}",
            label=f"advertised interval {iv_text} s" if i == 0 else None,
        )
        ax.axhline(
            mdi,
            color=CONFLICT,
            linestyle=":",
            linewidth=1.2,
            gid=f"master-down:{mdi:g}",
            label=f"Master_Down_Interval {mdi_text} s{who}" if i == 0 else None,
        )
        lo, hi = min(lo, iv), max(hi, mdi)
    if not np.isfinite(lo):
        note(ax, "no inter-advert gaps" if data.has_adverts else "no per-advert data")
        lo, hi = 0.5, 5.0
    ax.set_ylim(lo / 1.8, hi * 1.8)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} s"))
    ax.set_ylabel("gap between adverts\n(log scale)", fontsize=8)
    legend_above(ax)


def _run_ends(x: np.ndarray) -> list[int]:
    """Indices of the first and last point of each NaN-separated run (markers there)."""
    ok = ~np.isnan(x)
    before = np.r_[False, ok[:-1]]
    after = np.r_[ok[1:], False]
    return np.flatnonzero(ok & ~(before & after)).tolist()
