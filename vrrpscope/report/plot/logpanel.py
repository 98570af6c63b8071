"""The daemons' own words on a router's timeline: one lane per node whose log was read.

State changes (MASTER up, BACKUP down, FAULT a cross), timeouts, send errors and
rejections as markers on the capture's clock (a log that could not be aligned is drawn
on its own clock and its lane says so)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes

from vrrpscope.logs import messages as M
from vrrpscope.logs.reader import LogEvent, LogFile
from vrrpscope.report.plot.timeaxis import to_num

# (label, marker, colour) per kind of moment drawn
STYLES = {
    "MASTER": ("MASTER", "^", "#2e7d32"),
    "BACKUP": ("BACKUP", "v", "#1565c0"),
    "FAULT": ("FAULT", "X", "#c62828"),
    M.ADVERT_TIMEOUT: ("advert timeout", "o", "#ef6c00"),
    M.SEND_ERROR: ("send error", "|", "#c62828"),
    M.RECEIVE_ERROR: ("rejected advert", "|", "#757575"),
    M.PRIORITY_CHANGE: ("priority change", "D", "#6a1b9a"),
    M.RESIGNED: ("sent priority 0", "s", "#000000"),
}


def router_events(logs: Sequence[LogFile], router) -> dict[str, list[LogEvent]]:
    """Per node, the events about ``router``: its VRID's, or (no VRID in the log) all of a
    node that speaks on it and on no other virtual router."""
    out: dict[str, list[LogEvent]] = {}
    for log in logs:
        mine = [e for e in log.events if e.when_ns is not None and e.vrid == router.vrid]
        speaks = any(sp.src == log.address for sp in router.speakers.values())
        if not mine and log.address is not None and speaks:
            mine = [e for e in log.events if e.when_ns is not None and e.vrid is None]
        mine = [e for e in mine if _style(e) is not None]
        if mine:
            label = log.node + ("" if log.offset_s is not None else " (log clock)")
            out[label] = mine
    return out


def _style(e: LogEvent) -> tuple[str, str, str] | None:
    if e.kind == M.STATE:
        return STYLES.get(str(e.details.get("state")))
    return STYLES.get(e.kind)


def logs_panel(ax: Axes, events: dict[str, list[LogEvent]]) -> None:
    """One lane per node, a marker per event (legend: the kinds drawn)."""
    ax.set_label("daemon logs")
    nodes = list(events)
    drawn: set[str] = set()
    for lane, node in enumerate(reversed(nodes)):
        by_style: dict[tuple[str, str, str], list[float]] = {}
        for e in events[node]:
            style = _style(e)
            if style is not None and e.when_ns is not None:
                by_style.setdefault(style, []).append(to_num(e.when_ns))
        for (label, marker, colour), xs in by_style.items():
            ax.scatter(
                xs,
                [lane] * len(xs),
                marker=marker,
                s=36 if marker != "|" else 60,
                color=colour,
                label=label if label not in drawn else "_nolegend_",
                zorder=3,
                gid=f"log:{node}:{label}",
            )
            drawn.add(label)
    ax.set_yticks(range(len(nodes)), list(reversed(nodes)))
    ax.set_ylim(-0.6, len(nodes) - 0.4)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
