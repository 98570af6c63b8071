"""`live`'s stream of incidents: captures fed tick by tick as `live` feeds the wire."""

from __future__ import annotations

import threading
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vrrpscope.commands.live_stream import LiveIncidents
from vrrpscope.engine.core import Engine
from vrrpscope.findings import FindingEvent
from vrrpscope.incidents import correlate
from vrrpscope.pipeline import DecodeSession
from vrrpscope.report.metrics import EngineCollector
from vrrpscope.thresholds import Thresholds

CAPTURES = Path(__file__).parents[2] / "captures"
TICK_NS = 200_000_000  # live's tick
TAIL_NS = 3_000_000_000


def _live(name: str, stop_after_ns: int | None = None, finish: bool = True, tail_ns: int = TAIL_NS):
    """Feed ``captures/NAME`` in ticks of capture time, then tick on for ``tail_ns`` (live
    runs on after the last frame until it is stopped); (engine, stream, lines during,
    lines at the stop). ``stop_after_ns``: stop that long after the first frame;
    ``finish`` False: no stop (the state while it runs)."""
    lines: list[dict] = []
    stream = LiveIncidents(lines.append)
    engine = Engine(Thresholds(), on_event=stream.on_finding)
    next_tick = None
    first = None
    for item in DecodeSession([str(CAPTURES / name)]).items():
        ts = item.ts_ns
        first = ts if first is None else first
        if stop_after_ns is not None and ts > first + stop_after_ns:
            break
        while next_tick is not None and ts >= next_tick:
            engine.advance(next_tick)
            stream.flush(engine.findings)
            next_tick += TICK_NS
        next_tick = next_tick or ts + TICK_NS
        engine.feed_item(item)
    for _ in range(max(tail_ns // TICK_NS, 1)):
        engine.advance(next_tick)
        stream.flush(engine.findings)
        next_tick += TICK_NS
    during = list(lines)
    if not finish:
        return engine, stream, during, []
    stream.finish()
    engine.finish()
    stream.flush(engine.findings)
    return engine, stream, during, lines[len(during) :]


def _incident_lines(lines: list[dict], kind: str | None = None) -> list[dict]:
    return [o for o in lines if o["type"] == "incident" and kind in (None, o["kind"])]


def test_a_node_restart_on_ten_vrids_streams_two_incidents() -> None:
    """many-vrids.pcap: 198.18.1.2 stops and returns: one line when each opens, not 40."""
    engine, stream, during, _end = _live("many-vrids.pcap")
    opened = [o for o in _incident_lines(during) if o["event"] == "open"]
    assert len({o["id"] for o in opened}) == len(opened)  # each opens once
    latest = {o["id"]: o for o in _incident_lines(during)}  # its last form
    serious = [o for o in latest.values() if o["severity"] != "info"]
    assert [o["kind"] for o in serious] == ["node-stopped", "node-returned"], serious
    assert [o["event"] for o in serious] == ["close", "close"]  # both over
    stopped, back = serious
    assert stopped["vrids"] == list(range(2, 21, 2)) == back["vrids"]
    assert "198.18.1.1 took over all of them" in stopped["message"]
    assert f"after it stopped: {stopped['id']}" in back["message"]
    # every finding line names its incident, one that was streamed before or with it
    findings = [o for o in during if o["type"] == "finding"]
    assert findings and all(o["incident"] for o in findings)
    assert {o["incident"] for o in findings} <= {o["id"] for o in opened}
    failovers = [o for o in findings if o["kind"] == "failover" and o["event"] == "open"]
    assert {o["incident"] for o in failovers} == {stopped["id"], back["id"]}
    assert len(failovers) == 20


def test_the_incidents_at_the_stop_keep_the_stream_ids() -> None:
    engine, stream, during, _end = _live("many-vrids.pcap")
    offline = correlate(engine.findings)
    live = stream.incidents
    assert [(str(i.kind), i.vrids, i.nodes) for i in live] == [
        (str(i.kind), i.vrids, i.nodes) for i in offline
    ]
    streamed = {o["id"] for o in _incident_lines(during)}
    assert {i.id for i in live} == streamed
    assert all(f.incident in streamed for f in engine.findings)


def test_a_split_brain_going_on_at_the_stop_ends_and_does_not_close() -> None:
    _engine, _stream, during, at_stop = _live("split-brain.pcap", tail_ns=0)  # stop at once
    split = _incident_lines(during, "split-brain")
    assert [o["event"] for o in split][:1] == ["open"] and split[0]["open"] is True
    assert not [o for o in split if o["event"] == "close"]
    ended = _incident_lines(at_stop, "split-brain")
    assert [(o["event"], o["open"]) for o in ended][-1:] == [("end", True)]
    assert not [o for o in _incident_lines(at_stop) if o["event"] == "close"]


def test_an_incident_over_before_the_stop_closes() -> None:
    """failover.pcap: the stop and the return are over before the end."""
    _engine, _stream, during, _end = _live("failover.pcap")
    closed = {o["kind"] for o in _incident_lines(during) if o["event"] == "close"}
    assert {"node-stopped", "node-returned"} <= closed


def test_no_lines_without_a_change() -> None:
    lines: list[dict] = []
    stream = LiveIncidents(lines.append)
    stream.flush([])
    assert lines == [] and stream.incidents == []


def test_metrics_count_incidents_open_and_seen() -> None:
    engine, stream, _during, _end = _live("split-brain.pcap", 15_000_000_000, finish=False)
    registry = CollectorRegistry()
    registry.register(EngineCollector(engine, threading.Lock(), dict, lambda: stream.incidents))
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    open_now = {
        (s.labels["kind"], s.labels["severity"]): s.value
        for s in families["vrrpscope_incidents_open"].samples
    }
    assert open_now[("split-brain", "critical")] == 1
    assert open_now[("node-stopped", "warning")] == 0  # every series present, at 0
    seen = {
        (s.labels["kind"], s.labels["severity"]): s.value
        for s in families["vrrpscope_incidents"].samples
        if s.name == "vrrpscope_incidents_total"
    }
    assert seen[("split-brain", "critical")] == 1
    assert sum(seen.values()) == len(stream.incidents)


def test_costly_correlation_lets_ticks_pass_but_never_the_last():
    """Correlating again costs far more than a tick here (a tick of 1 ns): the next
    flush lets it be, holding its lines; the one at the stop writes them all."""
    from tests.helpers.findings import drift

    lines: list[dict] = []
    stream = LiveIncidents(lines.append, tick_s=1e-9)
    found = [drift(v, f"198.18.1.{v % 4}", 600.0, 3.2) for v in range(1, 9)]
    stream.on_finding(FindingEvent("open", found[0]))
    stream.flush(found[:1])
    written = len(lines)
    assert written >= 2  # the finding, its incident
    stream.on_finding(FindingEvent("open", found[1]))
    stream.flush(found[:2])
    assert len(lines) == written  # held
    stream.finish()
    stream.flush(found[:2])
    assert [o["id"] for o in lines[written:] if o["type"] == "finding"] == [found[1].id]
