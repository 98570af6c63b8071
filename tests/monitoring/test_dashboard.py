"""monitoring/grafana/vrrpscope-dashboard.json: a Grafana dashboard whose every query
parses under promtool, names only metrics vrrpscope exports, and reads right on series
replayed from a bundled capture."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import promseries

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "monitoring" / "grafana" / "vrrpscope-dashboard.json"
CAPTURES = ROOT / "captures"
VARIABLES = {"$instance": ".*", "$segment": ".*", "$__range": "1h", "$__rate_interval": "5m"}

needs_promtool = pytest.mark.skipif(
    promseries.promtool() is None,
    reason="promtool missing: apt-get install prometheus (README's test command)",
)


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _queries() -> list[tuple[str, str]]:
    """(panel title, query with the dashboard's variables filled in)."""
    out = []
    for panel in _dashboard()["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in VARIABLES.items():
                expr = expr.replace(name, value)
            out.append((panel["title"], expr))
    return out


def test_layout() -> None:
    dash = _dashboard()
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dash["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
    names = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "instance", "segment"} <= names
    used = {m for _t, q in _queries() for m in re.findall(r"\$\w+", q)}
    assert not used, used  # every variable the panels use is one VARIABLES fills


@needs_promtool
def test_every_query_parses(tmp_path: Path) -> None:
    """Each query as a recording rule: `promtool check rules` parses it."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": q} for i, (_title, q) in enumerate(_queries())
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promseries.promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_queries_name_exported_metrics() -> None:
    exported = set()
    for capture in ("failover.pcap", "duplicate-vrid.pcap"):
        text = promseries.replay_scrapes(CAPTURES / capture, 1)[-1]
        exported |= {name for name, _labels in promseries.samples(text)}
    named = {m for _t, q in _queries() for m in re.findall(r"\bvrrpscope_[a-z_]+", q)}
    assert named and named <= exported, named - exported


@needs_promtool
def test_health_stat_counts_the_split_brain(tmp_path: Path) -> None:
    """ "Virtual routers without exactly one master" on split-brain.pcap: 0 before the
    block, 1 while both nodes advertise."""
    (query,) = [q for t, q in _queries() if t == "Virtual routers without exactly one master"]
    series = promseries.input_series(promseries.replay_scrapes(CAPTURES / "split-brain.pcap"))
    queries = [
        {"expr": query, "eval_time": "5s", "exp_samples": [{"labels": "{}", "value": 0}]},
        {"expr": query, "eval_time": "14s", "exp_samples": [{"labels": "{}", "value": 1}]},
    ]
    rules = promseries.without_annotations(promseries.ALERT_RULES, tmp_path)
    result = promseries.run_rule_tests(tmp_path, series, [], rules, queries=queries)
    assert result.returncode == 0, result.stdout + result.stderr
