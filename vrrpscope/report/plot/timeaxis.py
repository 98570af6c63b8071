"""Time axes for plots: nanosecond timestamps to matplotlib dates, UTC or local ticks."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes

MIN_SPAN_NS = 1_000_000_000  # a time axis is at least 1 s wide
_DAY_NS = 86_400 * 1_000_000_000
_EPOCH = mdates.date2num(datetime(1970, 1, 1, tzinfo=UTC))


def to_num(ts_ns: np.ndarray | int | float) -> np.ndarray | float:
    """Nanoseconds since the Unix epoch as matplotlib date numbers (days)."""
    if isinstance(ts_ns, np.ndarray):
        return ts_ns.astype(np.float64) / _DAY_NS + _EPOCH
    return float(ts_ns) / _DAY_NS + _EPOCH


def days(ns: int | float) -> float:
    """A duration in nanoseconds as a width on a date axis."""
    return float(ns) / _DAY_NS


def plot_tz(local: bool) -> tzinfo:
    """UTC, or this machine's local zone with `local`."""
    if not local:
        return UTC
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def tz_label(local: bool) -> str:
    """'UTC' or e.g. 'local time, UTC+01:00'."""
    if not local:
        return "UTC"
    offset = datetime.now().astimezone().strftime("%z")
    return f"local time, UTC{offset[:3]}:{offset[3:]}" if offset else "local time"


def format_time_axis(ax: Axes, local: bool, label: bool = True) -> None:
    """Concise date ticks in UTC (or local time) and an axis label naming the zone."""
    tz = plot_tz(local)
    locator = mdates.AutoDateLocator(tz=tz, minticks=5, maxticks=12)
    locator.intervald[mdates.SECONDLY] = [1, 2, 5, 10, 15, 30]  # default skips 2 s
    locator.intervald[mdates.MINUTELY] = [1, 2, 5, 10, 15, 30]
    formatter = mdates.ConciseDateFormatter(locator, tz=tz, show_offset=True)
    # Second-level ticks read as clock times (09:20:25, 09:20:25.5), not a bare "25".
    formatter.formats[5] = formatter.zero_formats[5] = "%H:%M:%S.%f"
    formatter.offset_formats[5] = "%Y-%m-%d"
    formatter.offset_formats[4] = "%Y-%m-%d"
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    if label:
        ax.set_xlabel(f"time ({tz_label(local)})", fontsize=8)
