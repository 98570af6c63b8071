"""--vrid, --segment, --since, --until as a user types them, for analyze, decode and plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import REPO, assert_clean_error, run
from vrrpscope import cli
from vrrpscope.errors import EXIT_OK, EXIT_USAGE
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession

CAPTURES = REPO / "captures"
TWO_VRIDS = str(CAPTURES / "config-mismatch.pcap")  # VRIDs 52 and 53
TWO_SEGMENTS = str(CAPTURES / "any-sll2.pcap")  # VRID 51 on ifindex2 and ifindex3
FAILOVER = str(CAPTURES / "failover.pcap")
COMMANDS = ["analyze", "decode", "plot"]


def argv(command: str, *options: str, capture: str = FAILOVER, out: str = "x.png") -> list[str]:
    plot = ["-o", out] if command == "plot" else []
    return [command, capture, *plot, *options]


def usage_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        cli.main(args)
    assert stop.value.code == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    (line,) = err.splitlines()
    return line


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--vrid", "0"], "argument --vrid: VRIDs are 1-255, not 0"),
        (["--vrid", "abc"], "argument --vrid: not a VRID or range: 'abc'"),
        (["--vrid", "5-1"], "argument --vrid: range '5-1' runs backwards"),
        (["--since", "tomorrow"], "argument --since: not a time: 'tomorrow'"),
        (["--until", "9:20"], "argument --until: not a time: '9:20'"),
        (["--segment", ""], "argument --segment: empty segment name"),
    ],
)
def test_bad_values_are_one_line_usage_errors(
    capsys: pytest.CaptureFixture[str], command: str, options: list[str], needle: str
) -> None:
    line = usage_line(capsys, argv(command, *options))
    assert line.startswith(f"vrrpscope {command}: error: {needle}"), line
    assert line.endswith(f"(see `vrrpscope {command} --help`)")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_window_is_a_usage_error(command: str, capsys) -> None:
    options = ["--since", "2026-11-25 09:20:30", "--until", "2026-11-25T09:20:00"]
    assert cli.main(argv(command, *options)) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip() == (
        "vrrpscope: error: --since 2026-11-25 09:20:30 is not before --until "
        "2026-11-25T09:20:00: the window is empty"
    )


@pytest.mark.parametrize("command", ["analyze", "plot"])
def test_nothing_matched_is_an_error_naming_what_exists(command: str, tmp_path: Path) -> None:
    result = run(*argv(command, "--vrid", "7", capture=TWO_SEGMENTS, out=str(tmp_path / "p.png")))
    line = assert_clean_error(result, EXIT_USAGE, "no advert matches VRID 7")
    assert "the input has VRID 51 on ifindex2, ifindex3" in line
    assert not (tmp_path / "p.png").exists()


def test_decode_prints_only_matching_adverts_and_says_when_none_did() -> None:
    every = [a for a in DecodeSession([TWO_VRIDS]).items() if isinstance(a, Advert)]
    result = run("decode", "--json", "--vrid", "53", TWO_VRIDS)
    assert result.returncode == EXIT_OK
    printed = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [p["frame"] for p in printed] == [a.frame for a in every if a.vrid == 53]
    none = run("decode", "--vrid", "99", TWO_VRIDS)
    assert none.returncode == EXIT_OK and none.stdout == b""  # like tcpdump: not an error
    err = none.stderr.decode()
    assert "note: no advert matches VRID 99 (the input has VRIDs 52-53 on default" in err
    assert f"0 of {len(every)} advert(s)" in err


def test_decode_window_from_stdin_and_relative_end_refused_there() -> None:
    data = Path(FAILOVER).read_bytes()
    every = [a for a in DecodeSession([FAILOVER]).items() if isinstance(a, Advert)]
    start = 1795598405765201000  # the capture's first frame (not an advert)
    assert min(a.ts_ns for a in every) > start
    piped = run("decode", "--since", "+10s", "-", stdin=data)
    assert piped.returncode == EXIT_OK, piped.stderr.decode()
    frames = [int(line.split()[0]) for line in piped.stdout.decode().splitlines()]
    assert frames == [a.frame for a in every if a.ts_ns >= start + 10 * 10**9]
    refused = run("decode", "--until", "-5s", "-", stdin=data)
    assert_clean_error(refused, EXIT_USAGE, "--until -5s counts back from the end of stdin")


def test_negative_relative_values_need_no_equals_sign() -> None:
    parser = cli.build_parser()
    for command in COMMANDS:
        args = cli.parse_args(parser, argv(command, "--until", "-10m", "--since", "-1h30m"))
        assert (args.since.anchor, args.until.anchor) == ("end", "end")
        assert args.until.offset_ns == 600 * 10**9


def test_analyze_summary_says_what_was_selected() -> None:
    result = run("analyze", "--segment", "ifindex3", "--since", "+5s", TWO_SEGMENTS)
    assert result.returncode == EXIT_OK, result.stderr.decode()
    text = result.stdout.decode()
    assert "Segment ifindex3" in text and "Segment ifindex2" not in text
    assert "note         selected segment ifindex3 since 2026-11-25 09:21:52.969245 UTC: " in text
    js = run("analyze", "--json", "--vrid", "52", TWO_VRIDS)
    lines = [json.loads(line) for line in js.stdout.decode().splitlines()]
    summary = lines[0]
    assert summary["type"] == "summary"
    assert summary["selection"] == {
        "vrids": [52],
        "segments": None,
        "since": None,
        "until": None,
        "adverts": 14,
        "left_out": 14,
    }
    assert {line["vrid"] for line in lines if line["type"] in ("router", "finding")} == {52}


def test_plot_draws_the_selection(tmp_path: Path) -> None:
    out = tmp_path / "p.svg"
    result = run("plot", TWO_VRIDS, "-o", str(out), "--vrid", "52,53")
    assert result.returncode == EXIT_OK, result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "p-vrid52-default.svg",
        "p-vrid53-default.svg",
        "p.svg",
    ]
    one = tmp_path / "one"
    one.mkdir()
    result = run("plot", TWO_SEGMENTS, "-o", str(one / "q.svg"), "--segment", "ifindex3")
    assert result.returncode == EXIT_OK, result.stderr.decode()
    assert [p.name for p in one.iterdir()] == ["q.svg"]  # one router: its timeline only
    svg = (one / "q.svg").read_text()
    assert "198.18.2.1" in svg and "198.18.1.1" not in svg


def test_local_times_are_in_the_zone_the_report_shows() -> None:
    """--local: a time without a zone is local (TZ), as the report prints times."""
    paris = {"TZ": "Europe/Paris"}  # CET in November: UTC+1
    window = ["--since", "2026-11-25 10:21:20", "--until", "2026-11-25T09:21:21Z"]
    local = run("decode", "--local", *window, TWO_VRIDS, env=paris)
    utc = run("decode", "--since", "2026-11-25 09:21:20", "--until", "@1795598481", TWO_VRIDS)
    assert local.returncode == utc.returncode == EXIT_OK
    frames = [line.split()[0] for line in local.stdout.decode().splitlines()]
    assert frames and frames == [line.split()[0] for line in utc.stdout.decode().splitlines()]
    assert all(" CET " in line for line in local.stdout.decode().splitlines())


@pytest.mark.parametrize(
    "options", [["--vrid", "53", "--since", "+4s"], ["--segment", "ifindex2", "--until", "-3s"]]
)
@pytest.mark.parametrize("capture", [TWO_VRIDS, TWO_SEGMENTS])
def test_decode_selects_alike_on_both_routes(capture: str, options: list[str]) -> None:
    fast = run("decode", "--json", *options, capture)
    general = run("decode", "--json", *options, capture, env={"VRRPSCOPE_GENERAL": "1"})
    assert fast.returncode == general.returncode == EXIT_OK
    assert fast.stdout == general.stdout and fast.stderr == general.stderr
