"""vrrpscope.filters: parsing the selection options, and applying them on both routes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers.capturewriter import pcap_bytes
from tests.helpers.cli import REPO
from tests.helpers.routes import assert_same
from vrrpscope.analysis import analyze_files
from vrrpscope.capture import read_frames
from vrrpscope.errors import UsageError
from vrrpscope.filters import (
    NEGATIVE_VALUE,
    Selection,
    ViewFilter,
    parse_segments,
    parse_time,
    parse_vrids,
)
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession

CAPTURES = REPO / "captures"
TWO_VRIDS = str(CAPTURES / "config-mismatch.pcap")  # VRIDs 52 and 53 on one segment
TWO_SEGMENTS = str(CAPTURES / "any-sll2.pcap")  # VRID 51 on ifindex2 and on ifindex3
FAILOVER = str(CAPTURES / "failover.pcap")  # 1.1 resigns, 1.2 takes over, 1.1 preempts
NS = 10**9


def adverts(path: str) -> list[Advert]:
    return [i for i in DecodeSession([path]).items() if isinstance(i, Advert)]


def story(analysis) -> list[dict]:
    """The findings without what depends on the rest of the capture (ids, frame numbers)."""
    drop = {"id", "incident", "frames"}
    return [{k: v for k, v in f.to_dict().items() if k not in drop} for f in analysis.findings]


def view(**options) -> ViewFilter:
    return ViewFilter.build(**options)


# ------------------------------------------------------------------------ parsing


def test_vrid_lists_and_ranges() -> None:
    assert parse_vrids("51") == {51}
    assert parse_vrids("1,5,10-12") == {1, 5, 10, 11, 12}
    assert parse_vrids(" 7 , 255") == {7, 255}
    assert view(vrids=[parse_vrids("1"), parse_vrids("3-4")]).vrids == {1, 3, 4}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("0", "1-255, not 0"),
        ("256", "1-255, not 256"),
        ("abc", "not a VRID or range: 'abc'"),
        ("1,,2", "not a VRID or range: ''"),
        ("20-10", "runs backwards"),
        ("1-300", "not 300"),
    ],
)
def test_bad_vrids(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_vrids(text)


def test_segments_exact_and_globs() -> None:
    v = view(segments=[parse_segments("eth0.vlan30,if*"), parse_segments("br[01]")])
    assert v.segments == ("eth0.vlan30", "if*", "br[01]")
    assert [v.segment_matches(s) for s in ("eth0.vlan30", "eth0", "ifindex2", "br1", "br2")] == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert not view(segments=[("eth0",)]).segment_matches("eth0.vlan30")  # exact is exact
    with pytest.raises(ValueError, match="empty segment"):
        parse_segments("eth0,")


def test_relative_times() -> None:
    assert parse_time("+30s").anchor == "start" and parse_time("+30s").offset_ns == 30 * NS
    assert parse_time("+90").offset_ns == 90 * NS
    assert parse_time("+1h30m").offset_ns == 5400 * NS
    assert parse_time("+250ms").offset_ns == NS // 4
    assert parse_time("+1.5m").offset_ns == 90 * NS
    end = parse_time("-10m")
    assert (end.anchor, end.offset_ns) == ("end", 600 * NS)
    assert end.at(0, 3600 * NS, False) == 3000 * NS
    assert parse_time("+5s").at(100 * NS, None, False) == 105 * NS


def test_absolute_times_utc_unless_a_zone_or_local() -> None:
    moment = datetime(2026, 11, 25, 9, 20, 30, tzinfo=UTC)
    want = int(moment.timestamp()) * NS
    assert parse_time("2026-11-25 09:20:30").absolute_ns(local=False) == want
    assert parse_time("2026-11-25T09:20:30Z").absolute_ns(local=True) == want
    assert parse_time("2026-11-25T10:20:30+01:00").absolute_ns(local=False) == want
    assert parse_time("2026-11-25 09:20:30.25").absolute_ns(False) == want + NS // 4
    assert parse_time("@1795598430").absolute_ns(False) == 1795598430 * NS
    assert parse_time("2026-11-25").absolute_ns(False) == want - (9 * 3600 + 20 * 60 + 30) * NS
    naive = datetime(2026, 11, 25, 9, 20, 30)  # the local zone (TZ), as --local shows times
    local_ns = int(naive.astimezone().timestamp()) * NS
    assert parse_time("2026-11-25 09:20:30").absolute_ns(local=True) == local_ns


@pytest.mark.parametrize("text", ["tomorrow", "09:20", "+", "+1h30", "+5x", "@now", "-"])
def test_bad_times_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="not a time.*ISO 8601.*\\+30s"):
        parse_time(text)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-11-25 09:20:30", "2026-11-25 09:20:00"),
        ("2026-11-25 09:20:30", "2026-11-25 09:20:30"),
        ("+10s", "+5s"),
        ("-5s", "-10s"),
    ],
)
def test_since_must_come_before_until(since: str, until: str) -> None:
    with pytest.raises(UsageError, match="is not before --until.*empty"):
        view(since=parse_time(since), until=parse_time(until))


def test_mixed_anchors_are_checked_once_the_capture_is_known() -> None:
    v = view(since=parse_time("+15s"), until=parse_time("-15s"))  # a 20 s capture
    with pytest.raises(UsageError, match="not before"):
        Selection.prepare(v, [FAILOVER])


def test_relative_values_are_not_options() -> None:
    assert all(NEGATIVE_VALUE.match(t) for t in ("-10m", "-1h30m", "-5", "-0.5", "-250ms"))
    assert not any(NEGATIVE_VALUE.match(t) for t in ("-o", "--vrid", "-x5"))


# ------------------------------------------------------------------------ applying it


def test_one_vrid_of_two_is_that_router_alone() -> None:
    """VRIDs 52 and 53 are independent: the selection tells 52's story exactly as the
    whole capture does, and nothing of 53."""
    whole = analyze_files([TWO_VRIDS])
    only = assert_same([TWO_VRIDS], view=view(vrids=[parse_vrids("52")]))
    assert only is not None
    assert {r.vrid for r in only.routers.values()} == {52}
    assert story(only) == [f for f in story(whole) if f["vrid"] == 52]
    mine = [i.to_dict() for i in whole.inventory][0]["routers"]
    assert [r.to_dict() for r in only.inventory[0].routers] == [r for r in mine if r["vrid"] == 52]
    all_adverts = adverts(TWO_VRIDS)
    kept = sum(a.vrid == 52 for a in all_adverts)
    assert only.selection.kept == kept and only.selection.left_out == len(all_adverts) - kept
    assert only.notes[-1] == f"selected VRID 52: {kept} of {len(all_adverts)} advert(s), " + (
        f"{len(all_adverts) - kept} left out"
    )


def test_segments_exact_and_glob_on_a_two_segment_capture() -> None:
    whole = analyze_files([TWO_SEGMENTS])
    segments = {r.segment for r in whole.routers.values()}
    assert segments == {"ifindex2", "ifindex3"}
    for name in sorted(segments):
        one = assert_same([TWO_SEGMENTS], view=view(segments=[(name,)]))
        assert one is not None
        assert {r.segment for r in one.routers.values()} == {name}
        assert story(one) == [f for f in story(whole) if f["segment"] == name]
        assert [s.segment for s in one.inventory] == [name]
    every = analyze_files([TWO_SEGMENTS], view=view(segments=[("if*",)]))
    assert story(every) == story(whole) and every.selection.left_out == 0


def cut(path: str, since_ns: int, out: Path) -> str:  # (Ethernet captures)
    """The capture from ``since_ns`` on, as a capture started then would hold it."""
    reader = read_frames([path])
    kept = [(f.ts_ns, f.data) for frames in reader for f in frames if f.ts_ns >= since_ns]
    reader.close()
    out.write_bytes(pcap_bytes(kept, nanosecond=True))
    return str(out)


def test_since_reads_as_a_capture_started_then(tmp_path: Path) -> None:
    """--since after 1.2 took over: 1.2 is the master the window finds (no failover to
    it, no resign), the preemption by 1.1 later is in; the same story a capture started
    at --since tells."""
    whole = analyze_files([FAILOVER])
    takeover, preempt = (f for f in whole.findings if f.kind.value == "failover")
    since_ns = takeover.last_ts_ns + NS  # 1.2 is master, established before --since
    text = datetime.fromtimestamp(since_ns / NS, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    window = assert_same([FAILOVER], view=view(since=parse_time(text)))
    assert window is not None
    kinds = [f.kind.value for f in window.findings]
    assert "resigned" not in kinds and kinds.count("failover") == 1
    (failover,) = (f for f in window.findings if f.kind.value == "failover")
    assert failover.first_ts_ns == preempt.first_ts_ns
    started = analyze_files([cut(FAILOVER, since_ns, tmp_path / "cut.pcapng")])
    assert story(window) == story(started)
    assert [i.to_dict() for i in window.inventory] == [i.to_dict() for i in started.inventory]
    assert window.first_ts_ns == since_ns and window.last_ts_ns == whole.last_ts_ns
    router = window.inventory[0].routers[0]
    assert router.adverts == sum(a.ts_ns >= since_ns for a in adverts(FAILOVER))
    assert router.failovers == 1


def test_relative_window_and_until_end_the_engine_there() -> None:
    whole = analyze_files([FAILOVER])
    start, end = whole.first_ts_ns, whole.last_ts_ns
    v = view(since=parse_time("+5s"), until=parse_time("-2s"))
    window = assert_same([FAILOVER], view=v)
    assert window is not None
    assert window.selection.window() == (start + 5 * NS, end - 2 * NS)
    assert (window.first_ts_ns, window.last_ts_ns) == (start + 5 * NS, end - 2 * NS)
    inside = [a for a in adverts(FAILOVER) if start + 5 * NS <= a.ts_ns < end - 2 * NS]
    assert window.selection.kept == len(inside)
    assert window.inventory[0].routers[0].adverts == len(inside)
    assert all(start + 5 * NS <= f.first_ts_ns < end - 2 * NS for f in window.findings)


def test_the_forked_decode_sends_its_counts_back() -> None:
    v = view(vrids=[parse_vrids("53")], since=parse_time("+1s"))
    one = analyze_files([TWO_VRIDS], view=v, parallel=False)
    forked = analyze_files([TWO_VRIDS], view=v, parallel=True)
    assert forked.selection == one.selection and forked.selection.kept > 0
    assert story(forked) == story(one)


def test_plot_table_holds_the_selection_only() -> None:
    v = view(vrids=[parse_vrids("53")], since=parse_time("+3s"))
    fast = analyze_files([TWO_VRIDS], view=v, keep_adverts=True, general=False)
    slow = analyze_files([TWO_VRIDS], view=v, keep_adverts=True, general=True)
    assert fast.adverts is not None and slow.adverts is not None
    assert (fast.adverts.rows == slow.adverts.rows).all()
    lo, _ = fast.selection.window()
    assert set(fast.adverts.rows["vrid"].tolist()) == {53}
    assert int(fast.adverts.rows["ts_ns"].min()) >= lo
    assert len(fast.adverts) == fast.selection.kept


def test_nothing_matched_names_what_the_input_has() -> None:
    none = analyze_files([TWO_SEGMENTS], view=view(vrids=[parse_vrids("7")]))
    assert none.selection.kept == 0 and not none.routers
    line = none.selection.nothing_matched()
    assert line.startswith("no advert matches VRID 7 (the input has VRID 51 on ifindex2, ifindex3")
    late = analyze_files([FAILOVER], view=view(since=parse_time("+1h")))
    assert late.selection.kept == 0
    assert "VRID 51 on default, adverts from 2026-11-25 09:20:09" in (
        late.selection.nothing_matched()
    )


def test_relative_to_the_end_needs_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    import os

    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="--until -10m counts back from the end of .*stream"):
        Selection.prepare(view(until=parse_time("-10m")), [FAILOVER, str(fifo)])
    with pytest.raises(UsageError, match="--since -1m counts back from the end of stdin"):
        Selection.prepare(view(since=parse_time("-1m")), ["-"])
    # From the start is fine on a stream: resolved at its first frame.
    assert Selection.prepare(view(since=parse_time("+1m")), ["-"]).start_ns is None


@pytest.mark.parametrize(
    "options",
    [
        {"vrids": [frozenset({53})], "since": "+4s"},
        {"segments": [("ifindex3",)], "until": "-4s"},
        {"segments": [("i?2", "nothing")], "since": "+2s", "until": "+9s"},
        {"vrids": [frozenset({51})], "since": "2026-11-25T09:21:50Z"},
    ],
)
@pytest.mark.parametrize("capture", [TWO_VRIDS, TWO_SEGMENTS, FAILOVER])
def test_both_routes_select_alike(capture: str, options: dict) -> None:
    options = dict(options)
    for name in ("since", "until"):
        if name in options:
            options[name] = parse_time(options[name])
    v = view(**options)
    fast = analyze_files([capture], view=v, general=False)
    slow = analyze_files([capture], view=v, general=True)
    assert fast.selection == slow.selection
    if fast.selection.kept:
        assert_same([capture], view=v)


@pytest.mark.parametrize("text", ["@1e30", "@-1e12", "@nan", "+99999999999999d", "-200y"])
def test_times_out_of_range_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="out of range|100 years|not a time"):
        parse_time(text)


def test_far_bounds_select_everything_or_nothing() -> None:
    every = analyze_files([FAILOVER], view=view(since=parse_time("0001-01-01")))
    assert every.selection.left_out == 0 and every.selection.kept == len(adverts(FAILOVER))
    none = analyze_files([FAILOVER], view=view(since=parse_time("9999-12-31")))
    assert none.selection.kept == 0
