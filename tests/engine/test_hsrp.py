"""HSRP groups in the segment inventory, and an HSRP virtual IP that is a VRRP VIP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from tests.helpers.difffuzz import analyze_json

PEER = Path(__file__).parents[1] / "fixtures" / "peer" / "tcpdump"
T0 = 1_790_000_000 * 10**9
HOURS = 2
ROUTERS = ("198.18.0.3", "198.18.0.4")  # HSRP group 1: active, standby (swapped after 1 h)


def _hsrp_v1(src: str, group: int, prio: int, vip: str, **kw: object) -> bytes:
    ip = P.ipv4(P.hsrp_v1(group, prio, vip, **kw), src=src, dst="224.0.0.2", proto=17, ttl=1)
    return P.ethernet(ip, src_mac=f"00:00:0c:07:ac:{group:02x}", dst_mac="01:00:5e:00:00:02")


def _hsrp_v2(src: str, group: int, prio: int, vip: str, **kw: object) -> bytes:
    ip = P.ipv4(P.hsrp_v2(group, prio, vip, **kw), src=src, dst="224.0.0.102", proto=17, ttl=1)
    return P.ethernet(ip, src_mac="00:00:0c:9f:f1:2c", dst_mac="01:00:5e:00:00:66")


def _vrrp(src: str, vrid: int, prio: int, vips: list[str]) -> bytes:
    ip = P.ipv4(P.vrrp_v2(vrid, prio, vips), src=src)
    return P.ethernet(ip, src_mac=f"00:00:5e:00:01:{vrid:02x}")


def day(path: Path, conflict: bool) -> Path:
    """Two hours: a keepalived pair on VRID 10 (1 s adverts), HSRP v1 group 1 (two routers,
    3 s hellos; the standby takes over by a coup after an hour) and HSRPv2 group 300 whose
    virtual IP is VRID 10's VIP when ``conflict``."""
    frames: list[tuple[int, bytes]] = []
    for s in range(HOURS * 3600):
        t = T0 + s * 10**9
        frames.append((t, _vrrp("198.18.0.2", 10, 150, ["198.18.0.10"])))
        if s % 3 == 0:
            swapped = s >= 3600
            first, second = ROUTERS[::-1] if swapped else ROUTERS
            prio = {"198.18.0.3": 110, "198.18.0.4": 120 if swapped else 100}
            opcode = "coup" if s == 3600 else "hello"
            frames.append(
                (t + 10**8, _hsrp_v1(first, 1, prio[first], "198.18.0.20", opcode=opcode))
            )
            frames.append(
                (t + 2 * 10**8, _hsrp_v1(second, 1, prio[second], "198.18.0.20", state="standby"))
            )
            vip = "198.18.0.10" if conflict else "198.18.0.30"
            frames.append((t + 3 * 10**8, _hsrp_v2("198.18.0.5", 300, 100, vip)))
    pcap = PcapFile()
    for t, data in frames:
        pcap.add(t, data)
    path.write_bytes(pcap.to_bytes())
    return path


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _segments(records: list[dict]) -> list[dict]:
    return next(r for r in records if r["type"] == "summary")["segments"]


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[str, str]]:
    """Each day's JSON on the bulk route and the general route."""
    out = {}
    for conflict in (False, True):
        path = day(tmp_path_factory.mktemp("hsrp") / f"day-{conflict}.pcap", conflict)
        out[conflict] = (analyze_json(path, False), analyze_json(path, True))
    return out


@pytest.mark.parametrize("conflict", [False, True])
def test_both_routes_agree_on_hours_of_hsrp(days: dict, conflict: bool) -> None:
    bulk, general = days[conflict]
    assert bulk == general


def test_a_healthy_day_with_hsrp_beside_vrrp_is_silent(days: dict) -> None:
    records = _records(days[False][0])
    assert [r for r in records if r["type"] == "finding" and r["severity"] != "info"] == []
    (segment,) = _segments(records)
    v1, v2 = segment["hsrp_groups"]
    assert (v1["group"], v1["version"], v1["virtual_ips"]) == (1, 1, ["198.18.0.20"])
    assert (v1["active"], v1["standby"]) == (["198.18.0.4"], ["198.18.0.3"])
    assert v1["messages"] == 2 * HOURS * 1200 and (v1["hello_s"], v1["hold_s"]) == (3.0, 10.0)
    senders = {s["src"]: s for s in v1["senders"]}
    assert senders["198.18.0.4"]["coups"] == 1 and senders["198.18.0.4"]["priority"] == 120
    assert senders["198.18.0.3"]["states_seen"] == ["active", "standby"]
    assert all(s["auth_masked"] == "********" for s in v1["senders"])
    assert "cisco" not in days[False][0]
    assert (v2["group"], v2["version"], v2["active"]) == (300, 2, ["198.18.0.5"])


def test_an_hsrp_virtual_ip_that_is_a_vrrp_vip_is_one_critical_finding(days: dict) -> None:
    records = _records(days[True][0])
    found = [r for r in records if r["type"] == "finding" and r["kind"] == "hsrp-vip-conflict"]
    assert len(found) == 1
    (finding,) = found
    assert finding["severity"] == "critical" and finding["vrid"] == 10
    assert finding["details"] == {
        "vip": "198.18.0.10",
        "hsrp_group": 300,
        "hsrp_version": 2,
        "hsrp_routers": ["198.18.0.5"],
        "vrrp_routers": ["198.18.0.2"],
    }
    assert "two gateways answer ARP" in finding["message"]
    assert finding["first_ts"] == pytest.approx(T0 / 1e9, abs=1)


def test_the_public_coup_capture_reads_as_its_story() -> None:
    """tcpdump's HSRP_coup.pcap: 192.168.0.10 (priority 200) takes the group by a coup."""
    (segment,) = _segments(_records(analyze_json(PEER / "HSRP_coup.pcap", False)))
    (group,) = segment["hsrp_groups"]
    assert group["active"] == ["192.168.0.10"] and group["virtual_ips"] == ["192.168.0.1"]
    senders = {s["src"]: s for s in group["senders"]}
    assert senders["192.168.0.10"]["coups"] == 1 and senders["192.168.0.10"]["priority"] == 200
    assert group["messages"] == 42  # the hellos and the coup, not the 9 advertise messages
