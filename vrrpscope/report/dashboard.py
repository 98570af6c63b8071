"""The `live` terminal dashboard: one row per virtual router, the problems open now below."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from vrrpscope.engine import Engine
from vrrpscope.findings import Finding, FindingEvent
from vrrpscope.report.text import SEVERITY_STYLE

ELLIPSIS = "…"


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


class Dashboard:
    """Builds the renderable: the routers and the findings open now, worst first."""

    def __init__(self, interface: str, max_problems: int = 8) -> None:
        self.interface = interface
        self.max_problems = max_problems
        self.status = ""  # e.g. "interface down for 2.0 s": shown in the title

    def note(self, event: FindingEvent) -> None:
        """Finding events need no bookkeeping: the open ones are read from the engine."""

    def render(
        self, engine: Engine, now_ns: int, frames: int, drops: int, width: int = 80
    ) -> Group:
        title = f"vrrpscope live on {self.interface}: {frames} frames, {drops} kernel drops"
        if self.status:
            title += f"; {self.status}"
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
        for name in ("segment", "VRID", "proto", "VIP", "master", "prio", "last", "interval"):
            table.add_column(name, no_wrap=True, overflow="ellipsis")
        table.add_column("state", no_wrap=True)
        for router in sorted(engine.routers.values(), key=lambda r: (r.segment, r.vrid)):
            active = list(router.active.values())
            master = active[0] if len(active) == 1 else None
            newest = max(router.speakers.values(), key=lambda s: s.last_ts_ns, default=None)
            since = "-" if newest is None else f"{(now_ns - newest.last_ts_ns) / 1e9:.1f}s"
            if len(active) > 1:
                state = Text(f"{len(active)} MASTERS", style="bold red")
            elif not active:
                state = Text("NO MASTER", style="bold red")
            else:
                state = Text("ok", style="green")
            shown = master or newest
            interval = "-"
            if shown is not None and shown.gaps is not None and shown.gaps.median_s is not None:
                interval = f"{shown.gaps.median_s:.2f}s"
            elif shown is not None and shown.interval_cs is not None:
                interval = f"{shown.interval_cs / 100:.2f}s adv"
            table.add_row(
                router.segment,
                str(router.vrid),
                f"{router.proto}/ipv{router.family}",
                _vips(shown.addresses if shown is not None else ()),
                ", ".join(s.src for s in active) or "-",
                "-" if shown is None or shown.priority is None else str(shown.priority),
                since,
                interval,
                state,
            )
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
    where = f" VRID {finding.vrid}" if finding.vrid is not None else ""
    if finding.segment:
        where += f" on {finding.segment}"
    head = f"  {finding.severity.value:8} {finding.kind}{where}: "
    room = max(width - len(head) - 1, 10)  # one column spare: no wrap at the last one
    line = Text(head, style=SEVERITY_STYLE[finding.severity]) + shorten(finding.message, room)
    line.no_wrap, line.overflow = True, "ellipsis"  # a terminal narrower than the head
    return line
