"""Internet checksum (RFC 1071) and the pseudo-headers VRRPv3 uses."""

from __future__ import annotations

import struct


def ones_sum(data: bytes) -> int:
    """One's-complement sum of 16-bit big-endian words, folded to 16 bits."""
    if len(data) % 2:
        data = data + b"\x00"
    total = int.from_bytes(data, "big") if len(data) <= 2 else _word_sum(data)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _word_sum(data: bytes) -> int:
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def verifies(data: bytes) -> bool:
    """True when `data` (checksum field included) sums to 0xFFFF."""
    return ones_sum(data) == 0xFFFF


def pseudo_header_v4(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    """IPv4 pseudo-header: source, destination, zero, protocol, upper-layer length."""
    return src + dst + struct.pack("!BBH", 0, proto, length)


def pseudo_header_v6(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    """IPv6 pseudo-header (RFC 8200 §8.1)."""
    return src + dst + struct.pack("!I3xB", length, proto)
