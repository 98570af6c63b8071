"""The `live` terminal dashboard: one row per virtual router, the problems open now below."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Finding, Severity
from vrrpscope.report.layout import SEVERITY_STYLE

if TYPE_CHECKING:
    from vrrpscope.engine.core import Engine

ELLIPSIS = "…"
#: (header, least, most width). A narrow terminal shrinks master (the speakers advertising
#: now; the state says how many), then segment, then VIP, down to their least, with "…".
COLUMNS = (
    ("segment", 7, 16),
    ("VRID", 4, 4),
    ("proto", 7, 7),
    ("VIP", 12, 39),
    ("master", 10, 83),
    ("prio", 4, 4),
    ("last", 6, 8),
    ("interval", 8, 9),
    ("state", 9, 11),
)
_SHRINK_ORDER = (4, 0, 3)  # master, segment, VIP
_STATE_STYLE = {"ok": "green"}


def _widths(rows: list[list[str]], width: int) -> list[int]:
    """Column widths that fit ``width`` (one separator between columns) when they can."""
    sizes = [
        min(max([len(header), *(len(row[i]) for row in rows)]), most)
        for i, (header, _least, most) in enumerate(COLUMNS)
    ]
    excess = sum(sizes) + len(sizes) - 1 - width
    for i in _SHRINK_ORDER:
        if excess <= 0:
            break
        give = min(excess, max(sizes[i] - COLUMNS[i][1], 0))
        sizes[i] -= give
        excess -= give
    return sizes


def _sorted(engine: Engine) -> list[RouterState]:
    return sorted(engine.routers.values(), key=lambda r: (r.segment, r.vrid, r.proto, r.family))


def shorten(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` characters, cut at a word boundary with
    an ellipsis (a single word longer than the line is cut inside, still with one)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = text[: width - 1]
    if text[width - 1] != " " and " " in head:  # do not end inside a word
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + ELLIPSIS


_SCOPE_PREFIX = re.compile(r"^(?:VRRP|CARP) (?:VRID|vhid) \d+ \(IPv[46]\) on \S+: ")
_SEVERITY_WORD = {Severity.CRITICAL: "CRIT", Severity.WARNING: "warn", Severity.INFO: "info"}


class Dashboard:
    """Builds the renderable: the routers and the findings open now, worst first."""

    def __init__(self, interface: str, max_problems: int = 8) -> None:
        self.interface = interface
        self.max_problems = max_problems
        self.status = ""  # e.g. "interface down for 2.0 s": shown in the title

    @staticmethod
    def _row(router: RouterState, now_ns: int) -> list[str]:
        active = list(router.active.values())
        master = active[0] if len(active) == 1 else None
        newest = max(router.speakers.values(), key=lambda s: s.last_ts_ns, default=None)
        since = "-" if newest is None else f"{(now_ns - newest.last_ts_ns) / 1e9:.1f}s"
        state = f"{len(active)} MASTERS" if len(active) > 1 else "ok" if active else "NO MASTER"
        shown = master or newest
        interval = "-"
        if shown is not None and shown.gaps is not None and shown.gaps.median_s is not None:
            interval = f"{shown.gaps.median_s:.2f}s"
        elif shown is not None and shown.interval_cs is not None:
            interval = f"({shown.interval_cs / 100:.2f}s)"  # advertised, none seen yet
        return [
            router.segment,
            str(router.vrid),
            f"{router.proto}/v{router.family}",
            _vips(shown.addresses if shown is not None else ()),
            ", ".join(s.src for s in active) or "-",
            "-" if shown is None or shown.priority is None else str(shown.priority),
            since,
            interval,
            state,
        ]

    def render(
        self, engine: Engine, now_ns: int, frames: int, drops: int, width: int = 80
    ) -> Group:
        title = f"vrrpscope live on {self.interface}: {frames} frames, {drops} kernel drops"
        if self.status:
            title += f"; {self.status}"
        rows = [self._row(router, now_ns) for router in _sorted(engine)]
        table = Table(
            title=title,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=0,
            show_edge=False,  # the column separators are one space each
        )
        for (name, _least, _most), size in zip(COLUMNS, _widths(rows, width), strict=True):
            table.add_column(name, no_wrap=True, overflow="ellipsis", width=size)
        for row in rows:
            table.add_row(*row[:-1], Text(row[-1], style=_STATE_STYLE.get(row[-1], "bold red")))
        problems = [f for f in engine.findings if f.open]  # worst first, then oldest
        lines = [Text(f"open problems: {len(problems)}", style="bold")]
        for finding in problems[: self.max_problems]:
            lines.append(_problem_line(finding, width))
        if len(problems) > self.max_problems:
            more = len(problems) - self.max_problems
            lines.append(Text(f"  … and {more} more", style="dim"))
        if not problems:
            lines.append(Text("  none", style="dim"))
        return Group(table, *lines)


def _vips(addresses: tuple[str, ...] | list[str]) -> str:
    if not addresses:
        return "-"
    return addresses[0] + (f" +{len(addresses) - 1}" if len(addresses) > 1 else "")


def _problem_line(finding: Finding, width: int) -> Text:
    """One line: severity, kind, where, and as much of the message as fits."""
    message = _SCOPE_PREFIX.sub("", finding.message)  # said shorter in the head
    where = ""
    if finding.vrid is not None:
        word = "vhid" if finding.proto == "carp" else "VRID"
        where = f" {word} {finding.vrid}" + (" IPv6" if finding.family == 6 else "")
    if finding.segment and message is not finding.message:
        where += f" {finding.segment}"
    head = f"  {_SEVERITY_WORD[finding.severity]} {finding.kind}{where}: "
    room = max(width - len(head) - 1, 10)  # one column spare: no wrap at the last one
    line = Text(head, style=SEVERITY_STYLE[finding.severity]) + shorten(message, room)
    line.no_wrap, line.overflow = True, "ellipsis"  # a terminal narrower than the head
    return line
