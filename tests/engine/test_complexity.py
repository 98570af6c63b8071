"""The cost of an analysis follows the adverts and events, not the capture's duration.

Counts work (Python function calls under cProfile, deterministic for one input), never
seconds: one master's identical adverts at 1 s and at 10 s (ten times the duration), at
VRRPv3's 10 cs, and twice as many adverts.
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

import pytest

from bench import generate
from vrrpscope.analysis import analyze_files


def _calls(tmp: Path, adverts: int, interval_cs: int, version: int, general: bool) -> int:
    path = tmp / f"steady-{adverts}-{interval_cs}-{version}.pcap"
    if not path.exists():
        generate.write_scenario(str(path), generate.steady(adverts, interval_cs, version))
    analyze_files([str(path)], general=general, parallel=False)  # imports and caches warm
    profile = cProfile.Profile()
    profile.enable()
    analysis = analyze_files([str(path)], general=general, parallel=False)
    profile.disable()
    assert analysis.stats.adverts == adverts
    assert not [f for f in analysis.findings if f.severity != "info"]
    return pstats.Stats(profile).total_calls


@pytest.mark.parametrize("general", [False, True], ids=["fast", "general"])
def test_work_follows_adverts_not_duration(tmp_path: Path, general: bool) -> None:
    one_s = _calls(tmp_path, 2000, 100, 2, general)
    ten_s = _calls(tmp_path, 2000, 1000, 2, general)
    centi = _calls(tmp_path, 2000, 10, 3, general)
    double = _calls(tmp_path, 4000, 500, 2, general)
    assert ten_s <= 1.05 * one_s
    assert centi <= 1.05 * one_s
    # Twice the adverts: at most twice the work (the fast route takes a run in O(1)).
    assert double <= 2.1 * one_s
    if not general:
        assert double <= 1.2 * one_s
