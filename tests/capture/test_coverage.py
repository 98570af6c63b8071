"""The spans several capture files leave uncovered."""

from __future__ import annotations

from vrrpscope.capture.coverage import NS, Uncovered, uncovered


def test_a_span_between_two_files_is_uncovered() -> None:
    spans = {"a.pcap": [0, 180 * NS], "c.pcap": [360 * NS, 600 * NS]}
    assert uncovered(spans) == [Uncovered(180 * NS, 360 * NS, "a.pcap", "c.pcap")]


def test_overlapping_and_adjacent_files_leave_nothing() -> None:
    spans = {
        "b.pcap": [100 * NS, 400 * NS],
        "a.pcap": [0, 200 * NS],  # overlaps b
        "c.pcap": [400 * NS + NS // 2, 500 * NS],  # rotated: half a second later
    }
    assert uncovered(spans) == []


def test_a_file_inside_another_does_not_end_the_coverage() -> None:
    spans = {
        "all.pcap": [0, 1000 * NS],
        "short.pcap": [10 * NS, 20 * NS],
        "later.pcap": [2000 * NS, 2100 * NS],
    }
    hole = uncovered(spans)
    assert [(h.before, h.after, h.length_ns) for h in hole] == [
        ("all.pcap", "later.pcap", 1000 * NS)
    ]
    assert hole[0].to_dict()["seconds"] == 1000.0
