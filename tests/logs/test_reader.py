"""Reading log files: counts, node names, compression, damage, junk."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from pathlib import Path

import pytest

from tests.helpers.logwriter import line
from vrrpscope.errors import InputError
from vrrpscope.logs.config import instance_vrids
from vrrpscope.logs.formats import Clock
from vrrpscope.logs.reader import log_spec, read_log

T = 1_795_598_413 * 10**9
LINES = [
    line("syslog", T, "(VI_1) Entering BACKUP STATE (init)"),
    line("syslog", T + 10**9, "Started Session 4 of user root.", prog="systemd"),
    line("syslog", T + 2 * 10**9, "(VI_1) Receive advertisement timeout"),
    line("syslog", T + 2 * 10**9, "(VI_1) Entering MASTER STATE"),
    line("syslog", T + 3 * 10**9, "Registering Kernel netlink reflector"),
    "this line is in no format",
    line(
        "syslog",
        T + 4 * 10**9,
        "(VI_1) ip address associated with VRID 51 not present in MASTER advert: 198.18.1.100",
    ),
]


def test_counts_and_node_from_the_hosts(tmp_path: Path) -> None:
    path = tmp_path / "messages"
    path.write_text("\n".join(LINES) + "\n\n")
    log = read_log(str(path), clock=Clock(year=2026))
    assert (log.node, log.format, log.lines) == ("r2", "syslog", 7)
    assert (log.parsed, log.skipped, log.malformed) == (4, 2, 1)
    assert [e.kind for e in log.events] == ["state", "advert-timeout", "state", "receive-error"]
    assert {e.vrid for e in log.events} == {51}  # named by the VIP line
    assert log.assumed == "year 2026 and UTC assumed"


@pytest.mark.parametrize(
    "suffix, pack",
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress), ("", bytes)],
)
def test_compressed_and_rotated_files(tmp_path: Path, suffix, pack) -> None:
    path = tmp_path / f"messages.1{suffix}"
    path.write_bytes(pack(("\n".join(LINES) + "\n").encode()))
    log = read_log(str(path), "r9")
    assert log.node == "r9" and log.parsed == 4 and log.damage is None


def test_a_cut_gzip_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    body = "\n".join(LINES * 200) + "\n"
    data = gzip.compress(body.encode())
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    log = read_log(str(path))
    assert log.damage is not None and "cut short" in log.damage
    assert 0 < log.parsed < 800 and log.node == "r2"


def test_journalctl_cat_has_no_times_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "cat.txt"
    path.write_text("(VI_1) Entering MASTER STATE\nsomething else\n(VI_1) sent 0 priority\n")
    log = read_log(str(path))
    assert log.format == "cat" and log.parsed == 2 and log.skipped == 1
    assert all(e.ts_ns is None for e in log.events) and log.node == "cat"


def test_fuzzed_and_mixed_files_never_crash_and_lose_no_parsable_line(tmp_path: Path) -> None:
    rnd = random.Random(7)
    good = [text for text in LINES if "VI_1" in text]
    for round_ in range(30):
        chunks: list[bytes] = []
        wanted: set[int] = set()
        for text in good * 3:
            chunks.append(text.encode() + b"\n")
            wanted.add(len(chunks))
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(80)))
            chunks.append(junk.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n")
            if rnd.random() < 0.3:  # a line cut short, then another program's
                chunks.append(text.encode()[: rnd.randrange(len(text))] + b"\n")
                chunks.append(b"Nov 25 09:20:13 r2 sshd[9]: Accepted publickey\n")
        path = tmp_path / f"fuzz{round_}.log"
        path.write_bytes(b"".join(chunks))
        log = read_log(str(path), clock=Clock(year=2026))
        assert wanted <= {e.line for e in log.events}
        assert log.lines == log.parsed + log.skipped + log.malformed


def test_a_year_long_gap_and_wrong_years_do_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "years.log"
    path.write_text(
        "Dec 31 23:59:59 r1 Keepalived_vrrp[1]: (VI_1) Entering MASTER STATE\n"
        "Jan  1 00:00:01 r1 Keepalived_vrrp[1]: (VI_1) Entering BACKUP STATE\n"
        "Thu Feb 29 10:00:00 2023: (VI_1) Entering MASTER STATE\n"  # no such day in 2023
        "Sun Mar 25 18:00:59 2021: (VI_1) Entering MASTER STATE\n"
    )
    log = read_log(str(path), clock=Clock(year=2025))
    assert log.parsed == 3 and log.malformed == 1
    years = [e.ts_ns // 10**9 // 31_557_600 + 1970 for e in log.events]
    assert years == [2021, 2025, 2026]


def test_missing_and_unreadable_logs_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such log file"):
        read_log(str(tmp_path / "nope.log"))
    with pytest.raises(InputError, match="is a directory"):
        read_log(str(tmp_path))


def test_node_tags(tmp_path: Path) -> None:
    assert log_spec("r1:/var/log/messages") == ("r1", "/var/log/messages")
    assert log_spec("/var/log/messages") == (None, "/var/log/messages")
    odd = tmp_path / "a:b.log"
    odd.write_text("")
    assert log_spec(str(odd)) == (None, str(odd))


def test_keepalived_conf_names_instances(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(
        "global_defs { router_id r1 }\n"
        "vrrp_instance VI_1 {  # the web VIP\n  state BACKUP\n  virtual_router_id 51\n"
        "  virtual_ipaddress {\n    198.18.1.100/24\n  }\n}\n"
        'vrrp_instance "VI 2" { virtual_router_id 52 }\n'
        "! vrrp_instance VI_3 { virtual_router_id 53 }\n"
    )
    assert instance_vrids(str(conf)) == {"VI_1": 51, "VI 2": 52}
    path = tmp_path / "m.log"
    path.write_text(line("syslog", T, "(VI_1) Entering MASTER STATE") + "\n")
    assert read_log(str(path), instances=instance_vrids(str(conf))).events[0].vrid == 51


def test_reprs_are_short(tmp_path: Path) -> None:
    path = tmp_path / "messages"
    path.write_text("\n".join(LINES * 300) + "\n")
    log = read_log(str(path), clock=Clock(year=2026))
    assert repr(log).startswith("<LogFile r2 ") and len(repr(log)) < 120
    assert repr(log.events[0]) == "<LogEvent r2 VI_1 state line 1>"
