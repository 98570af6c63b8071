"""Daemon log lines written in each format a log may come in, from (time, message)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

NS = 1_000_000_000
FORMATS = ("syslog", "syslog-nohost", "rfc3339", "journal-short-iso", "journal-json", "console")
# FRR vrrpd's lines as syslog / journald ("vrrpd") and its own file ("VRRP") give them
FRR_FORMATS = (
    ("frr", "VRRP"),
    ("syslog", "vrrpd"),
    ("journal-json", "vrrpd"),
    ("rfc3339", "vrrpd"),
)


def line(fmt: str, ts_ns: int, message: str, host: str = "r2", prog: str = "Keepalived_vrrp"):
    """One log line of ``message`` at ``ts_ns`` (UTC) in format ``fmt``."""
    when = datetime.fromtimestamp(ts_ns / NS, UTC)
    tag = f"{prog}[4242]"
    if fmt == "syslog":
        return f"{when:%b} {when.day:2d} {when:%H:%M:%S} {host} {tag}: {message}"
    if fmt == "syslog-nohost":
        return f"{when:%b} {when.day:2d} {when:%H:%M:%S} {tag}: {message}"
    if fmt == "syslog-precise":
        return f"{when:%b} {when.day:2d} {when:%H:%M:%S.%f} {host} {tag}: {message}"
    if fmt == "rfc3339":  # rsyslog, in a +02:00 zone
        local = when.astimezone(timezone(timedelta(hours=2)))
        return f"{local.isoformat(timespec='microseconds')} {host} {tag}: {message}"
    if fmt == "journal-short-iso":
        return f"{when:%Y-%m-%dT%H:%M:%S+0000} {host} {tag}: {message}"
    if fmt == "journal-json":
        record = {
            "__REALTIME_TIMESTAMP": str(ts_ns // 1000),
            "_HOSTNAME": host,
            "SYSLOG_IDENTIFIER": prog,
            "_PID": "4242",
            "MESSAGE": message,
        }
        return json.dumps(record)
    if fmt == "console":
        return f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}: {message}"
    if fmt == "frr":  # FRR's own log file: the protocol's name as the program
        return f"{when:%Y/%m/%d %H:%M:%S} {prog}: {message}"
    if fmt == "frr-precise":  # with ``log timestamp precision 6``
        return f"{when:%Y/%m/%d %H:%M:%S.%f} {prog}: {message}"
    if fmt == "ucarp":  # ucarp in the foreground; the message carries its [LEVEL]
        return f"{when:%Y-%m-%dT%H:%M:%S.%f}: {message}"
    if fmt == "cat":
        return message
    raise ValueError(fmt)


def write_log(path: Path, fmt: str, lines: Iterable[tuple[int, str]], **kw: str) -> Path:
    """A log file of ``(ts_ns, message)`` pairs in format ``fmt``."""
    path.write_text("".join(line(fmt, ts, msg, **kw) + "\n" for ts, msg in lines))
    return path
