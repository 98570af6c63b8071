"""monitoring/prometheus/vrrpscope-alerts.yml under `promtool check rules` and `promtool
test rules`, on series scraped from vrrpscope's metrics while the bundled lab captures
are replayed as `live` feeds them (one scrape a second). When an alert must fire comes
from what the lab did (captures/*.events.json), never from the replay itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import promseries

CAPTURES = Path(__file__).parents[2] / "captures"
VR = {"segment": "default", "family": "4", "protocol": "vrrp"}
SENSOR = promseries.SENSOR

pytestmark = pytest.mark.skipif(
    promseries.promtool() is None,
    reason="promtool missing: apt-get install prometheus (README's test command)",
)


def _event_s(name: str, event: str) -> float:
    """Seconds from the capture's first frame to the lab's first ``event``."""
    data = json.loads((CAPTURES / f"{name}.events.json").read_text())
    first = min(e["t_ns"] for e in data["events"] if e["event"] == "start")
    (t,) = [e["t_ns"] for e in data["events"] if e["event"] == event][:1]
    return (t - first) / 1e9


def _alerts(alertname: str, at_s: float, *expected: dict[str, str]) -> dict:
    return {
        "eval_time": f"{round(at_s)}s",
        "alertname": alertname,
        "exp_alerts": [{"exp_labels": labels} for labels in expected],
    }


def _vr(vrid: int, severity: str, **more: str) -> dict[str, str]:
    return {"severity": severity, "instance": SENSOR["instance"], **VR, "vrid": str(vrid), **more}


def _check(tmp_path: Path, capture: str, checks: list[dict], tail_s: int = 2) -> None:
    series = promseries.input_series(promseries.replay_scrapes(CAPTURES / capture, tail_s))
    rules = promseries.without_annotations(promseries.ALERT_RULES, tmp_path)
    result = promseries.run_rule_tests(tmp_path, series, checks, rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_are_valid() -> None:
    result = subprocess.run(
        [promseries.promtool(), "check", "rules", str(promseries.ALERT_RULES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 11 rules found" in result.stdout


def test_split_brain_fires_while_the_backup_is_cut_off(tmp_path: Path) -> None:
    """split-brain.pcap: r2's INPUT drops VRRP from `block` to `unblock`."""
    block, unblock = _event_s("split-brain", "block"), _event_s("split-brain", "unblock")
    mdi = 3 + 156 / 256  # r2 (100) takes over after Master_Down_Interval
    firing = _vr(51, "critical")
    _check(
        tmp_path,
        "split-brain.pcap",
        [
            _alerts("VrrpSplitBrain", block),
            _alerts("VrrpSplitBrain", unblock - 1, firing),
            _alerts("VrrpSplitBrain", unblock + 2 * mdi + 3),
            _alerts("VrrpNoMaster", unblock - 1),
            _alerts("VrrpDuplicateVrid", unblock - 1),
        ],
        tail_s=5,
    )
    assert unblock - block > mdi + 5  # the window the scenario leaves


def test_failover_alerts_name_the_reason(tmp_path: Path) -> None:
    """failover.pcap: r1 stopped (keepalived resigns: priority 0), later started again
    (it preempts r2)."""
    stop, start = _event_s("failover", "stop"), _event_s("failover", "start")
    assert start == 0  # the first start: the lab brings both up
    data = json.loads((CAPTURES / "failover.events.json").read_text())
    restart = sorted(e["t_ns"] for e in data["events"] if e["event"] == "start")[-1]
    restart_s = (restart - min(e["t_ns"] for e in data["events"] if e["event"] == "start")) / 1e9
    resigned = _vr(51, "info", reason="resigned")
    preempted = _vr(51, "info", reason="preempted")
    _check(
        tmp_path,
        "failover.pcap",
        [
            _alerts("VrrpFailover", stop - 1),
            _alerts("VrrpFailover", stop + 2, resigned),
            # r1 waits Master_Down_Interval as a backup before it preempts
            _alerts("VrrpFailover", restart_s + 3 + 106 / 256 + 3, resigned, preempted),
            _alerts("VrrpSlowTakeover", restart_s + 7),
            _alerts("VrrpNoMaster", stop + 2),
        ],
    )


def test_no_master_fires_while_every_node_is_silenced(tmp_path: Path) -> None:
    """no-master.pcap: both nodes' OUTPUT drops VRRP from `block` to `unblock`."""
    block, unblock = _event_s("no-master", "block"), _event_s("no-master", "unblock")
    _check(
        tmp_path,
        "no-master.pcap",
        [
            _alerts("VrrpNoMaster", block - 1),
            _alerts("VrrpNoMaster", unblock - 1, _vr(51, "critical", job=SENSOR["job"])),
            _alerts("VrrpNoMaster", unblock + 4),
            _alerts("VrrpSplitBrain", unblock - 1),
        ],
    )


def test_checksum_form_mismatch_fires(tmp_path: Path) -> None:
    """v3-checksum-mismatch.pcap: r1 and r2 compute the VRRPv3 checksum differently."""
    _check(
        tmp_path,
        "v3-checksum-mismatch.pcap",
        [
            _alerts("VrrpChecksumErrors", 8, _vr(57, "warning")),
            _alerts("VrrpProtocolErrors", 8),
        ],
    )


def test_duplicate_vrid_alert_tells_the_free_vrids(tmp_path: Path) -> None:
    """duplicate-vrid.pcap: two clusters on VRID 51; the annotation (a template querying
    the free-VRID gauge) is checked in full."""
    series = promseries.input_series(promseries.replay_scrapes(CAPTURES / "duplicate-vrid.pcap", 2))
    rules = promseries.ALERT_RULES
    check = _alerts("VrrpDuplicateVrid", 12, _vr(51, "critical"))
    check["exp_alerts"][0]["exp_annotations"] = {
        "summary": "Two clusters share vrrp VRID 51 on default",
        "description": (
            "Clusters with different virtual IPs advertise on one VRID (keepalived logs "
            '"ip address associated with VRID not present"). Move one to a free VRID: '
            "254 are free on this segment."
        ),
    }
    result = promseries.run_rule_tests(tmp_path, series, [check], rules)
    assert result.returncode == 0, result.stdout + result.stderr


ALERT_NAMES = [
    "VrrpSplitBrain",
    "VrrpDuplicateVrid",
    "VrrpNoMaster",
    "VrrpChecksumErrors",
    "VrrpProtocolErrors",
    "VrrpSlowTakeover",
    "VrrpFailover",
    "VrrpAdvertsLate",
    "VrrpscopeCaptureDown",
    "VrrpscopeCaptureDrops",
    "VrrpscopeSensorDown",
]


def _silent(tmp_path: Path, scrapes: list[str], step_s: int) -> None:
    """No alert at any of a few evaluations across ``scrapes``."""
    n = len(scrapes)
    times = sorted({n // 4, n // 2, 3 * n // 4, n - 1})
    checks = [_alerts(name, t * step_s) for name in ALERT_NAMES for t in times]
    series = promseries.input_series(scrapes)
    rules = promseries.without_annotations(promseries.ALERT_RULES, tmp_path)
    result = promseries.run_rule_tests(tmp_path, series, checks, rules, step_s)
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthy_capture_raises_no_alert(tmp_path: Path) -> None:
    _silent(tmp_path, promseries.replay_scrapes(CAPTURES / "baseline.pcap", 1), 1)


def test_healthy_twenty_minutes_of_ten_groups_raise_no_alert(tmp_path: Path) -> None:
    """A generated healthy 20 minutes (ten groups, their timer jitter), scraped every 30 s
    (the findings of hours-long days are tested in tests/test_longday.py)."""
    from tests.helpers.longday import make_healthy_day

    capture = make_healthy_day(tmp_path, 1200, 10, seed=7)
    scrapes = promseries.replay_scrapes(capture, 0, step_s=30)
    assert len(scrapes) >= 39
    masters = promseries.samples(scrapes[-1])
    assert sum(v for (n, _l), v in masters.items() if n == "vrrpscope_vr_masters") == 10
    _silent(tmp_path, scrapes, 30)


def test_sensor_alerts(tmp_path: Path) -> None:
    """The sensor's own series: interface down for 30 s, kernel drops, scrape failing."""
    sensor = ",".join(f'{k}="{v}"' for k, v in SENSOR.items())
    series = [
        {"series": f"vrrpscope_capture_up{{{sensor}}}", "values": "1x10 0x40 1x10"},
        {"series": f"vrrpscope_capture_kernel_drops_total{{{sensor}}}", "values": "0x20 5x40"},
        {"series": f"up{{{sensor}}}", "values": "1x60 0x70"},
    ]
    down = {"severity": "critical", **SENSOR}
    checks = [
        _alerts("VrrpscopeCaptureDown", 30),
        _alerts("VrrpscopeCaptureDown", 45, down),
        _alerts("VrrpscopeCaptureDown", 62),
        _alerts("VrrpscopeCaptureDrops", 10),
        _alerts("VrrpscopeCaptureDrops", 25, {"severity": "warning", **SENSOR}),
        _alerts("VrrpscopeSensorDown", 100),
        _alerts("VrrpscopeSensorDown", 125, down),
    ]
    rules = promseries.without_annotations(promseries.ALERT_RULES, tmp_path)
    result = promseries.run_rule_tests(tmp_path, series, checks, rules)
    assert result.returncode == 0, result.stdout + result.stderr
