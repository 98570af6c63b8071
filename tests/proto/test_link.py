"""Every link layer delivers the same advert, with the segment it came from."""

from __future__ import annotations

import pytest

from tests.helpers import packets as P
from vrrpscope.model import Advert, Frame
from vrrpscope.proto.decode import Decoder, segment_name
from vrrpscope.proto.link import LinkError, UnsupportedLinkType, parse_link

IP_PACKET = P.ipv4(P.vrrp_v2(51, 150, ["198.18.1.100"]), src="198.18.1.11")


def decode(linktype: int, data: bytes, interface: str | None = None) -> Advert:
    item = Decoder().decode(Frame(1, linktype, data, len(data), 1, interface, "t"))
    assert isinstance(item, Advert), item
    assert item.vrid == 51 and item.issues == ()
    return item


def test_ethernet_untagged():
    adv = decode(1, P.ethernet(IP_PACKET))
    assert adv.segment == "default" and adv.vlans == ()


@pytest.mark.parametrize("vlans", [(30,), (100, 30), (10, 20, 30)])
def test_ethernet_any_vlan_stack(vlans):
    adv = decode(1, P.ethernet(IP_PACKET, vlans=vlans), interface="eth1")
    assert adv.vlans == vlans
    assert adv.segment == "eth1." + ".".join(f"vlan{v}" for v in vlans)


def test_linux_sll_keeps_source_mac():
    adv = decode(113, P.sll(IP_PACKET, src_mac="52:54:00:12:34:56"))
    assert adv.src_mac == "52:54:00:12:34:56"


def test_linux_sll2_interface_index_feeds_the_segment():
    adv = decode(276, P.sll2(IP_PACKET, ifindex=3))
    assert adv.segment == "ifindex3"


@pytest.mark.parametrize("linktype", [12, 14, 101, 228])
def test_raw_ip(linktype):
    decode(linktype, IP_PACKET)


@pytest.mark.parametrize("big_endian", [False, True])
def test_bsd_null_both_byte_orders(big_endian):
    decode(0, P.null_loopback(IP_PACKET, big_endian=big_endian))


def test_openbsd_loop():
    decode(108, b"\x00\x00\x00\x02" + IP_PACKET)


def test_frame_relay_nlpid_and_cisco_encapsulation():
    decode(107, b"\x18\x41\x03\xcc" + IP_PACKET)
    decode(107, b"\x18\x41\x08\x00" + IP_PACKET)


def test_unknown_link_type_is_counted_not_fatal():
    decoder = Decoder()
    assert decoder.decode(Frame(1, 147, b"\x00" * 40, 40, 1)) is None
    assert decoder.stats.unknown_link_types[147] == 1
    with pytest.raises(UnsupportedLinkType):
        parse_link(147, b"")


@pytest.mark.parametrize(
    ("linktype", "data"),
    [(1, b"\x00" * 13), (113, b"\x00" * 15), (276, b"\x00" * 19), (0, b"\x02")],
)
def test_short_link_headers_raise_link_error(linktype, data):
    with pytest.raises(LinkError):
        parse_link(linktype, data)


def test_short_frames_are_counted_as_undecodable():
    decoder = Decoder()
    for data in (b"\x00" * 5, P.ethernet(IP_PACKET)[:20], P.ethernet(IP_PACKET)[:35]):
        assert decoder.decode(Frame(1, 1, data, 60, 1)) is None
    assert decoder.stats.undecodable == 3


def test_segment_name():
    assert segment_name(None, ()) == "default"
    assert segment_name("eth0", ()) == "eth0"
    assert segment_name(None, (30,)) == "vlan30"
