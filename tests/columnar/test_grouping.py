"""The fast route groups frames by their leading bytes (issues 17 and 18): frames that
share a head but differ later, in length or on the wire, must analyse as on the general
route, and never crash (``KeyError`` in the planner before the fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from tests.helpers.difffuzz import analyze_json, lldp

ADVERT = P.ethernet(P.ipv4(P.vrrp_v2(7, 100, ["198.18.1.100"]), src="198.18.1.11"))
UNICAST = P.ethernet(
    P.ipv4(b"\x03\xe8\x07\xd0\x00\x0c\x00\x00abcd", src="198.18.1.5", dst="198.18.1.6", proto=17),
    dst_mac="00:00:5e:00:01:44",
)
# A system name long enough that the description starts past the 128-byte window.
LONG_NAME = b"core-switch-" + b"n" * 120


def _lldp_after_upgrade(description: bytes) -> bytes:
    frame = lldp(description)
    at = frame.index(b"switch1")
    return frame[: at - 2] + bytes([0x0A, len(LONG_NAME)]) + LONG_NAME + frame[at + 7 :]


def _write(path: Path, records: list[tuple[bytes, int | None]]) -> Path:
    pcap = PcapFile()
    for i, (data, orig) in enumerate(records):
        pcap.add(i * 1_000_000_000, data, orig)
    path.write_bytes(pcap.to_bytes())
    return path


CASES = {
    # Two LLDP frames of one port, the description longer after a firmware upgrade.
    "lldp-description-grows": [
        (ADVERT, None),
        (_lldp_after_upgrade(b"v1.0 " * 10), None),
        (ADVERT, None),
        (_lldp_after_upgrade(b"v1.0.1 " * 12), None),
        (ADVERT, None),
    ],
    # One unicast frame captured unpadded, then padded to 60 bytes on the wire.
    "unicast-padded-once": [
        (ADVERT, None),
        (UNICAST, None),
        (ADVERT, None),
        (UNICAST, 60),
        (ADVERT, None),
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_frames_sharing_a_head_analyse_as_on_the_general_route(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / f"{name}.pcap", CASES[name])
    fast = analyze_json(path, general=False)
    assert fast == analyze_json(path, general=True)
    assert '"adverts":3' in fast.replace(" ", "")
