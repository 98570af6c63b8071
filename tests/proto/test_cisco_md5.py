"""Cisco VRRPv2 keyed-MD5 authentication (auth type 254; issue 18).

`vrrp N authentication md5 key-string K` on IOS: the header, the addresses, then a
16-byte digest where RFC 3768 has its 8-byte authentication field (Wireshark's VRRP
dissector decodes it so). Well-formed, such adverts are valid; the digest is a secret
(masked everywhere); a group mixing MD5 with another authentication is a mismatch.
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
from vrrpscope.model import Advert, Frame
from vrrpscope.proto.decode import Decoder
from vrrpscope.secrets import MASK

DIGEST_A = bytes.fromhex("9f3c0a51d2e84b7761c0ffee12345678")
DIGEST_B = bytes.fromhex("00112233445566778899aabbccddeeff")


def _md5(vrid: int, prio: int, vips: list[str], digest: bytes, **kw: object) -> bytes:
    return P.vrrp_v2(vrid, prio, vips, auth_type=254, auth_data=digest, **kw)


FRAMES = [
    P.ipv4(_md5(20, 110, ["198.18.2.100"], DIGEST_A), src="198.18.2.1"),
    P.ipv4(_md5(21, 100, ["198.18.2.101", "198.18.2.102"], DIGEST_B), src="198.18.2.2"),
    P.ipv4(_md5(22, 100, ["198.18.2.103"], DIGEST_A, count=2), src="198.18.2.3"),  # count lies
]


def _decode(frame: bytes, n: int = 1) -> Advert:
    eth = P.ethernet(frame, src_mac="00:00:5e:00:01:14")
    advert = Decoder().decode(Frame(n, 1, eth, len(eth), n, None, "md5.pcap"))
    assert isinstance(advert, Advert)
    return advert


def _capture(path: Path, frames: list[tuple[float, bytes]]) -> Path:
    pcap = PcapFile()
    for t, frame in frames:
        pcap.add(int(t * 1e9), P.ethernet(frame, src_mac="00:00:5e:00:01:14"))
    path.write_bytes(pcap.to_bytes())
    return path


def test_a_well_formed_md5_advert_is_valid_and_its_digest_masked() -> None:
    advert = _decode(FRAMES[0])
    assert advert.valid and advert.issues == ()
    assert advert.length == 8 + 4 + 16 and advert.addresses == ("198.18.2.100",)
    assert bytes(advert.auth_data) == DIGEST_A and advert.auth_name == "cisco-md5"
    assert DIGEST_A.hex() not in repr(advert) and MASK in repr(advert)
    two = _decode(FRAMES[1])
    assert two.valid and two.addresses == ("198.18.2.101", "198.18.2.102")


def test_a_count_that_lies_never_shows_the_digest_as_an_address() -> None:
    advert = _decode(FRAMES[2])
    assert "length" in advert.issues and advert.addresses == ("198.18.2.103",)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_decodes_the_same_fields(tmp_path: Path) -> None:
    path = _capture(tmp_path / "md5.pcap", [(n, f) for n, f in enumerate(FRAMES)])
    fields = ["vrrp.virt_rtr_id", "vrrp.prio", "vrrp.addr_count", "vrrp.auth_type"]
    fields += ["vrrp.ip_addr", "vrrp.md5_auth_data", "vrrp.checksum.status"]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "vrrp", "-T", "fields", "-E", "aggregator=,"]
        + [arg for f in fields for arg in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs = [line.split("\t") for line in out.splitlines()]
    ours = []
    for n, frame in enumerate(FRAMES[:2], 1):
        a = _decode(frame, n)
        ours.append([str(a.vrid), str(a.priority), str(a.count), str(a.auth_type)])
        ours[-1] += [",".join(a.addresses), bytes(a.auth_data).hex(), "1" if a.checksum_ok else "0"]
    assert theirs[:2] == ours


def _findings(tmp_path: Path, second: bytes, general: bool) -> list[dict]:
    frames = []
    for i in range(30):
        frames.append((i * 1.0, FRAMES[0]))
        frames.append((i * 1.0 + 0.4, second))
    path = _capture(tmp_path / f"pair-{general}.pcap", frames)
    lines = [json.loads(line) for line in analyze_json(path, general).splitlines()]
    return [line for line in lines if line["type"] == "finding"]


@pytest.mark.parametrize("general", [False, True])
def test_an_md5_pair_is_healthy_and_a_mix_with_a_password_is_a_mismatch(
    tmp_path: Path, general: bool
) -> None:
    backup = P.ipv4(_md5(20, 100, ["198.18.2.100"], DIGEST_B), src="198.18.2.9")
    healthy = _findings(tmp_path, backup, general)
    assert not [f for f in healthy if f["kind"] in ("invalid-packet", "config-mismatch")]
    password = P.ipv4(
        P.vrrp_v2(20, 100, ["198.18.2.100"], auth_type=1, auth_data=b"cisco"), src="198.18.2.9"
    )
    mixed = _findings(tmp_path, password, general)
    (mismatch,) = [f for f in mixed if f["kind"] == "config-mismatch"]
    assert "auth" in json.dumps(mismatch["details"]) and "cisco-md5" in mismatch["message"]
    text = json.dumps(mixed)
    assert DIGEST_A.hex() not in text and "cisco" not in text.replace("cisco-md5", "")
