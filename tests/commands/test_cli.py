"""Command-line parsing: option values, usage errors, per-command exit codes, internal errors."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from vrrpscope import cli
from vrrpscope.thresholds import Thresholds

CAPTURE = str(Path(__file__).parents[2] / "captures" / "split-brain.pcap")
ROOT = Path(__file__).parents[2]


def _usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``; it must end in exit 2 with one line on stderr; returns the line."""
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


BAD_VALUES = [
    (["live", "lo", "--duration", "nan"], "--duration"),
    (["live", "lo", "--duration", "inf"], "--duration"),
    (["live", "lo", "--duration", "-1"], "--duration"),
    (["live", "lo", "--duration", "0"], "--duration"),
    (["live", "lo", "--count", "0"], "--count"),
    (["live", "lo", "--count", "1.5"], "--count"),
    (["live", "lo", "--snapshot-interval", "nan"], "--snapshot-interval"),
    (["live", "lo", "--snapshot-interval", "-inf"], "--snapshot-interval"),
    (["live", "lo", "--metrics", "127.0.0.1:99999"], "--metrics"),
    (["live", "lo", "--metrics", "127.0.0.1:0"], "--metrics"),
    (["live", "lo", "--metrics", "127.0.0.1:http"], "--metrics"),
    (["live", "lo", "--metrics", "9788"], "--metrics"),
    (["live", "lo", "--metrics", "::1:9788"], "--metrics"),
    (["live", "lo", "--timer-slack", "nan"], "--timer-slack"),
    (["plot", CAPTURE, "-o", "x.png", "--quiet-close-s", "inf"], "--quiet-close-s"),
    (["plot", CAPTURE, "-o", "x.png", "--vrid", "300"], "--vrid"),
    (["analyze", CAPTURE, "--flap-transitions", "1"], "--flap-transitions"),
    (["analyze", CAPTURE, "--max-findings", "0"], "--max-findings"),
    (["analyze", CAPTURE, "--max-routers", "99999999999"], "--max-routers"),
]


@pytest.mark.parametrize(("argv", "option"), BAD_VALUES, ids=lambda v: " ".join(v)[-40:])
def test_bad_option_values_are_one_line_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], option: str
) -> None:
    line = _usage_error(capsys, argv)
    assert line.startswith(f"vrrpscope {argv[0]}: error: argument {option}"), line
    assert f"see `vrrpscope {argv[0]} --help`" in line


@pytest.mark.parametrize("name", [name for name, *_ in Thresholds.describe()])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_every_threshold_of_analyze_rejects_nan_inf_and_negatives(
    capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    flag = "--" + name.replace("_", "-")
    line = _usage_error(capsys, ["analyze", CAPTURE, flag, value])
    assert line.startswith(f"vrrpscope analyze: error: argument {flag}:"), line


def test_good_values_still_parse() -> None:
    parser = cli.build_parser()
    args = cli.parse_args(
        parser,
        ["live", "lo", "--duration", "2.5", "--count", "3", "--metrics", "[::1]:9788"]
        + ["--snapshot-interval", "0.5", "--timer-slack", "0", "--max-findings", "5"],
    )
    assert (args.duration, args.count, args.metrics) == (2.5, 3, "[::1]:9788")
    assert args.threshold_timer_slack == 0.0 and args.threshold_max_findings == 5
    args = cli.parse_args(parser, ["live", "lo", "--metrics", ":9788"])
    assert args.metrics == ":9788"


@pytest.mark.parametrize("command", ["analyze", "decode", "plot", "live"])
def test_unknown_option_names_the_subcommand(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = [command, "lo" if command == "live" else CAPTURE, "--bogus"]
    if command == "plot":
        argv += ["-o", "x.png"]
    line = _usage_error(capsys, argv)
    assert line == (
        f"vrrpscope {command}: error: unrecognized arguments: --bogus "
        f"(see `vrrpscope {command} --help`)"
    )


def _listed_codes(capsys: pytest.CaptureFixture[str], argv: list[str]) -> set[int]:
    with pytest.raises(SystemExit):
        cli.main([*argv, "--help"])
    text = capsys.readouterr().out.split("exit codes:")[1]
    return {int(m) for m in re.findall(r"^  (\d+) ", text, re.M)}


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ([], {0, 1, 2, 3, 4, 5, 70, 130}),
        (["analyze"], {0, 1, 2, 3, 4, 70, 130}),
        (["decode"], {0, 1, 2, 3, 4, 70, 130}),
        (["plot"], {0, 2, 3, 4, 70, 130}),
        (["live"], {0, 1, 2, 5, 70}),
    ],
)
def test_help_lists_only_the_exit_codes_a_command_returns(
    capsys: pytest.CaptureFixture[str], command: list[str], codes: set[int]
) -> None:
    assert _listed_codes(capsys, command) == codes


def _boom(args: object) -> int:
    raise ZeroDivisionError("boom in the handler")


def test_internal_error_is_one_line_exit_70_with_the_traceback_in_a_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "_handler", lambda spec: _boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli.main(["analyze", CAPTURE]) == 70
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert "Traceback" not in err
    assert line.startswith("vrrpscope: internal error (a bug): ZeroDivisionError: boom in")
    path = Path(re.search(r"traceback saved in (\S+);", line).group(1))
    assert path.parent == tmp_path
    saved = path.read_text()
    assert "Traceback (most recent call last)" in saved and "_boom" in saved


@pytest.mark.parametrize("argv", [["--debug", "analyze", CAPTURE], ["analyze", "--debug", CAPTURE]])
def test_debug_prints_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setattr(cli, "_handler", lambda spec: _boom)
    assert cli.main(argv) == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_boom" in err
    assert err.splitlines()[-1].startswith("vrrpscope: internal error (a bug)")


def test_duration_nan_from_the_shell_is_exit_2() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "vrrpscope", "live", "lo", "--duration", "nan"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == (
        "vrrpscope live: error: argument --duration: want a finite number, not 'nan' "
        "(see `vrrpscope live --help`)\n"
    )
