"""The `live` terminal dashboard: one row per virtual router, the incidents open now below."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Severity
from vrrpscope.incidents import Incident, IncidentKind
from vrrpscope.incidents.words import id_list
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
        self,
        engine: Engine,
        now_ns: int,
        frames: int,
        drops: int,
        width: int = 80,
        incidents: Sequence[Incident] | None = None,
    ) -> Group:
        """The screen; ``incidents`` (live's tracker) default to the engine's findings
        correlated now."""
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
        if incidents is None:
            from vrrpscope.incidents import correlate

            incidents = correlate(engine.findings)
        open_now = sorted((i for i in incidents if i.open), key=Incident.sort_key)
        closed = len(incidents) - len(open_now)
        head = f"open incidents: {len(open_now)}"
        if closed:
            head += f" ({closed} over)"
        lines = [Text(head, style="bold")]
        several = len({r.segment for r in engine.routers.values()}) > 1
        for incident in open_now[: self.max_problems]:
            lines += _incident_lines(incident, width, several)
        if len(open_now) > self.max_problems:
            more = len(open_now) - self.max_problems
            lines.append(Text(f"  … and {more} more", style="dim"))
        if not open_now:
            lines.append(Text("  none", style="dim"))
        return Group(table, *lines)


def _vips(addresses: tuple[str, ...] | list[str]) -> str:
    if not addresses:
        return "-"
    return addresses[0] + (f" +{len(addresses) - 1}" if len(addresses) > 1 else "")


def _incident_lines(incident: Incident, width: int, with_segment: bool) -> list[Text]:
    """Severity, kind (of the finding, for a lone one or a roll-up), and the story: two
    lines at most for a warning or worse (who took over, and how fast), one for a note."""
    plain = incident.kind in (IncidentKind.SINGLE, IncidentKind.ROLLUP)
    kind = str(incident.findings[0].kind) if plain else str(incident.kind)
    where = f" {incident.segment}" if with_segment and incident.segment else ""
    head = f"  {_SEVERITY_WORD[incident.severity]} {kind}{where}: "
    message = _SCOPE_PREFIX.sub("", " ".join(incident.message.split()))
    if message != " ".join(incident.message.split()) and incident.vrids:
        word = "vhid" if incident.findings[0].proto == "carp" else "VRID"
        head = head[:-2] + f" {word} {id_list(incident.vrids)}: "  # said shorter here
    room = max(width - len(head) - 1, 10)  # one column spare: no wrap at the last one
    first = shorten(message, room)
    style = SEVERITY_STYLE[incident.severity]
    if not first.endswith(ELLIPSIS) or incident.severity == Severity.INFO:
        out = [Text(head, style=style) + first]
    else:
        kept = first.removesuffix(ELLIPSIS)
        rest = shorten(message[len(kept) :], max(width - len(_CONTINUED) - 1, 10))
        out = [Text(head, style=style) + kept, Text(_CONTINUED + rest)]
    for line in out:
        line.no_wrap, line.overflow = True, "ellipsis"  # a terminal narrower than the head
    return out


_CONTINUED = " " * 7
