"""Finding records, severities and the deduplicating book."""

from __future__ import annotations

import json

import pytest

from vrrpscope.findings import Finding, FindingBook, FindingEvent, Kind, Scope, Severity

SCOPE = Scope("eth0", 4, "vrrp", 51)


def _book(events: list[FindingEvent] | None = None, cap: int = 100) -> FindingBook:
    return FindingBook(cap, 3, events.append if events is not None else None)


def _open(book: FindingBook, key: object, kind: Kind = Kind.SPLIT_BRAIN, ts: int = 10) -> Finding:
    finding = book.open(key, kind, SCOPE, ("10.0.0.1",), ts, ts, (1, 1, 2), "msg", {"n": 1})
    assert finding is not None
    return finding


def test_severity_order_and_values() -> None:
    assert Severity.INFO < Severity.WARNING < Severity.CRITICAL
    assert max([Severity.WARNING, Severity.CRITICAL, Severity.INFO]) is Severity.CRITICAL
    assert Severity("warning") is Severity.WARNING
    assert json.dumps(Severity.CRITICAL) == '"critical"'
    assert sorted(["critical", "info"]) == ["critical", "info"]  # still plain strings
    # against a name, by rank too (as text "critical" < "info")
    assert Severity.CRITICAL > "info" and Severity.CRITICAL > "info"
    assert Severity.WARNING >= "warning" and not Severity.INFO >= "warning"
    assert {Severity.INFO: 1}["info"] == 1


def test_one_open_finding_per_key_then_a_new_one_after_close() -> None:
    events: list[FindingEvent] = []
    book = _book(events)
    first = _open(book, "k")
    assert book.get("k") is first and first.frames == [1, 2]
    assert _open(book, "k") is first  # open already (a speaker forgotten and back): extended
    assert len(book) == 1 and first.frames == [1, 2]
    book.update(first, 20, frames=(3, 4, 5), details={"n": 2}, notify=False)
    assert first.last_ts_ns == 20 and first.frames == [1, 2, 3] and first.details == {"n": 2}
    book.update(first, 15)  # never moves backwards
    assert first.last_ts_ns == 20
    book.close(first, 30)
    assert not first.open and first.last_ts_ns == 30 and book.get("k") is None
    second = _open(book, "k", ts=40)
    assert second is not first and len(book) == 2
    assert [(e.action, e.finding is first) for e in events] == [
        ("open", True),
        ("update", True),
        ("close", True),
        ("open", False),
    ]


def test_findings_sorted_worst_first_then_by_time() -> None:
    book = _book()
    info = _open(book, 1, Kind.RESIGNED, ts=1)
    late = _open(book, 2, Kind.SPLIT_BRAIN, ts=50)
    early = _open(book, 3, Kind.NO_MASTER, ts=5)
    warn = _open(book, 4, Kind.FAILOVER, ts=2)
    assert book.all() == [early, late, warn, info]


def test_to_dict_keys_and_json() -> None:
    book = _book()
    f = _open(book, "k", ts=1_700_000_000_500_000_000)
    d = f.to_dict()
    assert list(d) == [
        "type",
        "id",
        "incident",
        "kind",
        "severity",
        "segment",
        "vrid",
        "family",
        "proto",
        "speakers",
        "first_ts",
        "last_ts",
        "open",
        "frames",
        "message",
        "details",
    ]
    assert d["type"] == "finding" and d["kind"] == "split-brain" and d["severity"] == "critical"
    assert d["first_ts"] == pytest.approx(1_700_000_000.5)
    json.dumps(d)


def test_cap_counts_suppressed_findings_and_says_so_once() -> None:
    events: list[FindingEvent] = []
    book = _book(events, cap=2)
    _open(book, 1)
    _open(book, 2)
    assert book.open(3, Kind.FAILOVER, SCOPE, (), 5, 5, (), "m", {}) is None
    assert book.open(4, Kind.FAILOVER, SCOPE, (), 6, 6, (), "m", {}) is None
    assert book.open(4, Kind.FAILOVER, SCOPE, (), 7, 7, (), "m", {}) is None  # same cause
    assert book.suppressed == {"failover": 2}
    caps = [f for f in book.all() if f.kind == Kind.CAPACITY]
    assert len(caps) == 1 and caps[0].details["suppressed"] == {"failover": 2}
    assert [e.action for e in events].count("open") == 3


def test_close_all_extends_only_ongoing_conditions_to_the_end() -> None:
    book = _book()
    nm = _open(book, 1, Kind.NO_MASTER, ts=10)
    sb = _open(book, 2, Kind.SPLIT_BRAIN, ts=10)
    book.close_all(99)
    assert (nm.open, nm.last_ts_ns) == (False, 99)
    assert (sb.open, sb.last_ts_ns) == (False, 10)
