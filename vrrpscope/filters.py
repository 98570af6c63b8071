"""What an operator asks to see: ``--vrid``, ``--segment``, ``--since`` / ``--until``.

:class:`ViewFilter` is the parsed request (one meaning for analyze, decode and plot);
:class:`Selection` applies it to one run over captures: it decides item by item (the
general route, decode) or block by block (:meth:`Selection.keep_events`, the columnar
route) with the same rules, and counts what it kept and left out.

Rules (README, "Selecting what to look at"):

- ``--vrid 51`` / ``--vrid 1,5,10-20`` (repeatable): VRRP VRIDs and CARP vhids.
- ``--segment eth0.vlan30`` / ``--segment 'eth0.*'`` (repeatable, comma lists): exact
  segment names, or shell-style globs (``*``, ``?``, ``[...]``) matched on the whole name.
  Other multicast and address claims are kept on the selected segments whatever the VRID.
- ``--since`` / ``--until``: the half-open window ``[since, until)`` (editcap's ``-A`` /
  ``-B``). Absolute: ISO 8601 (``2026-11-25 09:20:30``, ``2026-11-25T09:20:30.5+01:00``,
  ``...Z``, a date alone is its midnight), UTC unless it names a zone, or the local zone
  with ``--local`` (as the report shows times), or ``@EPOCH`` seconds. Relative:
  ``+30s``, ``+5m``, ``+1h30m``, ``+90`` (seconds) from the first frame; ``-10m`` before the
  last frame, which needs the end of the input first: a stream (stdin, a pipe) cannot
  give it, so that is refused with a one-line error.

The window is analysed as if the capture had started at ``since`` and stopped at ``until``:
the engine sees nothing outside it, so findings, inventory and counts are about the
window. A master established before ``since`` is the master the window finds (the engine
meets every capture start that way: no failover, no new-master finding).
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from vrrpscope.errors import UsageError, display_name
from vrrpscope.model import Advert

NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {"ms": NS // 1000, "s": NS, "m": 60 * NS, "h": 3600 * NS, "d": 86400 * NS}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)?")
_MAX_OFFSET = 100 * 366 * 86400 * NS  # relative times beyond are typing errors
_GLOB = re.compile(r"[*?\[]")
TIME_HELP = (
    "give 2026-11-25 09:20:30 (ISO 8601; UTC unless it names a zone, or --local), "
    "@EPOCH, +30s / +5m from the capture's start, or -10m before its end"
)
#: argparse's rule for negative numbers, widened to relative times (-10m, -1h30m).
NEGATIVE_VALUE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-(?:(?:\d+(?:\.\d+)?|\.\d+)(?:ms|s|m|h|d))+$")


# ------------------------------------------------------------------------ parsing


def parse_vrids(text: str) -> frozenset[int]:
    """``51``, ``1,5,10-20``: VRIDs (CARP vhids) 1-255."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise ValueError(f"not a VRID or range: {part!r} (e.g. 51 or 1,5,10-20)") from None
        for value in (first, last):
            if not 1 <= value <= 255:
                raise ValueError(f"VRIDs are 1-255, not {value}")
        if last < first:
            raise ValueError(f"range {part!r} runs backwards: write {last}-{first}")
        out.update(range(first, last + 1))
    return frozenset(out)


def parse_segments(text: str) -> tuple[str, ...]:
    """``eth0.vlan30``, ``eth0,eth1``, ``eth0.*``: segment names or globs."""
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise ValueError(f"empty segment name in {text!r}")
    return names


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """A ``--since`` / ``--until`` value as given: ``anchor`` "start"/"end" (relative, by
    ``offset_ns``) or "absolute" (``moment``, naive: in the zone the filter chooses)."""

    text: str
    anchor: str
    offset_ns: int = 0
    moment: datetime | None = None

    def absolute_ns(self, local: bool) -> int:
        """The absolute time in ns since the epoch (naive: UTC, or local with ``local``)."""
        assert self.moment is not None
        moment = self.moment
        if moment.tzinfo is None:
            moment = moment.astimezone() if local else moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(microseconds=1) * 1000

    def at(self, start_ns: int | None, end_ns: int | None, local: bool) -> int | None:
        """In ns since the epoch (None: relative to an input that had no frame)."""
        if self.anchor == "absolute":
            return self.absolute_ns(local)
        base = start_ns if self.anchor == "start" else end_ns
        if base is None:
            return None
        return base + self.offset_ns if self.anchor == "start" else base - self.offset_ns


def parse_time(text: str) -> TimeSpec:
    """One ``--since`` / ``--until`` value (see the module's docstring)."""
    value = text.strip()
    if value[:1] in "+-" and len(value) > 1:
        offset = _duration_ns(value[1:])
        if offset is not None:
            return TimeSpec(text, "start" if value[0] == "+" else "end", offset)
    if value.startswith("@"):
        try:
            seconds = float(value[1:])
        except ValueError:
            seconds = math.nan
        try:
            moment = _EPOCH + timedelta(seconds=seconds)
        except (OverflowError, ValueError):  # nan, or beyond the years 1-9999
            raise ValueError(f"not a time: {text!r} is out of range; {TIME_HELP}") from None
        return TimeSpec(text, "absolute", moment=moment)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a time: {text!r}; {TIME_HELP}") from None
    return TimeSpec(text, "absolute", moment=moment)


def _duration_ns(text: str) -> int | None:
    """``30s``, ``1h30m``, ``250ms``, ``90`` (seconds): ns, or None if not a duration."""
    total, at, parts = 0, 0, 0
    while at < len(text):
        match = _PART.match(text, at)
        if match is None:
            return None
        number, unit = match.groups()
        if unit is None and (match.end() < len(text) or parts):
            return None  # a bare number only alone: "+90" is 90 s, "+1h30" is unclear
        total += round(float(number) * _UNITS[unit or "s"])
        at, parts = match.end(), parts + 1
    if total > _MAX_OFFSET:
        raise ValueError(f"{text!r} is more than 100 years: not a capture's time")
    return total if parts else None


def _argtype(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    wrapped.__name__ = parse.__name__
    return wrapped


vrids_arg = _argtype(parse_vrids)
segments_arg = _argtype(parse_segments)
time_arg = _argtype(parse_time)


# ------------------------------------------------------------------------ the filter


@dataclass(frozen=True, slots=True)
class ViewFilter:
    """What to look at: VRIDs, segments (names or globs), a time window; None = all."""

    vrids: frozenset[int] | None = None
    segments: tuple[str, ...] | None = None
    since: TimeSpec | None = None
    until: TimeSpec | None = None
    local: bool = False  # naive absolute times are local, not UTC

    def __post_init__(self) -> None:
        since, until = self.since, self.until
        if since is not None and until is not None and since.anchor == until.anchor:
            if since.anchor == "absolute":
                lo, hi = since.absolute_ns(self.local), until.absolute_ns(self.local)
            else:
                sign = 1 if since.anchor == "start" else -1
                lo, hi = sign * since.offset_ns, sign * until.offset_ns
            _check_order(lo, hi, self)

    @classmethod
    def build(
        cls,
        vrids: Iterable[frozenset[int]] | None = None,
        segments: Iterable[tuple[str, ...]] | None = None,
        since: TimeSpec | None = None,
        until: TimeSpec | None = None,
        local: bool = False,
    ) -> ViewFilter:
        """From repeated option values (``--vrid 1 --vrid 5``: both)."""
        vrid_set = frozenset().union(*vrids) if vrids else None
        names = tuple(dict.fromkeys(n for group in segments for n in group)) if segments else None
        return cls(vrid_set, names, since, until, local)

    @property
    def active(self) -> bool:
        return any(x is not None for x in (self.vrids, self.segments, self.since, self.until))

    @property
    def needs_end(self) -> bool:
        """Whether a bound counts back from the end of the input."""
        return any(t is not None and t.anchor == "end" for t in (self.since, self.until))

    @property
    def needs_start(self) -> bool:
        return any(t is not None and t.anchor == "start" for t in (self.since, self.until))

    def segment_matches(self, name: str) -> bool:
        if self.segments is None:
            return True
        # (a name is itself first: interface names may hold '[' or '*')
        return any(
            name == pattern or (_GLOB.search(pattern) is not None and fnmatchcase(name, pattern))
            for pattern in self.segments
        )

    def describe(self, window: tuple[int | None, int | None] | None = None) -> str:
        """``VRID 1,5 on eth0.*, 09:20:30 .. 09:30:00 UTC`` (times as given without a
        resolved ``window``)."""
        from vrrpscope.engine.inventory import format_ranges
        from vrrpscope.report.adverts import format_time

        parts = []
        if self.vrids is not None:
            many = len(self.vrids) > 1
            parts.append(f"VRID{'s' if many else ''} {format_ranges(self.vrids)}")
        if self.segments is not None:
            parts.append(("on " if parts else "segment ") + ",".join(self.segments))
        if self.since is not None or self.until is not None:
            lo, hi = window if window is not None else (None, None)

            def show(spec: TimeSpec, ns: int | None) -> str:
                return format_time(ns, self.local) if ns is not None else spec.text

            zone = "" if self.local or window is None else " UTC"
            if self.since is not None and self.until is not None:
                first, last = show(self.since, lo), show(self.until, hi)
                if lo is not None and hi is not None and first[:11] == last[:11]:
                    last = last[11:]  # the same day: the time alone
                span = f"{first} .. {last}"
            elif self.since is not None:
                span = f"since {show(self.since, lo)}"
            else:
                assert self.until is not None
                span = f"until {show(self.until, hi)}"
            both = self.since is not None and self.until is not None
            parts.append(("from " if parts and both else "") + span + zone)
        return " ".join(parts)


def _check_order(lo: int, hi: int, view: ViewFilter) -> None:
    if lo >= hi:
        assert view.since is not None and view.until is not None
        raise UsageError(
            f"--since {view.since.text} is not before --until {view.until.text}: "
            "the window is empty"
        )


def view_from(args: argparse.Namespace) -> ViewFilter | None:
    """The filter the command line asks for (None: everything)."""
    view = ViewFilter.build(
        getattr(args, "vrid", None),
        getattr(args, "segment", None),
        getattr(args, "since", None),
        getattr(args, "until", None),
        bool(getattr(args, "local", False)),
    )
    return view if view.active else None


# ------------------------------------------------------------------------ applying it


@dataclass
class Heard:
    """Adverts read for one (segment, VRID), selected or not: for "matched nothing"."""

    adverts: int = 0
    first_ns: int = 0
    last_ns: int = 0

    def add(self, n: int, first_ns: int, last_ns: int) -> None:
        if not self.adverts:
            self.first_ns, self.last_ns = first_ns, last_ns
        else:
            self.first_ns, self.last_ns = min(self.first_ns, first_ns), max(self.last_ns, last_ns)
        self.adverts += n


@dataclass
class Selection:
    """A :class:`ViewFilter` applied to one run: the window in ns once known, counts."""

    view: ViewFilter
    start_ns: int | None = None  # the input's first and last frame, when known
    end_ns: int | None = None
    kept: int = 0  # adverts selected
    left_out: int = 0  # adverts read and not selected
    heard: dict[tuple[str, int], Heard] = field(default_factory=dict)
    start_of: Callable[[], int | None] | None = field(default=None, repr=False, compare=False)
    _window: tuple[int, int] | None = field(default=None, repr=False)
    _segments: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:  # (sent back by the decoding child: no callable)
        return {**self.__dict__, "start_of": None}

    @classmethod
    def prepare(cls, view: ViewFilter, paths: Sequence[str]) -> Selection:
        """The selection of ``view`` over ``paths``: relative bounds resolved now where
        the inputs can be read twice (a first pass for the end; one frame for the
        start); on a stream, ``+`` bounds are resolved at its first frame, ``-`` refused."""
        selection = cls(view)
        if not (view.needs_start or view.needs_end):
            selection.window()
            return selection
        streams = [p for p in paths if not _rereadable(p)]
        if view.needs_end and streams:
            spec = (
                view.since if view.since is not None and view.since.anchor == "end" else view.until
            )
            assert spec is not None
            flag = "--since" if spec is view.since else "--until"
            raise UsageError(
                f"{flag} {spec.text} counts back from the end of {display_name(streams[0])}, "
                "which a stream does not know before it ends: give an absolute time, or "
                "+N from its start (or save it to a file first)"
            )
        if streams:
            return selection  # resolved at the first frame (start_of)
        selection.start_ns, selection.end_ns = capture_span(paths, whole=view.needs_end)
        if selection.start_ns is not None:
            selection.window()
        return selection

    def window(self) -> tuple[int, int]:
        """``[since, until)`` in ns (unbounded sides: the int64 range)."""
        if self._window is None:
            view = self.view
            if self.start_ns is None and self.start_of is not None:
                self.start_ns = self.start_of()
            since = view.since and view.since.at(self.start_ns, self.end_ns, view.local)
            until = view.until and view.until.at(self.start_ns, self.end_ns, view.local)
            lo = _I64_MIN if since is None else _int64(since)  # (the times' columns)
            hi = _I64_MAX if until is None else _int64(until)
            if since is not None and until is not None:
                _check_order(lo, hi, view)
            self._window = (lo, hi)
        return self._window

    @property
    def bounds(self) -> tuple[int | None, int | None]:
        """The window's given sides in ns (None: not bounded there)."""
        lo, hi = self.window()
        return (
            lo if self.view.since is not None else None,
            hi if self.view.until is not None else None,
        )

    def segment_ok(self, name: str) -> bool:
        ok = self._segments.get(name)
        if ok is None:
            ok = self._segments[name] = self.view.segment_matches(name)
        return ok

    # -------------------------------------------------------------- item by item

    def keep(self, item: Any) -> bool:
        """Whether the engine (or decode) gets ``item`` (an Advert, OtherTraffic or
        AddressClaim; adverts counted)."""
        lo, hi = self.window()
        ok = lo <= item.ts_ns < hi and self.segment_ok(item.segment)
        if isinstance(item, Advert):
            vrids = self.view.vrids
            ok = ok and (vrids is None or item.vrid in vrids)
            self._heard(item.segment, item.vrid, 1, item.ts_ns, item.ts_ns)
            if ok:
                self.kept += 1
            else:
                self.left_out += 1
        return ok

    def _heard(self, segment: str, vrid: int, n: int, first: int, last: int) -> None:
        heard = self.heard.get((segment, vrid))
        if heard is None:
            heard = self.heard[(segment, vrid)] = Heard()
        heard.add(n, first, last)

    # -------------------------------------------------------------- block by block

    def keep_events(
        self,
        ts_ns: np.ndarray,
        events: np.ndarray,
        tid: np.ndarray,
        makers: Sequence[tuple[type | None, tuple]],
        singles: dict[int, Any],
    ) -> np.ndarray:
        """The block rows ``events`` whose items :meth:`keep` would keep (counted the
        same): an item is a template of ``makers`` (by ``tid``) or one of ``singles``."""
        n_t = len(makers)
        # Per template, and one slot per single after them: advert?, selected?, key.
        advert = np.zeros(n_t, bool)
        static_ok = np.ones(n_t, bool)
        keys: list[tuple[str, int] | None] = []
        for i, (kind, values) in enumerate(makers):
            key, advert[i], static_ok[i] = self._static(kind, values)
            keys.append(key)
        ev_tid = tid[events]
        single_at = np.flatnonzero(ev_tid < 0)
        slot = ev_tid.copy()
        for j, at in enumerate(single_at.tolist()):
            item = singles.get(int(events[at]))
            key, is_advert, ok = self._static(None if item is None else type(item), item)
            advert = np.append(advert, is_advert)
            static_ok = np.append(static_ok, ok)
            keys.append(key)
            slot[at] = n_t + j
        ts = ts_ns[events]
        lo, hi = self.window()
        keep = static_ok[slot] & (ts >= lo) & (ts < hi) if len(slot) else np.zeros(0, bool)
        is_advert = advert[slot] if len(slot) else np.zeros(0, bool)
        kept = int(np.count_nonzero(keep & is_advert))
        self.kept += kept
        self.left_out += int(np.count_nonzero(is_advert)) - kept
        if is_advert.any():
            self._heard_block(slot[is_advert], ts[is_advert], keys, len(advert))
        return events[keep]

    def _static(self, kind: type | None, values: Any) -> tuple[tuple[str, int] | None, bool, bool]:
        """(key, is an advert, selected but for time) of a template's fields or an item."""
        if kind is None:
            return None, False, True
        names = _FIELDS.get(kind)
        if names is None or values is None:
            return None, False, True
        if isinstance(values, tuple):
            segment = values[names["segment"]]
            vrid = values[names["vrid"]] if kind is Advert else 0
        else:
            segment = values.segment
            vrid = values.vrid if kind is Advert else 0
        ok = self.segment_ok(segment)
        if kind is not Advert:
            return None, False, ok
        vrids = self.view.vrids
        return (segment, vrid), True, ok and (vrids is None or vrid in vrids)

    def _heard_block(self, slots: np.ndarray, ts: np.ndarray, keys: list, n_slots: int) -> None:
        counts = np.bincount(slots, minlength=n_slots)
        first = np.full(n_slots, np.iinfo(np.int64).max, np.int64)
        last = np.full(n_slots, np.iinfo(np.int64).min, np.int64)
        np.minimum.at(first, slots, ts)
        np.maximum.at(last, slots, ts)
        for s in np.flatnonzero(counts).tolist():
            key = keys[s]
            self._heard(key[0], key[1], int(counts[s]), int(first[s]), int(last[s]))

    # -------------------------------------------------------------- reporting

    def select_table(self, table: Any) -> Any:
        """The selected rows of an :class:`~vrrpscope.columnar.adverts.AdvertTable`, its
        side tables cut to what they use, in order of first use (as
        ``AdvertTable.from_adverts`` of the selected adverts makes them)."""
        rows = table.rows
        seg_ok = np.array([self.segment_ok(s) for s in table.segments] + [False], bool)
        lo, hi = self.window()
        mask = seg_ok[rows["segment"]] & (rows["ts_ns"] >= lo) & (rows["ts_ns"] < hi)
        if self.view.vrids is not None:
            mask &= np.isin(rows["vrid"], sorted(self.view.vrids))
        rows = rows[mask]
        sides = {}
        for column, values in (
            ("file", table.files),
            ("segment", table.segments),
            ("src", table.sources),
            ("src_mac", table.macs),
            ("addresses", table.address_sets),
        ):
            index = rows[column]
            used, first = np.unique(index[index >= 0], return_index=True)
            used = used[np.argsort(first)]  # in order of first use
            remap = np.full(len(values) + 1, -1, np.int64)
            remap[used] = np.arange(len(used))
            rows[column] = np.where(index >= 0, remap[index], -1)
            sides[column] = [values[i] for i in used.tolist()]
        return type(table)(
            rows,
            sides["file"],
            sides["segment"],
            sides["src"],
            sides["src_mac"],
            sides["addresses"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The summary's ``selection`` (JSON): what was asked, the window, the counts."""
        lo, hi = self.bounds if self._window is not None else (None, None)
        return {
            "vrids": sorted(self.view.vrids) if self.view.vrids is not None else None,
            "segments": list(self.view.segments) if self.view.segments is not None else None,
            "since": None if lo is None else lo / NS,
            "until": None if hi is None else hi / NS,
            "adverts": self.kept,
            "left_out": self.left_out,
        }

    def note(self) -> str:
        """The capture summary's line: what was selected, what was left out."""
        total = self.kept + self.left_out
        return (
            f"selected {self.describe()}: {self.kept:,} of {total:,} advert(s), "
            f"{self.left_out:,} left out"
        )

    def describe(self) -> str:
        window = self.bounds if self._window is not None else None
        return self.view.describe(window)

    def nothing_matched(self) -> str:
        """One line: nothing matched, and what the input has."""
        from vrrpscope.engine.inventory import format_ranges
        from vrrpscope.report.adverts import format_time

        if not self.heard:
            return f"nothing matches {self.describe()}: the input holds no VRRP/CARP advert"
        per_segment: dict[str, list[int]] = {}
        for segment, vrid in self.heard:
            per_segment.setdefault(segment, []).append(vrid)
        by_vrids: dict[str, list[str]] = {}
        for segment, vrids in sorted(per_segment.items()):
            by_vrids.setdefault(format_ranges(vrids), []).append(segment)
        seen = "; ".join(
            f"VRID{'s' if ',' in v or '-' in v else ''} {v} on {', '.join(segments)}"
            for v, segments in by_vrids.items()
        )
        first = min(h.first_ns for h in self.heard.values())
        last = max(h.last_ns for h in self.heard.values())
        local = self.view.local
        span = f"{format_time(first, local)} .. {format_time(last, local)}"
        return (
            f"no advert matches {self.describe()} (the input has {seen}, "
            f"adverts from {span}{'' if local else ' UTC'})"
        )


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _int64(ns: int) -> int:
    return min(max(ns, _I64_MIN), _I64_MAX)


_FIELDS: dict[type, dict[str, int]] = {}


def _template_fields() -> None:
    from vrrpscope.model import AddressClaim, OtherTraffic

    for kind in (Advert, OtherTraffic, AddressClaim):
        names = tuple(kind.__dataclass_fields__)[2:]  # a template leaves out ts_ns, frame
        _FIELDS[kind] = {name: i for i, name in enumerate(names)}


_template_fields()


def _rereadable(path: str) -> bool:
    """A regular file (read once for its span, once for the analysis)."""
    return path != "-" and os.path.isfile(path)


def capture_span(paths: Sequence[str], whole: bool) -> tuple[int | None, int | None]:
    """(first frame's time, last frame's time) of ``paths``; the last only with
    ``whole`` (a pass over every frame's header: vectorised for plain pcap/pcapng)."""
    from vrrpscope.columnar.core import FastCore
    from vrrpscope.columnar.records import BLOCK, RecordBlock

    first: int | None = None
    last: int | None = None
    core = FastCore()
    parts = core.inputs(list(paths), BLOCK, prefetch=False, per_frame=True)
    try:
        for part in parts:
            if isinstance(part, RecordBlock):
                times = part.ts_ns.astype(np.int64)
                if not len(times):
                    continue
                low, high = int(times.min()), int(times.max())
            else:
                if not part:
                    continue
                low = min(f.ts_ns for f in part)
                high = max(f.ts_ns for f in part)
            first = low if first is None else min(first, low)
            last = high if last is None else max(last, high)
            if not whole:
                break
    finally:
        parts.close()
    return first, last
