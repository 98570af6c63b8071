"""Send hand-built adverts from inside a lab namespace: forged VRRPv2 ones, as VRRP attack
tools do, or VRRPv3 ones signed as keepalived 2.4's auth_hmac does (``--sign KEY_HEX``).

    python tests/lab/inject.py IFACE SRC_IP VRID PRIORITY VIP COUNT [INTERVAL_S] [--sign KEY]

Builds each frame by hand (Ethernet from the interface's own MAC to 01:00:5e:00:00:12,
IPv4 TTL 255 protocol 112 to 224.0.0.18, a VRRPv2 advertisement with correct checksums)
and sends it on an AF_PACKET socket: COUNT frames (at most 50), INTERVAL_S apart. Run
only inside a namespace the lab made (tests/lab/netlab.py): it never picks an
interface of its own.
"""

from __future__ import annotations

import hashlib
import hmac
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
    return _frame(mac, src, bytes(msg))


def clock_seq(now_ns: int) -> int:
    """keepalived's auth_hmac sequence of a clock reading: seconds << 32, the 1/65536 s
    fraction << 16, a zero counter."""
    seconds, nanos = divmod(now_ns, 1_000_000_000)
    return (seconds & 0xFFFFFFFF) << 32 | ((nanos << 16) // 1_000_000_000) << 16


def signed_frame(
    mac: bytes, src: str, vrid: int, priority: int, vip: str, key: bytes, seq: int, key_id: int = 1
) -> bytes:
    """One Ethernet frame holding a VRRPv3 advert (1 s) signed with keepalived 2.4's
    auth_hmac trailer (HMAC-SHA256/128 over the 20-byte pseudo header, the message with a
    zero checksum and the trailer with a zero HMAC); the RFC 5798 checksum then covers
    the message, not the trailer, as keepalived computes it for IPv4."""
    msg = bytearray(struct.pack("!BBBBHH", 0x31, vrid, priority, 1, 100, 0))
    msg += socket.inet_aton(vip)
    pseudo = bytes([4, 3, vrid, 0]) + socket.inet_aton(src) + bytes(12)
    head = struct.pack("!BBHQ", 1, key_id, 0, seq)
    digest = hmac.new(key, pseudo + bytes(msg) + head + bytes(16), hashlib.sha256).digest()
    cover = socket.inet_aton(src) + socket.inet_aton("224.0.0.18")
    cover += struct.pack("!xBH", 112, len(msg)) + bytes(msg)
    msg[6:8] = struct.pack("!H", _checksum(cover))
    return _frame(mac, src, bytes(msg) + head + digest[:16])


def _frame(mac: bytes, src: str, msg: bytes) -> bytes:
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
    return bytes.fromhex("01005e000012") + mac + b"\x08\x00" + bytes(header) + msg


def main(argv: list[str]) -> int:
    key = None
    if "--sign" in argv:
        at = argv.index("--sign")
        key = bytes.fromhex(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    iface, src, vrid, priority, vip, count = argv[:6]
    interval = float(argv[6]) if len(argv) > 6 else 1.0
    mac_text = Path(f"/sys/class/net/{iface}/address").read_text().strip()
    mac = bytes.fromhex(mac_text.replace(":", ""))
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        for i in range(min(int(count), MAX_FRAMES)):
            if i:
                time.sleep(interval)
            if key is None:
                frame = advert_frame(mac, src, int(vrid), int(priority), vip)
            else:
                seq = clock_seq(time.time_ns())
                frame = signed_frame(mac, src, int(vrid), int(priority), vip, key, seq)
            sock.send(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
