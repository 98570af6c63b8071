"""The `analyze` terminal report: capture summary, per-segment VRID inventory, findings."""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from vrrpscope.analysis import Analysis
from vrrpscope.findings import Finding, Severity
from vrrpscope.inventory import RouterSummary, SegmentInventory, SpeakerSummary, format_ranges
from vrrpscope.linklayer import linktype_name
from vrrpscope.report.adverts import format_time

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}


def render(analysis: Analysis, console: Console, local: bool = False) -> None:
    """Print the whole report."""
    console.print(summary_table(analysis, local))
    for segment in analysis.inventory:
        console.print()
        console.print(segment_block(segment))
    console.print()
    console.print(findings_block(analysis.findings, local))


def _duration(seconds: float) -> str:
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}h{minutes:02d}m{sec:04.1f}s"
    if minutes:
        return f"{minutes}m{sec:04.1f}s"
    return f"{sec:.1f}s"


def summary_table(analysis: Analysis, local: bool = False) -> Table:
    stats = analysis.stats
    table = Table(title="Capture", box=box.SIMPLE, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("files", ", ".join(analysis.files))
    span = "-"
    if analysis.first_ts_ns is not None and analysis.last_ts_ns is not None:
        length = (analysis.last_ts_ns - analysis.first_ts_ns) / 1e9
        span = (
            f"{format_time(analysis.first_ts_ns, local)} .. "
            f"{format_time(analysis.last_ts_ns, local)} ({_duration(length)})"
        )
    table.add_row("span" + ("" if local else " (UTC)"), span)
    table.add_row(
        "frames",
        f"{stats.frames} ({stats.adverts} VRRP/CARP adverts, {stats.other} other multicast, "
        f"{stats.claims} address claims, {stats.ignored} other)",
    )
    links = ", ".join(f"{linktype_name(lt)}: {n}" for lt, n in sorted(stats.link_types.items()))
    table.add_row("link types", links or "-")
    if stats.undecodable or stats.unknown_link_types:
        table.add_row(
            "not decoded",
            f"{stats.undecodable} malformed below VRRP, "
            f"{sum(stats.unknown_link_types.values())} of unsupported link types",
        )
    if analysis.backwards_ts:
        table.add_row("time", f"timestamps went backwards {analysis.backwards_ts} time(s)")
    for note in analysis.notes:
        table.add_row(Text("note", style="yellow"), note)
    for damage in analysis.damage:
        table.add_row(Text("DAMAGED", style="bold red"), f"{damage}; analysed up to there")
    return table


def segment_block(segment: SegmentInventory) -> Group:
    in_use = "; ".join(f"{k} {format_ranges(v)}" for k, v in segment.vrids_in_use.items())
    free = "; ".join(f"IPv{fam}: {format_ranges(v)}" for fam, v in segment.free_vrids.items())
    head = Text.assemble(
        ("Segment ", "bold"),
        (segment.segment, "bold magenta"),
        f"  VRIDs in use: {in_use or 'none'}\n",
        ("Free VRIDs", "bold green"),
        f" (for a new VRRP instance here): {free}",
    )
    parts: list = [head]
    if segment.routers:
        parts.append(router_table(segment.routers))
    if segment.silent_claimants:  # nodes seen only by their address claims
        held = "; ".join(
            f"VRID {c['vrid']} {c['vip']} by {c['mac']} ({c['claims']} claims from frame "
            f"{c['first_frame']})"
            for c in segment.silent_claimants
        )
        parts.append(Text(f"VIP claimed by nodes that never advertised (gratuitous ARP): {held}"))
    if segment.other_protocols:
        others = ", ".join(f"{name} {n}" for name, n in segment.other_protocols.items())
        parts.append(Text(f"Other multicast on this segment: {others}"))
    return Group(*parts)


def router_table(routers: Iterable[RouterSummary]) -> Table:
    """One row per speaker, grouped by virtual router; masters marked, conflicts in red."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("VRID", justify="right")
    table.add_column("proto")
    table.add_column("VIPs", overflow="fold")
    table.add_column("speaker", overflow="fold")
    table.add_column("MAC", no_wrap=True)
    table.add_column("prio (min-max)", no_wrap=True)
    table.add_column("state")
    table.add_column("adverts", justify="right")
    table.add_column("interval adv/med/p95/max", no_wrap=True)
    table.add_column("cksum form")
    for r in routers:
        versions = "/".join(f"v{v}" for v in r.versions)
        proto = f"{r.proto.upper()} {versions} IPv{r.family}"
        conflict = len(r.masters) > 1
        for i, s in enumerate(r.speakers or [None]):
            first = i == 0
            state = Text(s.state if s is not None else "-")  # words: inventory.STATES
            if s is not None and s.master_now:
                state = Text("MASTER", style="bold red" if conflict else "bold green")
            table.add_row(
                str(r.vrid) if first else "",
                proto if first else "",
                "\n".join(s.addresses) if s else "",
                s.src if s else "-",
                (s.mac or "?") if s else "",
                _rank(s) if s else "",
                state,
                str(s.adverts) if s else "",
                _intervals(s) if s else "",
                ", ".join(s.checksum_forms) if s else "",
                end_section=i == len(r.speakers or [None]) - 1,
            )
    return table


def _rank(s: SpeakerSummary) -> str:
    if s.advskew is not None:
        return f"advskew {s.advskew} advbase {s.advbase}"
    if s.priority_min is not None and s.priority_min != s.priority_max:
        return f"{s.priority} ({s.priority_min}-{s.priority_max})"
    return "-" if s.priority is None else str(s.priority)  # (no valid advert yet)


def _intervals(s: SpeakerSummary) -> str:
    obs = s.observed or {}
    values = (s.interval_s, obs.get("median_s"), obs.get("p95_s"), obs.get("max_s"))
    return "/".join("-" if v is None else f"{v:.2f}" for v in values) + " s"


def findings_block(findings: list[Finding], local: bool = False) -> Group:
    if not findings:
        return Group(Text("Findings: none", style="bold green"))
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    summary = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    parts: list = [Text(f"Findings ({summary}), worst first", style="bold")]
    for f in findings:
        parts.append(finding_text(f, local))
    return Group(*parts)


def finding_text(f: Finding, local: bool = False) -> Text:
    where = f.segment or "-"
    if f.vrid is not None:
        where += f" VRID {f.vrid}"
    span = format_time(f.first_ts_ns, local)
    if f.last_ts_ns != f.first_ts_ns:
        span += f" .. {format_time(f.last_ts_ns, local)[11:]}"
    if f.open:
        span += " (still open at the end)"
    frames = ",".join(str(n) for n in sorted(set(f.frames)))
    text = Text()
    text.append(f"\n[{f.severity.value.upper()}] ", style=SEVERITY_STYLE[f.severity])
    text.append(f"{f.kind} ", style="bold")
    text.append(f"{where}  {span}")
    if f.speakers:
        text.append(f"  speakers {', '.join(f.speakers)}")
    if frames:
        text.append(f"  frames {frames}")
    text.append(f"\n    {f.message}")
    return text
