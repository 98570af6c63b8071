"""The line formats operators paste daemon logs in: each line to a time and a message.

Recognised (per line; a file's format is the one most of its lines have):

- ``syslog``: ``Jul 10 09:27:24 host prog[pid]: msg`` (also ``journalctl`` short and
  short-precise, with fractions); no year and local time: the year and zone come from
  :class:`Clock` (the capture's, or ``--log-tz``), and say so;
- ``syslog-nohost``: the same without the host field;
- ``rfc3339``: rsyslog's ``2026-11-25T09:20:05.123456+01:00 host prog[pid]: msg``
  (also ``journalctl -o short-iso`` / ``short-iso-precise``, ``+0100`` offsets);
- ``journal-json``: ``journalctl -o json`` (``__REALTIME_TIMESTAMP`` in microseconds);
- ``console``: keepalived's own ``-l`` output ``Thu Mar 25 18:00:59 2021: msg`` and its
  log file (``-g``: the same with a fraction of up to nanoseconds);
- ``frr``: FRR's own log file (``log file``): ``2026/12/03 19:02:53.123 VRRP: msg``
  (the fraction with ``log timestamp precision``), local time;
- ``ucarp``: ucarp's own output in the foreground: ``2026-12-03T19:05:27.789572:
  [WARNING] msg``, local time;
- ``cat``: ``journalctl -o cat`` (the message alone): kept, without a time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NS = 1_000_000_000
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_MON = "(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?P<day>[ \d]?\d)"
_TIME = r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?:[.,](?P<frac>\d{1,9}))?"
_TAG = r"(?P<prog>[^\s\[\]:]{1,64})(?:\[(?P<pid>\d{1,10})\])?:(?: |$)"
_HOST = r"(?P<host>[^\s\[\]]*[^\s\[\]:])"  # no brackets, not ending in ':' (a tag's)
_SYSLOG = re.compile(rf"^(?:<\d{{1,3}}>)?{_MON} {_DAY} {_TIME} {_HOST} {_TAG}(?P<msg>.*)$")
_SYSLOG_NOHOST = re.compile(rf"^(?:<\d{{1,3}}>)?{_MON} {_DAY} {_TIME} {_TAG}(?P<msg>.*)$")
_RFC3339 = re.compile(
    r"^(?:<\d{1,3}>1? ?)?(?P<Y>\d{4})-(?P<M>\d\d)-(?P<D>\d\d)[T ]"
    + _TIME
    + r"(?P<tz>Z|[+-]\d\d:?\d\d)? "
    + _HOST
    + " "
    + _TAG
    + r"(?P<msg>.*)$"
)
_CONSOLE = re.compile(
    r"^(?P<wd>Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    + _MON
    + " "
    + _DAY
    + " "
    + _TIME
    + r" (?P<Y>\d{4}): (?P<msg>.*)$"
)
_FRR_FILE = re.compile(
    r"^(?P<Y>\d{4})/(?P<M>\d\d)/(?P<D>\d\d) "
    + _TIME
    + r" (?P<prog>[A-Z][A-Z0-9_]{1,15}): (?P<msg>.*)$"
)
_UCARP_CONSOLE = re.compile(
    r"^(?P<Y>\d{4})-(?P<M>\d\d)-(?P<D>\d\d)T" + _TIME + r": (?P<msg>\[[A-Z]+\] .*)$"
)
FORMATS = (
    "syslog",
    "syslog-nohost",
    "rfc3339",
    "journal-json",
    "console",
    "frr",
    "ucarp",
    "cat",
)


@dataclass(slots=True)
class LogLine:
    """One line of a log as its format gives it."""

    format: str
    ts_ns: int | None  # None: the format has no time (``cat``)
    host: str | None
    program: str | None  # e.g. "Keepalived_vrrp", "vrrpd", "ucarp"; None: not said
    pid: int | None
    message: str
    assumed: bool = False  # the year / zone were not in the line (see Clock.assumed)


class Clock:
    """Turns a line's wall-clock fields into epoch nanoseconds.

    ``zone``: the log's time zone for lines without an offset (None: UTC, assumed);
    ``year``: the year of lines without one (a capture's, else this year), rolling over
    when a month comes before the one before it (a log across New Year)."""

    def __init__(self, zone: tzinfo | None = None, year: int | None = None) -> None:
        self.zone = zone
        self.year = year if year is not None else datetime.now(UTC).year
        self._last_month = 0
        self.assumed: set[str] = set()  # what was assumed: "year", "zone"

    def describe(self) -> str:
        """``year 2026 and UTC assumed`` (empty when nothing was)."""
        what = []
        if "year" in self.assumed:
            what.append(f"year {self.year}")
        if "zone" in self.assumed:
            what.append("UTC" if self.zone is None else str(self.zone))
        return f"{' and '.join(what)} assumed" if what else ""

    def stamp(
        self,
        year: int | None,
        month: int,
        day: int,
        hms: tuple[int, int, int],
        frac: str | None,
        zone: tzinfo | None = None,
    ) -> int:
        """Epoch ns of a wall-clock time (``year`` None: guessed; ``zone`` None: the
        log's). Raises ValueError on an impossible date."""
        if year is None:
            self.assumed.add("year")
            if self._last_month and month < self._last_month and self._last_month - month > 6:
                self.year += 1  # December, then January: a new year
            self._last_month = month
            year = self.year
        if zone is None:
            self.assumed.add("zone")
            zone = self.zone or UTC
        whole = datetime(year, month, day, *hms, tzinfo=zone)
        ns = int(whole.timestamp()) * NS
        if frac:
            ns += int(frac.ljust(9, "0")[:9])
        return ns


def parse_zone(text: str) -> tzinfo:
    """``--log-tz``: ``UTC``, ``+02:00``, ``-0530`` or an IANA name (``Europe/Berlin``).
    Raises ValueError naming what is accepted."""
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = _offset(text)
    if offset is not None:
        return offset
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {text!r} (use UTC, an offset like +02:00, or a name like "
            "Europe/Berlin)"
        ) from exc


def _offset(text: str) -> timezone | None:
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", text)
    if m is None:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if minutes > 18 * 60:
        return None
    return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))


def _hms(m: re.Match) -> tuple[int, int, int]:
    return int(m.group("h")), int(m.group("m")), int(m.group("s"))


def _pid(text: str | None) -> int | None:
    return int(text) if text else None


def parse_line(text: str, clock: Clock, prefer: str | None = None) -> LogLine | None:
    """The line in the first format it fits (``prefer`` tried first); None when it
    fits none with a time (then it may still be a ``cat`` message: the caller decides).
    An impossible date (February 30th) does not fit."""
    order = _ORDER if prefer is None else (prefer, *(f for f in _ORDER if f != prefer))
    for name in order:
        try:
            line = _PARSERS[name](text, clock)
        except (ValueError, OverflowError, OSError):
            continue
        if line is not None:
            return line
    return None


def _syslog(text: str, clock: Clock) -> LogLine | None:
    m = _SYSLOG.match(text)
    if m is None:
        return None
    ts = clock.stamp(None, MONTHS[m.group("mon")], int(m.group("day")), _hms(m), m.group("frac"))
    return LogLine(
        "syslog", ts, m.group("host"), m.group("prog"), _pid(m.group("pid")), m.group("msg"), True
    )


def _syslog_nohost(text: str, clock: Clock) -> LogLine | None:
    m = _SYSLOG_NOHOST.match(text)
    if m is None:
        return None
    ts = clock.stamp(None, MONTHS[m.group("mon")], int(m.group("day")), _hms(m), m.group("frac"))
    prog, pid = m.group("prog"), _pid(m.group("pid"))
    return LogLine("syslog-nohost", ts, None, prog, pid, m.group("msg"), True)


def _rfc3339(text: str, clock: Clock) -> LogLine | None:
    m = _RFC3339.match(text)
    if m is None:
        return None
    tz = m.group("tz")
    zone = None if tz is None else UTC if tz == "Z" else _offset(tz)
    ymd = int(m.group("Y")), int(m.group("M")), int(m.group("D"))
    ts = clock.stamp(*ymd, _hms(m), m.group("frac"), zone)
    return LogLine(
        "rfc3339",
        ts,
        m.group("host"),
        m.group("prog"),
        _pid(m.group("pid")),
        m.group("msg"),
        zone is None,
    )


def _console(text: str, clock: Clock) -> LogLine | None:
    m = _CONSOLE.match(text)
    if m is None:
        return None
    month, day = MONTHS[m.group("mon")], int(m.group("day"))
    ts = clock.stamp(int(m.group("Y")), month, day, _hms(m), m.group("frac"))
    return LogLine("console", ts, None, None, None, m.group("msg"), True)


def _frr_file(text: str, clock: Clock) -> LogLine | None:
    m = _FRR_FILE.match(text)
    if m is None:
        return None
    ymd = int(m.group("Y")), int(m.group("M")), int(m.group("D"))
    ts = clock.stamp(*ymd, _hms(m), m.group("frac"))
    return LogLine("frr", ts, None, m.group("prog"), None, m.group("msg"), True)


def _ucarp_console(text: str, clock: Clock) -> LogLine | None:
    m = _UCARP_CONSOLE.match(text)
    if m is None:
        return None
    ymd = int(m.group("Y")), int(m.group("M")), int(m.group("D"))
    ts = clock.stamp(*ymd, _hms(m), m.group("frac"))
    return LogLine("ucarp", ts, None, "ucarp", None, m.group("msg"), True)


def _journal_json(text: str, clock: Clock) -> LogLine | None:
    if not text.startswith("{"):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or "MESSAGE" not in record:
        return None
    message = record["MESSAGE"]
    if isinstance(message, list):  # journald gives non-UTF-8 messages as byte arrays
        message = bytes(b & 0xFF for b in message if isinstance(b, int)).decode("utf-8", "replace")
    if not isinstance(message, str):
        return None
    stamp = record.get("__REALTIME_TIMESTAMP")
    ts = int(stamp) * 1000 if isinstance(stamp, str | int) and str(stamp).isdigit() else None
    pid = record.get("_PID") or record.get("SYSLOG_PID")
    return LogLine(
        "journal-json",
        ts,
        _text(record.get("_HOSTNAME")),
        _text(record.get("SYSLOG_IDENTIFIER") or record.get("_COMM")),
        int(pid) if isinstance(pid, str) and pid.isdigit() else None,
        message,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


_PARSERS = {
    "journal-json": _journal_json,
    "rfc3339": _rfc3339,
    "console": _console,
    "frr": _frr_file,
    "ucarp": _ucarp_console,
    "syslog": _syslog,
    "syslog-nohost": _syslog_nohost,
}
_ORDER = tuple(_PARSERS)
