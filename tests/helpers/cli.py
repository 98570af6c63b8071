"""Run vrrpscope as a user does (a subprocess) and check its errors are one clean line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]


def run(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m vrrpscope ARGS` with `stdin` as its input; output captured as bytes."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vrrpscope", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        env=full_env,
    )


def assert_clean_error(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The run exited with `code` and one `vrrpscope: error` line holding every needle."""
    err = result.stderr.decode()
    assert result.returncode == code, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("vrrpscope: error")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
