"""hijack-suspected: injected adverts told apart from a node's own preemption (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.advertfactory import AdvertFactory, at, capture, of_kind, run
from tests.helpers.capturewriter import PcapFile
from tests.helpers.difffuzz import analyze_json
from vrrpscope.findings import Kind, Severity

M, B, H = "198.18.3.1", "198.18.3.2", "198.18.3.66"
M_MAC, B_MAC, H_MAC = "02:00:00:00:03:01", "02:00:00:00:03:02", "02:00:00:00:03:66"
VIP = ("198.18.3.100",)


def _story(intruder: list) -> list:
    """M master (priority 150) from 0 s (its backups are silent, as VRRP backups are),
    and the ``intruder`` adverts."""
    f = AdvertFactory(addresses=VIP)
    master = f.train(M, 0, 200, priority=150, src_mac=M_MAC)
    return capture(master, intruder)


def _injected(start: float, **kw) -> list:
    f = AdvertFactory(addresses=VIP)
    return f.train(kw.pop("src", H), start, start + 5, src_mac=kw.pop("src_mac", H_MAC), **kw)


@pytest.mark.parametrize(
    ("intruder", "reason"),
    [
        (dict(priority=255), "priority 255 (the address owner's) from an address that owns"),
        (dict(priority=200), "priority 200, at least the established master's (150)"),
        (dict(priority=150), "priority 150, at least the established master's (150)"),
        (dict(priority=200, src=VIP[0]), "its source address is the VIP itself"),
    ],
)
def test_a_new_speaker_taking_an_established_vrid_is_suspected(intruder, reason) -> None:
    engine = run(_story(_injected(120.0, **intruder)), end=200.5)
    (finding,) = of_kind(engine, Kind.HIJACK_SUSPECTED)
    assert finding.severity == Severity.CRITICAL and finding.first_ts_ns == at(120.0)
    assert finding.details["master"] == M and finding.details["master_mac"] == M_MAC
    assert any(reason in r for r in finding.details["reasons"]), finding.details["reasons"]
    assert "unicast_peer" in finding.message and "port security" in finding.message


def test_priority_zero_in_the_masters_name_from_another_mac_is_suspected() -> None:
    forged = AdvertFactory(addresses=VIP).train(M, 90.3, 95.3, priority=0, src_mac=H_MAC)
    engine = run(_story(forged), end=200.5)
    (finding,) = of_kind(engine, Kind.HIJACK_SUSPECTED)
    assert finding.details["mac"] == H_MAC and "forces an election" in finding.details["reasons"][0]


@pytest.mark.parametrize(
    "legit",
    [
        dict(priority=100, src=B, src_mac=B_MAC),  # a backup below the master
        dict(priority=200, addresses=("198.18.3.200",)),  # another cluster: duplicate-vrid
    ],
)
def test_a_lower_backup_or_another_cluster_is_no_hijack(legit) -> None:
    f = AdvertFactory(addresses=VIP)
    src, mac = legit.pop("src", H), legit.pop("src_mac", H_MAC)
    engine = run(_story(f.train(src, 120, 125, src_mac=mac, **legit)), end=200.5)
    assert of_kind(engine, Kind.HIJACK_SUSPECTED) == []


def test_a_silent_backup_preempting_a_lowered_master_is_no_hijack() -> None:
    """A track script takes M from 150 to 90 at 100 s; B (100, never heard: backups are
    silent) preempts, as VRRP wants."""
    f = AdvertFactory(addresses=VIP)
    master = f.train(M, 0, 99, priority=150, src_mac=M_MAC)
    master += f.train(M, 100, 103, priority=90, src_mac=M_MAC)
    backup = f.train(B, 103.5, 150, priority=100, src_mac=B_MAC)
    engine = run(capture(master, backup), end=150.5)
    assert of_kind(engine, Kind.HIJACK_SUSPECTED) == []


def test_a_node_of_the_cluster_coming_back_or_before_the_master_settled_is_no_hijack() -> None:
    f = AdvertFactory(addresses=VIP)
    # B preempts 10 s after M began (M not yet established); M's own node comes back later
    early = f.train(B, 10, 12, priority=200, src_mac=B_MAC)
    engine = run(_story(early), end=200.5)
    assert of_kind(engine, Kind.HIJACK_SUSPECTED) == []
    back = f.train(M, 300, 400, priority=150, src_mac=M_MAC)
    b_master = f.train(B, 0, 290, priority=200, src_mac=B_MAC)
    engine = run(capture(b_master, f.train(M, 0, 5, priority=150, src_mac=M_MAC), back), end=400.5)
    assert of_kind(engine, Kind.HIJACK_SUSPECTED) == []


def test_both_routes_find_an_injected_owner_advert_in_a_capture(tmp_path: Path) -> None:
    """The same story as packets on the wire: a host floods priority-255 adverts for the
    VIP two minutes into a steady mastership; both routes print the same finding."""
    pcap = PcapFile()
    master = P.ethernet(P.ipv4(P.vrrp_v2(3, 150, list(VIP)), src=M), src_mac=M_MAC)
    intruder = P.ethernet(P.ipv4(P.vrrp_v2(3, 255, list(VIP)), src=H), src_mac=H_MAC)
    for i in range(180):
        pcap.add(at(i), master)
        if i >= 120:
            pcap.add(at(i + 0.5), intruder)
    path = tmp_path / "hijack.pcap"
    path.write_bytes(pcap.to_bytes())
    fast, general = analyze_json(path, False), analyze_json(path, True)
    assert fast == general
    assert fast.count('"kind":"hijack-suspected"') == 1 and f'"speaker":"{H}"' in fast


PEER = Path(__file__).parents[1] / "fixtures" / "peer" / "tcpdump"


def test_routers_on_the_virtual_mac_handing_over_to_a_higher_newcomer_are_no_hijack() -> None:
    """tcpdump's vrrp.pcap: routers join one after another, each one priority above the
    last, all sending from the VRIDs' virtual MACs: 30 preemptions, no hijack."""
    out = analyze_json(PEER / "vrrp.pcap", False)
    assert out.count('"kind":"failover"') == 30 and '"kind":"hijack-suspected"' not in out


@pytest.mark.parametrize(("priority", "suspected"), [(200, False), (255, True)])
def test_on_the_virtual_mac_only_the_owners_priority_still_counts(priority, suspected) -> None:
    vmac = "00:00:5e:00:01:33"  # VRID 51's, AdvertFactory's default VRID
    f = AdvertFactory(addresses=VIP)
    master = f.train(M, 0, 200, priority=150, src_mac=vmac)
    engine = run(capture(master, _injected(120.0, priority=priority, src_mac=vmac)), end=200.5)
    assert bool(of_kind(engine, Kind.HIJACK_SUSPECTED)) is suspected
