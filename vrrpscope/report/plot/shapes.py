"""Drawing helpers shared by the timeline panels: rectangles, notes, legends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from vrrpscope.report.plot.timeaxis import to_num

Span = tuple[int, int]


def rect(start: int, end: int, y0: float, h: float, min_w: float) -> np.ndarray:
    """The vertices (date numbers) of one time span, at least `min_w` days wide."""
    x0 = to_num(start)
    x1 = max(to_num(end), x0 + min_w)
    return np.array([[x0, y0], [x1, y0], [x1, y0 + h], [x0, y0 + h]])


def bars(spans: Sequence[Span], y0: float, h: float, min_w: float) -> list[np.ndarray]:
    """Rectangles for time spans, all at the same height."""
    return [rect(start, end, y0, h, min_w) for start, end in spans]


def legend_above(ax: Axes) -> None:
    """A one-row legend just above the panel, where it covers no data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1),
            ncols=len(handles),
            fontsize=7,
            frameon=False,
            borderaxespad=0.1,
            handlelength=2.5,
        )


def note(ax: Axes, text: str) -> None:
    """A grey remark in the middle of a panel (no data, too many items, ...)."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=8,
        color="#777777",
    )
