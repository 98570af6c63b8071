"""The benchmark's floor lines measure real work: the record walk finds every frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import generate, run

ROOT = Path(__file__).resolve().parents[2]


def test_record_walk_counts_every_frame(tmp_path: Path) -> None:
    path = tmp_path / "walk.pcap"
    assert generate.write(str(path), 3000, seed=5) == 3000
    done = subprocess.run(
        [sys.executable, "-c", run.WALK, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert done.stderr.split() == ["3000"]


def test_verdicts_set_the_floor_against_the_tightest_target() -> None:
    results = [
        run.Result(run.REFERENCE, 2_000_000, 1.5, 60, 80, True),
        run.Result("TZ=UTC tcpdump -nn -r F vrrp", 2_000_000, 1.0, 6, 4, True),
        run.Result("tcpdump -nn -r F vrrp", 2_000_000, 1.8, 6, 4, True),
        run.Result(run.WALK_NAME, 2_000_000, 0.36, 40, 40, True),
    ]
    text = run.verdicts(results)
    # budgets: 3 M packets/s 0.67 s, TZ=UTC tcpdump / 2 = 0.50 s, tcpdump / 6 = 0.30 s
    assert "leave 0.30 s for the whole run" in text
    assert "take 0.36 s (120% of it)" in text
