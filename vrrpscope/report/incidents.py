"""The report's first screen: a verdict per segment, the incidents, the node view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from vrrpscope.engine.inventory import SegmentInventory
from vrrpscope.findings import Severity
from vrrpscope.incidents import Incident
from vrrpscope.incidents.words import id_list
from vrrpscope.nodes import Node
from vrrpscope.report.adverts import format_time
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

# Without --details: every warning/critical incident up to this many, info ones up to
# the second number; the rest is counted.
SHOWN_SERIOUS = 30
SHOWN_INFO = 8
SHOWN_NODES = 20  # per segment, without --details (those in incidents first)
_KIND_WORDS = {  # (one, several)
    "node-stopped": ("node stopped", "nodes stopped"),
    "node-returned": ("preemption", "preemptions"),  # a node back, or a better one
    "split-brain": ("split brain", "split brains"),
    "duplicate-vrid": ("duplicate VRID", "duplicate VRIDs"),
    "hijack": ("hijack suspected", "hijacks suspected"),
    "flapping": ("flapping VRID", "flapping VRIDs"),
    "capture-gap": ("capture gap", "capture gaps"),
    "mismatch": ("mismatch", "mismatches"),
}


def verdict_lines(
    inventory: Sequence[SegmentInventory], incidents: Sequence[Incident], width: int
) -> list[Line]:
    """One line per segment: how many VRIDs and nodes, and what went wrong (or not)."""
    out: list[Line] = [[("Verdict", "italic")]]
    for segment in inventory:
        mine = [i for i in incidents if (i.segment or "") == segment.segment]
        serious = [i for i in mine if i.severity > Severity.INFO]
        nodes = {sp.src for r in segment.routers for sp in r.speakers}
        unmastered = [r.vrid for r in segment.routers if not r.masters]
        doubled = [r.vrid for r in segment.routers if len(r.masters) > 1]
        facts = f"{_plural(len(segment.routers), 'virtual router')}, {_plural(len(nodes), 'node')}"
        if serious:
            worst = max(i.severity for i in serious)
            kinds = Counter(_kind_of(i) for i in serious)
            said = ", ".join(_kind_count(k, n) for k, n in kinds.most_common())
            word, style = worst.value.upper(), SEVERITY_STYLE[worst]
        else:
            said, word, style = "no incident", "OK", "bold green"
        now = []
        if doubled:
            now.append(f"two masters now on VRID {id_list(doubled)}")
        if unmastered:
            now.append(f"no master at the end on VRID {id_list(unmastered)}")
        text = f"{segment.segment}: {facts}; {said}" + (f"; {'; '.join(now)}" if now else "")
        lines = wrap(text, width - len(INDENT) - 9, "", "")
        out.append([(INDENT + word.ljust(8), style), (" " + lines[0], "")])
        out += [[(INDENT + " " * 9 + line, "")] for line in lines[1:]]
    return out


def incident_lines(
    incidents: Sequence[Incident], width: int, local: bool = False, details: bool = False
) -> list[Line]:
    """The incidents, worst first, one paragraph each (cut without ``details``)."""
    if not incidents:
        return [[("Incidents: none", "bold green")]]
    counts = Counter(i.severity.value for i in incidents)
    summary = ", ".join(
        f"{counts[s.value]:,} {s.value}" for s in reversed(Severity) if counts[s.value]
    )
    out: list[Line] = [[(f"Incidents ({summary}), worst first", "bold")]]
    same_day = len({format_time(i.first_ts_ns, local)[:10] for i in incidents}) == 1
    shown = incidents
    if not details:
        serious = [i for i in incidents if i.severity > Severity.INFO][:SHOWN_SERIOUS]
        info = [i for i in incidents if i.severity == Severity.INFO][:SHOWN_INFO]
        shown = serious + info
    for incident in shown:
        out += incident_paragraph(incident, width, local, same_day)
    left = len(incidents) - len(shown)
    if left:
        out.append([(f"{INDENT}... {left:,} more incidents (--details shows all)", "italic")])
    return out


def incident_paragraph(
    incident: Incident, width: int, local: bool = False, same_day: bool = True
) -> list[Line]:
    """'i1  WARNING  19:07:32.64  198.18.1.2 stopped: ...' wrapped under its message."""
    when = format_time(incident.first_ts_ns, local)
    when = when[11:22] if same_day else when[:22]
    tag = incident.severity.value.upper()
    lead = f"{INDENT}{incident.id:<4} {tag:<8} {when}  "
    rest = " " * (len(INDENT) + 5)
    text = incident.message + (" (still open at the end)" if incident.open else "")
    if len(incident.findings) > 1:
        text += f" [{len(incident.findings)} findings]"
    lines = wrap(text, width, lead, rest)
    head = lines[0]
    out: list[Line] = [
        [
            (head[: len(INDENT) + 5], "bold"),
            (head[len(INDENT) + 5 : len(INDENT) + 14], SEVERITY_STYLE[incident.severity]),
            (head[len(INDENT) + 14 :], ""),
        ]
    ]
    out += [[(line, "")] for line in lines[1:]]
    return out


def node_lines(
    nodes: dict[str, list[Node]],
    width: int,
    serious: set[str] | None = None,
) -> list[Line]:
    """Per segment, one row per node: MACs, VRIDs it masters / backs up, incidents.
    With ``serious`` (ids of warning/critical incidents) a long list keeps the nodes in
    them first and counts the rest."""
    out: list[Line] = []
    for segment, every in nodes.items():
        if out:
            out.append([])
        per_segment, left = every, 0
        if serious is not None:
            per_segment, left = keep_first(
                every, lambda n: not serious.isdisjoint(n.incidents), SHOWN_NODES
            )
        out.append([("Nodes on ", "bold"), (segment, "bold magenta")])
        cols = [
            Column("node"),
            Column("MAC"),
            Column("master of", wrap=True),
            Column("backup of", wrap=True),
            Column("incidents", wrap=True),
        ]
        for node in per_segment:
            values = [
                [node.ip],
                _own_macs(node.macs),
                [_spaced(id_list(node.masters)) or "-"],
                [_spaced(id_list(node.backups)) or "-"],
                [" ".join(node.incidents) or "-"],
            ]
            for col, text in zip(cols, values, strict=True):
                col.cells.append((text, ""))
        widths = fit(cols, width - len(INDENT))
        if widths is None:  # too narrow for the MACs: the node and its VRIDs
            del cols[1]
            widths = fit(cols, width - len(INDENT)) or [c.minimum() for c in cols]
        out += table_lines(cols, widths, [""] * len(per_segment), width)
        if left:
            out.append([(f"{INDENT}... {left:,} more nodes (--details shows all)", "italic")])
    return out


def _own_macs(macs: list[str]) -> list[str]:
    """A node's own MACs; the VRRP virtual ones (one per VRID it masters, 00:00:5e:00:01:XX
    / 00:00:5e:00:02:XX) are one word, "virtual"."""
    own = [m for m in macs if not m.lower().startswith(("00:00:5e:00:01:", "00:00:5e:00:02:"))]
    if len(own) < len(macs):
        own.append("virtual")
    return own or ["?"]


def _spaced(ids: str) -> str:
    """A VRID list that may wrap between its parts ('1-3, 7, 9')."""
    return ids.replace(",...,", ", ..., ").replace(",", ", ").replace(",  ", ", ")


def _kind_of(incident: Incident) -> str:
    """The incident's kind, or for a single finding / a roll-up the findings' kind."""
    if incident.kind in ("single", "rollup"):
        return str(incident.findings[0].kind)
    return str(incident.kind)


def _kind_count(kind: str, n: int) -> str:
    words = kind.replace("-", " ")
    one, several = _KIND_WORDS.get(kind, (words, f"{words} findings"))
    return f"{n:,} {one if n == 1 else several}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
