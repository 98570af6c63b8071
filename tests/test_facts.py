"""Facts the report states about the bundled captures (issue 17: wrong or misleading facts)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from vrrpscope.analysis import Analysis, analyze_files
from vrrpscope.report.plot.data import AdvertIndex, gap_series, router_data

CAPTURES = Path(__file__).parents[1] / "captures"
R1, R2 = "198.18.1.1", "198.18.1.2"


@cache
def analysed(name: str) -> Analysis:
    return analyze_files([str(CAPTURES / f"{name}.pcap")], keep_adverts=True)


def test_max_gap_includes_the_outage() -> None:
    a = analysed("no-master")
    (segment,) = a.inventory
    (router,) = segment.routers
    (r1,) = router.speakers
    silence = 16.47 - 5.44  # no VRRP at all in between (captures/README.md)
    assert r1.observed["outage_s"] == pytest.approx(silence, abs=0.1)
    assert r1.observed["max_s"] == r1.observed["outage_s"]
    assert router.observed_max_s == pytest.approx(silence, abs=0.1)
    data = router_data(next(iter(a.routers.values())), AdvertIndex(a.adverts), [], [])
    gaps = gap_series(data.speaker(R1))
    assert gaps.gap_s.max() == pytest.approx(silence, abs=0.1)


def test_a_backup_stretch_is_no_outage() -> None:
    a = analysed("failover")  # r1 resigned and came back while r2 was master
    (segment,) = a.inventory
    for sp in segment.routers[0].speakers:
        assert "outage_s" not in sp.observed
        assert sp.observed["max_s"] < 1.1


def test_split_brain_beside_a_carp_collision_blames_the_collision() -> None:
    a = analysed("carp-collision")
    (split,) = [f for f in a.findings if f.kind == "split-brain"]
    assert "see carp-collision" in split.message and "INPUT -p vrrp" not in split.message


def test_ucarp_mac_is_explained_as_its_virtual_mac() -> None:
    a = analysed("carp-collision")
    (mac,) = [f for f in a.findings if f.kind == "non-standard-mac" and f.proto == "carp"]
    assert "ucarp's virtual source MAC (00:00:5e:00:00:VHID)" in mac.message
    assert "sends from the interface MAC" not in mac.message


def test_state_words_tell_backup_resigned_and_master_apart() -> None:
    states = {
        name: {sp.src: sp.state for sp in analysed(name).inventory[0].routers[0].speakers}
        for name in ("failover", "vrrpv3-ipv4", "no-master")
    }
    assert states["failover"] == {R1: "MASTER", R2: "backup"}
    assert states["vrrpv3-ipv4"] == {R1: "resigned", R2: "MASTER"}
    assert states["no-master"] == {R1: "MASTER"}


def test_sll_v1_merge_lowers_only_pairs_in_different_subnets() -> None:
    from vrrpscope.detectors.concurrency import _other_subnets

    assert _other_subnets("198.18.1.1", "198.18.2.1")
    assert not _other_subnets("198.18.1.1", "198.18.1.3")  # duplicate-vrid.pcap: real
    assert not _other_subnets("fe80::1", "fe80::2")
    dups = [f for f in analysed("duplicate-vrid").findings if f.kind == "duplicate-vrid"]
    assert dups and all(f.severity == "critical" for f in dups)  # Ethernet: never lowered
