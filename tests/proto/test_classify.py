"""Non-VRRP link-local multicast is named right: tshark is the oracle, frame by frame."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers import packets as P
from vrrpscope.model import Frame, OtherTraffic
from vrrpscope.pipeline import DecodeSession
from vrrpscope.proto.decode import Decoder

PEER = Path(__file__).parents[1] / "fixtures" / "peer" / "tcpdump"

# our label -> tshark display filter for the same protocol
TSHARK_FILTERS = {
    "hsrp": "hsrp && !hsrp2.version",
    "hsrpv2": "hsrp2.version",
    "igmp": "igmp",
    "rip": "rip",
    "pim": "pim",
    "eigrp": "eigrp",
    "ldp": "ldp && udp",
    "ospf": "ospf",
}
CAPTURES = {
    "HSRP_coup.pcap": {"hsrp"},
    "HSRP_election.pcap": {"hsrp"},
    "HSRP_failover.pcap": {"hsrp"},
    "IGMP_V1.pcap": {"igmp"},
    "IGMP_V2.pcap": {"igmp"},
    "igmpv3-queries.pcap": {"igmp"},
    "ripv1v2.pcap": {"rip"},
    "ripv2_auth.pcap": {"rip"},
    "PIMv2_hellos.pcap": {"pim"},
    "EIGRP_goodbye.pcap": {"eigrp"},
    "ldp-common-session.pcap": {"ldp"},
    "OSPFv2_Capture_FINAL.pcapng": {"ospf"},
    "erspan-type-ii-2.pcap": {"hsrp", "hsrpv2"},
}
MULTICAST = "(ip.dst == 224.0.0.0/8 || ipv6.dst == ff02::/16)"


def tshark_frames(path: Path, display_filter: str) -> set[int]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", f"({display_filter}) && {MULTICAST}",
         "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    return {int(line) for line in out.split()}


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_labels_match_tshark_frame_by_frame(name: str):
    run = DecodeSession([str(PEER / name)])
    ours: dict[str, set[int]] = defaultdict(set)
    for item in run.items():
        assert isinstance(item, OtherTraffic)
        ours[item.label].add(item.frame)
    assert set(ours) == CAPTURES[name]
    for label, frames in ours.items():
        assert frames == tshark_frames(PEER / name, TSHARK_FILTERS[label]), label


def test_erspan_mirror_is_decapsulated_into_its_own_segment():
    run = DecodeSession([str(PEER / "erspan-type-ii-2.pcap")])
    assert {item.segment for item in run.items()} == {"erspan1"}


def label_of(ip_packet: bytes) -> str:
    item = Decoder().decode(Frame(1, 1, P.ethernet(ip_packet), 0, 1))
    assert isinstance(item, OtherTraffic)
    return item.label


def udp(sport: int, dport: int) -> bytes:
    return sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + b"\x00\x08\x00\x00"


@pytest.mark.parametrize(
    ("packet", "label"),
    [
        (P.ipv4(udp(5353, 5353), src="198.18.1.1", dst="224.0.0.251", proto=17, ttl=1), "mdns"),
        (P.ipv4(udp(5355, 5355), src="198.18.1.1", dst="224.0.0.252", proto=17, ttl=1), "llmnr"),
        (P.ipv4(udp(123, 123), src="198.18.1.1", dst="224.0.1.1", proto=17, ttl=1), "ntp"),
        (P.ipv4(udp(1985, 1985), src="198.18.1.1", dst="224.0.0.102", proto=17), "hsrpv2"),
        (P.ipv4(udp(40000, 9999), src="198.18.1.1", dst="224.0.0.200", proto=17), "udp port 9999"),
        (P.ipv4(b"\x00" * 8, src="198.18.1.1", dst="224.0.0.5", proto=89, ttl=1), "ospf"),
        (P.ipv4(b"\x00" * 8, src="198.18.1.1", dst="224.0.0.99", proto=253), "ip proto 253"),
        (P.ipv6(udp(5353, 5353), src="fe80::1", dst="ff02::fb", nxt=17), "mdns"),
        (P.ipv6(udp(2029, 2029), src="fe80::1", dst="ff02::66", nxt=17), "hsrpv2"),
        (P.ipv6(b"\x83" + b"\x00" * 23, src="fe80::1", dst="ff02::1:2", nxt=58), "mld"),
        (P.ipv6(b"\x00" * 8, src="fe80::1", dst="ff02::5", nxt=89), "ospfv3"),
    ],
)
def test_hand_built_labels(packet: bytes, label: str):
    assert label_of(packet) == label


def test_unicast_non_vrrp_traffic_is_ignored():
    decoder = Decoder()
    packet = P.ethernet(P.ipv4(udp(1, 2), src="198.18.1.1", dst="198.18.1.2", proto=17))
    assert decoder.decode(Frame(1, 1, packet, 0, 1)) is None
    assert decoder.stats.ignored == 1


def test_gratuitous_arp_is_an_address_claim():
    item = Decoder().decode(
        Frame(1, 1, P.gratuitous_arp("198.18.1.100", "52:54:00:aa:bb:cc"), 0, 4)
    )
    assert (item.ip, item.mac, item.frame) == ("198.18.1.100", "52:54:00:aa:bb:cc", 4)
