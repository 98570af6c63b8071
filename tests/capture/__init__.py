"""Tests of vrrpscope.capture, plus the oracle helpers they share."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PEER = Path("/work/shared/captures-peer")


def peer_captures(*patterns: str) -> list[Path]:
    """Public captures gathered for the project (skipped when absent)."""
    return sorted(p for pattern in patterns for p in PEER.glob(pattern))


def _epoch_ns(text: str) -> int:
    sec, _, frac = text.strip().partition(".")
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout


def oracle_frames(path: Path | str) -> list[tuple[int, int]]:
    """(frame number, timestamp ns) of every frame, as tshark (or tcpdump) reports them.

    tcpdump prints microseconds, so with tcpdump the timestamps are microsecond-exact.
    """
    if shutil.which("tshark"):
        fields = ["-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch"]
        out = _run(["tshark", "-n", "-r", str(path), *fields])
        rows = [line.split("\t") for line in out.splitlines() if line.strip()]
        return [(int(num), _epoch_ns(ts)) for num, ts in rows]
    if shutil.which("tcpdump"):
        out = _run(["tcpdump", "-tt", "-nn", "-r", str(path)])
        return [(i, _epoch_ns(line.split()[0])) for i, line in enumerate(out.splitlines(), 1)]
    pytest.skip("neither tshark nor tcpdump is installed: no oracle to compare with")


def oracle_is_tshark() -> bool:
    return shutil.which("tshark") is not None
