"""HSRP group messages decoded as Wireshark decodes them: public captures and built frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from vrrpscope.model import Frame, OtherTraffic
from vrrpscope.pipeline import DecodeSession
from vrrpscope.proto.decode import Decoder
from vrrpscope.proto.hsrp import V1_STATES, V2_STATES, HsrpHello

PEER = Path(__file__).parents[1] / "fixtures" / "peer" / "tcpdump"
OPCODES = ["hello", "coup", "resign"]
V1_FIELDS = ["hsrp.group", "hsrp.priority", "hsrp.virt_ip", "hsrp.state", "hsrp.opcode"]
V1_FIELDS += ["hsrp.hellotime", "hsrp.holdtime"]
V2_FIELDS = ["hsrp2.group", "hsrp2.priority", "hsrp2.virt_ip", "hsrp2.state", "hsrp2.opcode"]
V2_FIELDS += ["hsrp2.hellotime", "hsrp2.holdtime", "hsrp2.identifier", "hsrp2.virt_ip_v6"]


def tshark(path: Path, display_filter: str, fields: list[str]) -> dict[int, list[str]]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", display_filter, "-T", "fields",
         "-e", "frame.number", *(a for f in fields for a in ("-e", f))],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    rows = [line.split("\t") for line in out.splitlines()]
    return {int(r[0]): r[1:] for r in rows}


def ours(path: Path) -> dict[int, HsrpHello | None]:
    return {
        item.frame: item.hsrp
        for item in DecodeSession([str(path)]).items()
        if isinstance(item, OtherTraffic)
    }


def v1_row(h: HsrpHello) -> list[str]:
    state = {v: k for k, v in V1_STATES.items()}[h.state]
    return [str(h.group), str(h.priority), h.virtual_ip or "", str(state)]


def v2_row(h: HsrpHello) -> list[str]:
    state = {v: k for k, v in V2_STATES.items()}[h.state]
    six = h.virtual_ip if h.virtual_ip and ":" in h.virtual_ip else ""
    return [
        str(h.group),
        str(h.priority),
        "" if six else h.virtual_ip or "",
        str(state),
        str(OPCODES.index(h.opcode)),
        str(h.hello_ms),
        str(h.hold_ms),
        h.identifier or "",
        six,
    ]


needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


@needs_tshark
@pytest.mark.parametrize("name", ["HSRP_coup.pcap", "HSRP_election.pcap", "HSRP_failover.pcap"])
def test_version_1_agrees_with_tshark_field_by_field(name: str) -> None:
    path = PEER / name
    theirs = tshark(path, "hsrp.group", V1_FIELDS)
    mine = ours(path)
    assert theirs and {f for f, h in mine.items() if h is not None} == set(theirs)
    for frame, row in theirs.items():
        h = mine[frame]
        assert h is not None and h.version == 1
        expected = [*v1_row(h), str(OPCODES.index(h.opcode))]
        expected += [str(h.hello_ms // 1000), str(h.hold_ms // 1000)]
        assert row == expected, frame


@needs_tshark
def test_version_2_inside_erspan_agrees_with_tshark() -> None:
    path = PEER / "erspan-type-ii-2.pcap"
    theirs = tshark(path, "hsrp2.group", V2_FIELDS)
    mine = ours(path)
    assert len(theirs) == 8
    for frame, row in theirs.items():
        h = mine[frame]
        assert h is not None and h.version == 2 and h.auth == "text"
        assert row == v2_row(h), frame


def _built(tmp_path: Path) -> Path:
    pcap = PcapFile()
    packets = [
        P.ipv4(P.hsrp_v1(7, 120, "198.18.7.1", state="standby"), src="198.18.7.2",
               dst="224.0.0.2", proto=17, ttl=1),
        P.ipv4(P.hsrp_v1(7, 150, "198.18.7.1", opcode="coup", state="speak"),
               src="198.18.7.3", dst="224.0.0.2", proto=17, ttl=1),
        P.ipv4(P.hsrp_v2(300, 110, "198.18.9.1", md5=True), src="198.18.9.2",
               dst="224.0.0.102", proto=17, ttl=1),
        P.ipv6(P.hsrp_v2(4095, 90, "2001:db8::1", state="standby", opcode="resign",
                         identifier="02:00:00:00:00:09", auth=None),
               src="fe80::9", dst="ff02::66", nxt=17, hlim=1),
    ]  # fmt: skip
    for i, packet in enumerate(packets):
        pcap.add(1_700_000_000_000_000_000 + i * 10**9, P.ethernet(packet))
    path = tmp_path / "hsrp.pcap"
    path.write_bytes(pcap.to_bytes())
    return path


@needs_tshark
def test_built_messages_agree_with_tshark(tmp_path: Path) -> None:
    """v1 standby and coup, v2 with an MD5 TLV, v2 over IPv6 without authentication."""
    path = _built(tmp_path)
    mine = ours(path)
    v1 = tshark(path, "hsrp.group", V1_FIELDS)
    assert [r[:5] for r in v1.values()] == [
        ["7", "120", "198.18.7.1", "8", "0"],
        ["7", "150", "198.18.7.1", "4", "1"],
    ]
    v2 = tshark(path, "hsrp2.group", V2_FIELDS)
    assert sorted(v2) == [3, 4]
    for frame, row in v2.items():
        assert row == v2_row(mine[frame]), frame
    assert mine[3].auth == "md5" and mine[3].auth_data is None
    assert (mine[4].virtual_ip, mine[4].opcode, mine[4].auth) == ("2001:db8::1", "resign", None)


@pytest.mark.parametrize(
    "payload",
    [
        P.hsrp_v1(1, 100, "198.18.0.1")[:20],  # truncated
        P.udp(b"\x00\x03\x00\x01\x00\x0c\x02\x00\x00\x00\x00\x01", 1985, 1985),  # advertise
        P.udp(b"\x07" + bytes(30), 1985, 1985),  # unknown version
        P.hsrp_v2(1, 100, "198.18.0.1")[:30],  # group state TLV cut short
    ],
)
def test_what_is_no_group_message_gives_none(payload: bytes) -> None:
    packet = P.ethernet(P.ipv4(payload, src="198.18.0.2", dst="224.0.0.2", proto=17, ttl=1))
    item = Decoder().decode(Frame(1, 1, packet, len(packet), 1))
    assert isinstance(item, OtherTraffic) and item.label == "hsrp" and item.hsrp is None


def test_the_key_is_masked_in_the_repr() -> None:
    packet = P.ethernet(
        P.ipv4(P.hsrp_v1(1, 100, "198.18.0.1", auth=b"s3cret"), src="198.18.0.2",
               dst="224.0.0.2", proto=17, ttl=1)
    )  # fmt: skip
    item = Decoder().decode(Frame(1, 1, packet, len(packet), 1))
    assert item.hsrp.auth_data.rstrip(b"\0") == b"s3cret"
    assert "s3cret" not in repr(item.hsrp) and "s3cret" not in repr(item)
