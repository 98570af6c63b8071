"""Text layout for the terminal report: wrapped paragraphs and fitted tables.

Tables shrink wrapping columns until they fit the width; a column that may not wrap
(addresses, MACs) is never split.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from vrrpscope.findings import Severity

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}
INDENT = "  "
GAP = "  "  # between table columns

T = TypeVar("T")
Piece = tuple[str, str]  # (text, rich style or "")
Line = list[Piece]


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
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


def fit(columns: Sequence[Column], width: int) -> list[int] | None:
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


def cell_lines(text: list[str], width: int, wrap: bool) -> list[str]:
    if not wrap:
        return text
    out: list[str] = []
    for line in text:
        out += textwrap.wrap(line, width, break_on_hyphens=False) or [""]
    return out


def table_lines(
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
            line.append((just(text, w, col.right) + (GAP if i < len(columns) - 1 else ""), "bold"))
        out.append(line)
    out.append([(INDENT + "-" * (sum(widths) + len(GAP) * (len(columns) - 1)), "")])
    for r in range(len(columns[0].cells)):
        cells = [
            (cell_lines(col.cells[r][0], w, col.wrap), col.cells[r][1])
            for col, w in zip(columns, widths, strict=True)
        ]
        height = max(len(text) for text, _ in cells)
        if notes[r]:
            out += [[(line, "")] for line in wrap(notes[r], width, INDENT, INDENT + "  ")]
        for k in range(height):
            line = [(INDENT, "")]
            for i, ((text, style), col, w) in enumerate(zip(cells, columns, widths, strict=True)):
                piece = just(text[k] if k < len(text) else "", w, col.right)
                line.append((piece, style))
                if i < len(columns) - 1:
                    line.append((GAP, ""))
            out.append(line)
    return out


def just(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def keep_first(items: Sequence[T], wanted: Callable[[T], bool], limit: int) -> tuple[list[T], int]:
    """At most ``limit`` of ``items``, the ``wanted`` ones first, in their own order, and
    how many were left out (a long section cut with a count)."""
    if len(items) <= limit:
        return list(items), 0
    first = [n for n, item in enumerate(items) if wanted(item)][:limit]
    taken = set(first)
    rest = [n for n in range(len(items)) if n not in taken][: limit - len(first)]
    return [items[n] for n in sorted(first + rest)], len(items) - limit
