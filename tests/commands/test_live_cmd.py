"""`live` without a network: event lines at the end of a capture, frames a little out of order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vrrpscope.commands.live_cmd import REORDER_TOLERANCE_NS, InOrder
from vrrpscope.commands.live_stream import EventLines
from vrrpscope.engine.core import Engine
from vrrpscope.findings import FindingEvent
from vrrpscope.model import Advert, Frame
from vrrpscope.pipeline import DecodeSession
from vrrpscope.thresholds import Thresholds

CAPTURES = Path(__file__).parents[2] / "captures"


def _events_of(name: str) -> tuple[list[dict], list[dict]]:
    """JSON event lines of ``captures/NAME`` fed as `live` does: (during, at the stop)."""
    lines = EventLines()
    out: list[dict] = []
    engine = Engine(Thresholds(), on_event=lambda e: out.append(lines.line(e)))
    for item in DecodeSession([str(CAPTURES / name)]).items():
        engine.feed_item(item)
    during = list(out)
    lines.finishing = True
    engine.finish()
    return during, out[len(during) :]


def test_a_split_brain_open_at_the_stop_ends_it_does_not_close() -> None:
    during, at_stop = _events_of("split-brain.pcap")
    opened = [o for o in during if o["kind"] == "split-brain" and o["event"] == "open"]
    assert opened and not [o for o in during if o["event"] == "close"]
    split = [o for o in at_stop if o["kind"] == "split-brain"]
    assert [(o["event"], o["open"]) for o in split] == [("end", True)]
    assert {o["event"] for o in at_stop} == {"end"}


def test_an_event_judged_at_the_stop_is_still_a_close() -> None:
    # failover.pcap: the final settling decides the failover (opened and closed at once);
    # the findings that were open before the stop end
    _during, at_stop = _events_of("failover.pcap")
    failover = [o["event"] for o in at_stop if o["kind"] == "failover"]
    assert failover == ["open", "close"]
    others = [o for o in at_stop if o["kind"] != "failover"]
    assert others and all(o["event"] == "end" and o["open"] for o in others)


def test_a_finding_opened_just_before_the_stop_ends() -> None:
    """The split brain was the last event of the run: its close at the stop is an end."""
    engine = Engine(Thresholds())
    for item in DecodeSession([str(CAPTURES / "split-brain.pcap")]).items():
        if isinstance(item, Advert):
            engine.feed(item)
    split = next(f for f in engine.findings if str(f.kind) == "split-brain")
    lines = EventLines()
    assert lines.line(FindingEvent("open", split))["event"] == "open"
    lines.finishing = True
    assert lines.line(FindingEvent("close", split))["event"] == "end"


def test_before_the_stop_a_close_is_a_close() -> None:
    lines = EventLines()
    engine_events: list[FindingEvent] = []
    engine = Engine(Thresholds(), on_event=engine_events.append)
    for item in DecodeSession([str(CAPTURES / "failover.pcap")]).items():
        if isinstance(item, Advert):
            engine.feed(item)
    closes = [lines.line(e) for e in engine_events if e.action == "close"]
    assert all(o["event"] == "close" and o["open"] is False for o in closes)


def _frame(ts_ns: int, number: int) -> Frame:
    return Frame(ts_ns=ts_ns, linktype=1, data=b"", orig_len=0, number=number)


def test_frames_slightly_out_of_order_get_the_latest_time() -> None:
    order = InOrder()
    t = 1_700_000_000 * 10**9
    batch = [_frame(t, 1), _frame(t - 3_000, 2), _frame(t + 10, 3), _frame(t + 10, 4)]
    fed = order.feed(batch)
    assert [f.ts_ns for f in fed] == [t, t, t + 10, t + 10]
    assert [f.number for f in fed] == [1, 2, 3, 4]
    assert batch[1].ts_ns == t - 3_000  # the frames themselves (written by -w) unchanged
    assert order.reordered == 1
    # across batches too, up to the tolerance; a bigger step back is left to the engine
    fed = order.feed([_frame(t + 10 - REORDER_TOLERANCE_NS, 5), _frame(t - 10**9, 6)])
    assert [f.ts_ns for f in fed] == [t + 10, t - 10**9]
    assert order.reordered == 2


def test_in_order_frames_are_passed_through_as_they_are() -> None:
    order = InOrder()
    batch = [_frame(i, i) for i in range(1, 5)]
    assert order.feed(batch) is batch and order.reordered == 0
    assert order.feed([]) == []


def test_small_steps_back_give_no_timestamps_backwards_finding() -> None:
    """What `live any` met: the same advert on two interfaces, timestamps 0.0 s apart.
    Within the tolerance neither live's reordering nor the engine (the -w file analysed
    later) calls it a clock step; a 50 ms step back still is one."""
    adverts = [
        item
        for item in DecodeSession([str(CAPTURES / "baseline.pcap")]).items()
        if isinstance(item, Advert)
    ]
    for tolerance, step, finding in (
        (REORDER_TOLERANCE_NS, 20_000, False),
        (0, 20_000, False),  # the engine's own tolerance: the offline analysis of -w
        (0, 50_000_000, True),
    ):
        engine = Engine(Thresholds())
        order = InOrder(tolerance_ns=tolerance)
        for advert in adverts[:20]:
            frames = [_frame(advert.ts_ns, 1), _frame(advert.ts_ns - step, 2)]
            for frame in order.feed(frames):
                engine.feed(_at(advert, frame.ts_ns))
        engine.finish()
        kinds = {str(f.kind) for f in engine.findings}
        assert ("timestamps-backwards" in kinds) is finding, (tolerance, step, kinds)


def _at(advert: Advert, ts_ns: int) -> Advert:
    return replace(advert, ts_ns=ts_ns)
