"""Differential fuzzing of the two analyze routes (issues 17 and 18).

The same frame sequence is written as a capture and analysed on the fast route (columnar
decode, frames grouped by their leading bytes) and on the general route (every frame
decoded alone); the whole ``analyze --json`` output must be equal, and neither may raise.
Frames come from a pool of adverts and of the traffic met next to them (IGMP, OSPF,
mDNS, LLDP, unicast, padded and unpadded, long frames sharing their head), each maybe
mutated: byte flips, byte-set mutations, truncations, caplen lies (the record claims
fewer captured bytes than the frame has, or more on the wire).
"""

from __future__ import annotations

import io
import random
import struct
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from tests.helpers.layers import pbb
from vrrpscope.analysis import analyze_files
from vrrpscope.errors import InputError
from vrrpscope.report.jsonl import write_json

INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x08, 0x00, 0x81, 0x88, 0xA8, 0xE7, 0x86, 0xDD, 112, 2]


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", (kind << 9) | len(value)) + value


def lldp(description: bytes, port: bytes = b"Gi0/1") -> bytes:
    """An LLDP frame whose system description (last TLV but one) is ``description``."""
    tlvs = (
        _tlv(1, b"\x04" + bytes.fromhex("001122334455"))
        + _tlv(2, b"\x05" + port)
        + _tlv(3, b"\x00\x78")
        + _tlv(5, b"switch1")
        + _tlv(6, description)
        + _tlv(0, b"")
    )
    return bytes.fromhex("0180c200000e001122334455") + b"\x88\xcc" + tlvs


def _udp(sport: int, dport: int, body: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body


def pool() -> list[bytes]:
    """Ethernet frames: adverts and the traffic around them, with near twins."""
    adverts = [
        P.ethernet(P.ipv4(P.vrrp_v2(7, 100, ["198.18.1.100"]), src="198.18.1.11")),
        P.ethernet(P.ipv4(P.vrrp_v2(7, 90, ["198.18.1.100"]), src="198.18.1.12")),
        P.ethernet(
            P.ipv4(P.vrrp_v3(8, 100, ["198.18.1.101"], src="198.18.1.11"), src="198.18.1.11"),
            vlans=(30,),
        ),
        P.ethernet(P.ipv6(P.vrrp_v3(9, 100, ["fe80::1"], src="fe80::11"), src="fe80::11")),
        P.ethernet(P.ipv4(P.carp(5, advskew=10), src="198.18.1.31")),
        # A long advert: 20 addresses push the message past the grouping window.
        P.ethernet(
            P.ipv4(P.vrrp_v2(10, 100, [f"198.18.2.{i}" for i in range(20)]), src="198.18.1.11")
        ),
    ]
    igmp = P.ipv4(b"\x11\x64\xee\x9b" + bytes(4), src="198.18.1.1", dst="224.0.0.1", proto=2)
    ospf = P.ipv4(b"\x02\x01\x00\x2c" + bytes(40), src="198.18.1.1", dst="224.0.0.5", proto=89)
    mdns_short = P.ipv4(_udp(5353, 5353, b"q" * 40), src="198.18.1.5", dst="224.0.0.251", proto=17)
    mdns_long = P.ipv4(_udp(5353, 5353, b"q" * 300), src="198.18.1.5", dst="224.0.0.251", proto=17)
    mdns_long2 = P.ipv4(
        _udp(5353, 5353, b"q" * 100 + b"r" * 200), src="198.18.1.5", dst="224.0.0.251", proto=17
    )
    unicast = P.ipv4(_udp(1000, 2000, b"u" * 10), src="198.18.1.5", dst="198.18.1.6", proto=17)
    others = [
        P.ethernet(igmp, dst_mac="01:00:5e:00:00:01"),
        P.ethernet(igmp, dst_mac="01:00:5e:00:00:01") + bytes(18),  # padded to 60
        P.ethernet(ospf, dst_mac="01:00:5e:00:00:05"),
        P.ethernet(mdns_short, dst_mac="01:00:5e:00:00:fb"),
        P.ethernet(mdns_long, dst_mac="01:00:5e:00:00:fb"),
        P.ethernet(mdns_long2, dst_mac="01:00:5e:00:00:fb"),
        P.ethernet(unicast, dst_mac="00:00:5e:00:01:44"),
        P.ethernet(unicast, dst_mac="00:00:5e:00:01:44").ljust(60, b"\0"),
        P.ethernet(unicast, dst_mac="00:00:5e:00:01:44").ljust(60, b"\xaa"),
        lldp(b"X" * 150),
        lldp(b"X" * 170),
        lldp(b"X" * 150 + b"Y" * 20),
        lldp(b"short"),
        P.gratuitous_arp("198.18.1.100", "00:00:5e:00:01:07"),
    ]
    adverts.append(pbb(P.ipv4(P.vrrp_v2(11, 100, ["198.18.3.1"]), src="198.18.1.11"), isid=1000))
    adverts.append(
        pbb(P.ipv4(P.vrrp_v2(11, 90, ["198.18.3.1"]), src="198.18.1.12"), isid=1000, b_vlan=5)
    )
    others.append(pbb(igmp, isid=1000, vlans=(30,), dst_mac="01:00:5e:00:00:01"))
    others += hsrp_frames()
    return adverts + others


def hsrp_frames() -> list[bytes]:
    """HSRP v1 and v2 messages, one with VRID 7's VIP (an hsrp-vip-conflict), one IPv6
    with MD5 past the grouping window."""
    v1 = [
        P.hsrp_v1(1, 110, "198.18.1.100"),
        P.hsrp_v1(1, 100, "198.18.1.100", state="standby"),
        P.hsrp_v1(1, 120, "198.18.1.100", opcode="coup", state="speak"),
    ]
    out = [
        P.ethernet(P.ipv4(m, src=f"198.18.1.{40 + i}", dst="224.0.0.2", proto=17, ttl=1))
        for i, m in enumerate(v1)
    ]
    v2 = P.ipv4(P.hsrp_v2(300, 100, "198.18.4.1"), src="198.18.1.44", dst="224.0.0.102", proto=17)
    six = P.ipv6(
        P.hsrp_v2(301, 90, "2001:db8::1", md5=True), src="fe80::44", dst="ff02::66", nxt=17
    )
    return [*out, P.ethernet(v2), P.ethernet(six)]


def mutate(rnd: random.Random, frame: bytes) -> bytes:
    """A few byte-level mutations: flips, byte-set (interesting values), cuts, pads."""
    data = bytearray(frame)
    for _ in range(rnd.randint(1, 3)):
        op = rnd.choice(("flip", "set", "set", "cut", "pad", "tail", "ipid"))
        if not data:
            data.append(rnd.randrange(256))
            continue
        at = rnd.randrange(len(data)) if rnd.random() < 0.5 else rnd.randrange(min(len(data), 64))
        if op == "flip":
            data[at] ^= 1 << rnd.randrange(8)
        elif op == "set":
            data[at] = rnd.choice(INTERESTING) if rnd.random() < 0.5 else rnd.randrange(256)
        elif op == "cut":
            del data[at:]
        elif op == "pad":
            data.extend(bytes(rnd.randint(1, 200)))
        elif op == "ipid":  # IPv4 id or header checksum (left out of the grouping key)
            spot = rnd.choice((18, 19, 24, 25))
            if spot < len(data):
                data[spot] ^= 1 << rnd.randrange(8)
        else:  # change a byte past the grouping window (128 bytes) when there is one
            if len(data) > 128:
                data[rnd.randrange(128, len(data))] ^= 0xFF
    return bytes(data)


@dataclass(frozen=True)
class Case:
    """One capture: (ts_ns, data, orig_len, caplen-lie) records."""

    records: tuple[tuple[int, bytes, int | None, int | None], ...]

    def to_bytes(self) -> bytes:
        pcap = PcapFile()
        for ts, data, orig, caplen in self.records:
            pcap.add(ts, data, orig, **({} if caplen is None else {"caplen": caplen}))
        return pcap.to_bytes()


def random_case(rnd: random.Random, frames: list[bytes], length: int = 40) -> Case:
    """A sequence of frames drawn from ``frames`` (same ones repeated, some mutated)."""
    chosen = rnd.sample(frames, min(len(frames), rnd.randint(2, 6)))
    mutants = [mutate(rnd, rnd.choice(chosen)) for _ in range(rnd.randint(0, 4))]
    menu = chosen + mutants
    records = []
    ts = 1_000_000_000
    for _ in range(rnd.randint(2, length)):
        data = rnd.choice(menu)
        orig = None
        if rnd.random() < 0.1:
            orig = len(data) + rnd.randint(1, 100)  # captured with a snaplen
        records.append((ts, data, orig, None))
        ts += rnd.choice((1_000_000_000, 1_000_000_000, 500_000_000, 3_000_000_000, 1000))
    return Case(tuple(records))


def analyze_json(path: Path, general: bool) -> str:
    out = io.StringIO()
    write_json(analyze_files([str(path)], general=general, parallel=False), out)
    return out.getvalue()


def _outcome(path: Path, general: bool) -> str:
    """The JSON, or the project's own error for an input that is no capture (exit 3)."""
    try:
        return analyze_json(path, general)
    except InputError as exc:
        return f"InputError: {exc}"


def differs(path: Path) -> str | None:
    """None when both routes give the same JSON (or the same InputError); else both
    outputs. Any other exception is raised: a crash."""
    slow = _outcome(path, general=True)
    fast = _outcome(path, general=False)
    return None if fast == slow else f"fast:\n{fast}\ngeneral:\n{slow}"


# -- mutating real captures -----------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A real capture's frames, as records to mutate (one link type: the first frame's)."""

    name: str
    linktype: int
    records: tuple[tuple[int, bytes, int], ...]  # (ts_ns, data, orig_len)


def load_seed(path: Path, limit: int = 400) -> Seed | None:
    """The first ``limit`` frames of ``path`` (of its first link type), None if it has none."""
    from vrrpscope.capture import read_frames

    reader = read_frames([str(path)])
    try:
        frames = [f for chunk in reader for f in chunk][:limit]
    finally:
        reader.close()
    if not frames:
        return None
    link = frames[0].linktype
    ts_ok = range(0, (1 << 32) * 1_000_000_000)
    records = tuple(
        (f.ts_ns if f.ts_ns in ts_ok else 0, f.data, f.orig_len)
        for f in frames
        if f.linktype == link
    )
    return Seed(path.name, link, records)


def mutate_capture(rnd: random.Random, seed: Seed) -> bytes:
    """``seed`` as a classic pcap with some of its frames mutated (see :func:`mutate`),
    duplicated next to their mutant (so grouping keys collide), cut, or recorded with a
    caplen that lies (the file's framing then breaks: damage, the same on both routes)."""
    pcap = PcapFile(linktype=seed.linktype)
    records = list(seed.records)
    if len(records) > 60:  # a random window keeps each input small
        at = rnd.randrange(len(records) - 60)
        records = records[at : at + 60]
    rate = rnd.choice((0.02, 0.1, 0.3))
    for ts, data, orig in records:
        if rnd.random() < rate:
            kind = rnd.random()
            mutant = mutate(rnd, data)
            if kind < 0.3:  # the original and its mutant: same head, differing later
                pcap.add(ts, data, orig)
            if kind < 0.05:  # a caplen lie in the record header
                pcap.add(ts, mutant, None, caplen=max(0, len(mutant) + rnd.randint(-8, 8)))
                continue
            if kind < 0.15:  # recorded shorter or longer on the wire
                pcap.add(ts, mutant, max(0, len(mutant) + rnd.randint(-20, 60)))
                continue
            pcap.add(ts, mutant, max(orig, len(mutant)))
        else:
            pcap.add(ts, data, orig)
    return pcap.to_bytes()


def collisions(frames: list[bytes]) -> list[Case]:
    """Crafted inputs whose frames collide in the fast route's grouping key (equal first
    128 bytes less the IPv4 id and checksum): each frame of ``frames`` next to a twin
    that differs past the window, on the wire length, or in the IPv4 id and checksum,
    between adverts."""
    advert = frames[0]
    cases = []
    for n, frame in enumerate(frames):
        twins = [
            frame[:128] + bytes(b ^ 0xFF for b in frame[128:]),  # same head, other tail
            frame + b"\0" * 20,  # padded
            frame[:18] + b"\xbe\xef" + frame[20:24] + b"\x12\x34" + frame[26:],  # id, sum
        ]
        for k, twin in enumerate(twins):
            orig = len(twin) + 14 if (n + k) % 2 else None  # half recorded longer on the wire
            order = [advert, frame, advert, twin, advert, frame, twin]
            records = [
                (i * 1_000_000_000, d, orig if d is twin else None, None)
                for i, d in enumerate(order)
            ]
            cases.append(Case(tuple(records)))
    return cases
