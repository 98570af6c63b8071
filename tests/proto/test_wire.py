"""The wire rules give the same answer for the ints of one advert and for columns."""

from __future__ import annotations

import itertools

import numpy as np

from vrrpscope.columnar.byteview import ByteView
from vrrpscope.proto import wire


def test_rules_agree_on_ints_and_arrays() -> None:
    cases = list(itertools.product((2, 3, 4), (0, 1, 3), (4, 6), (0, 36, 40), (0, 7, 254, 255)))
    version, count, family, length, byte = (np.array(c, np.int64) for c in zip(*cases, strict=True))
    rules = {
        "version": lambda v, c, f, n, b: wire.version_bad(v),
        "type": lambda v, c, f, n, b: wire.type_bad(b & 0x0F),
        "vrid": lambda v, c, f, n, b: wire.vrid_bad(b),
        "ttl": lambda v, c, f, n, b: wire.ttl_bad(b, f == 4),
        "width": lambda v, c, f, n, b: wire.address_width(f, v),
        "expected": lambda v, c, f, n, b: wire.expected_length(v, c, wire.address_width(f, v), b),
        "auth length": lambda v, c, f, n, b: wire.auth_length(v, b),
        "room": lambda v, c, f, n, b: wire.address_room(v, n, c == 0, b),
        "shown": lambda v, c, f, n, b: wire.addresses_shown(c, n, n, wire.address_width(f, v)),
        "carp": lambda v, c, f, n, b: wire.is_carp(n, 0x20 | (v - 1), b),
        "multicast": lambda v, c, f, n, b: wire.is_multicast(f, b),
        "interval": lambda v, c, f, n, b: wire.vrrp_interval_cs(v == 3, n, b),
        "carp interval": lambda v, c, f, n, b: wire.carp_interval_cs(n, b),
    }
    for name, rule in rules.items():
        column = rule(version, count, family, length, byte)
        one = [rule(*(int(x) for x in case)) for case in cases]
        assert column.tolist() == [int(x) for x in one], name


def test_fields_read_the_same_from_bytes_and_columns() -> None:
    msg = bytes([0x31, 7, 100, 1, 0x50, 0x64, 0xAB, 0xCD, 192, 0, 2, 1])
    view = ByteView(np.frombuffer(msg * 2, np.uint8))
    at = np.array([0, len(msg)], np.int64)
    for layout in (wire.VRRP_V2, wire.VRRP_V3, wire.CARP):
        for field in layout.values():
            if field.width > 4:
                continue
            assert field.column(view, at).tolist() == [field.get(msg)] * 2, field.name
    assert wire.VRRP_V3["reserved"].get(msg) == 5
    assert wire.VRRP_V3["max_adver_int"].get(msg) == 0x064
    assert wire.VRRP_V2["priority"].get(msg[:2]) is None  # the message stops before it


def test_cisco_md5_takes_a_16_byte_digest_after_the_addresses() -> None:
    """Auth type 254 (Cisco `authentication md5`): header, addresses, 16-byte digest."""
    assert wire.expected_length(2, 1, 4, wire.CISCO_MD5) == 8 + 4 + 16
    assert wire.expected_length(2, 1, 4, 1) == 8 + 4 + 8
    assert wire.expected_length(3, 1, 4, wire.CISCO_MD5) == 8 + 4  # (v3 has no auth field)
    assert wire.address_room(2, 28, False, wire.CISCO_MD5) == 4  # the digest is no address


def test_group_sums_are_the_groups() -> None:
    assert wire.VRRP_GROUP_V4_SUM == 0xE000 + 0x0012
    assert wire.VRRP_GROUP_V6_SUM == 0xFF02 + 0x0012
    assert wire.HSRPV2_GROUP_INT == 0xE0000066
