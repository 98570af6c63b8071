"""captures/README.md's table of what `analyze` reports is what it reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vrrpscope import api

CAPTURES = Path(__file__).parents[1] / "captures"
SECTION = (CAPTURES / "README.md").read_text().split("## What `analyze` reports")[1]
ROWS = re.findall(r"^\| `(\S+\.pcap)` \| (.*?) \| (\d+) \| (\d+) \|$", SECTION, re.M)


def test_every_bundled_capture_has_a_row() -> None:
    assert sorted(name for name, *_ in ROWS) == sorted(p.name for p in CAPTURES.glob("*.pcap"))


@pytest.mark.parametrize(("name", "serious", "info", "_lines"), ROWS, ids=[r[0] for r in ROWS])
def test_the_row_tells_the_incidents(name: str, serious: str, info: str, _lines: str) -> None:
    incidents = api.analyze(str(CAPTURES / name)).incidents
    told = [] if serious == "none" else serious.split("<br>")
    found = [i for i in incidents if str(i.severity) != "info"]
    assert len(told) == len(found), (told, [i.message for i in found])
    for row, incident in zip(told, found, strict=True):
        kind, severity, message = re.fullmatch(r"`(\S+)` \((\w+)\): (.*)", row).groups()
        assert (kind, severity) == (str(incident.kind), str(incident.severity))
        said = message.split(" (")[0]  # the row shortens the rest
        assert incident.message.startswith(said), (said, incident.message)
    assert int(info) == len(incidents) - len(found)
