"""The progress bar: on a terminal only, for reads longer than SHOW_AFTER_S, on every route."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from bench import generate
from vrrpscope.analysis import analyze_files
from vrrpscope.report import progress


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "p.pcap"
    generate.write(str(path), 120_000, seed=2)
    return path


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> tuple[int, io.TextIOWrapper]:
    main, side = os.openpty()
    terminal = io.TextIOWrapper(os.fdopen(side, "wb", buffering=0), write_through=True)
    monkeypatch.setattr(sys, "stderr", terminal)
    return main, terminal


@pytest.mark.parametrize("route", ["general", "one process", "two processes"])
def test_bar_on_a_terminal(capture: Path, monkeypatch: pytest.MonkeyPatch, route: str) -> None:
    main, terminal = _on_a_terminal(monkeypatch)
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    with progress.progress_for([str(capture)]) as update:
        assert update is not None
        analyze_files(
            [str(capture)],
            general=route == "general",
            parallel=route == "two processes",
            on_progress=update,
        )
    terminal.flush()
    shown = os.read(main, 1 << 16).decode(errors="replace")
    os.close(main)
    size = f"/{capture.stat().st_size / 1e6:.1f} MB"  # the bar counts the file's bytes
    assert "reading p.pcap" in shown and size in shown


def test_no_bar_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress.progress_for(["x.pcap"]) as update:
        assert update is None


def test_no_bar_for_short_reads(capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main, terminal = _on_a_terminal(monkeypatch)
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 3600.0)
    with progress.progress_for([str(capture)]) as update:
        analyze_files([str(capture)], on_progress=update)
    terminal.write("end")
    terminal.flush()
    shown = os.read(main, 1 << 16).decode(errors="replace")
    os.close(main)
    assert shown == "end"
