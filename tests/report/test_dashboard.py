"""The `live` dashboard: the routers with their VIP, and the problems open now, worst first."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from vrrpscope.engine.core import Engine
from vrrpscope.model import AddressClaim, Advert, OtherTraffic
from vrrpscope.pipeline import DecodeSession
from vrrpscope.report.dashboard import ELLIPSIS, Dashboard, shorten
from vrrpscope.thresholds import Thresholds

CAPTURES = Path(__file__).parents[2] / "captures"
PREFIX = "VRRP VRID 51 (IPv4) on default: "


def fed(name: str) -> Engine:
    """An engine fed every item of ``captures/NAME`` and not finished (as during `live`)."""
    engine = Engine(Thresholds())
    for item in DecodeSession([str(CAPTURES / name)]).items():
        if isinstance(item, Advert):
            engine.feed(item)
        elif isinstance(item, OtherTraffic):
            engine.feed_other(item)
        elif isinstance(item, AddressClaim):
            engine.feed_claim(item)
    return engine


def screen(engine: Engine, width: int, max_problems: int = 8) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    now = engine.stats.last_ts_ns + 500_000_000
    console.print(Dashboard("br0", max_problems).render(engine, now, 100, 0, console.width))
    return console.export_text()


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "split brain: 198.18.1.1 and 198.18.1.2 both advertise"
    assert shorten(text, 200) == text
    assert shorten(text, 30) == "split brain: 198.18.1.1 and…"
    assert shorten(text, 27) == "split brain: 198.18.1.1…"  # not "...198.18.1.1 an…"
    assert shorten("abcdefghij", 5) == "abcd" + ELLIPSIS  # one long word: cut inside
    assert shorten("a  b\n c", 10) == "a b c"
    for width in range(2, len(text) + 1):
        cut = shorten(text, width)
        assert len(cut) <= width
        if cut != text:
            kept = cut.removesuffix(ELLIPSIS)
            assert text.startswith(kept)
            assert text[len(kept)] in " ,;:" or " " not in text[:width]


@pytest.mark.parametrize("width", [80, 120])
def test_open_problems_worst_first_cut_at_words_and_the_vip(width: int) -> None:
    engine = fed("split-brain.pcap")
    open_now = [f for f in engine.findings if f.open]
    assert [str(f.kind) for f in open_now][:1] == ["split-brain"]
    text = screen(engine, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    header = next(line for line in lines if "VRID" in line)
    assert "VIP" in header and "master" in header and "state" in header, text
    row = next(line for line in lines if " 51 " in line)
    assert "198.18.1.100" in row and "2 MASTERS" in row, text
    problems = text.split(f"open problems: {len(open_now)}\n")[1].splitlines()
    assert len(problems) == len(open_now)
    assert problems[0].startswith("  CRIT split-brain VRID 51 default: split brain: ")
    assert all("info" in line for line in problems[1:])  # worst first
    for line, finding in zip(problems, open_now, strict=True):
        shown = line.split(": ", 1)[1].rstrip()
        # the head says where ("VRID 51 default"): the message's own prefix is left out
        message = " ".join(finding.message.split()).removeprefix(PREFIX)
        if shown.endswith(ELLIPSIS):
            kept = shown.removesuffix(ELLIPSIS)
            assert message.startswith(kept) and message[len(kept)] in " ,;:", (shown, message)
        else:
            assert shown == message


def test_closed_findings_are_not_shown_and_overflow_is_counted() -> None:
    engine = fed("split-brain.pcap")
    open_now = [f for f in engine.findings if f.open]
    text = screen(engine, 120, max_problems=1)
    assert f"… and {len(open_now) - 1} more" in text
    engine.finish()
    text = screen(engine, 120)
    assert "open problems: 0" in text and "none" in text
