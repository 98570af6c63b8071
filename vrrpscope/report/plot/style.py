"""Colours, hatches and sizes shared by every vrrpscope figure."""

from __future__ import annotations

from matplotlib import colormaps

from vrrpscope.findings import Severity

CONFLICT = "#d62728"  # concurrent masters (split brain, duplicate VRID), critical findings
NO_MASTER = "#9e9e9e"
SEVERITY_COLOUR = {
    Severity.CRITICAL: CONFLICT,
    Severity.WARNING: "#ff9f1c",
    Severity.INFO: "#4e79a7",
}
CONFLICT_HATCH = "////"
NO_MASTER_HATCH = "...."


def _palette() -> list[tuple[float, float, float, float]]:
    """Speaker colours: tab10 then tab20 without the reds (red means conflict)."""
    reds = {3, 6, 7}  # tab20 indices of red/pink tones
    colours = [c for i, c in enumerate(colormaps["tab10"].colors) if i != 3]
    colours += [c for i, c in enumerate(colormaps["tab20"].colors) if i not in reds and i % 2]
    return [(*c, 1.0) for c in colours]


PALETTE = _palette()


def speaker_colour(index: int) -> tuple[float, float, float, float]:
    """The colour of the `index`-th speaker of a virtual router (first seen = 0)."""
    return PALETTE[index % len(PALETTE)]


def plain(text: str) -> str:
    """`text` (a name from a capture) shown as written: matplotlib would read '$...$'
    as math and fail or garble it; control characters are shown escaped."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text.replace("$", r"\$")
