"""The `live` terminal dashboard: one row per virtual router, latest findings below."""

from __future__ import annotations

from collections import deque

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from vrrpscope.engine import Engine
from vrrpscope.findings import Finding, FindingEvent
from vrrpscope.report.text import SEVERITY_STYLE


class Dashboard:
    """Builds the renderable; `note(event)` keeps the latest finding events."""

    def __init__(self, interface: str, max_events: int = 8) -> None:
        self.interface = interface
        self.events: deque[tuple[str, Finding]] = deque(maxlen=max_events)

    def note(self, event: FindingEvent) -> None:
        if event.action in ("open", "close"):
            self.events.append((event.action, event.finding))

    def render(self, engine: Engine, now_ns: int, frames: int, drops: int) -> Group:
        table = Table(
            title=f"vrrpscope live on {self.interface}: {frames} frames, {drops} kernel drops",
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        for name in ("segment", "VRID", "proto", "master", "prio", "since last", "interval"):
            table.add_column(name, no_wrap=True)
        table.add_column("state")
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
                ", ".join(s.src for s in active) or "-",
                "-" if shown is None or shown.priority is None else str(shown.priority),
                since,
                interval,
                state,
            )
        lines = [Text("latest findings:", style="bold")]
        for action, finding in reversed(self.events):
            style = SEVERITY_STYLE[finding.severity] if action == "open" else "dim"
            where = f"VRID {finding.vrid}" if finding.vrid is not None else ""
            lines.append(
                Text(
                    f"  {action:5} {finding.severity.value:8} {finding.kind} {where}: ", style=style
                )
                + Text(finding.message[:160])
            )
        if len(lines) == 1:
            lines.append(Text("  none yet", style="dim"))
        return Group(table, *lines)
