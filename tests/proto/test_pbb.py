"""VRRP inside 802.1ah provider backbone bridging (PBB, MAC-in-MAC; issue 18).

The segment is the I-SID plus the customer's VLAN stack; the advert's MACs are the
customer's; both routes agree, and tshark decodes the same VRRP fields from the same bytes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from tests.helpers.difffuzz import analyze_json
from tests.helpers.layers import pbb
from vrrpscope.model import Advert, Frame
from vrrpscope.proto.decode import Decoder
from vrrpscope.proto.link import LinkError, parse_link

V2 = P.ipv4(P.vrrp_v2(7, 100, ["198.18.1.100"]), src="198.18.1.11")
V3 = P.ipv4(
    P.vrrp_v3(8, 120, ["198.18.1.101", "198.18.1.102"], src="198.18.1.12"), src="198.18.1.12"
)
V6 = P.ipv6(P.vrrp_v3(9, 90, ["fe80::1"], src="fe80::11"), src="fe80::11")
FRAMES = [
    (pbb(V2, isid=1000), "isid1000", []),
    (pbb(V3, isid=1000, b_vlan=5, vlans=(30,), pcp=7), "isid1000.vlan30", [30]),
    (pbb(V6, isid=0xABCDEF, b_vlan=7, vlans=(10, 20)), "isid11259375.vlan10.vlan20", [10, 20]),
    (pbb(V2, isid=2000, src_mac="00:00:5e:00:01:07"), "isid2000", []),
]


def _capture(path: Path, repeat: int = 1) -> Path:
    pcap = PcapFile()
    for i in range(repeat):
        for j, (frame, _segment, _vlans) in enumerate(FRAMES):
            pcap.add((i * len(FRAMES) + j) * 250_000_000, frame)
    path.write_bytes(pcap.to_bytes())
    return path


def test_parse_link_strips_the_i_tag() -> None:
    link = parse_link(1, FRAMES[1][0])
    assert (link.ethertype, link.isid, link.vlans) == (0x0800, 1000, (30,))
    assert (link.src_mac, link.dst_mac) == ("00:00:5e:00:01:33", "01:00:5e:00:00:12")
    assert link.payload == V3


def test_a_cut_i_tag_is_a_link_error() -> None:
    frame = FRAMES[0][0]
    cut = frame.index(b"\x88\xe7") + 2 + 17  # one byte short of the customer ethertype
    with pytest.raises(LinkError, match="802.1ah"):
        parse_link(1, frame[:cut])


def test_general_decoder_names_the_segment() -> None:
    decoder = Decoder()
    for n, (frame, segment, vlans) in enumerate(FRAMES, 1):
        item = decoder.decode(Frame(n, 1, frame, len(frame), n, "eth0", "x.pcap"))
        assert isinstance(item, Advert)
        assert (item.segment, list(item.vlans)) == (f"eth0.{segment}", vlans)
    assert decoder.stats.adverts == len(FRAMES)


def test_both_routes_analyse_pbb_alike(tmp_path: Path) -> None:
    path = _capture(tmp_path / "pbb.pcap", repeat=30)
    fast = analyze_json(path, general=False)
    assert fast == analyze_json(path, general=True)
    routers = [json.loads(line) for line in fast.splitlines()[1:] if '"vrid"' in line]
    segments = {r["segment"] for r in routers if "segment" in r}
    assert {s for _f, s, _v in FRAMES} <= segments, segments


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_decodes_the_same_fields(tmp_path: Path) -> None:
    path = _capture(tmp_path / "pbb.pcap")
    fields = ["frame.number", "ieee8021ah.isid", "ieee8021ah.csrc", "vrrp.version"]
    fields += ["vrrp.virt_rtr_id", "vrrp.prio", "vrrp.addr_count", "vrrp.checksum.status"]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "vrrp", "-T", "fields"]
        + [arg for f in fields for arg in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs = [line.split("\t") for line in out.splitlines()]
    decoder = Decoder()
    ours = []
    for n, (frame, _segment, _vlans) in enumerate(FRAMES, 1):
        a = decoder.decode(Frame(n, 1, frame, len(frame), n, None, str(path)))
        assert isinstance(a, Advert)
        isid = a.segment.split(".")[0].removeprefix("isid")
        good = "1" if a.checksum_ok else "0"
        ours.append([str(n), isid, a.src_mac, str(a.version), str(a.vrid), str(a.priority)])
        ours[-1] += [str(a.count), good]
    assert theirs == ours
