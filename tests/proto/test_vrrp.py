"""Hand-built VRRP/CARP adverts round-trip through the decoder; each validation issue fires."""

from __future__ import annotations

import pytest

from tests.helpers import packets as P
from vrrpscope.model import (
    FORM_MESSAGE_ONLY,
    FORM_PSEUDO,
    FORM_PSEUDO_GROUP,
    FORM_V2,
    Advert,
    Frame,
)
from vrrpscope.proto.decode import Decoder

SRC4 = "198.18.1.11"
SRC6 = "fe80::11"


def decode_eth(ip_packet: bytes, **eth) -> Advert:
    frame = Frame(
        ts_ns=1_700_000_000_123_456_789,
        linktype=1,
        data=P.ethernet(ip_packet, **eth),
        orig_len=0,
        number=7,
        source="t.pcap",
    )
    item = Decoder().decode(frame)
    assert isinstance(item, Advert), item
    return item


def test_vrrp_v2_simple_auth_round_trip():
    msg = P.vrrp_v2(
        51, 150, ["198.18.1.100", "198.18.1.101"], interval_s=3, auth_type=1, auth_data=b"secret"
    )
    adv = decode_eth(P.ipv4(msg, src=SRC4))
    assert (adv.proto, adv.version, adv.type, adv.vrid, adv.priority) == ("vrrp", 2, 1, 51, 150)
    assert adv.interval_cs == 300
    assert adv.count == 2
    assert adv.addresses == ("198.18.1.100", "198.18.1.101")
    assert adv.auth_type == 1 and adv.auth_data == b"secret\x00\x00"
    assert adv.checksum_ok and adv.checksum_form == FORM_V2
    assert adv.issues == ()
    assert adv.length == 8 + 8 + 8
    assert (adv.src, adv.dst, adv.ttl, adv.family) == (SRC4, "224.0.0.18", 255, 4)
    assert adv.src_mac == "00:00:5e:00:01:33"
    assert (adv.frame, adv.source, adv.ts_ns) == (7, "t.pcap", 1_700_000_000_123_456_789)


@pytest.mark.parametrize(
    ("form", "dst", "expected"),
    [
        ("pseudo-header", "224.0.0.18", FORM_PSEUDO),
        ("pseudo-header", "198.18.1.12", FORM_PSEUDO),
        ("pseudo-header-group", "198.18.1.12", FORM_PSEUDO_GROUP),
        ("message-only", "224.0.0.18", FORM_MESSAGE_ONLY),
        ("message-only", "198.18.1.12", FORM_MESSAGE_ONLY),
    ],
)
def test_vrrp_v3_ipv4_checksum_forms(form, dst, expected):
    msg = P.vrrp_v3(52, 200, ["198.18.1.100"], src=SRC4, dst=dst, interval_cs=75, form=form)
    adv = decode_eth(P.ipv4(msg, src=SRC4, dst=dst))
    assert adv.version == 3 and adv.interval_cs == 75
    assert adv.checksum_ok and adv.checksum_form == expected
    assert adv.issues == ()
    assert adv.auth_type is None


def test_vrrp_v3_ipv6_round_trip():
    addrs = ["fe80::100", "2001:db8:1::100", "2001:db8:1::101"]
    msg = P.vrrp_v3(53, 100, addrs, src=SRC6, interval_cs=100)
    adv = decode_eth(
        P.ipv6(msg, src=SRC6), src_mac="00:00:5e:00:02:35", dst_mac="33:33:00:00:00:12"
    )
    assert (adv.family, adv.version, adv.vrid, adv.count) == (6, 3, 53, 3)
    assert adv.addresses == tuple(addrs)
    assert adv.checksum_form == FORM_PSEUDO and adv.issues == ()
    assert adv.dst == "ff02::12"


def test_carp_is_told_apart_from_vrrp():
    msg = P.carp(51, advbase=1, advskew=100, demote=0, counter=42)
    adv = decode_eth(P.ipv4(msg, src=SRC4))
    assert adv.proto == "carp"
    assert adv.vrid == 51
    assert adv.priority is None  # never a priority-0 resignation
    assert (adv.advbase, adv.advskew, adv.counter, adv.demote) == (1, 100, 42, 0)
    assert adv.interval_cs == 100 + 100 * 100 // 256
    assert adv.checksum_ok and adv.issues == ()
    assert adv.auth_data == bytes(range(20))


def test_carp_over_ipv6():
    adv = decode_eth(P.ipv6(P.carp(9), src=SRC6))
    assert adv.proto == "carp" and adv.family == 6 and adv.vrid == 9


def test_vrrp_v2_with_count_7_and_36_bytes_is_not_carp():
    # 7 addresses would need 8 + 28 + 8 = 44 bytes; CARP needs exactly 36 and byte 3 == 7
    msg = P.vrrp_v2(51, 100, ["198.18.1.1"] * 7)
    adv = decode_eth(P.ipv4(msg, src=SRC4))
    assert adv.proto == "vrrp" and adv.count == 7 and adv.issues == ()


def test_ipsec_ah_in_front_of_vrrp_v2():
    msg = P.vrrp_v2(54, 120, ["198.18.1.100"], auth_type=2)
    adv = decode_eth(P.ipv4(P.ah(msg, spi=0xBEEF), src=SRC4, proto=51))
    assert adv.proto == "vrrp" and adv.vrid == 54
    assert adv.auth_type == 2 and adv.ah_spi == 0xBEEF
    assert adv.auth_data == b"\xaa" * 12
    assert adv.issues == () and adv.checksum_ok


def test_unicast_advert_is_decoded():
    msg = P.vrrp_v2(55, 100, ["198.18.1.100"])
    adv = decode_eth(P.ipv4(msg, src=SRC4, dst="198.18.1.12"), dst_mac="02:00:00:00:00:12")
    assert adv.dst == "198.18.1.12" and adv.issues == ()


@pytest.mark.parametrize(
    ("build", "issue"),
    [
        (lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"]), src=SRC4, ttl=64), "ttl"),
        (
            lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"], bad_checksum=True), src=SRC4),
            "checksum",
        ),
        (
            lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"]), src=SRC4, bad_header_checksum=True),
            "ip-checksum",
        ),
        (lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"], count=3), src=SRC4), "length"),
        (
            lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"], with_auth_field=False), src=SRC4),
            "no-auth-field",
        ),
        (lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"], version=4), src=SRC4), "version"),
        (lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"], vtype=2), src=SRC4), "type"),
        (lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"]), src=SRC4, mf=True), "fragment"),
        (lambda: P.ipv4(P.vrrp_v2(0, 100, ["198.18.1.1"]), src=SRC4), "vrid"),
        (lambda: P.ipv4(P.vrrp_v2(1, 100, ["198.18.1.1"], interval_s=0), src=SRC4), "interval"),
        (
            lambda: P.ipv4(P.vrrp_v3(1, 100, ["198.18.1.1"], src=SRC4, reserved=1), src=SRC4),
            "reserved",
        ),
        (
            lambda: P.ipv4(
                P.vrrp_v3(1, 100, ["198.18.1.1"], src=SRC4, bad_checksum=True), src=SRC4
            ),
            "checksum",
        ),
        (lambda: P.ipv4(P.carp(3, bad_checksum=True), src=SRC4), "checksum"),
        (
            lambda: P.ipv4(P.ah(P.vrrp_v3(1, 100, ["198.18.1.1"], src=SRC4)), src=SRC4, proto=51),
            "auth-v3",
        ),
    ],
)
def test_each_validation_issue_is_detected(build, issue):
    adv = decode_eth(build())
    assert issue in adv.issues
    assert not adv.valid


def test_truncated_capture_is_flagged_and_keeps_what_was_read():
    packet = P.ipv4(P.vrrp_v2(51, 150, ["198.18.1.100", "198.18.1.101"]), src=SRC4)
    adv = decode_eth(packet[: 20 + 12])  # IP header + 12 of 24 VRRP bytes
    assert adv.vrid == 51 and adv.priority == 150 and adv.count == 2
    assert adv.addresses == ("198.18.1.100",)
    assert "truncated" in adv.issues
    assert not adv.checksum_ok and "checksum" not in adv.issues


def test_ttl_is_only_checked_for_multicast_adverts():
    """keepalived checks TTL 255 only without unicast_peer: a unicast peer may be routed."""
    msg = P.vrrp_v2(56, 100, ["198.18.1.100"])
    routed = decode_eth(P.ipv4(msg, src=SRC4, dst="198.18.2.12", ttl=254))
    assert routed.issues == () and routed.ttl == 254
    other_group = decode_eth(P.ipv4(msg, src=SRC4, dst="224.0.0.99", ttl=64))
    assert other_group.issues == ("ttl",)


def _decode_item(ip_packet: bytes) -> tuple[object, Decoder]:
    decoder = Decoder()
    frame = Frame(1_700_000_000_000_000_000, 1, P.ethernet(ip_packet), 0, 1, source="t.pcap")
    return decoder.decode(frame), decoder


@pytest.mark.parametrize("mf", [False, True])
def test_a_fragment_after_the_first_is_no_advert(mf):
    """Issue 19: only a first fragment (offset 0) starts with a VRRP header; the bytes of a
    later one are the middle of a message and must not become a phantom VRID."""
    packet = P.ipv4(P.vrrp_v2(77, 100, ["198.18.1.1"]), src=SRC4, mf=mf, offset=185)
    item, decoder = _decode_item(packet)
    assert item is None
    assert decoder.stats.undecodable == 1 and decoder.stats.adverts == 0
    first = decode_eth(P.ipv4(P.vrrp_v2(77, 100, ["198.18.1.1"]), src=SRC4, mf=True))
    assert first.vrid == 77 and "fragment" in first.issues  # the first one still is


@pytest.mark.parametrize(("auth_type", "count"), [(1, 3), (1, 2), (2, 2), (254, 3)])
def test_a_count_that_lies_never_shows_the_auth_bytes_as_addresses(auth_type, count):
    """Issue 19: count 3 (or 2) in a 20-byte v2 message with one address: the last 8 bytes
    are the authentication field (a password here), never addresses."""
    msg = P.vrrp_v2(4, 100, ["198.18.1.1"], count=count, auth_type=auth_type, auth_data=b"s3cr3t!!")
    adv = decode_eth(P.ipv4(msg, src=SRC4))
    assert adv.addresses == ("198.18.1.1",)
    assert "length" in adv.issues and not adv.valid
    password_as_address = "115.51.99.114"  # b"s3cr"
    assert password_as_address not in repr(adv)


def test_without_authentication_the_addresses_present_are_shown():
    """Auth type none: no secret to keep, so a count past the message shows the addresses
    present, as tcpdump and Wireshark do (PcapPlusPlus' trailing-partial-address file)."""
    msg = P.vrrp_v2(4, 100, ["198.18.1.1", "198.18.1.2"], count=3, auth_type=0)
    adv = decode_eth(P.ipv4(msg, src=SRC4))
    assert adv.addresses == ("198.18.1.1", "198.18.1.2", "0.0.0.0")[: len(adv.addresses)]
    assert "198.18.1.2" in adv.addresses and "length" in adv.issues


def test_a_v2_advert_without_its_auth_field_says_so_and_keeps_its_addresses():
    """Issue 17 (PcapPlusPlus VRRP-V2.pcap): count 3 in 20 bytes, authentication none: the
    three addresses are there, what is missing is the 8-byte authentication field."""
    msg = P.vrrp_v2(1, 100, ["192.0.2.1", "192.0.2.2", "192.0.2.3"], with_auth_field=False)
    adv = decode_eth(P.ipv4(msg, src=SRC4))
    assert adv.addresses == ("192.0.2.1", "192.0.2.2", "192.0.2.3")
    assert adv.issues == ("no-auth-field",)
    assert adv.auth_data is None
