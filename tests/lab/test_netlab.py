"""Tests of the lab harness itself (real keepalived/ucarp in namespaces; needs root)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.lab.netlab import (
    NS_PREFIX,
    Lab,
    LabTimeout,
    VrrpInstance,
    _alive,
    _eui64_link_local,
    _run,
    cleanup_stale,
    keepalived_config,
    list_namespaces,
    tcpdump_adverts,
)

VIP = "198.18.1.100"


def _assert_clean(lab: Lab) -> None:
    assert lab.leftovers == {"namespaces": [], "processes": []}
    assert not [ns for ns in list_namespaces() if ns.startswith(lab.tag)]
    for d in lab.daemons:
        assert d.proc.poll() is not None
        assert not _alive(d.proc.pid)
    for c in lab.captures:
        assert c.proc.poll() is not None


def test_available_is_a_reasoned_bool() -> None:
    ok, why = Lab.available()
    assert isinstance(ok, bool)
    assert ok or why


def test_config_rendering() -> None:
    inst = VrrpInstance(
        "VI_9",
        vrid=9,
        priority=120,
        vips=["198.18.1.9/24"],
        version=3,
        auth_pass="pw",
        unicast_src_ip="198.18.1.1",
        unicast_peers=["198.18.1.2"],
        nopreempt=True,
        advert_int=0.5,
    )
    text = keepalived_config(inst, router_id="rx")
    for needle in (
        "router_id rx",
        "virtual_router_id 9",
        "priority 120",
        "advert_int 0.5",
        "version 3",
        "auth_pass pw",
        "unicast_src_ip 198.18.1.1",
        "nopreempt",
    ):
        assert needle in text
    assert text.count("{") == text.count("}")


def test_link_local_from_mac() -> None:
    assert _eui64_link_local("02:00:00:00:01:01") == "fe80::ff:fe00:101"


@pytest.mark.lab
@pytest.mark.usefixtures("lab_ok")
def test_two_routers_elect_failover_and_clean_up(tmp_path: Path) -> None:
    pcap = tmp_path / "t.pcap"
    with Lab(["r1", "r2"], timeout=45) as lab:
        r1 = lab.router("r1")
        assert r1.ipv4 == "198.18.1.1" and r1.mac == "02:00:00:00:01:01"
        assert r1.ipv6 == "2001:db8:1::1" and r1.link_local in lab.addresses("r1")
        cap = lab.start_capture(pcap)
        tf = lab.track_file("r1", "tf1", weight=1)
        for name, prio in (("r1", 150), ("r2", 100)):
            tfs = [tf] if name == "r1" else []
            inst = VrrpInstance("VI_51", 51, prio, [f"{VIP}/24"], track_files=tfs)
            lab.start_keepalived(name, keepalived_config(inst, router_id=name))
        assert lab.wait_for(lambda: lab.holders(VIP) == ["r1"], timeout=10)
        lab.set_track_file(tf, 7)
        lab.wait(2.2)
        assert lab.holders(VIP) == ["r1"]
        lab.stop("r1")
        assert lab.wait_for(lambda: lab.holders(VIP) == ["r2"], timeout=5)
        lab.wait(1.2)
        lab.stop_capture(cap)
        assert "Entering MASTER STATE" in lab.daemon("r2").log()
        side = lab.write_sidecar(tmp_path / "t.events.json", cap)
    _assert_clean(lab)
    assert [e["event"] for e in side["events"]].count("start") == 2
    assert side["layout"]["routers"]["r2"]["interfaces"]["eth0"]["ipv4"] == "198.18.1.2"
    ads = tcpdump_adverts(pcap)
    prios = {(a.src, a.prio) for a in ads if a.vrid == 51}
    assert ("198.18.1.1", 150) in prios
    assert ("198.18.1.1", 157) in prios  # track_file value 7 × weight 1
    assert ("198.18.1.1", 0) in prios  # SIGTERM → resignation
    assert ("198.18.1.2", 100) in prios
    stop_ns = next(e.t_ns for e in lab.events if e.event == "stop")
    assert all(a.src == "198.18.1.2" for a in ads if a.t * 1e9 > stop_ns + 0.5e9)


@pytest.mark.lab
@pytest.mark.usefixtures("lab_ok")
def test_cleanup_after_error_and_timeout() -> None:
    lab = Lab(["r1"], timeout=4)
    with pytest.raises(LabTimeout), lab:
        inst = VrrpInstance("VI_51", 51, 100, [f"{VIP}/24"])
        d = lab.start_keepalived("r1", keepalived_config(inst))
        pids = d.pids()
        assert len(pids) >= 2  # keepalived + its VRRP child
        lab.wait(30)
    _assert_clean(lab)
    assert not [p for p in pids if _alive(p)]
    assert not Path(lab.workdir).exists()


@pytest.mark.lab
@pytest.mark.usefixtures("lab_ok")
@pytest.mark.skipif(shutil.which("ucarp") is None, reason="ucarp not installed")
def test_ucarp_firewall_and_wire_drop(tmp_path: Path) -> None:
    pcap = tmp_path / "c.pcap"
    with Lab(["r1"], timeout=30) as lab:
        cap = lab.start_capture(pcap)
        lab.start_ucarp("r1", vhid=7, password="pw", vip="198.18.1.7")
        assert lab.wait_for(lambda: lab.holders("198.18.1.7") == ["r1"], timeout=6)
        lab.block("r1", "OUTPUT")  # ucarp sends via a packet socket: iptables misses it
        assert "DROP" in lab.ns_exec("r1", "iptables", "-S", "OUTPUT")
        lab.wait(1.2)
        lab.unblock("r1", "OUTPUT")
        assert "DROP" not in lab.ns_exec("r1", "iptables", "-S", "OUTPUT")
        dropped = lab.wire_drop("r1").t_ns / 1e9
        lab.wait(2.5)
        lab.wire_restore("r1")
        lab.wait(2.5)
        lab.stop_capture(cap)
        assert " up " in lab.daemon("r1", "ucarp").log()
    _assert_clean(lab)
    ads = tcpdump_adverts(pcap, carp=True)
    assert ads and all(a.vrid == 7 and a.src == "198.18.1.1" for a in ads)
    # the drop rule needs a moment to take effect on a loaded machine: allow 0.3 s
    assert not [a for a in ads if dropped + 0.3 < a.t < dropped + 2.45]
    assert [a for a in ads if a.t > dropped + 2.6]


@pytest.mark.lab
@pytest.mark.usefixtures("lab_ok")
def test_cleanup_stale_removes_namespaces_of_dead_labs() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    ns = f"{NS_PREFIX}{dead.pid}beef-x"
    _run(["ip", "netns", "add", ns])
    try:
        assert ns in cleanup_stale()
        assert ns not in list_namespaces()
    finally:
        _run(["ip", "netns", "del", ns], check=False)
