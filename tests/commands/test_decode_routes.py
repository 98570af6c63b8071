"""`decode` takes the columnar fast route on regular files: byte-identical output to the
general decoder's (text, --json, --local, several files), on every capture we ship."""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import pytest

from vrrpscope.commands import decode_cmd
from vrrpscope.errors import VrrpscopeError
from vrrpscope.report.adverts import _clock

ROOT = Path(__file__).parents[2]
CAPTURES = sorted(
    p
    for pattern in ("captures/*.pcap", "tests/fixtures/**/*", "tests/fuzz/corpus/*")
    for p in ROOT.glob(pattern)
    if p.is_file() and p.suffix not in (".md", ".json", ".jsonl", ".txt", ".tsv", ".out")
)


def decode(monkeypatch, files: list[Path], general: bool, **flags) -> tuple[int | str, str, str]:
    """(exit code or error, stdout, stderr) of `vrrpscope decode` in this process."""
    monkeypatch.setenv("VRRPSCOPE_GENERAL", "1" if general else "0")
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    args = argparse.Namespace(
        files=[str(f) for f in files],
        json=flags.get("json", False),
        show_secrets=False,
        local=flags.get("local", False),
        crosscheck=False,
    )
    routes = []
    real = decode_cmd._Run.__init__

    def spy(self, paths):
        real(self, paths)
        routes.append("general" if self.general is not None else "fast")

    monkeypatch.setattr(decode_cmd._Run, "__init__", spy)
    try:
        code: int | str = decode_cmd.run_decode(args)
    except VrrpscopeError as exc:  # the CLI turns it into one line; the same on both routes
        code = f"error: {exc}"
    # (a general run that failed to open its input never got to choose)
    assert routes == ["general" if general else "fast"] or (general and isinstance(code, str))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_fast_route_prints_what_the_general_decoder_prints(monkeypatch, capture, json):
    fast = decode(monkeypatch, [capture], general=False, json=json)
    general = decode(monkeypatch, [capture], general=True, json=json)
    assert fast == general


def test_fast_route_merges_several_files_and_local_times_like_the_general(monkeypatch):
    files = [ROOT / "captures" / "failover.pcap", ROOT / "captures" / "split-brain.pcap"]
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    _clock.cache_clear()
    try:
        fast = decode(monkeypatch, files, general=False, local=True)
        assert fast == decode(monkeypatch, files, general=True, local=True)
    finally:
        monkeypatch.undo()
        time.tzset()
        _clock.cache_clear()
    assert fast[1].count("\n") > 40 and " CET " in fast[1].splitlines()[0]
