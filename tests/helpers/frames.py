"""Crafted frames that reach every validation issue and every fallback branch of the
columnar decoder (shared by its tests and the fast-vs-general tests)."""

from __future__ import annotations

import struct

import dpkt

from tests.helpers import packets as P

SRC4, SRC6 = "198.18.1.11", "fe80::11"


def _v2(**kw) -> bytes:
    return P.vrrp_v2(7, 100, ["198.18.1.1"], **kw)


HMAC_KEY = bytes(range(32))  # keepalived's test key (00..1f)


def _signed(msg: bytes, src: str, seq: int = 0x6800000080000000, **kw) -> bytes:
    return P.auth_hmac(msg, src=src, key=HMAC_KEY, seq=seq, **kw)


def _spoil_priority(msg: bytes) -> bytes:
    return msg[:2] + bytes([msg[2] ^ 1]) + msg[3:]


def signed_frames() -> list[bytes]:
    """keepalived 2.4 auth_hmac adverts: both checksum coverages, v2 and v3, IPv4 and
    IPv6, and the trailers a receiver rejects (another scheme, reserved bits, checksum)."""
    eth, v4, v6 = P.ethernet, P.ipv4, P.ipv6
    v3msg = P.vrrp_v3(51, 200, ["198.18.1.100"], src=SRC4)
    v6msg = P.vrrp_v3(52, 200, ["fe80::100"], src=SRC6)
    return [
        eth(v4(_signed(v3msg, SRC4), src=SRC4)),  # keepalived IPv4: message only
        eth(v4(_signed(v3msg, SRC4, seq=0x6800000080010001, covers_trailer=True), src=SRC4)),
        eth(v4(_signed(v3msg, SRC4, form="message-only"), src=SRC4)),
        eth(v6(_signed(v6msg, SRC6, covers_trailer=True), src=SRC6)),  # the kernel's
        eth(v6(_signed(v6msg, SRC6, seq=0x6800000180000000), src=SRC6)),
        eth(v4(_signed(_v2(), SRC4, key_id=2), src=SRC4)),  # VRRPv2, after its auth field
        eth(v4(_signed(v3msg, SRC4, scheme=2), src=SRC4)),  # unknown scheme: length
        eth(v4(_signed(v3msg, SRC4, reserved=1), src=SRC4)),  # reserved set: length
        eth(v4(_spoil_priority(_signed(v3msg, SRC4)), src=SRC4)),  # checksum
        eth(v4(_signed(v3msg, SRC4), src=SRC4))[:-10],  # trailer cut by the capture
    ]


def _ip_options(msg: bytes) -> bytes:
    """IPv4 with a router-alert option (ihl 6) around a VRRP message."""
    head = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x46,
            0,
            24 + len(msg),
            0,
            0,
            255,
            112,
            0,
            bytes([198, 18, 1, 11]),
            bytes([224, 0, 0, 18]),
        )  # fmt: skip
        + b"\x94\x04\x00\x00"
    )
    struct.pack_into("!H", head, 10, dpkt.in_cksum(bytes(head)))
    return bytes(head) + msg


def _gre(inner: bytes) -> bytes:
    return P.ipv4(struct.pack("!HH", 0, 0x6558) + inner, src="192.0.2.1", dst="192.0.2.2", proto=47)


def crafted_frames() -> list[bytes]:
    """Ethernet frames covering every validation issue and every fallback branch."""
    eth = P.ethernet
    v4 = P.ipv4
    frames = [
        eth(v4(_v2(), src=SRC4)),
        eth(v4(_v2(), src=SRC4, ttl=64)),  # ttl
        eth(v4(_v2(bad_checksum=True), src=SRC4)),  # checksum
        eth(v4(_v2(), src=SRC4, bad_header_checksum=True)),  # ip-checksum
        eth(v4(_v2(), src=SRC4, mf=True)),  # fragment (checksum unverifiable)
        eth(v4(_v2(count=3), src=SRC4)),  # length
        eth(v4(_v2(version=4), src=SRC4)),  # version
        eth(v4(_v2(vtype=2), src=SRC4)),  # type
        eth(v4(P.vrrp_v2(0, 100, ["198.18.1.1"]), src=SRC4)),  # vrid
        eth(v4(_v2(interval_s=0), src=SRC4)),  # interval
        eth(v4(_v2(with_auth_field=False), src=SRC4)),  # no-auth-field
        eth(
            v4(
                P.vrrp_v2(4, 100, ["198.18.1.1"], count=3, auth_type=1, auth_data=b"s3cr3t!!"),
                src=SRC4,
            )
        ),  # length: the count lies, the password is no address
        eth(v4(P.vrrp_v2(77, 100, ["198.18.1.1"]), src=SRC4, offset=185)),  # later fragment
        eth(v4(P.vrrp_v2(78, 100, ["198.18.1.1"]), src=SRC4, mf=True, offset=1)),  # (middle)
        eth(v4(P.vrrp_v2(9, 0, [], auth_type=1, auth_data=b"pw"), src=SRC4)),  # priority 0
        eth(v4(P.vrrp_v3(8, 200, ["198.18.1.1"], src=SRC4), src=SRC4)),
        eth(v4(P.vrrp_v3(8, 200, ["198.18.1.1"], src=SRC4, reserved=1), src=SRC4)),  # reserved
        eth(v4(P.vrrp_v3(8, 200, [], src=SRC4, interval_cs=0), src=SRC4)),  # interval
        eth(v4(P.vrrp_v3(8, 9, ["198.18.1.1"], src=SRC4, bad_checksum=True), src=SRC4)),
        eth(v4(P.vrrp_v3(8, 9, ["198.18.1.1"], src=SRC4, form="message-only"), src=SRC4)),
        eth(
            v4(
                P.vrrp_v3(
                    8, 9, ["198.18.1.1"], src=SRC4, dst="198.18.1.12", form="pseudo-header-group"
                ),
                src=SRC4,
                dst="198.18.1.12",
            )
        ),  # fmt: skip
        eth(
            v4(
                P.vrrp_v3(8, 9, ["198.18.1.1"], src=SRC4, dst="198.18.1.12"),
                src=SRC4,
                dst="198.18.1.12",
            )
        ),  # fmt: skip
        eth(v4(P.ah(P.vrrp_v3(8, 9, ["198.18.1.1"], src=SRC4)), src=SRC4, proto=51)),  # auth-v3
        eth(v4(P.ah(_v2()), src=SRC4, proto=51)),  # v2 with AH
        eth(P.ipv6(P.vrrp_v3(10, 100, ["fe80::1", "2001:db8::1"], src=SRC6), src=SRC6)),
        eth(P.ipv6(P.vrrp_v3(10, 100, ["fe80::1"], src=SRC6, bad_checksum=True), src=SRC6)),
        eth(P.ipv6(P.vrrp_v3(10, 100, ["fe80::1"], src=SRC6), src=SRC6, hlim=1)),
        eth(P.ipv6(_v2(), src=SRC6)),  # VRRPv2 inside IPv6: 4-byte addresses
        eth(v4(P.carp(5), src=SRC4)),
        eth(v4(P.carp(5, bad_checksum=True), src=SRC4, ttl=1)),
        eth(v4(P.carp(0, advbase=0, advskew=0), src=SRC4)),
        eth(v4(P.carp(5), src=SRC4, mf=True)),
        eth(v4(_v2(), src=SRC4), vlans=(30,)),
        eth(v4(_v2(), src=SRC4), vlans=(10, 30)),
        eth(v4(_v2(), src=SRC4), vlans=(10, 20, 30)),
        eth(v4(_v2(), src=SRC4), vlans=(1, 2, 3, 4)),  # deeper than the fast path goes
        eth(_ip_options(_v2())),
        eth(_gre(eth(v4(_v2(), src=SRC4)))),  # mirrored: general path
        eth(v4(b"\x21", src=SRC4)),  # 1-byte message: undecodable
        eth(v4(_v2()[:6], src=SRC4)),  # shorter than 8 bytes: truncated
        eth(v4(_v2(), src=SRC4))[:40],  # cut by the capture: truncated
        eth(v4(b"\x00" * 8, src=SRC4, dst="192.0.2.9", proto=17)),  # not multicast: ignored
        eth(v4(struct.pack("!HHHH", 1985, 1985, 8, 0), src=SRC4, dst="224.0.0.2", proto=17)),
        eth(v4(struct.pack("!HHHH", 1985, 1985, 8, 0), src=SRC4, dst="224.0.0.102", proto=17)),
        eth(v4(b"\x11\x64\x00\x00", src=SRC4, dst="224.0.0.1", proto=2)),
        eth(v4(b"", src=SRC4, dst="224.0.0.5", proto=89)),
        eth(P.ipv6(b"\x87" + bytes(23), src=SRC6, nxt=58)),  # neighbour solicitation
        eth(P.ipv6(b"\x88" + bytes(23), src=SRC6, nxt=58)),  # neighbour advertisement
        eth(P.ipv6(b"\x00" * 8, src=SRC6, nxt=0)),  # extension header: general path
        P.gratuitous_arp("198.18.1.1", "00:00:5e:00:01:07"),
        b"\x01\x80\xc2\x00\x00\x00" + b"\x00\x11\x22\x33\x44\x55" + b"\x00\x26" + b"\x42" * 38,
        b"\x01\x02\x03",  # shorter than an Ethernet header
        eth(v4(_v2(), src=SRC4), ethertype=0x0800)[:20],  # IPv4 header cut short
        *signed_frames(),
    ]
    return frames
