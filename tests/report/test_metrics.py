"""`live --metrics`: the exposition (RFC 6527 vocabulary, bounded labels) read back by the
client library's parser and linted by promtool, with values checked against what the
lab did (captures/*.events.json) and against crafted adverts."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tests.helpers import promseries
from tests.helpers.advertfactory import AdvertFactory, capture
from vrrpscope.engine.core import Engine
from vrrpscope.engine.counters import NEW_MASTER_REASONS, PROTOCOL_ERROR_REASONS
from vrrpscope.report.metrics import EngineCollector
from vrrpscope.thresholds import Thresholds

CAPTURES = Path(__file__).parents[2] / "captures"
ALLOWED_LABELS = {"segment", "family", "protocol", "vrid", "reason", "kind", "severity", "le"}
ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$|:.*:|^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def _last(name: str, tail_s: int = 2) -> dict[promseries.Sample, float]:
    return promseries.samples(promseries.replay_scrapes(CAPTURES / name, tail_s)[-1])


def _value(samples: dict, name: str, **labels: str) -> list[float]:
    return [
        v
        for (n, lab), v in samples.items()
        if n == name and all(dict(lab).get(k) == want for k, want in labels.items())
    ]


def _scrape(engine: Engine) -> dict[promseries.Sample, float]:
    registry = CollectorRegistry()
    registry.register(EngineCollector(engine, threading.Lock(), dict))
    return promseries.samples(generate_latest(registry).decode())


@pytest.mark.parametrize("name", ["failover.pcap", "duplicate-vrid.pcap", "many-vrids.pcap"])
def test_exposition_passes_promtool_lint(name: str) -> None:
    if promseries.promtool() is None:
        pytest.skip("promtool missing: apt-get install prometheus (README's test command)")
    text = promseries.replay_scrapes(CAPTURES / name, 2)[-1]
    lint = subprocess.run(
        [promseries.promtool(), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr


@pytest.mark.parametrize(
    "name", ["split-brain.pcap", "duplicate-vrid.pcap", "hijack.pcap", "vrrpv3-ipv6.pcap"]
)
def test_labels_are_bounded(name: str) -> None:
    """No address, MAC or state in any label: series do not churn as speakers come and go."""
    samples = _last(name)
    assert samples
    for _name, labels in samples:
        assert {k for k, _v in labels} <= ALLOWED_LABELS, labels
        for key, value in labels:
            if key != "segment":
                assert not ADDRESS.search(value), (key, value)


def test_failover_by_resignation_then_preemption() -> None:
    """failover.pcap: r1 (150) is stopped at 7.1 s (keepalived resigns with priority 0) and
    started again at 14.2 s (it preempts r2)."""
    samples = _last("failover.pcap")
    moves = {
        r: _value(samples, "vrrpscope_vr_master_transitions_total", reason=r)
        for r in NEW_MASTER_REASONS
    }
    assert moves == {
        "priority": [1.0],
        "preempted": [1.0],
        "master_no_response": [0.0],
        "resigned": [1.0],
        "other": [0.0],
    }
    assert _value(samples, "vrrpscope_vr_priority_zero_adverts_total") == [1.0]
    assert _value(samples, "vrrpscope_vr_priority") == [150.0]  # r1 again
    # the resignation's takeover is timed (Skew_Time of r2: (256 - 100) / 256 s), the
    # preemption is not
    assert _value(samples, "vrrpscope_vr_takeover_seconds_count") == [1.0]
    (took,) = _value(samples, "vrrpscope_vr_takeover_seconds_sum")
    assert 0.3 < took < 1.0
    assert _value(samples, "vrrpscope_vr_takeover_seconds_bucket", le="0.5") == [0.0]
    assert _value(samples, "vrrpscope_vr_takeover_seconds_bucket", le="1.0") == [1.0]
    assert _value(samples, "vrrpscope_vr_slow_takeovers_total") == [0.0]


def test_killed_master_is_a_master_no_response_within_master_down_interval() -> None:
    """failover-kill.pcap: r1 is SIGKILLed (no priority 0); r2 (100) waits
    Master_Down_Interval = 3 x 1 s + (256 - 100) / 256 s."""
    samples = _last("failover-kill.pcap")
    assert _value(
        samples, "vrrpscope_vr_master_transitions_total", reason="master_no_response"
    ) == [1.0]
    assert _value(samples, "vrrpscope_vr_priority_zero_adverts_total") == [0.0]
    assert _value(samples, "vrrpscope_vr_takeover_seconds_bucket", le="3.0") == [0.0]
    assert _value(samples, "vrrpscope_vr_takeover_seconds_bucket", le="4.0") == [1.0]
    assert _value(samples, "vrrpscope_vr_priority") == [100.0]


def test_master_timers() -> None:
    """split-brain.pcap at its start: r1 (150) master, r2 (100) its backup."""
    scrapes = promseries.replay_scrapes(CAPTURES / "split-brain.pcap")
    steady = promseries.samples(scrapes[5])  # before the block at 6.1 s
    assert _value(steady, "vrrpscope_vr_masters") == [1.0]
    assert _value(steady, "vrrpscope_vr_priority") == [150.0]
    assert _value(steady, "vrrpscope_vr_advertised_interval_seconds") == [1.0]
    (observed,) = _value(steady, "vrrpscope_vr_observed_interval_seconds")
    assert 0.95 < observed < 1.05
    # no backup heard yet (a VRRP backup is silent): one just below the master's 150
    assert _value(steady, "vrrpscope_vr_master_down_interval_seconds") == [3 + 106 / 256]
    blocked = promseries.samples(scrapes[15])  # r2 stopped hearing r1: both advertise
    assert _value(blocked, "vrrpscope_vr_masters") == [2.0]
    # r2 (100) heard now: its Master_Down_Interval
    assert _value(blocked, "vrrpscope_vr_master_down_interval_seconds") == [3 + 156 / 256]
    assert _value(blocked, "vrrpscope_vr_findings_open", kind="split-brain") == [1.0]


def test_vrids_in_use_and_free() -> None:
    samples = _last("many-vrids.pcap")
    used = {
        dict(lab)["family"]: v
        for (n, lab), v in samples.items()
        if n == "vrrpscope_segment_vrids_in_use"
    }
    free = {
        dict(lab)["family"]: v
        for (n, lab), v in samples.items()
        if n == "vrrpscope_segment_vrids_free"
    }
    routers = {
        dict(lab)["family"]: dict(lab)["vrid"]
        for (n, lab), _v in samples.items()
        if n == "vrrpscope_vr_masters"
    }
    assert used and set(used) == set(routers)
    for family, count in used.items():
        vrids = {
            dict(lab)["vrid"]
            for (n, lab), _v in samples.items()
            if n == "vrrpscope_vr_masters" and dict(lab)["family"] == family
        }
        assert count == len(vrids)
        assert free[family] == 255 - count


def test_protocol_errors_by_reason() -> None:
    """Discarded adverts count once per reason: a bad checksum, TTL 64 (a hop between),
    both at once, a VRRPv2 advert without its auth field; accepted ones never."""
    f = AdvertFactory(segment="eth0")
    good = f.train("10.0.0.1", 0, 20, priority=150)
    bad = [
        f.advert(2.5, "10.0.0.9", checksum_ok=False, issues=("checksum",)),
        f.advert(3.5, "10.0.0.9", checksum_ok=False, issues=("checksum",)),
        f.advert(4.5, "10.0.0.9", ttl=64, issues=("ttl",)),
        f.advert(5.5, "10.0.0.9", ttl=64, checksum_ok=False, issues=("ttl", "checksum")),
        f.advert(6.5, "10.0.0.9", issues=("no-auth-field",)),
        f.advert(7.5, "10.0.0.9", issues=("truncated", "length")),
    ]
    engine = Engine(Thresholds())
    for advert in capture(good, bad):
        engine.advance(advert.ts_ns)
        engine.feed(advert)
    samples = _scrape(engine)
    errors = {
        r: _value(samples, "vrrpscope_vr_protocol_errors_total", reason=r)
        for r in PROTOCOL_ERROR_REASONS
    }
    assert errors == {
        r: [{"checksum": 3.0, "ip_ttl": 2.0, "auth": 1.0, "length": 1.0}.get(r, 0.0)]
        for r in PROTOCOL_ERROR_REASONS
    }
    assert _value(samples, "vrrpscope_vr_adverts_total") == [len(good) + len(bad)]
    assert _value(samples, "vrrpscope_vr_masters") == [1.0]


def test_healthy_day_keeps_its_series_count() -> None:
    """Twenty speakers replaced one after another on one VRID: the series stay the same
    (no speaker label) and only the counters move."""
    f = AdvertFactory(segment="eth0")
    streams = [f.train(f"10.0.0.{i + 1}", i * 30.0, i * 30.0 + 25, priority=100) for i in range(20)]
    engine = Engine(Thresholds())
    sizes = []
    for n, advert in enumerate(capture(*streams)):
        engine.advance(advert.ts_ns)
        engine.feed(advert)
        if n % 100 == 99:
            sizes.append(len(_scrape(engine)))
    assert len(set(sizes)) == 1, sizes
    samples = _scrape(engine)
    assert _value(samples, "vrrpscope_vr_speakers") == [20.0]
    moves = _value(samples, "vrrpscope_vr_master_transitions_total", reason="master_no_response")
    assert moves == [19.0]
