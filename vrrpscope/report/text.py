"""The `analyze` terminal report: capture summary, per-segment VRID inventory, findings.

The report is laid out here, line by line, to the console's width: tables drop or
shorten columns until they fit (addresses and MACs are never split), paragraphs wrap at
spaces. On a terminal the lines carry colours (rich styles); anywhere else they are
plain text without trailing blanks. Laying out ourselves keeps the cost per line small:
a report of thousands of segments renders in a fraction of the analysis time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from vrrpscope.engine.inventory import (
    RouterSummary,
    SegmentInventory,
    SpeakerSummary,
    format_ranges,
)
from vrrpscope.findings import Finding, Severity
from vrrpscope.proto.link import linktype_name
from vrrpscope.report.adverts import format_time
from vrrpscope.result import Analysis

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}
MIN_WIDTH = 40  # narrower consoles are laid out as if this wide
INDENT = "  "
GAP = "  "  # between table columns

Piece = tuple[str, str]  # (text, rich style or "")
Line = list[Piece]


def render(analysis: Analysis, console: Console, local: bool = False) -> None:
    """Print the whole report, fitted to the console's width."""
    width = max(console.width, MIN_WIDTH)
    lines = report_lines(analysis, width, local)
    if console.color_system is None:  # a pipe or a file: plain text
        console.file.write("".join(_plain(line).rstrip() + "\n" for line in lines))
        console.file.flush()
        return
    text = Text()
    for line in lines:
        for piece, style in line:
            text.append(piece, style or None)
        text.append("\n")
    console.print(text, end="", soft_wrap=True)


def report_lines(analysis: Analysis, width: int, local: bool = False) -> list[Line]:
    """The report as styled lines, none longer than `width` (bar words that are)."""
    lines = summary_lines(analysis, width, local)
    for segment in analysis.inventory:
        lines.append([])
        lines += segment_lines(segment, width)
    lines.append([])
    lines += findings_lines(analysis.findings, width, local)
    return lines


def _plain(line: Line) -> str:
    return "".join(piece for piece, _ in line)


def _duration(seconds: float) -> str:
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}h{minutes:02d}m{sec:04.1f}s"
    if minutes:
        return f"{minutes}m{sec:04.1f}s"
    return f"{sec:.1f}s"


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """Lines of `text` within `width`, broken at spaces (a word longer than the line is
    cut: only names such as a deep VLAN stack are that long)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [first.rstrip()]


def summary_lines(analysis: Analysis, width: int, local: bool = False) -> list[Line]:
    stats = analysis.stats
    rows: list[tuple[str, str, str]] = [("files", ", ".join(analysis.files), "")]
    span = "-"
    if analysis.first_ts_ns is not None and analysis.last_ts_ns is not None:
        length = (analysis.last_ts_ns - analysis.first_ts_ns) / 1e9
        span = (
            f"{format_time(analysis.first_ts_ns, local)} .. "
            f"{format_time(analysis.last_ts_ns, local)} ({_duration(length)})"
        )
    rows.append(("span" + ("" if local else " (UTC)"), span, ""))
    rows.append(
        (
            "frames",
            f"{stats.frames:,} ({stats.adverts:,} VRRP/CARP adverts, {stats.other:,} other "
            f"multicast, {stats.claims:,} address claims, {stats.ignored:,} other)",
            "",
        )
    )
    links = ", ".join(f"{linktype_name(lt)}: {n:,}" for lt, n in sorted(stats.link_types.items()))
    rows.append(("link types", links or "-", ""))
    if stats.undecodable or stats.unknown_link_types:
        rows.append(
            (
                "not decoded",
                f"{stats.undecodable:,} malformed below VRRP, "
                f"{sum(stats.unknown_link_types.values()):,} of unsupported link types",
                "",
            )
        )
    if analysis.backwards_ts:
        rows.append(("time", f"timestamps went backwards {analysis.backwards_ts:,} time(s)", ""))
    for note in analysis.notes:
        rows.append(("note", note, "yellow"))
    for damage in analysis.damage:
        rows.append(("DAMAGED", f"{damage}; {damage.outcome('analysed')}", "bold red"))
    key_w = max(len(k) for k, _, _ in rows)
    out: list[Line] = [[("Capture", "italic")]]
    for key, value, style in rows:
        lead = INDENT + key.ljust(key_w) + "   "
        wrapped = _wrap(value, width, lead, " " * len(lead))
        out.append([(lead, style or "bold"), (wrapped[0][len(lead) :], "")])
        out += [[(line, "")] for line in wrapped[1:]]
    return out


def segment_lines(segment: SegmentInventory, width: int) -> list[Line]:
    in_use = "; ".join(f"{k} {format_ranges(v)}" for k, v in segment.vrids_in_use.items())
    free = "; ".join(f"IPv{fam}: {format_ranges(v)}" for fam, v in segment.free_vrids.items())
    out: list[Line] = []
    head = _wrap(f"Segment {segment.segment}  VRIDs in use: {in_use or 'none'}", width)
    out.append([("Segment ", "bold"), (head[0][8:], "bold magenta")])
    out += [[(line, "")] for line in head[1:]]
    free_lines = _wrap(f"Free VRIDs (for a new VRRP instance here): {free}", width)
    out.append([("Free VRIDs", "bold green"), (free_lines[0][10:], "")])
    out += [[(line, "")] for line in free_lines[1:]]
    if segment.routers:
        out += router_table(segment.routers, width)
    if segment.silent_claimants:  # nodes seen only by their address claims
        held = "; ".join(
            f"VRID {c['vrid']} {c['vip']} by {c['mac']} ({c['claims']:,} claims from frame "
            f"{c['first_frame']})"
            for c in segment.silent_claimants
        )
        text = f"VIP claimed by nodes that never advertised (gratuitous ARP): {held}"
        out += [[(line, "")] for line in _wrap(text, width)]
    if segment.other_protocols:
        others = ", ".join(f"{name} {n:,}" for name, n in segment.other_protocols.items())
        out += [[(line, "")] for line in _wrap(f"Other multicast on this segment: {others}", width)]
    return out


@dataclass
class Column:
    """A table column: header, cells (lines of text and a style), layout."""

    header: str
    cells: list[tuple[list[str], str]] = field(default_factory=list)
    right: bool = False
    wrap: bool = False  # cells may break at spaces; otherwise a cell line is never split

    def natural(self) -> int:
        lines = (len(line) for text, _ in self.cells for line in text)
        return max(len(self.header), max(lines, default=0))

    def minimum(self) -> int:
        words = [w for w in self.header.split()]
        if self.wrap:
            words += [w for text, _ in self.cells for line in text for w in line.split()]
            return max(map(len, words), default=1)
        lines = (len(line) for text, _ in self.cells for line in text)
        return max(max(map(len, words), default=1), max(lines, default=0))


# Ways to fit the speaker table, tried in order until one fits the width.
_LAYOUTS: tuple[frozenset[str], ...] = tuple(
    frozenset(x.split())
    for x in (
        "",
        "cksum",
        "cksum interval-long",
        "cksum interval-long mac",
        "cksum interval-long mac interval",
        "cksum interval-long mac interval vips",
    )
)


def router_table(routers: Iterable[RouterSummary], width: int = 160) -> list[Line]:
    """One row per speaker, grouped by virtual router; masters marked, conflicts in red.

    Columns are dropped or shortened (checksum forms, then the interval statistics, the
    MAC, the intervals, the VIPs) until the table fits `width`; addresses never wrap.
    """
    routers = list(routers)
    for drop in _LAYOUTS:
        columns, notes = _router_columns(routers, drop)
        widths = _fit(columns, width - len(INDENT))
        if widths is not None:
            break
    else:
        widths = [c.minimum() for c in columns]
    return _table_lines(columns, widths, notes, width)


def _router_columns(
    routers: Sequence[RouterSummary], drop: frozenset[str]
) -> tuple[list[Column], list[str]]:
    """The columns, and per row a line to print above it ("" for none): the VIPs when
    their column is dropped."""
    long_iv = "interval-long" not in drop
    cols = {
        "vrid": Column("VRID", right=True),
        "proto": Column("proto", wrap=True),
        "vips": Column("VIPs"),
        "speaker": Column("speaker"),
        "mac": Column("MAC"),
        "prio": Column("prio (min-max)", wrap=True),
        "state": Column("state", wrap=True),
        "adverts": Column("adverts", right=True),
        "interval": Column(
            "interval adv/med/p95/max" if long_iv else "interval med/max", wrap=False
        ),
        "cksum": Column("cksum form", wrap=True),
    }
    for name in ("mac", "interval", "vips", "cksum"):
        if name in drop:
            del cols[name]
    notes: list[str] = []
    for r in routers:
        same_vips = len({tuple(s.addresses) for s in r.speakers}) <= 1
        versions = "/".join(f"v{v}" for v in r.versions)
        proto = f"{r.proto.upper()}{versions} IPv{r.family}"
        conflict = len(r.masters) > 1
        for i, s in enumerate(r.speakers or [None]):
            first = i == 0
            state, style = (s.state if s is not None else "-"), ""  # words: inventory.STATES
            if s is not None and s.master_now:
                state, style = "MASTER", "bold red" if conflict else "bold green"
            values = {
                "vrid": (str(r.vrid) if first else "", ""),
                "proto": (proto if first else "", ""),
                "vips": ("\n".join(s.addresses) if s else "", ""),
                "speaker": (s.src if s else "-", ""),
                "mac": ((s.mac or "?") if s else "", ""),
                "prio": (_rank(s) if s else "", ""),
                "state": (state, style),
                "adverts": (f"{s.adverts:,}" if s else "", ""),
                "interval": (_intervals(s, long_iv) if s else "", ""),
                "cksum": (", ".join(s.checksum_forms) if s else "", ""),
            }
            for name, col in cols.items():
                text, st = values[name]
                col.cells.append((text.split("\n"), st))
            note = ""
            if "vips" in drop and s is not None and s.addresses and (first or not same_vips):
                who = "" if same_vips else f" of {s.src}"
                note = f"VRID {r.vrid} VIPs{who}: {', '.join(s.addresses)}"
            notes.append(note)
    return list(cols.values()), notes


def _fit(columns: Sequence[Column], width: int) -> list[int] | None:
    """Column widths within `width` (gaps included), or None when even the narrowest
    layout of these columns is wider."""
    room = width - len(GAP) * (len(columns) - 1)
    natural = [c.natural() for c in columns]
    if sum(natural) <= room:
        return natural
    least = [c.minimum() for c in columns]
    if sum(least) > room:
        return None
    spare = room - sum(least)
    widths = list(least)
    # the columns that need least to show whole come first: fewer cells wrap
    for i in sorted(range(len(columns)), key=lambda i: natural[i] - least[i]):
        grow = min(natural[i] - least[i], spare)
        widths[i] += grow
        spare -= grow
    return widths


def _cell_lines(text: list[str], width: int, wrap: bool) -> list[str]:
    if not wrap:
        return text
    out: list[str] = []
    for line in text:
        out += textwrap.wrap(line, width, break_on_hyphens=False) or [""]
    return out


def _table_lines(
    columns: Sequence[Column], widths: Sequence[int], notes: Sequence[str], width: int
) -> list[Line]:
    heads = [
        textwrap.wrap(c.header, w, break_on_hyphens=False)
        for c, w in zip(columns, widths, strict=True)
    ]
    depth = max(map(len, heads))
    out: list[Line] = []
    for row in range(depth):
        line: Line = [(INDENT, "")]
        for i, (col, head, w) in enumerate(zip(columns, heads, widths, strict=True)):
            text = head[row - (depth - len(head))] if row >= depth - len(head) else ""
            line.append((_just(text, w, col.right) + (GAP if i < len(columns) - 1 else ""), "bold"))
        out.append(line)
    out.append([(INDENT + "─" * (sum(widths) + len(GAP) * (len(columns) - 1)), "")])
    for r in range(len(columns[0].cells)):
        cells = [
            (_cell_lines(col.cells[r][0], w, col.wrap), col.cells[r][1])
            for col, w in zip(columns, widths, strict=True)
        ]
        height = max(len(text) for text, _ in cells)
        if notes[r]:
            out += [[(line, "")] for line in _wrap(notes[r], width, INDENT, INDENT + "  ")]
        for k in range(height):
            line = [(INDENT, "")]
            for i, ((text, style), col, w) in enumerate(zip(cells, columns, widths, strict=True)):
                piece = _just(text[k] if k < len(text) else "", w, col.right)
                line.append((piece, style))
                if i < len(columns) - 1:
                    line.append((GAP, ""))
            out.append(line)
    return out


def _just(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def _rank(s: SpeakerSummary) -> str:
    if s.advskew is not None:
        return f"advskew {s.advskew} advbase {s.advbase}"
    if s.priority_min is not None and s.priority_min != s.priority_max:
        return f"{s.priority} ({s.priority_min}-{s.priority_max})"
    return "-" if s.priority is None else str(s.priority)  # (no valid advert yet)


def _intervals(s: SpeakerSummary, long: bool = True) -> str:
    obs = s.observed or {}
    values = (s.interval_s, obs.get("median_s"), obs.get("p95_s"), obs.get("max_s"))
    if not long:
        values = (obs.get("median_s"), obs.get("max_s"))
    return "/".join("-" if v is None else f"{v:.2f}" for v in values) + " s"


def findings_lines(findings: list[Finding], width: int, local: bool = False) -> list[Line]:
    if not findings:
        return [[("Findings: none", "bold green")]]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    summary = ", ".join(f"{n:,} {sev}" for sev, n in counts.items())
    out: list[Line] = [[(f"Findings ({summary}), worst first", "bold")]]
    for f in findings:
        out.append([])
        out += finding_lines(f, width, local)
    return out


def finding_lines(f: Finding, width: int, local: bool = False) -> list[Line]:
    """The finding's head line (severity, kind, where, when, who, frames), wrapped, and
    its message indented below."""
    where = f.segment or "-"
    if f.vrid is not None:
        where += f" VRID {f.vrid}"
    span = format_time(f.first_ts_ns, local)
    if f.last_ts_ns != f.first_ts_ns:
        span += f" .. {format_time(f.last_ts_ns, local)[11:]}"
    if f.open:
        span += " (still open at the end)"
    frames = ",".join(str(n) for n in sorted(set(f.frames)))
    tag = f"[{f.severity.value.upper()}] "
    head = f"{tag}{f.kind} {where}  {span}"
    if f.speakers:
        head += f"  speakers {', '.join(f.speakers)}"
    if frames:
        head += f"  frames {frames}"
    wrapped = _wrap(head, width, "", "    ")
    kind = str(f.kind)
    first = wrapped[0]
    out: list[Line] = [[(tag, SEVERITY_STYLE[f.severity])]]
    if first[len(tag) :].startswith(kind):
        out[0] += [(kind, "bold"), (first[len(tag) + len(kind) :], "")]
    else:
        out[0].append((first[len(tag) :], ""))
    out += [[(line, "")] for line in wrapped[1:]]
    out += [[(line, "")] for line in _wrap(f.message, width, "    ", "    ")]
    return out
