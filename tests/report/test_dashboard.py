"""The `live` dashboard: the routers with their VIP, and the incidents open now, worst first."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from vrrpscope.engine.core import Engine
from vrrpscope.incidents import Incident, correlate
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession
from vrrpscope.report.dashboard import ELLIPSIS, Dashboard, shorten
from vrrpscope.thresholds import Thresholds

CAPTURES = Path(__file__).parents[2] / "captures"


def fed(name: str) -> Engine:
    """An engine fed every item of ``captures/NAME`` and not finished (as during `live`)."""
    engine = Engine(Thresholds())
    for item in DecodeSession([str(CAPTURES / name)]).items():
        engine.feed_item(item)
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
def test_open_incidents_worst_first_cut_at_words_and_the_vip(width: int) -> None:
    engine = fed("split-brain.pcap")
    incidents = correlate(engine.findings)
    open_now = sorted((i for i in incidents if i.open), key=Incident.sort_key)
    assert [str(i.kind) for i in open_now][:1] == ["split-brain"]
    text = screen(engine, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    header = next(line for line in lines if "VRID" in line)
    assert "VIP" in header and "master" in header and "state" in header, text
    row = next(line for line in lines if " 51 " in line)
    assert "198.18.1.100" in row and "2 MASTERS" in row, text
    screen_lines = text.split(f"open incidents: {len(open_now)}\n")[1].splitlines()
    shown = []  # a warning or worse goes on over a second line, indented
    for line in screen_lines:
        if line.startswith("       "):
            shown[-1] += " " + line.strip()
        else:
            shown.append(line)
    assert len(shown) == len(open_now)
    assert len(screen_lines) <= len(open_now) + 1  # the split brain on two lines at most
    assert shown[0].startswith("  CRIT split-brain: 198.18.1.1 and 198.18.1.2 both master")
    assert all(line.startswith("  info non-standard-mac: ") for line in shown[1:])
    for line, incident in zip(shown, open_now, strict=True):
        said = line.split(": ", 1)[1].rstrip()
        message = " ".join(incident.message.split())
        if said.endswith(ELLIPSIS):
            kept = said.removesuffix(ELLIPSIS)
            assert message.startswith(kept) and message[len(kept)] in " ,;:", (said, message)
        else:
            assert said == message


def test_a_node_stopping_on_ten_vrids_is_one_line() -> None:
    """many-vrids.pcap cut while 198.18.1.2 is away: one node-stopped line, not ten."""
    engine = Engine(Thresholds())
    items = list(DecodeSession([str(CAPTURES / "many-vrids.pcap")]).items())
    stop_ns = None
    for item in items:
        if isinstance(item, Advert):
            if stop_ns is None and item.src == "198.18.1.2" and item.priority == 0:
                stop_ns = item.ts_ns
            if stop_ns is not None and item.ts_ns > stop_ns + 4_000_000_000:
                break
            engine.feed(item)
    engine.advance(stop_ns + 4_000_000_000)
    text = screen(engine, 80)
    shown = text.split("open incidents: ")[1].splitlines()[1:]
    stopped = [line for line in shown if "node-stopped" in line]
    assert len(stopped) == 1, text
    head = "  warn node-stopped: 198.18.1.2 stopped: resigned VRIDs 2,4,"
    assert stopped[0].startswith(head), text
    assert not any("failover" in line for line in shown), text


def test_closed_incidents_are_not_shown_and_overflow_is_counted() -> None:
    engine = fed("split-brain.pcap")
    open_now = [i for i in correlate(engine.findings) if i.open]
    text = screen(engine, 120, max_problems=1)
    assert f"… and {len(open_now) - 1} more" in text
    engine.finish()
    text = screen(engine, 120)
    assert f"open incidents: 0 ({len(open_now)} over)" in text and "none" in text
