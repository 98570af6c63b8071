"""Log clocks against the capture's: offsets recovered from shifted logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.logwriter import FORMATS, NS, write_log
from vrrpscope.analysis import analyze_files
from vrrpscope.logs.attach import load_logs
from vrrpscope.logs.formats import parse_zone

CAPTURES = Path(__file__).parent.parent.parent / "captures"
FAILOVER = str(CAPTURES / "failover.pcap")  # r1 resigns, r2 takes over, r1 preempts back


def _wire(analysis):
    """failover.pcap's moments: r1's resignation, r2's and r1's masterships."""
    [router] = analysis.routers.values()
    periods = router.timeline()
    resign = next(p.end_ns for p in periods if p.end_reason == "resigned")
    r2_master = next(p.start_ns for p in periods if p.src == "198.18.1.2")
    r1_back = max(p.start_ns for p in periods if p.src == "198.18.1.1")
    return resign, r2_master, r1_back


def _r2_log(analysis, shift_ns: int) -> list[tuple[int, str]]:
    resign, r2_master, r1_back = _wire(analysis)
    ms = NS // 1000
    return [
        (analysis.first_ts_ns + shift_ns, "(VI_1) Entering BACKUP STATE (init)"),
        (resign + 2 * ms + shift_ns, "(VI_1) Backup received priority 0 advertisement"),
        (r2_master - ms + shift_ns, "(VI_1) Entering MASTER STATE"),
        (
            r1_back + ms + shift_ns,
            "(VI_1) Master received advert from 198.18.1.1 with higher priority 150, ours 100",
        ),
        (r1_back + 2 * ms + shift_ns, "(VI_1) Entering BACKUP STATE"),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shift_s", [37.3, -12.75])
def test_the_offset_is_recovered_within_a_second_in_every_format(
    tmp_path: Path, fmt: str, shift_s: float
) -> None:
    analysis = analyze_files([FAILOVER])
    shift = int(shift_s * NS)
    path = write_log(tmp_path / "r2.log", fmt, _r2_log(analysis, shift))
    [log] = load_logs([f"r2:{path}"], analysis)
    assert log.offset_s is not None and log.address == "198.18.1.2"
    assert abs(log.offset_s + shift_s) < 1.0
    assert abs(log.offset_s + shift_s) <= log.offset_uncertainty_s + 0.01
    master = next(e for e in log.events if e.details.get("state") == "MASTER")
    assert abs(master.aligned_ns - _wire(analysis)[1]) < NS


def test_a_whole_hour_off_is_named_as_a_time_zone_and_log_tz_fixes_it(tmp_path: Path) -> None:
    analysis = analyze_files([FAILOVER])
    path = write_log(tmp_path / "r2.log", "syslog", _r2_log(analysis, 3600 * NS))
    [log] = load_logs([f"r2:{path}"], analysis)
    assert log.offset_s is not None and round(log.offset_s / 3600) == -1
    assert "time zone" in (log.offset_from or "")
    [fixed] = load_logs([f"r2:{path}"], analysis, zone=parse_zone("+01:00"))
    assert fixed.offset_s is not None and abs(fixed.offset_s) < 1.0


def test_a_log_without_times_is_not_aligned(tmp_path: Path) -> None:
    analysis = analyze_files([FAILOVER])
    path = write_log(tmp_path / "r2.log", "cat", _r2_log(analysis, 0))
    [log] = load_logs([f"r2:{path}"], analysis)
    assert log.offset_s is None and log.parsed == 5
    assert all(e.aligned_ns is None for e in log.events)


def test_the_peer_a_log_names_is_never_taken_for_the_node(tmp_path: Path) -> None:
    """r2's log names 198.18.1.1 as the better master: the offset is to r2's adverts,
    though r1's preemption would line up too."""
    analysis = analyze_files([FAILOVER])
    lines = [(t, m) for t, m in _r2_log(analysis, 5 * NS) if "MASTER STATE" not in m]
    resign, r2_master, r1_back = _wire(analysis)
    lines.append((r1_back + 5 * NS, "(VI_1) Entering MASTER STATE"))  # a wrong pairing bait
    path = write_log(tmp_path / "r2.log", "rfc3339", sorted(lines))
    [log] = load_logs([f"r2:{path}"], analysis)
    assert log.address != "198.18.1.1"


def test_the_notebook_api_reads_logs_beside_the_capture(tmp_path: Path) -> None:
    from vrrpscope import api

    analysis = analyze_files([FAILOVER])
    path = write_log(tmp_path / "r2.log", "syslog", _r2_log(analysis, 9 * NS))
    result = api.analyze(FAILOVER, logs=[f"r2:{path}"], log_tz="UTC")
    [log] = result.logs
    assert abs(log.offset_s + 9) < 1
    events = result.log_events()
    assert list(events["kind"])[:3] == ["state", "priority0-received", "state"]
    assert str(events["time"].dt.tz) == "UTC" and events["time"].notna().all()


def test_a_periodic_story_is_not_shifted_by_one_period() -> None:
    """Real lab logs from one machine (tests/fixtures/logs/carp-collision-loaded): r2
    became MASTER every ~3.6 s, its last time after the capture ended; the offset that
    leaves a MASTER well inside the capture without its advert loses to ~0 s."""
    here = Path(__file__).parent.parent / "fixtures" / "logs" / "carp-collision-loaded"
    analysis = analyze_files([str(here / "carp-collision.pcap")])
    specs = [f"{name[:2]}:{here / name}" for name in ("r1-keepalived0.log", "r2-keepalived0.log")]
    logs = load_logs([*specs, f"r3:{here / 'r3-ucarp0.log'}"], analysis)
    offsets = {log.node: log.offset_s for log in logs}
    assert set(offsets) == {"r1", "r2", "r3"}
    assert all(offset is not None and abs(offset) < 1.0 for offset in offsets.values()), offsets
    assert {log.node: log.address for log in logs} == {
        "r1": "198.18.1.1",
        "r2": "198.18.1.2",
        "r3": "198.18.1.3",
    }
