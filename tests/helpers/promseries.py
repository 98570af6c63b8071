"""Prometheus series from vrrpscope's metrics, for `promtool test rules`.

A capture is replayed into an engine tick by tick (as `live` feeds the wire) and the
collector is scraped once per second of capture time; the live lab scrapes a running
`vrrpscope live --metrics`. Either list of scrapes becomes promtool input series (one
sample per scrape, ``_`` where a series was absent), labelled as Prometheus would label
a sensor's samples (job, instance).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vrrpscope.commands.live_stream import LiveIncidents
from vrrpscope.engine.core import Engine
from vrrpscope.pipeline import DecodeSession
from vrrpscope.report.metrics import EngineCollector
from vrrpscope.thresholds import Thresholds

ROOT = Path(__file__).parents[2]
ALERT_RULES = ROOT / "monitoring" / "prometheus" / "vrrpscope-alerts.yml"
SENSOR = {"job": "vrrpscope", "instance": "sensor:9788"}
TICK_NS = 200_000_000  # live's tick

Sample = tuple[str, tuple[tuple[str, str], ...]]  # (sample name, sorted labels)


def promtool() -> str | None:
    return shutil.which("promtool")


def replay_scrapes(capture: Path, tail_s: int = 0, step_s: int = 1) -> list[str]:
    """Scrapes of the metrics while ``capture`` is fed in live's ticks: one at the first
    frame and one every ``step_s`` of capture time after it (for ``tail_s`` more after
    the last frame, as a sensor scraped on while the wire is quiet)."""
    step_ns = step_s * 1_000_000_000
    stream = LiveIncidents(lambda _line: None)
    engine = Engine(Thresholds(), on_event=stream.on_finding)
    registry = CollectorRegistry()
    frames = [0]
    registry.register(
        EngineCollector(
            engine,
            threading.Lock(),
            lambda: {"up": 1, "frames": frames[0], "adverts": frames[0]},
            lambda: stream.incidents,
        )
    )
    scrapes: list[str] = []
    first = next_tick = next_scrape = None
    for item in DecodeSession([str(capture)]).items():
        ts = item.ts_ns
        if first is None:
            first = ts
            next_tick, next_scrape = ts + TICK_NS, ts
        while ts >= next_tick or ts >= next_scrape:
            if next_scrape <= next_tick:
                engine.advance(next_scrape)
                stream.flush(engine.findings)
                scrapes.append(generate_latest(registry).decode())
                next_scrape += step_ns
            else:
                engine.advance(next_tick)
                stream.flush(engine.findings)
                next_tick += TICK_NS
        engine.feed_item(item)
        frames[0] += 1
    assert next_scrape is not None, f"{capture}: no frames"
    end = next_scrape + tail_s * 1_000_000_000
    while next_scrape <= end:
        engine.advance(next_scrape)
        stream.flush(engine.findings)
        scrapes.append(generate_latest(registry).decode())
        next_scrape += step_ns
    return scrapes


def samples(text: str) -> dict[Sample, float]:
    """One scrape's samples, parsed by the client library's exposition parser."""
    out: dict[Sample, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def input_series(scrapes: list[str | None], extra: dict[str, str] = SENSOR) -> list[dict[str, str]]:
    """promtool input series: every series any scrape had, one value per scrape (a
    scrape that failed, None, leaves a gap in every series)."""
    parsed = [samples(text) if text is not None else {} for text in scrapes]
    names = sorted({key for p in parsed for key in p})
    out = []
    for name, labels in names:
        all_labels = dict(labels) | extra
        body = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(all_labels.items()))
        values = " ".join(_value(p.get((name, labels))) for p in parsed)
        out.append({"series": f"{name}{{{body}}}", "values": values})
    up = {"job": extra["job"], "instance": extra["instance"]}
    body = ",".join(f'{k}="{v}"' for k, v in sorted(up.items()))
    up_values = " ".join("_" if text is None else "1" for text in scrapes)
    out.append({"series": f"up{{{body}}}", "values": up_values})
    return out


def run_rule_tests(
    tmp: Path,
    series: list[dict[str, str]],
    checks: list[dict],
    rules: Path = ALERT_RULES,
    step_s: int = 1,
    queries: list[dict] | None = None,
) -> subprocess.CompletedProcess:
    """`promtool test rules` of ``rules`` on ``series`` (``step_s`` apart, rules evaluated
    as often) with ``checks`` (alert_rule_test entries) and ``queries``
    (promql_expr_test entries)."""
    every = f"{step_s}s"
    test: dict = {"interval": every, "input_series": series, "alert_rule_test": checks}
    if queries:
        test["promql_expr_test"] = queries
    spec = {"rule_files": [str(rules)], "evaluation_interval": every, "tests": [test]}
    path = tmp / "vrrpscope-test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, width=1 << 20))
    tool = promtool()
    assert tool is not None
    return subprocess.run(
        [tool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120
    )


def without_annotations(rules: Path, tmp: Path) -> Path:
    """A copy of ``rules`` without annotations (alert tests that check labels only)."""
    doc = yaml.safe_load(rules.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    out = tmp / "rules-labels-only.yml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _value(value: float | None) -> str:
    if value is None:
        return "_"
    return repr(float(value))
