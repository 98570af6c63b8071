"""invalid-packet, plaintext-auth (secrets masked), non-standard-mac."""

from __future__ import annotations

import json

from tests.helpers.advertfactory import AdvertFactory, at, capture, of_kind, run
from vrrpscope.detectors.packet import virtual_mac
from vrrpscope.findings import Kind, Severity
from vrrpscope.incidents import correlate
from vrrpscope.model import ISSUE_CHECKSUM, ISSUE_TTL
from vrrpscope.secrets import mask_secret

A, B = "10.0.0.1", "10.0.0.2"


def test_invalid_packets_one_finding_per_router_and_issue() -> None:
    f = AdvertFactory()
    good = f.train(A, 0, 30, priority=200)
    ttl = f.train(B, 0.5, 10.5, issues=(ISSUE_TTL,), ttl=64)
    both = f.train("10.0.0.3", 0.7, 4.7, issues=(ISSUE_TTL, ISSUE_CHECKSUM), ttl=1)
    engine = run(capture(good, ttl, both), end=30.5)
    by_issue = {x.details["issue"]: x for x in of_kind(engine, Kind.INVALID_PACKET)}
    assert set(by_issue) == {"ttl", "checksum"}
    t = by_issue["ttl"]
    assert t.severity == Severity.WARNING
    assert t.details["count"] == 16 and t.details["speakers"] == [B, "10.0.0.3"]
    assert t.details["ttls"] == [64, 1]
    assert "invalid TTL/HL" in t.message and "bogus VRRP packet received" in t.message
    assert by_issue["checksum"].details["count"] == 5
    router = next(iter(engine.routers.values()))
    assert router.invalid == 16 and router.adverts == 47
    assert [sp.src for sp in router.current_masters] == [A]


def test_invalid_packet_closes_after_quiet_period() -> None:
    f = AdvertFactory()
    adverts = capture(f.train(A, 0, 200), [f.advert(5, B, issues=(ISSUE_TTL,), ttl=1)])
    engine = run(adverts, end=200.5)
    (bad,) = of_kind(engine, Kind.INVALID_PACKET)
    assert not bad.open and bad.last_ts_ns == at(5)


def test_plaintext_auth_never_reveals_the_password() -> None:
    f = AdvertFactory(auth_type=1, auth_data=b"s3cr3tpw")
    engine = run(f.train(A, 0, 10), end=10.5)
    (pa,) = of_kind(engine, Kind.PLAINTEXT_AUTH)
    assert pa.severity == Severity.INFO and pa.speakers == (A,)
    assert pa.details["password_masked"] == "********"
    assert pa.last_ts_ns == at(10)
    everything = json.dumps(
        [x.to_dict() for x in engine.findings] + [s.to_dict() for s in engine.inventory()]
    )
    assert "s3cr3tpw" not in everything and "s3cr3t" not in everything
    assert "********" in everything


def test_mask_secret() -> None:
    assert mask_secret(b"secret12") == "********"
    assert mask_secret(b"abc\x00\x00\x00\x00\x00") == "********"  # no length, no prefix
    assert mask_secret(b"\x00" * 8) == ""
    assert mask_secret(b"abc\x00\x00\x00\x00\x00", show=True) == "abc"
    assert mask_secret(b"") == "" and mask_secret(None) is None


def test_non_standard_mac_once_per_speaker() -> None:
    f = AdvertFactory()
    own = f.train(A, 0, 10, src_mac="52:54:00:12:34:56")
    vmac = f.train(B, 0.5, 10.5)  # the virtual MAC: nothing to say
    engine = run(capture(own, vmac), end=11)
    (mac,) = of_kind(engine, Kind.NON_STANDARD_MAC)
    assert mac.severity == Severity.INFO and mac.speakers == (A,)
    assert mac.details == {"mac": "52:54:00:12:34:56", "expected_mac": "00:00:5e:00:01:33"}
    assert "use_vmac" in mac.message
    assert mac.first_ts_ns == at(0) and mac.last_ts_ns == at(10)


def test_virtual_macs() -> None:
    assert virtual_mac("vrrp", 4, 51) == "00:00:5e:00:01:33"
    assert virtual_mac("vrrp", 6, 51) == "00:00:5e:00:02:33"
    assert virtual_mac("carp", 6, 7) == "00:00:5e:00:01:07"
    f = AdvertFactory()
    engine = run(f.train("fe80::1", 0, 5), end=5.5)  # IPv6 from 00:00:5e:00:02:33
    assert of_kind(engine, Kind.NON_STANDARD_MAC) == []


def test_an_ipv6_advert_from_the_ipv4_virtual_mac_is_named_so() -> None:
    """PcapPlusPlus's VRRP-V3-IPv6 capture: IPv6 adverts from 00:00:5e:00:01:VRID."""
    f = AdvertFactory()
    engine = run(f.train("fe80::1", 0, 5, src_mac="00:00:5e:00:01:33"), end=5.5)
    (mac,) = of_kind(engine, Kind.NON_STANDARD_MAC)
    assert "the IPv4 virtual MAC block" in mac.message and "use_vmac" not in mac.message
    (incident,) = correlate([mac])
    assert "its own MAC" not in incident.message
    assert "a virtual MAC that is not this virtual router's" in incident.message


def test_a_virtual_mac_of_another_vrid_is_named_so() -> None:
    f = AdvertFactory()
    engine = run(f.train(A, 0, 5, src_mac="00:00:5e:00:01:07"), end=5.5)
    (mac,) = of_kind(engine, Kind.NON_STANDARD_MAC)
    assert "a virtual MAC of another virtual router" in mac.message


def test_an_ipv6_router_whose_first_address_is_not_link_local() -> None:
    """RFC 5798 5.2.9: the link-local address first. One note per virtual router, naming
    every speaker that lists another address first; none when link-local comes first."""
    f = AdvertFactory(version=3, family=6)
    a = f.train("fe80::1", 0, 10, priority=200, addresses=("2001:db8::100", "fe80::100"))
    b = f.train("fe80::2", 11, 20, priority=100, addresses=("2001:db8::100", "fe80::100"))
    (note,) = of_kind(run(capture(a, b), end=20.5), Kind.IPV6_FIRST_ADDRESS)
    assert note.severity == Severity.INFO and note.speakers == ("fe80::1", "fe80::2")
    assert note.details == {"first_address": "2001:db8::100"}
    assert "link-local" in note.message and "virtual_ipaddress" in note.message
    good = f.train("fe80::1", 0, 10, priority=200, addresses=("fe80::100", "2001:db8::100"))
    assert of_kind(run(capture(good), end=10.5), Kind.IPV6_FIRST_ADDRESS) == []
    v4 = AdvertFactory(version=3).train("10.0.0.1", 0, 5, priority=200)
    assert of_kind(run(capture(v4), end=5.5), Kind.IPV6_FIRST_ADDRESS) == []
