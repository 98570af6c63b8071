"""`vrrpscope logs` and `analyze --log` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import assert_clean_error, run
from tests.helpers.logwriter import NS, write_log
from tests.logs.test_align import FAILOVER, _r2_log
from vrrpscope.analysis import analyze_files
from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE


def _log(tmp_path: Path, shift_s: float = 20.0, fmt: str = "syslog") -> Path:
    analysis = analyze_files([FAILOVER])
    lines = _r2_log(analysis, int(shift_s * NS))
    flood = lines[2][0] + NS
    lines += [(flood + i * NS, "(VI_1) received an invalid passwd!") for i in range(50)]
    return write_log(tmp_path / "r2.log", fmt, sorted(lines))


def test_logs_prints_a_timeline_with_repeats_collapsed(tmp_path: Path) -> None:
    path = _log(tmp_path)
    result = run("logs", f"r2:{path}", env={"COLUMNS": "250"})
    text = result.stdout.decode()
    assert result.returncode == EXIT_OK, result.stderr.decode()
    assert "syslog, 55 lines (55 VRRP events, 0 skipped, 0 malformed)" in text
    assert "year 2026 and UTC assumed" in text
    assert "r2  VI_1  MASTER" in text
    assert "rejected an advert: wrong password" in text and "×50 until" in text
    for width in (80, 120):
        narrow = run("logs", f"r2:{path}", env={"COLUMNS": str(width)}).stdout.decode()
        assert max(len(line) for line in narrow.splitlines()) <= width


def test_logs_json_lists_each_log_and_event(tmp_path: Path) -> None:
    result = run("logs", "--json", str(_log(tmp_path, fmt="journal-json")))
    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    [log] = [o for o in objects if o["type"] == "log"]
    assert log["node"] == "r2" and log["format"] == "journal-json" and log["parsed"] == 55
    events = [o for o in objects if o["type"] == "log_event"]
    assert len(events) == 55 and events[0]["kind"] == "state"
    assert all(e["aligned_ts"] is None for e in events)  # no capture: nothing to align to


def test_analyze_with_a_log_aligns_it_and_reports_it(tmp_path: Path) -> None:
    path = _log(tmp_path, shift_s=20.0)
    result = run("analyze", FAILOVER, "--log", f"r2:{path}", "--json")
    assert result.returncode == EXIT_OK, result.stderr.decode()
    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    [log] = objects[0]["logs"]
    assert log["node"] == "r2" and log["address"] == "198.18.1.2"
    assert abs(log["offset_s"] + 20.0) < 1.0 and log["offset_uncertainty_s"] < 1.0
    assert {"path", "format", "lines", "parsed", "skipped", "malformed"} <= set(log)
    events = [o for o in objects if o["type"] == "log_event"]
    assert all(e["aligned_ts"] is not None for e in events)
    text = run("analyze", FAILOVER, "--log", f"r2:{path}").stdout.decode()
    assert "clock offset -" in text and "Daemon events (UTC)" in text


def test_missing_log_and_bad_zone_are_one_line_errors(tmp_path: Path) -> None:
    missing = run("analyze", FAILOVER, "--log", str(tmp_path / "nope.log"))
    assert_clean_error(missing, EXIT_UNREADABLE, "nope.log", "no such log file")
    assert missing.stdout == b""  # nothing analysed before the error
    alone = run("logs", f"r1:{tmp_path / 'gone.log'}")
    assert_clean_error(alone, EXIT_UNREADABLE, "gone.log")
    bad = run("logs", "--log-tz", "Mars/Olympus", str(_log(tmp_path)))
    assert bad.returncode == EXIT_USAGE and "unknown time zone" in bad.stderr.decode()
    conf = run("logs", "--config", str(tmp_path / "k.conf"), str(_log(tmp_path)))
    assert_clean_error(conf, EXIT_UNREADABLE, "k.conf")


def test_a_capture_given_as_a_log_and_a_cut_log(tmp_path: Path) -> None:
    not_log = run("logs", FAILOVER)
    assert_clean_error(not_log, EXIT_UNREADABLE, "failover.pcap", "not a log file")
    import gzip

    data = gzip.compress(_log(tmp_path).read_bytes())
    cut = tmp_path / "r2.log.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    result = run("logs", "--json", f"r2:{cut}")
    assert result.returncode == EXIT_DAMAGED
    err = result.stderr.decode()
    assert "damaged log:" in err and "cut short" in err and "Traceback" not in err
    [log] = [json.loads(line) for line in result.stdout.decode().splitlines()[:1]]
    assert log["parsed"] > 0 and "cut short" in log["damage"]
    analysed = run("analyze", FAILOVER, "--log", f"r2:{cut}")
    assert analysed.returncode == EXIT_DAMAGED and b"Logs" in analysed.stdout
