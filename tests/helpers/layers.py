"""Link-layer builders the shared packet builder (tests/helpers/packets.py) lacks."""

from __future__ import annotations

import struct

from tests.helpers import packets as P


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def pbb(
    ip_packet: bytes,
    *,
    isid: int,
    b_vlan: int | None = None,
    vlans: tuple[int, ...] = (),
    pcp: int = 0,
    src_mac: str = "00:00:5e:00:01:33",
    dst_mac: str = "01:00:5e:00:00:12",
    b_src: str = "02:bb:00:00:00:01",
    b_dst: str = "02:bb:00:00:00:02",
) -> bytes:
    """An 802.1ah (PBB, MAC-in-MAC) frame: backbone MACs, optional B-tag (0x88a8), ethertype
    0x88e7, I-TAG TCI (PCP, DEI, UCA, reserved, 24-bit I-SID), then the customer frame
    (its MACs, VLAN stack and ``ip_packet``)."""
    out = _mac(b_dst) + _mac(b_src)
    if b_vlan is not None:
        out += struct.pack("!HH", 0x88A8, b_vlan)
    out += struct.pack("!HI", 0x88E7, (pcp << 29) | (isid & 0xFFFFFF))
    return out + P.ethernet(ip_packet, src_mac=src_mac, dst_mac=dst_mac, vlans=vlans)
