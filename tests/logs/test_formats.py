"""Log line formats: each line's time, host, program and message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.helpers.logwriter import FORMATS, NS, line
from vrrpscope.logs.formats import Clock, parse_line, parse_zone

T = int(datetime(2026, 11, 25, 9, 20, 13, 490643, UTC).timestamp() * 1e6) * 1000


@pytest.mark.parametrize("fmt", [*FORMATS, "syslog-precise"])
def test_every_format_gives_the_time_and_message(fmt: str) -> None:
    text = line(fmt, T, "(VI_1) Entering MASTER STATE")
    parsed = parse_line(text, Clock(year=2026))
    assert parsed is not None and parsed.message == "(VI_1) Entering MASTER STATE"
    assert parsed.ts_ns is not None
    whole = fmt in ("syslog", "syslog-nohost", "journal-short-iso", "console")
    expected = T // NS * NS if whole else T
    assert parsed.ts_ns == expected
    if fmt in ("syslog", "rfc3339", "journal-json", "journal-short-iso", "syslog-precise"):
        assert parsed.host == "r2" and parsed.program == "Keepalived_vrrp"
        assert parsed.pid == 4242


def test_a_syslog_line_without_a_host_is_not_read_as_one_with_a_host() -> None:
    parsed = parse_line(
        "Jul 10 09:27:24 Keepalived_vrrp[3352]: (VI_1): send advert error 1 (x)", Clock()
    )
    assert parsed is not None and parsed.format == "syslog-nohost"
    assert parsed.program == "Keepalived_vrrp" and parsed.message.startswith("(VI_1):")


def test_the_year_and_zone_are_assumed_and_said() -> None:
    clock = Clock(year=2025)
    parsed = parse_line("Dec 31 23:59:59 r1 Keepalived_vrrp: x", clock)
    assert parsed is not None
    assert datetime.fromtimestamp(parsed.ts_ns / NS, UTC).year == 2025
    after = parse_line("Jan  1 00:00:01 r1 Keepalived_vrrp: y", clock)
    assert after is not None
    assert datetime.fromtimestamp(after.ts_ns / NS, UTC).year == 2026  # New Year
    assert clock.describe() == "year 2026 and UTC assumed"


def test_log_tz_shifts_lines_without_an_offset_only() -> None:
    berlin = Clock(parse_zone("+01:00"), year=2026)
    local = parse_line("Nov 25 10:20:13 r1 Keepalived_vrrp: x", berlin)
    iso = parse_line("2026-11-25T09:20:13Z r1 Keepalived_vrrp: x", berlin)
    assert local is not None and iso is not None and local.ts_ns == iso.ts_ns
    assert parse_zone("Europe/Berlin").utcoffset(datetime(2026, 7, 1)) == timedelta(hours=2)
    assert parse_zone("-0530") == timezone(-timedelta(hours=5, minutes=30))
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_zone("Mars/Olympus")


@pytest.mark.parametrize(
    "junk",
    [
        "Feb 30 10:00:00 r1 Keepalived_vrrp: impossible date",
        "\x00\x01\x02garbage",
        "Nov 25 09:20",
        '{"MESSAGE": 5}',
        "{not json",
    ],
)
def test_lines_of_no_format_are_none(junk: str) -> None:
    assert parse_line(junk, Clock()) is None


@pytest.mark.parametrize(("fmt", "frac"), [("frr", False), ("frr-precise", True)])
def test_frr_log_files_give_the_time_and_the_protocol_as_the_program(fmt, frac) -> None:
    message = "[W23ZH-NY264] [CORE] [VRID 51] [IPv4] Backup -> Master"
    parsed = parse_line(line(fmt, T, message, prog="VRRP"), Clock(year=2026))
    assert parsed is not None and parsed.format == "frr" and parsed.message == message
    assert parsed.program == "VRRP" and parsed.assumed  # local time: the zone is assumed
    assert parsed.ts_ns == (T if frac else T // NS * NS)


def test_ucarp_console_lines_give_the_time_and_keep_the_level() -> None:
    text = line("ucarp", T, "[WARNING] Switching to state: MASTER")
    parsed = parse_line(text, Clock(year=2026))
    assert parsed is not None and parsed.format == "ucarp" and parsed.ts_ns == T
    assert parsed.message == "[WARNING] Switching to state: MASTER"
    assert parsed.program == "ucarp"
