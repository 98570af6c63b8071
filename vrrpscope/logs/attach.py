"""Daemon logs beside a capture: read on the capture's year and clock, aligned."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from vrrpscope.errors import InputError
from vrrpscope.logs.align import align
from vrrpscope.logs.config import instance_vrids
from vrrpscope.logs.formats import Clock
from vrrpscope.logs.reader import LogFile, log_spec, read_log
from vrrpscope.result import Analysis


def check_logs(specs: Sequence[str]) -> None:
    """Fail before any work when a log cannot be opened (InputError naming it)."""
    for spec in specs:
        _, path = log_spec(spec)
        if not os.path.isfile(path):
            what = "is not a file" if os.path.exists(path) else "no such log file"
            raise InputError(path, f"{what}; check the name and path (--log [NODE:]FILE)")
        if not os.access(path, os.R_OK):
            raise InputError(path, "permission denied; run as a user who can read it")


def capture_year(analysis: Analysis | None) -> int | None:
    """The year the capture began (logs without a year are taken to be of it)."""
    if analysis is None or analysis.first_ts_ns is None:
        return None
    try:
        return datetime.fromtimestamp(analysis.first_ts_ns / 1e9, UTC).year
    except (OverflowError, OSError, ValueError):
        return None


def load_logs(
    specs: Sequence[str],
    analysis: Analysis | None = None,
    zone: tzinfo | None = None,
    config: str | None = None,
    year: int | None = None,
) -> list[LogFile]:
    """Read ``specs`` (``[NODE:]PATH``) and, beside ``analysis``, align each with the
    wire; the logs are also kept on ``analysis.logs``."""
    instances = instance_vrids(config) if config else None
    logs = []
    for spec in specs:
        node, path = log_spec(spec)
        clock = Clock(zone, year if year is not None else capture_year(analysis))
        logs.append(read_log(path, node, clock, instances))
    if analysis is not None:
        align(logs, analysis.routers.values(), analysis.first_ts_ns, analysis.last_ts_ns)
        analysis.logs = logs
        analysis.engine.judge_logs(logs, (analysis.first_ts_ns, analysis.last_ts_ns))
        analysis.forget_incidents()  # the verdicts join them
    return logs
