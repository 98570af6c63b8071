"""Read daemon log files (plain, gzip, bzip2, xz; rotated pieces) into events.

Every line is counted: ``parsed`` (a VRRP event of keepalived, FRR vrrpd or ucarp),
``skipped`` (other programs, and daemon lines that say nothing about VRRP state) or
``malformed`` (no known format: binary junk, a cut line). Nothing is fatal but a file
that cannot be opened at all.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from vrrpscope.errors import InputError, display_name
from vrrpscope.logs.formats import Clock, LogLine, parse_line
from vrrpscope.logs.messages import Said, any_daemon, reader_for

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
_NODE_TAG = re.compile(r"^(?P<node>[A-Za-z0-9][A-Za-z0-9_.-]{0,62}):(?P<path>.+)$")
MAX_LINE = 64 * 1024  # longer lines are cut there (and counted malformed)


@dataclass(slots=True)
class LogEvent:
    """One thing a daemon said, at the time its log gives (``ts_ns``: the node's
    clock; ``aligned_ns``: on the capture's clock, once the offset is known)."""

    node: str
    path: str
    line: int  # 1-based line number in its file
    ts_ns: int | None
    daemon: str
    kind: str
    instance: str | None
    vrid: int | None
    family: int | None
    details: dict[str, Any]
    text: str  # the message as logged
    aligned_ns: int | None = None

    @property
    def when_ns(self) -> int | None:
        """The event's time on the capture's clock if known, else the log's."""
        return self.aligned_ns if self.aligned_ns is not None else self.ts_ns

    def __repr__(self) -> str:
        where = self.instance or (f"VRID {self.vrid}" if self.vrid is not None else "-")
        return f"<LogEvent {self.node} {where} {self.kind} line {self.line}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "log_event",
            "node": self.node,
            "path": self.path,
            "line": self.line,
            "ts": None if self.ts_ns is None else self.ts_ns / 1e9,
            "aligned_ts": None if self.aligned_ns is None else self.aligned_ns / 1e9,
            "daemon": self.daemon,
            "kind": self.kind,
            "instance": self.instance,
            "vrid": self.vrid,
            "family": self.family,
            "details": self.details,
            "text": self.text,
        }


@dataclass(slots=True)
class LogFile:
    """One log file read: its counts and its events."""

    node: str
    path: str
    format: str = "unknown"
    lines: int = 0
    parsed: int = 0
    skipped: int = 0
    malformed: int = 0
    assumed: str = ""  # "year 2026 and UTC assumed"
    damage: str | None = None  # a compressed file cut short: where reading stopped
    events: list[LogEvent] = field(default_factory=list)
    offset_s: float | None = None  # the node's clock to the capture's (add it)
    offset_uncertainty_s: float | None = None
    offset_from: str | None = None  # what the offset was estimated from
    address: str | None = None  # the node's source address on the wire, once aligned

    @property
    def vips(self) -> set[str]:
        """The node's own VIPs, as its log names them (its gratuitous ARPs, and the VIP
        it missed in another's advert)."""
        return {
            str(e.details["vip"])
            for e in self.events
            if e.details.get("vip") and e.kind in ("garp", "receive-error")
        }

    def __repr__(self) -> str:
        offset = "" if self.offset_s is None else f", offset {self.offset_s:+.3f} s"
        return (
            f"<LogFile {self.node} {display_name(self.path)}: {self.format}, "
            f"{self.lines:,} lines, {self.parsed:,} events{offset}>"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "parsed": self.parsed,
            "skipped": self.skipped,
            "malformed": self.malformed,
            "assumed": self.assumed or None,
            "damage": self.damage,
            "offset_s": self.offset_s,
            "offset_uncertainty_s": self.offset_uncertainty_s,
            "offset_from": self.offset_from,
            "address": self.address,
        }


def log_spec(arg: str) -> tuple[str | None, str]:
    """``r1:/var/log/messages`` -> ("r1", path); a path alone -> (None, path). A name
    that exists as a file is a path, even with a colon in it."""
    m = _NODE_TAG.match(arg)
    if m is None or os.path.exists(arg):
        return None, arg
    return m.group("node"), m.group("path")


def read_log(
    path: str,
    node: str | None = None,
    clock: Clock | None = None,
    instances: dict[str, int] | None = None,
) -> LogFile:
    """Read one log file; ``node`` None: its hosts' name, else the file's stem."""
    clock = clock or Clock()
    log = LogFile(node or "", path)
    formats: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    untimed: list[tuple[int, str]] = []
    prefer: str | None = None
    try:
        for number, text in _lines(path, log):
            if not text.strip():
                continue
            log.lines += 1
            line = parse_line(text, clock, prefer)
            if line is None:
                untimed.append((number, text))
                continue
            formats[line.format] += 1
            prefer = formats.most_common(1)[0][0]
            if line.host:
                hosts[line.host] += 1
            said = _said(line)
            if said is None:
                log.skipped += 1
            else:
                log.parsed += 1
                log.events.append(_event(log, number, line.ts_ns, said, line.message))
    except OSError as exc:  # a read error after opening: what was read stays
        log.damage = f"read failed after line {log.lines}: {exc.strerror or exc}"
    # Lines with no time: journalctl -o cat when no line had one, else malformed.
    for number, text in untimed:
        said = any_daemon(text.strip())
        if said is not None:
            log.parsed += 1
            log.events.append(_event(log, number, None, said, text.strip()))
        elif formats:
            log.malformed += 1
        else:
            log.skipped += 1
    if log.lines and not log.parsed and not log.skipped and log.damage is None:
        raise InputError(path, "not a log file: no line of it is in a log format read here")
    log.format = formats.most_common(1)[0][0] if formats else "cat" if log.lines else "empty"
    log.assumed = clock.describe() if formats else ""
    if not log.node:
        log.node = hosts.most_common(1)[0][0] if hosts else _stem(path)
    for event in log.events:
        event.node = log.node
    name_instances(log.events, instances)
    log.events.sort(key=lambda e: (e.ts_ns is None, e.ts_ns or 0, e.line))
    return log


def _said(line: LogLine) -> Said | None:
    reader = reader_for(line.program)
    if reader is not None:
        return reader(line.message)
    if line.program is None:  # keepalived's console or log file: no program field
        return any_daemon(line.message)
    return None


def _event(log: LogFile, number: int, ts_ns: int | None, said: Said, text: str) -> LogEvent:
    return LogEvent(
        log.node,
        log.path,
        number,
        ts_ns,
        said.daemon,
        said.kind,
        said.instance,
        said.vrid,
        said.family,
        said.details,
        text,
    )


def name_instances(events: Sequence[LogEvent], known: dict[str, int] | None = None) -> None:
    """Give keepalived events their VRID: from ``known`` (--config), else from the lines
    that name both (``(VI_1) ip address associated with VRID 51 ...``)."""
    names = dict(known or {})
    for e in events:
        if e.instance is not None and e.vrid is not None:
            names.setdefault(e.instance, e.vrid)
    for e in events:
        if e.vrid is None and e.instance in names:
            e.vrid = names[e.instance]


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".bz2", ".xz", ".log", ".txt"):
        name = name.removesuffix(suffix)
    name = re.sub(r"\.\d+$", "", name)  # rotated: messages.1
    return name or "log"


def _open(path: str) -> tuple[BinaryIO, str | None]:
    try:
        raw = open(path, "rb")  # noqa: SIM115 (closed by _lines)
    except FileNotFoundError:
        raise InputError(path, "no such log file; check the name and path") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a log file") from None
    except PermissionError:
        raise InputError(path, "permission denied; run as a user who can read it") from None
    except OSError as exc:
        raise InputError(path, f"cannot open: {exc.strerror or exc}") from None
    head = raw.read(6)
    raw.seek(0)
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw), kind  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(raw), kind  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(raw), kind  # type: ignore[return-value]
    return raw, None


def _lines(path: str, log: LogFile) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line; a compressed file cut short ends with a
    ``damage`` note, its lines before the cut kept."""
    stream, kind = _open(path)
    number = 0
    try:
        while True:
            try:
                raw = stream.readline(MAX_LINE)
            except (EOFError, zlib.error, OSError, lzma.LZMAError) as exc:
                what = f"{kind} stream" if kind else "file"
                log.damage = f"{what} cut short or corrupt after line {number} ({exc})"
                return
            if not raw:
                return
            number += 1
            if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
                while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass  # an overlong line: no daemon writes one; counted, not read
                log.lines += 1
                log.malformed += 1
                continue
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if "\x00" in text:
                log.lines += 1
                log.malformed += 1
                continue
            yield number, text
    finally:
        stream.close()


def describe(log: LogFile) -> str:
    """``r1.log: syslog, 120 lines (14 VRRP events, 100 skipped, 6 malformed)``."""
    counts = (
        f"{log.lines:,} lines ({log.parsed:,} VRRP events, {log.skipped:,} skipped, "
        f"{log.malformed:,} malformed)"
    )
    more = f"; {log.assumed}" if log.assumed else ""
    if log.format == "cat":
        more += "; no times in it: shown, not aligned"
    if log.damage:
        more += f"; {log.damage}"
    return f"{display_name(log.path)} ({log.node}): {log.format}, {counts}{more}"
