"""`vrrpscope live` against real keepalived in the lab (network namespaces, needs root).

Every `vrrpscope live` runs as a subprocess inside the lab's bridge namespace on ``br0``
(never in the caller's namespace), bounded by ``--duration`` and a ``timeout`` wrapper.
One module-scoped lab with keepalived on r1 (priority 150), r2 (100) and r3 (50) serves
all tests: a recorded run injects a failover, a split brain and a silenced segment in
sequence and several tests assert on its JSON stream; the dashboard, SIGTERM, flood and
error tests reuse the same lab afterwards.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import promseries
from tests.lab.live_helpers import (
    PYTHON,
    ROOT,
    LiveRun,
    PtyRun,
    link_rx_packets,
    live_command,
    live_env,
    metric,
    run_in_ns,
    scrape,
    start_flood,
)
from tests.lab.netlab import Lab, VrrpInstance, keepalived_config, tcpdump_adverts

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_ok")]

VRID = 51
VIP = "198.18.1.100"
PRIORITIES = {"r1": 150, "r2": 100, "r3": 50}
ADDR = {"r1": "198.18.1.1", "r2": "198.18.1.2", "r3": "198.18.1.3"}
METRICS_PORT = 9788


def master_down_interval(priority: int, advert_int: float = 1.0) -> float:
    """RFC 3768: 3 × Advertisement_Interval + Skew_Time."""
    return 3 * advert_int + (256 - priority) / 256


@pytest.fixture(scope="module")
def lab(lab_ok: None) -> Lab:
    with Lab({"r1": [1], "r2": [1], "r3": [1], "fl": [1]}, timeout=240) as lb:
        yield lb


@dataclass
class Recorded:
    """The recorded scenario run: the live process's output plus what we did when."""

    run: LiveRun
    pcap: Path
    marks: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    scraper: Scraper | None = None
    offline: list[dict] = field(default_factory=list)
    offline_rc: int | None = None
    offline_err: str = ""
    midrun: list = field(default_factory=list)


def _first(run: LiveRun, kind: str, after: float, event: str = "open") -> float | None:
    """Arrival time of the first streamed ``kind`` finding event after ``after``."""
    times = [t for t, _o in run.findings(kind, event) if t >= after]
    return min(times) if times else None


def _master_is(text: str, who: str) -> bool:
    """The metrics say one master, advertising ``who``'s priority."""
    vr = {"vrid": str(VRID), "segment": "br0"}
    return metric(text, "vrrpscope_vr_masters", **vr) == [1.0] and metric(
        text, "vrrpscope_vr_priority", **vr
    ) == [float(PRIORITIES[who])]


class Scraper:
    """Scrapes the metrics once a second (slot k at start + k s) in a thread, as
    Prometheus would; a slot whose scrape failed or came late is None."""

    def __init__(self, ns: str, port: int) -> None:
        self.ns, self.port = ns, port
        self.start = time.time()
        self.slots: list[str | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            slot = len(self.slots)
            delay = self.start + slot - time.time()
            if delay > 0 and self._stop.wait(delay):
                return
            late = time.time() - (self.start + slot) > 0.5
            text = None if late else scrape(self.ns, self.port, 0.8) or None
            self.slots.append(text)

    def slot(self, t: float) -> int:
        """The first slot scraped at or after wall time ``t``."""
        return max(0, math.ceil(t - self.start))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="module")
def recorded(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One live run (JSON, -w, --metrics) while failover, split brain and silence happen."""
    out = tmp_path_factory.mktemp("live")
    pcap = out / "live.pcapng"
    ns = lab.bridge_ns
    args = ["br0", "--json", "-w", str(pcap), "--metrics", f"127.0.0.1:{METRICS_PORT}"]
    run = LiveRun.start(ns, [*args, "--snapshot-interval", "2"], duration=80)
    rec = Recorded(run, pcap)
    try:
        assert run.wait_for(lambda: scrape(ns, METRICS_PORT, 1) != "", 15), "no metrics"
        rec.scraper = Scraper(ns, METRICS_PORT)
        for name, prio in PRIORITIES.items():
            inst = VrrpInstance("VI_51", VRID, prio, [f"{VIP}/24"])
            lab.start_keepalived(name, keepalived_config(inst, router_id=name))

        def steady(who: str) -> bool:
            rec.metrics["steady"] = scrape(ns, METRICS_PORT)
            return _master_is(rec.metrics["steady"], who)

        lab.wait_for(lambda: steady("r1"), 12, 0.3)
        lab.wait(1.5)  # a few adverts from r1 (and the backups' silence) settle
        rec.metrics["steady"] = scrape(ns, METRICS_PORT)
        rec.metrics["before_failover"] = rec.metrics["steady"]

        # 1. failover: SIGTERM the master (keepalived resigns with priority 0).
        rec.marks["failover"] = lab.stop("r1").t_ns / 1e9
        bound = master_down_interval(PRIORITIES["r2"]) + 1
        run.wait_for(lambda: _first(run, "failover", rec.marks["failover"]), bound + 2)
        lab.wait_for(lambda: steady("r2"), 3, 0.3)
        rec.metrics["after_failover"] = rec.metrics["steady"]
        rec.midrun = tcpdump_adverts(pcap)  # -w is flushed: readable while live runs
        lab.wait(1.5)

        # 2. split brain: the backup r3 stops hearing r2 and becomes master as well.
        lab.block("r3", "INPUT", family=4)
        rec.marks["split_start"] = time.time()
        run.wait_for(lambda: _first(run, "split-brain", rec.marks["split_start"]), 10)
        lab.wait(1.5)
        rec.marks["split_end"] = time.time()
        lab.unblock("r3", "INPUT", family=4)
        lab.wait(2.5)

        # 3. silence: nobody's adverts leave (OUTPUT drop on all running routers).
        rec.marks["silence_start"] = time.time()
        for name in ("r2", "r3"):
            lab.block(name, "OUTPUT", family=4)
        run.wait_for(lambda: _first(run, "no-master", rec.marks["silence_start"]), 10)
        lab.wait(1.0)
        rec.marks["silence_end"] = time.time()
        for name in ("r2", "r3"):
            lab.unblock(name, "OUTPUT", family=4)
        lab.wait(4.5)  # adverts resume; r3 backs off again
        rec.marks["sigint"] = time.time()
        run.signal(signal.SIGINT)
    finally:
        if rec.scraper is not None:
            rec.scraper.stop()
        run.finish(20)
        for rule in list(lab.rules):  # leave the lab clean for the next tests
            lab.unblock(rule.router, rule.args[0])
    res = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "analyze", "--json", str(pcap)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    rec.offline_rc, rec.offline_err = res.returncode, res.stderr
    rec.offline = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    return rec


# --------------------------------------------------------------------------- scenario


def test_failover_streamed_within_master_down_interval(recorded: Recorded) -> None:
    run, t_inj = recorded.run, recorded.marks["failover"]
    bound = master_down_interval(PRIORITIES["r2"]) + 1.0
    opened = [(t, o) for t, o in run.findings("failover") if t >= t_inj]
    assert opened, f"no failover finding streamed after the injection: {run.stderr}"
    t, obj = opened[0]
    assert obj["vrid"] == VRID and obj["open"] is True
    assert obj["details"]["from"] == ADDR["r1"] and obj["details"]["to"] == ADDR["r2"]
    assert t - t_inj <= bound, f"arrived {t - t_inj:.2f}s after the injection (> {bound:.2f})"
    assert obj["last_ts"] - t_inj <= bound  # capture time of the takeover advert, too


def test_split_brain_streamed_while_it_lasts(recorded: Recorded) -> None:
    run, marks = recorded.run, recorded.marks
    opened = [
        (t, o)
        for t, o in run.findings("split-brain")
        if marks["split_start"] <= t <= marks["split_end"]
    ]
    assert opened, "no split-brain finding opened while r3 was deaf"
    obj = opened[0][1]
    assert obj["vrid"] == VRID
    assert set(obj["speakers"]) == {ADDR["r2"], ADDR["r3"]}
    assert obj["open"] is True


def test_silence_gives_no_master_from_the_timer(recorded: Recorded) -> None:
    run, marks = recorded.run, recorded.marks
    opened = [
        (t, o)
        for t, o in run.findings("no-master")
        if marks["silence_start"] <= t <= marks["silence_end"]
    ]
    assert opened, "no no-master finding while every advert was dropped"
    t, obj = opened[0]
    assert obj["vrid"] == VRID and obj["details"]["last_master"] == ADDR["r2"]
    # The engine's timer fired without a packet: the -w file holds no VRRP advert between
    # the last one before the silence and the moment the finding arrived.
    adverts = _advert_times(recorded.pcap)
    before = [a for a in adverts if a <= marks["silence_start"] + 0.05]
    assert before, "no adverts before the silence?"
    during = [a for a in adverts if before[-1] < a <= t]
    assert not during, f"adverts arrived during the silence: {during}"
    assert t - before[-1] >= master_down_interval(PRIORITIES["r2"]) - 0.3
    assert t - before[-1] <= master_down_interval(PRIORITIES["r3"]) + 1.5


def test_incidents_streamed_with_their_findings(recorded: Recorded) -> None:
    """One incident line when the stop, the split brain and the silence begin; every
    streamed finding names its incident; the closing summary keeps the same ids."""
    run, marks = recorded.run, recorded.marks
    streamed = [(t, o) for t, o in run.objects() if o.get("type") == "incident" and "event" in o]
    opened = {o["id"]: (t, o) for t, o in reversed(streamed) if o["event"] == "open"}
    assert len(opened) == len({o["id"] for _t, o in streamed})  # each opened once, first
    latest = {o["id"]: o for _t, o in streamed}

    def began(kind: str, start: float, end: float) -> dict:
        hits = [i for i, (t, _o) in opened.items() if start <= t <= end]
        hits = [latest[i] for i in hits if latest[i]["kind"] == kind]
        assert len(hits) == 1, (kind, [o for _t, o in streamed])
        return hits[0]

    bound = master_down_interval(PRIORITIES["r2"]) + 1.0
    stop = began("node-stopped", marks["failover"], marks["failover"] + bound + 1)
    assert stop["vrids"] == [VRID] and stop["details"]["node"] == ADDR["r1"]
    assert f"{ADDR['r2']} took over" in stop["message"], stop
    split = began("split-brain", marks["split_start"], marks["split_end"])
    assert set(split["nodes"]) == {ADDR["r2"], ADDR["r3"]}
    findings = [o for _t, o in run.objects() if o.get("type") == "finding" and "event" in o]
    assert findings and {o["incident"] for o in findings} <= set(opened)
    summary_ids = {
        o["id"] for _t, o in run.objects() if o.get("type") == "incident" and "event" not in o
    }
    assert summary_ids and summary_ids <= set(opened)
    assert {o["incident"] for o in run.final_findings()} <= summary_ids


def _advert_times(pcap: Path) -> list[float]:
    """VRRP adverts in the -w file as tcpdump decodes them (an independent reader)."""
    return sorted(a.t for a in tcpdump_adverts(pcap) if a.vrid == VRID)


def test_offline_analysis_of_the_written_file_matches(recorded: Recorded) -> None:
    assert recorded.offline_rc == 0, recorded.offline_err
    live = recorded.run.final_findings()
    offline = [o for o in recorded.offline if o.get("type") == "finding"]
    assert live, "live run printed no final findings"

    def key(o: dict) -> tuple:
        return (o["kind"], o["vrid"], tuple(o["speakers"]))

    assert Counter(map(key, live)) == Counter(map(key, offline))
    summary, offline_summary = recorded.run.summary(), recorded.offline[0]
    assert summary is not None and offline_summary["type"] == "summary"
    end = max(summary["last_ts"], offline_summary["last_ts"])
    pending = list(offline)
    for f in live:
        match = min(
            (o for o in pending if key(o) == key(f)),
            key=lambda o: abs(o["first_ts"] - f["first_ts"]),
        )
        pending.remove(match)
        assert abs(match["first_ts"] - f["first_ts"]) <= 0.05, (f, match)
        # A finding still open at the end lasts to the end of the capture: live ends on
        # SIGINT, the file at its last frame (adverts come every second).
        to_end = f["last_ts"] >= end - 1.5
        assert abs(match["last_ts"] - f["last_ts"]) <= (1.2 if to_end else 0.05), (f, match)
    assert summary["adverts"] == offline_summary["adverts"]
    assert summary["frames"] == offline_summary["frames"]
    assert summary["capture"]["frames"] == summary["frames"]


def test_written_file_is_readable_during_the_run(recorded: Recorded) -> None:
    seen = {(a.src, a.prio) for a in recorded.midrun if a.vrid == VRID}
    assert (ADDR["r1"], 0) in seen, seen  # r1's resignation, read while live still ran
    assert (ADDR["r2"], PRIORITIES["r2"]) in seen


def test_metrics_show_master_and_priority(recorded: Recorded) -> None:
    steady = recorded.metrics.get("before_failover", "")
    vr = {"segment": "br0", "family": "4", "protocol": "vrrp", "vrid": str(VRID)}
    assert metric(steady, "vrrpscope_vr_masters", **vr) == [1.0], steady[:2000]
    assert metric(steady, "vrrpscope_vr_priority", **vr) == [150.0]
    assert metric(steady, "vrrpscope_vr_advertised_interval_seconds", **vr) == [1.0]
    # by the time of the last scrape r2 had taken over: r1 resigned (priority 0)
    after = recorded.metrics["after_failover"]
    assert _master_is(after, "r2")
    assert metric(after, "vrrpscope_vr_speakers", **vr) == [2.0]  # r3 is a silent backup
    moves = metric(after, "vrrpscope_vr_master_transitions_total", **vr, reason="resigned")
    assert moves == [1.0]
    assert metric(after, "vrrpscope_vr_priority_zero_adverts_total", **vr)[0] >= 1
    assert metric(after, "vrrpscope_vr_takeover_seconds_count", **vr) == [1.0]
    (took,) = metric(after, "vrrpscope_vr_takeover_seconds_sum", **vr)
    assert took <= (256 - PRIORITIES["r2"]) / 256 + 0.5  # Skew_Time of r2, the one to take over
    assert metric(after, "vrrpscope_findings_open", kind="split-brain") == [0.0]
    assert metric(after, "vrrpscope_capture_up") == [1.0]
    stopped = {"kind": "node-stopped", "severity": "warning"}
    assert metric(after, "vrrpscope_incidents_total", **stopped) == [1.0]
    assert metric(after, "vrrpscope_incidents_open", kind="split-brain", severity="critical") == [
        0.0
    ]
    assert metric(after, "vrrpscope_capture_kernel_drops_total") == [0.0]


def test_alert_rules_fire_on_the_live_series(recorded: Recorded, tmp_path: Path) -> None:
    """The shipped alert rules under `promtool test rules`, on the series scraped from the
    live run once a second: the failover and the split brain alert when they happened."""
    if promseries.promtool() is None:
        pytest.skip("promtool missing: apt-get install prometheus (README's test command)")
    scraper = recorded.scraper
    assert scraper is not None
    scraped = sum(t is not None for t in scraper.slots)
    assert scraped >= 0.8 * len(scraper.slots) and scraped > 20, (scraped, len(scraper.slots))
    series = promseries.input_series(scraper.slots)
    sensor = {"instance": promseries.SENSOR["instance"]}
    vr = {**sensor, "segment": "br0", "family": "4", "protocol": "vrrp", "vrid": str(VRID)}
    failover = scraper.slot(recorded.marks["failover"])
    split = _first(recorded.run, "split-brain", recorded.marks["split_start"])
    assert split is not None
    resigned = "resigned"  # keepalived stopped with SIGTERM: priority 0
    checks = [
        _alert_check("VrrpFailover", failover - 1),
        _alert_check("VrrpFailover", failover + 3, {**vr, "severity": "info", "reason": resigned}),
        _alert_check("VrrpSplitBrain", failover + 3),
        _alert_check("VrrpSplitBrain", scraper.slot(split) + 1, {**vr, "severity": "critical"}),
        _alert_check("VrrpDuplicateVrid", scraper.slot(split) + 1),
        _alert_check("VrrpscopeCaptureDown", len(scraper.slots) - 1),
    ]
    rules = promseries.without_annotations(promseries.ALERT_RULES, tmp_path)
    result = promseries.run_rule_tests(tmp_path, series, checks, rules)
    assert result.returncode == 0, result.stdout + result.stderr


def _alert_check(alertname: str, slot: int, *firing: dict[str, str]) -> dict:
    return {
        "eval_time": f"{slot}s",
        "alertname": alertname,
        "exp_alerts": [{"exp_labels": labels} for labels in firing],
    }


def test_sigint_prints_the_summary_and_exits_0(recorded: Recorded) -> None:
    run = recorded.run
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    summary = run.summary()
    assert summary is not None, "no summary line"
    assert summary["files"] == ["br0"] and summary["adverts"] > 10
    assert summary["capture"]["stopped_by"] == "signal"
    assert "stopped by signal" in run.stderr
    # still open at the stop (keepalived without use_vmac): "end", never "close"
    assert run.findings("non-standard-mac", "end"), run.objects()[-12:]
    assert not run.findings("non-standard-mac", "close")
    # root is dropped after the socket is open, or kept with the reason on stderr
    assert re.search(r"^vrrpscope: (dropped root|kept root)", run.stderr, re.M), run.stderr
    last = run.objects()[-1][0]
    assert last - recorded.marks["sigint"] < 3.0


# --------------------------------------------------------------------------- more runs


def test_sigterm_prints_the_summary_and_exits_0(lab: Lab, recorded: Recorded) -> None:
    run = LiveRun.start(lab.bridge_ns, ["br0", "--json", "--snapshot-interval", "0.5"], 30)
    try:
        assert run.wait_for(lambda: any(o.get("type") == "router" for _t, o in run.objects()), 8)
        run.signal(signal.SIGTERM)
    finally:
        rc = run.finish(15)
    assert rc == 0, run.stderr
    assert "Traceback" not in run.stderr
    summary = run.summary()
    assert summary is not None and summary["capture"]["stopped_by"] == "signal"
    routers = [o for _t, o in run.objects() if o.get("type") == "router" and "ts" not in o]
    assert routers and routers[0]["vrid"] == VRID and routers[0]["masters"] == [ADDR["r2"]]


def test_dashboard_on_a_terminal(lab: Lab, recorded: Recorded) -> None:
    """Read the screen of `vrrpscope live br0` on a pseudo-terminal; silence must show."""
    title = "vrrpscope live on br0"
    term = PtyRun.start(lab.bridge_ns, ["br0"], duration=40)
    silent_screen = ""
    try:
        assert _until(lambda: ADDR["r2"] in term.text(), 10), term.text()[-3000:]
        t0 = time.time()
        time.sleep(3.2)
        t1 = time.time()
        # silence everybody: the row must turn to NO MASTER with no packet arriving
        for name in ("r2", "r3"):
            lab.block(name, "OUTPUT", family=4)

        def silent() -> bool:
            nonlocal silent_screen
            frames = term.frames(title)
            silent_screen = frames[-2][1] if len(frames) > 1 else ""
            return "NO MASTER" in silent_screen

        _until(silent, 10)
        for name in ("r2", "r3"):
            lab.unblock(name, "OUTPUT", family=4)
        time.sleep(0.5)
        term.signal(signal.SIGINT)
    finally:
        for rule in list(lab.rules):
            lab.unblock(rule.router, rule.args[0])
        rc = term.finish(15)
    frames = term.frames(title)
    assert frames, term.text()[-3000:]
    screen = [text for t, text in frames if t <= t1][-1]
    row = next((line for line in screen.splitlines() if ADDR["r2"] in line), "")
    assert re.search(rf"\b{VRID}\b", row), screen
    assert "100" in row and "vrrp/v4" in row and " ok" in row, screen
    assert "open incidents:" in screen and "VIP" in screen and VIP in row, screen
    # refreshed at least once a second, and the "since last" column moves
    times = sorted(t for t, _ in frames if t0 <= t <= t1)
    edges = [t0, *times, t1]
    assert max(b - a for a, b in zip(edges, edges[1:], strict=False)) <= 1.0, times
    assert len({text for t, text in frames if t0 <= t <= t1}) >= 3
    # silence: NO MASTER in the row, seconds since the last advert past 3, and the
    # no-master among the incidents open now
    row = next((line for line in silent_screen.splitlines() if "NO MASTER" in line), "")
    assert re.search(rf"\b{VRID}\b", row), silent_screen
    since = [float(x) for x in re.findall(r"\b(\d+\.\d)s\b", row)]
    assert since and max(since) >= 3.0, row
    # (a master gone silent with nobody taking over: "went silent ... no master")
    told = " ".join(silent_screen.split("open incidents:")[-1].split())
    assert re.search(r"CRIT \S+: .*(no master|nobody took over)", told), silent_screen
    # SIGINT: the text summary follows the last screen, exit code 0
    assert rc == 0
    tail = term.text().split(title)[-1]
    assert "Traceback" not in term.text()
    assert "Segment br0" in tail and "Findings" in tail, tail[-3000:]


def _until(predicate, timeout: float, interval: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def test_flood_is_survived_and_drops_are_reported(lab: Lab, recorded: Recorded) -> None:
    ns, port = lab.bridge_ns, METRICS_PORT + 1
    before_start = link_rx_packets(ns, "br0")
    run = LiveRun.start(ns, ["br0", "--json", "--metrics", f"127.0.0.1:{port}"], duration=40)
    senders: list[subprocess.Popen[str]] = []
    try:
        assert run.wait_for(lambda: scrape(ns, port, 1) != "", 15), run.stderr
        ready = link_rx_packets(ns, "br0")
        senders = [start_flood(lab.routers["fl"].ns, "eth0", 3.0, seed) for seed in (1, 2)]
        results = [json.loads(s.communicate(timeout=25)[0]) for s in senders]
        time.sleep(2.5)  # the backlog drains; kernel statistics refresh every second
        assert run.proc.poll() is None, "vrrpscope live died under the flood"
        hwm_kb = run.vm_hwm_kb()
        text = scrape(ns, port)
        flooded = link_rx_packets(ns, "br0")
        run.signal(signal.SIGINT)
    finally:
        for s in senders:
            if s.poll() is None:
                s.kill()
        rc = run.finish(30)
    after_exit = link_rx_packets(ns, "br0")
    assert all(r["errors"] == 0 and r["sent"] >= r["kinds"] for r in results), results
    assert rc == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert hwm_kb is not None and hwm_kb < 300 * 1024, f"peak RSS {hwm_kb} kB"
    cap = run.summary()["capture"]
    # PACKET_STATISTICS counts every packet the filter passed, drops included: after the
    # flood everything was read or dropped (nothing left queued), ...
    assert cap["frames"] + cap["kernel_drops"] + cap["unread"] == cap["kernel_packets"], cap
    assert cap["unread"] <= 5, cap
    assert cap["frames"] == run.summary()["frames"]
    # ... it matches what the bridge itself counted while vrrpscope listened, ...
    assert flooded - ready <= cap["kernel_packets"] <= after_exit - before_start, cap
    assert cap["kernel_drops"] > 0  # Python cannot keep up with this: it must say so
    assert f"kernel dropped {cap['kernel_drops']}" in run.stderr
    # ... and the metrics scraped after the flood say the same (only adverts came since).
    (drops,) = metric(text, "vrrpscope_capture_kernel_drops_total")
    (frames,) = metric(text, "vrrpscope_capture_frames_total")
    (passed,) = metric(text, "vrrpscope_capture_kernel_packets_total")
    assert drops == cap["kernel_drops"]
    assert frames <= cap["frames"] <= frames + 5
    assert abs(frames + drops - passed) <= 5


def test_any_captures_every_interface_of_the_namespace(lab: Lab, recorded: Recorded) -> None:
    run = LiveRun.start(lab.bridge_ns, ["any", "--json", "--filter", "ip proto 112"], 3.5)
    assert run.finish(20) == 0, run.stderr
    summary = run.summary()
    assert summary["capture"]["interface"] == "any" and summary["capture"]["frames"] > 0
    segments = {seg["segment"]: seg for seg in summary["segments"]}
    # the bridge and its ports (tcpdump -i any shows each frame on each of them too)
    assert {"br0", "r2-eth0"} <= set(segments), segments
    assert all(seg["vrids_in_use"] == {"vrrp/ipv4": [VRID]} for seg in segments.values())
    # a frame is seen on the bridge and on its ports, timestamped on different CPUs: the
    # small reorderings that brings are no timestamps-backwards finding
    kinds = {f["kind"] for f in run.final_findings()}
    assert "timestamps-backwards" not in kinds, run.final_findings()
    assert summary["timestamps_backwards"] == 0, summary


# --------------------------------------------------------------------------- errors


def _error_run(lab: Lab, args: list[str], prefix: list[str] | None = None) -> tuple[int, str]:
    cmd = live_command(lab.bridge_ns, args, duration=2)
    if prefix:  # e.g. setpriv, right before the interpreter
        i = cmd.index(PYTHON)
        cmd = cmd[:i] + prefix + cmd[i:]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=ROOT, check=False)
    assert res.stdout == ""
    return res.returncode, res.stderr


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_missing_interface_is_one_line_exit_5(lab: Lab) -> None:
    rc, err = _error_run(lab, ["nosuch0"])
    assert rc == 5
    assert _one_line(err).startswith("vrrpscope: error: nosuch0: no such network interface")


def test_without_cap_net_raw_is_one_line_exit_5(lab: Lab) -> None:
    drop = ["setpriv", "--bounding-set", "-net_raw,-net_admin"]
    drop += ["--inh-caps", "-net_raw,-net_admin", "--"]
    rc, err = _error_run(lab, ["br0"], prefix=drop)
    assert rc == 5, err
    line = _one_line(err)
    assert "permission denied" in line and "cap_net_raw" in line and "root" in line


def test_bad_filter_is_one_line_exit_5(lab: Lab) -> None:
    rc, err = _error_run(lab, ["br0", "--filter", "ip proto nonsense and ("])
    assert rc == 5
    assert _one_line(err).startswith("vrrpscope: error: bad filter")


def test_good_filter_and_count(lab: Lab, recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "c.pcapng"
    args = ["br0", "--json", "--filter", "ip proto 112", "--count", "2", "-w", str(out)]
    run = LiveRun.start(lab.bridge_ns, args, duration=15)
    rc = run.finish(25)
    assert rc == 0, run.stderr
    cap = run.summary()["capture"]
    assert cap["stopped_by"] == "count" and cap["frames"] == 2
    assert "wrote 2 frames" in run.stderr
    res = run_in_ns(lab.bridge_ns, ["true"])
    assert res.returncode == 0


def test_unwritable_output_is_one_line(lab: Lab) -> None:
    rc, err = _error_run(lab, ["br0", "-w", "/dev/full"])
    assert rc == 2
    assert _one_line(err) == (
        "vrrpscope: error: /dev/full: cannot write the capture: No space left on device"
    )


def test_write_error_mid_run_keeps_analysing(lab: Lab, recorded: Recorded) -> None:
    """-w into a pipe whose reader goes away (like a full disk): warn, analyse on, exit 0."""
    read_end, write_end = os.pipe()
    cmd = live_command(lab.bridge_ns, ["br0", "--json", "-w", f"/dev/fd/{write_end}"], 6)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(write_end,),
        cwd=ROOT,
        env=live_env(),
        start_new_session=True,
    )
    os.close(write_end)
    try:
        got = b""
        end = time.monotonic() + 10
        while len(got) < 200 and time.monotonic() < end:  # header + a frame or two
            ready, _, _ = select.select([read_end], [], [], 0.5)
            if ready:
                got += os.read(read_end, 65536)
        os.close(read_end)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    text = err.decode()
    assert got[:4] == b"\x0a\x0d\x0d\x0a", got[:16]  # pcapng section header
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert "vrrpscope: warning: stopped writing after" in text and "Broken pipe" in text
    summary = json.loads(_summary_line(out))
    cap = summary["capture"]
    assert cap["write_error"] and cap["written"] < cap["frames"], cap


def _summary_line(out: bytes) -> str:
    return next(line for line in out.decode().splitlines() if line.startswith('{"type":"summary"'))
