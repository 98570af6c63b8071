"""VRID lists and durations as an operator writes them."""

from __future__ import annotations

import pytest

from vrrpscope.incidents import words


@pytest.mark.parametrize(
    ("ids", "text"),
    [
        ([51], "51"),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "1-10"),
        ([20, 2, 4, 6, 8, 10, 12, 14, 16, 18], "2,4,...,20"),
        ([1, 2, 3, 7, 12], "1-3,7,12"),
        ([1, 3, 5], "1,3,5"),  # three: written out
        ([1, 1, 2], "1-2"),
        ([], ""),
        (list(range(1, 40, 3)) + [41, 42], "1,4,7,10,13,16,19,22 +7 more"),
    ],
)
def test_id_list(ids: list[int], text: str):
    assert words.id_list(ids) == text


def test_ids_phrase_names_vrrp_and_carp():
    assert words.ids_phrase([51], carp=False) == "VRID 51"
    assert words.ids_phrase([1, 2], carp=True) == "VHIDs 1-2"


def test_names_and_durations():
    assert words.names(["a"]) == "a"
    assert words.names(["a", "b", "a"]) == "a and b"
    assert words.names(list("abcdef")) == "a, b, c and 3 more"
    assert [words.duration(s) for s in (0.054, 12.34, 250, 7500)] == [
        "0.05 s",
        "12.3 s",
        "4 min 10 s",
        "2 h 05 min",
    ]
    assert words.span(0.611, 0.613) == "0.61 s" and words.span(0.61, 0.62) == "0.61-0.62 s"
