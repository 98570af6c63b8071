"""The decoding child of the two-process route dies with its parent (no orphan)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import generate

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                kids += [
                    int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                ]
    return kids


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _cpu_ticks(pid: int) -> int:
    """User + system clock ticks the process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _poll(predicate, tries: int, pause: float = 0.05) -> bool:
    for _ in range(tries):
        if predicate():
            return True
        time.sleep(pause)
    return bool(predicate())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_sigterm_to_the_parent_ends_the_decoding_child(tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    generate.write(str(path), 100_000, seed=6)
    env = dict(os.environ, VRRPSCOPE_PARALLEL="1", PYTHONPATH=str(ROOT))
    parent = subprocess.Popen(
        [sys.executable, "-m", "vrrpscope", "analyze", "--json", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    kids: list[int] = []
    try:
        assert _poll(lambda: bool(kids.extend(_children(parent.pid)) or kids), 400), "no child"
        child = kids[0]
        # Its first act is asking the kernel for the signal (die_with); once it has used
        # some CPU decoding, that is done (stopped before it, nothing would end it).
        assert _poll(lambda: _cpu_ticks(child) >= 5, 600), "the child never ran"
        # Stopped, the child cannot notice a closed pipe by writing to it: only the kernel
        # (PR_SET_PDEATHSIG) can end it once the parent is gone.
        os.kill(child, signal.SIGSTOP)
        os.kill(parent.pid, signal.SIGTERM)
        assert parent.wait(30) == -signal.SIGTERM
        assert _poll(lambda: not _alive(child), 200), f"child {child} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        for kid in kids:
            if _alive(kid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(kid, signal.SIGKILL)
