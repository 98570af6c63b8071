"""The `analyze` terminal report: capture summary, per-segment VRID inventory, findings.

The report is laid out here, line by line, to the console's width: tables drop or
shorten columns until they fit (addresses and MACs are never split), paragraphs wrap at
spaces. On a terminal the lines carry colours (rich styles); anywhere else they are
plain text without trailing blanks. Laying out ourselves keeps the cost per line small:
a report of thousands of segments renders in a fraction of the analysis time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.text import Text

from vrrpscope.engine.inventory import (
    RouterSummary,
    SegmentInventory,
    SpeakerSummary,
    format_ranges,
)
from vrrpscope.errors import display_name
from vrrpscope.findings import Finding, Severity
from vrrpscope.incidents import Incident, IncidentKind
from vrrpscope.proto.link import linktype_name
from vrrpscope.report.adverts import format_time
from vrrpscope.report.incidents import incident_lines, node_lines, verdict_lines
from vrrpscope.report.layout import (
    INDENT,
    SEVERITY_STYLE,
    Column,
    Line,
    fit,
    keep_first,
    table_lines,
    wrap,
)
from vrrpscope.result import Analysis

# Without --details: virtual routers per segment table, findings shown in detail.
SHOWN_ROUTERS = 40
SHOWN_FINDINGS = 12
MIN_WIDTH = 40  # narrower consoles are laid out as if this wide


def render(
    analysis: Analysis, console: Console, local: bool = False, details: bool = False
) -> None:
    """Print the whole report, fitted to the console's width (long sections cut unless
    ``details``)."""
    print_lines(console, report_lines(analysis, max(console.width, MIN_WIDTH), local, details))


def print_lines(console: Console, lines: list[Line]) -> None:
    """Styled lines on a terminal; plain text (no trailing blanks) in a pipe or file."""
    if console.color_system is None:
        console.file.write("".join(_plain(line).rstrip() + "\n" for line in lines))
        console.file.flush()
        return
    text = Text()
    for line in lines:
        for piece, style in line:
            text.append(piece, style or None)
        text.append("\n")
    console.print(text, end="", soft_wrap=True)


def report_lines(
    analysis: Analysis, width: int, local: bool = False, details: bool = False
) -> list[Line]:
    """The report as styled lines, none longer than `width` (bar words that are): the
    capture, a verdict per segment, the incidents, the nodes (one screen on most
    captures), then per segment its virtual routers and the findings in detail."""
    from vrrpscope.nodes import node_view

    inventory, incidents = analysis.inventory, analysis.incidents
    lines = summary_lines(analysis, width, local)
    if analysis.logs:
        from vrrpscope.report.logs import logs_lines

        lines += [[], *logs_lines(analysis.logs, width, local, details)]
    lines += [[], *verdict_lines(inventory, incidents, width)]
    lines += [[], *incident_lines(incidents, width, local, details)]
    serious = {i.id for i in incidents if i.severity > Severity.INFO}
    nodes = node_view(inventory, incidents)
    lines += [[], *node_lines(nodes, width, None if details else serious)]
    concerned = {
        (i.segment or "", v) for i in incidents if i.severity > Severity.INFO for v in i.vrids
    }
    for segment in inventory:
        lines.append([])
        lines += segment_lines(segment, width, None if details else concerned)
    lines.append([])
    lines += findings_lines(analysis.findings, width, local, details)
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
    for hole in analysis.uncovered[:4]:
        cut = 11 if hole.length_ns < 86400 * 10**9 else 0  # with the dates past a day
        at, until = (format_time(ts, local)[cut:22] for ts in (hole.first_ns, hole.last_ns))
        rows.append(
            (
                "not captured",
                f"{at} .. {until} ({_duration(hole.length_ns / 1e9)}) between "
                f"{hole.between()}: no frame in any file",
                "yellow",
            )
        )
    if len(analysis.uncovered) > 4:
        rows.append(("not captured", f"and {len(analysis.uncovered) - 4:,} more spans", ""))
    loss = capture_loss_line(analysis.incidents, local)
    if loss:
        rows.append(("capture loss", loss, "yellow"))
    for note in analysis.notes:
        rows.append(("note", note, "yellow"))
    for damage in analysis.damage:
        rows.append(("DAMAGED", f"{damage}; {damage.outcome('analysed')}", "bold red"))
    key_w = max(len(k) for k, _, _ in rows)
    out: list[Line] = [[("Capture", "italic")]]
    for key, value, style in rows:
        lead = INDENT + key.ljust(key_w) + "   "
        wrapped = wrap(value, width, lead, " " * len(lead))
        out.append([(lead, style or "bold"), (wrapped[0][len(lead) :], "")])
        out += [[(line, "")] for line in wrapped[1:]]
    return out


def capture_loss_line(incidents: Sequence[Incident], local: bool = False) -> str:
    """When the capture (or its link) lost the adverts of many masters at once, once."""
    gaps = sorted(
        (i for i in incidents if i.kind == IncidentKind.CAPTURE_GAP), key=lambda i: i.first_ts_ns
    )
    if not gaps:
        return ""
    shown = []
    for i in gaps[:4]:
        if "lost_s" in i.details:  # when every gap was going on
            at = format_time(int(i.details["lost_from"] * 1e9), local)[11:22]
            shown.append(f"{at} for {_duration(i.details['lost_s'])} ({i.id})")
        else:  # frames lost here and there
            at, until = (format_time(t, local)[11:22] for t in (i.first_ts_ns, i.last_ts_ns))
            shown.append(f"here and there from {at} to {until} ({i.id})")
    more = f" and {len(gaps) - 4:,} more" if len(gaps) > 4 else ""
    return (
        f"adverts of many masters missing at once {len(gaps):,} time(s): "
        f"{', '.join(shown)}{more}; "
        "inferred: the capture (or its link) lost those frames, not the senders"
    )


def segment_lines(
    segment: SegmentInventory,
    width: int,
    concerned: set[tuple[str, int]] | None = None,
) -> list[Line]:
    """The segment's VRIDs and speakers; with ``concerned`` ((segment, VRID) pairs of
    warning/critical incidents) a long table keeps those rows first and counts the rest."""
    in_use = "; ".join(f"{k} {format_ranges(v)}" for k, v in segment.vrids_in_use.items())
    free = "; ".join(f"IPv{fam}: {format_ranges(v)}" for fam, v in segment.free_vrids.items())
    out: list[Line] = []
    head = wrap(f"Segment {segment.segment}  VRIDs in use: {in_use or 'none'}", width)
    out.append([("Segment ", "bold"), (head[0][8:], "bold magenta")])
    out += [[(line, "")] for line in head[1:]]
    free_lines = wrap(f"Free VRIDs (for a new VRRP instance here): {free}", width)
    out.append([("Free VRIDs", "bold green"), (free_lines[0][10:], "")])
    out += [[(line, "")] for line in free_lines[1:]]
    routers, left = list(segment.routers), 0
    if concerned is not None:
        routers, left = keep_first(
            routers, lambda r: (segment.segment, r.vrid) in concerned, SHOWN_ROUTERS
        )
    if routers:
        out += router_table(routers, width)
    if left:
        out.append([(f"{INDENT}... {left:,} more virtual routers (--details shows all)", "italic")])
    if segment.silent_claimants:  # nodes seen only by their address claims
        held = "; ".join(
            f"VRID {c['vrid']} {c['vip']} by {c['mac']} ({c['claims']:,} claims from frame "
            + (f"{display_name(c['first_file'])}:" if "first_file" in c else "")
            + f"{c['first_frame']})"
            for c in segment.silent_claimants
        )
        text = f"VIP claimed by nodes that never advertised (gratuitous ARP): {held}"
        out += [[(line, "")] for line in wrap(text, width)]
    groups = segment.hsrp_groups
    shown = groups if concerned is None else groups[:SHOWN_HSRP_GROUPS]
    for group in shown:
        out += [[(line, "")] for line in wrap(hsrp_line(group), width, "", INDENT)]
    if len(shown) < len(groups):
        more = len(groups) - len(shown)
        out.append([(f"{INDENT}... {more:,} more HSRP groups (--details shows all)", "italic")])
    if segment.other_protocols:
        others = ", ".join(f"{name} {n:,}" for name, n in segment.other_protocols.items())
        out += [[(line, "")] for line in wrap(f"Other multicast on this segment: {others}", width)]
    return out


SHOWN_HSRP_GROUPS = 20  # without --details


def hsrp_line(group: dict) -> str:
    """One HSRP group: virtual IP, who is active and standby, timers, what happened."""
    senders = {s["src"]: s for s in group["senders"]}

    def who(role: str) -> str:
        names = [f"{src} (prio {senders[src]['priority']})" for src in group[role]]
        return ", ".join(names) or "none"

    vips = ", ".join(group["virtual_ips"]) or "not stated"
    coups = sum(s["coups"] for s in senders.values())
    resigns = sum(s["resigns"] for s in senders.values())
    events = "".join(
        f", {n:,} {word}{'s' if n > 1 else ''}"
        for n, word in ((coups, "coup"), (resigns, "resign"))
        if n
    )
    auth = f"; auth {'/'.join(group['auth'])}" if group["auth"] else ""
    return (
        f"HSRP group {group['group']} (v{group['version']}, IPv{group['family']}) {vips}: "
        f"active {who('active')}, standby {who('standby')}; hello {group['hello_s']:g}s "
        f"hold {group['hold_s']:g}s; {group['messages']:,} messages{events}{auth}"
    )


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
        widths = fit(columns, width - len(INDENT))
        if widths is not None:
            break
    else:
        widths = [c.minimum() for c in columns]
    return table_lines(columns, widths, notes, width)


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
                "cksum": (_cksum(s) if s else "", ""),
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


def _cksum(s: SpeakerSummary) -> str:
    """Its checksum forms, then whether it signs (keepalived auth_hmac) and with which key."""
    text = ", ".join(s.checksum_forms)
    if s.signing is not None:
        keys = "/".join(str(k) for k in s.signing["key_ids"]) or "-"
        text += f"{', ' if text else ''}hmac key {keys}"
    return text


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


def findings_lines(
    findings: list[Finding], width: int, local: bool = False, details: bool = True
) -> list[Line]:
    """Every finding in detail, worst first; without ``details`` only the first
    warning/critical ones (the incidents above tell the rest), the others counted."""
    if not findings:
        return [[("Findings: none", "bold green")]]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    summary = ", ".join(f"{n:,} {sev}" for sev, n in counts.items())
    out: list[Line] = [[(f"Findings ({summary}), worst first", "bold")]]
    shown = findings
    if not details:
        shown = [f for f in findings if f.severity > Severity.INFO][:SHOWN_FINDINGS]
    for f in shown:
        out.append([])
        out += finding_lines(f, width, local)
    left = len(findings) - len(shown)
    if left:
        out.append([])
        out.append(
            [
                (
                    f"... {left:,} more findings (--details shows all; --json keeps everything)",
                    "italic",
                )
            ]
        )
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
    frames = f.evidence()
    tag = f"[{f.severity.value.upper()}] "
    head = f"{tag}{f.kind} {where}{f' ({f.incident})' if f.incident else ''}  {span}"
    if f.speakers:
        head += f"  speakers {', '.join(f.speakers)}"
    if frames:
        head += f"  frames {frames}"
    wrapped = wrap(head, width, "", "    ")
    kind = str(f.kind)
    first = wrapped[0]
    out: list[Line] = [[(tag, SEVERITY_STYLE[f.severity])]]
    if first[len(tag) :].startswith(kind):
        out[0] += [(kind, "bold"), (first[len(tag) + len(kind) :], "")]
    else:
        out[0].append((first[len(tag) :], ""))
    out += [[(line, "")] for line in wrapped[1:]]
    out += [[(line, "")] for line in wrap(f.message, width, "    ", "    ")]
    return out
