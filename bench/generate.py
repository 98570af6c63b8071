"""Deterministic generator of a realistic VRRP capture for benchmarks and tests.

About 200 VRRP groups (mostly VRRPv2, some VRRPv3 over IPv4 and IPv6, a few VLANs)
advertise every second with jitter and a few lost adverts; groups fail over (priority 0,
then the backup takes over after its skew time, then the master preempts back), change
priority, and go through split-brain periods (both speakers advertise). HSRP, mDNS, OSPF,
IGMP and PIM run alongside. Every packet is valid: VRRP TTL 255, all checksums correct.

Packets are templates (one byte string per group, speaker and priority); the schedule is
numpy arrays of (time, template) and the file is assembled with vectorised scatters, so
two million packets take a few seconds.

    python -m bench.generate --packets 2000000 -o /tmp/big.pcap [--seed 1]
        [--format pcap|pcapng] [--link ether|sll|sll2] [--vlan]
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

START = 1_767_225_600  # 2026-01-01T00:00:00Z
GROUPS = 200
LINKTYPES = {"ether": 1, "sll": 113, "sll2": 276}
ASSEMBLY_CHUNK = 65536


# --- checksums and headers -------------------------------------------------------------


def checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def a4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text)


def a6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def ipv4(payload: bytes, src: str, dst: str, proto: int, ttl: int, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x40 | ihl, 0xC0, 4 * ihl + len(payload), 0, 0, ttl, proto, 0,
        a4(src), a4(dst),
    ) + options  # fmt: skip
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    return head + payload


def ipv6(payload: bytes, src: str, dst: str, nxt: int, hlim: int) -> bytes:
    return (
        struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, hlim, a6(src), a6(dst)) + payload
    )


def udp4(payload: bytes, src: str, dst: str, sport: int, dport: int) -> bytes:
    head = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    pseudo = a4(src) + a4(dst) + struct.pack("!BBH", 0, 17, 8 + len(payload))
    value = checksum(pseudo + head + payload) or 0xFFFF
    return head[:6] + struct.pack("!H", value) + payload


# --- protocol messages -----------------------------------------------------------------


def vrrp2(vrid: int, prio: int, addrs: list[str], interval: int = 1) -> bytes:
    msg = struct.pack("!BBBBBBH", 0x21, vrid, prio, len(addrs), 0, interval, 0)
    msg += b"".join(a4(a) for a in addrs) + bytes(8)
    return msg[:6] + struct.pack("!H", checksum(msg)) + msg[8:]


def vrrp3(
    vrid: int, prio: int, addrs: list[str], src: str, dst: str, interval_cs: int = 100
) -> bytes:
    v6 = ":" in src
    msg = struct.pack("!BBBBHH", 0x31, vrid, prio, len(addrs), interval_cs, 0)
    msg += b"".join(a6(a) if v6 else a4(a) for a in addrs)
    if v6:
        pseudo = a6(src) + a6(dst) + struct.pack("!I3xB", len(msg), 112)
    else:
        pseudo = a4(src) + a4(dst) + struct.pack("!BBH", 0, 112, len(msg))
    return msg[:6] + struct.pack("!H", checksum(pseudo + msg)) + msg[8:]


def hsrp(group: int, prio: int, state: int, vip: str) -> bytes:
    return struct.pack("!BBBBBBBB8s4s", 0, 0, state, 3, 10, prio, group, 0, b"cisco\0\0\0", a4(vip))


def ospf_hello(router: str, area: str, mask: str, neighbors: list[str]) -> bytes:
    body = a4(mask) + struct.pack("!HBBI", 10, 0x02, 1, 40) + a4("0.0.0.0") * 2
    body += b"".join(a4(n) for n in neighbors)
    head = struct.pack("!BBH4s4sHH8s", 2, 1, 24 + len(body), a4(router), a4(area), 0, 0, bytes(8))
    value = checksum(head[:16] + body)  # the authentication field is left out
    return head[:12] + struct.pack("!H", value) + head[14:] + body


def igmp(kind: int, group: str) -> bytes:
    msg = struct.pack("!BBH4s", kind, 100 if kind == 0x11 else 0, 0, a4(group))
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def pim_hello(holdtime: int, generation: int) -> bytes:
    body = struct.pack("!HHH", 1, 2, holdtime) + struct.pack("!HHI", 20, 4, generation)
    msg = struct.pack("!BBH", 0x20, 0, 0) + body
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def _dns_name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def mdns_announce(service: str, instance: str) -> bytes:
    """An unsolicited mDNS response announcing one PTR record (RFC 6762 section 8.3)."""
    head = struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0)
    target = _dns_name(f"{instance}.{service}")
    answer = _dns_name(service) + struct.pack("!HHIH", 12, 1, 4500, len(target)) + target
    return head + answer


# --- link layers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """How frames are framed: Ethernet (optionally VLAN-tagged), SLL or SLL2."""

    kind: str = "ether"

    def frame(self, ip: bytes, dst_mac: str, src_mac: str, vlans: tuple[int, ...], ifindex: int):
        ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
        tags = b""
        for i, vid in enumerate(vlans):
            tpid = 0x88A8 if (i == 0 and len(vlans) > 1) else 0x8100
            tags += struct.pack("!HH", tpid, vid)
        if self.kind == "sll":
            outer = 0x88A8 if len(vlans) > 1 else 0x8100
            first = outer if vlans else ethertype
            inner = tags[2:] + struct.pack("!H", ethertype) if vlans else b""
            head = struct.pack("!HHH8sH", 2, 1, 6, mac(src_mac) + b"\0\0", first)
            return head + inner + ip
        if self.kind == "sll2":
            return (
                struct.pack("!HHIHBB8s", ethertype, 0, ifindex, 1, 2, 6, mac(src_mac) + b"\0\0")
                + ip
            )
        frame = mac(dst_mac) + mac(src_mac) + tags + struct.pack("!H", ethertype) + ip
        return frame.ljust(60 + 4 * len(vlans), b"\x00")


# --- the scenario ----------------------------------------------------------------------


@dataclass
class Scenario:
    """Templates (frame bytes) and the (time, template) schedule."""

    templates: list[bytes]
    ts_ns: np.ndarray
    template: np.ndarray
    ip_id: np.ndarray  # IPv4 identification of each packet (counts up per template)
    link: str = "ether"


class Builder:
    def __init__(self, seed: int, link: Link, all_vlans: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.link = link
        self.all_vlans = all_vlans
        self.templates: list[bytes] = []
        self._index: dict[bytes, int] = {}
        self.times: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []

    def template(self, frame: bytes) -> int:
        index = self._index.get(frame)
        if index is None:
            index = self._index[frame] = len(self.templates)
            self.templates.append(frame)
        return index

    def emit(self, times: np.ndarray, template: int | np.ndarray) -> None:
        times = np.asarray(times, np.float64)
        self.times.append(times)
        ids = np.broadcast_to(np.asarray(template, np.int64), times.shape)
        self.ids.append(np.array(ids))

    def grid(self, phase: float, start: float, end: float, period: float = 1.0) -> np.ndarray:
        """Times phase + k * period in [start, end), jittered, about 0.1 % lost."""
        k0 = np.ceil((start - phase) / period)
        k1 = np.ceil((end - phase) / period)
        times = phase + np.arange(k0, k1) * period
        times = times + self.rng.normal(0.0, 0.002, len(times)).clip(-0.01, 0.01)
        keep = self.rng.random(len(times)) >= 0.001
        return times[keep & (times >= 0)]

    def segment_of(self, g: int) -> tuple[tuple[int, ...], int]:
        """VLAN stack and SLL2 interface index of group ``g``'s segment."""
        if self.all_vlans:
            vlans = (100 + g % 4,) if g % 5 else (200, 300 + g % 3)
        elif g >= 150:
            vlans = (10 + (g - 150) // 17,)
        else:
            vlans = ()
        return vlans, 10 + sum(vlans) if vlans else 2


def _vrrp_frames(builder: Builder, g: int, vrid: int) -> tuple[dict, float]:
    """Frames per (speaker, priority) for group ``g`` and the backup's skew time."""
    link = builder.link
    vlans, ifindex = builder.segment_of(g)
    kind = "v3v6" if g % 25 == 7 else ("v3v4" if g % 8 == 3 else "v2")
    net = f"10.{g // 100 + 1}.{g % 100}"
    out: dict[tuple[int, int], bytes] = {}
    for speaker, prios in ((0, (150, 110, 0)), (1, (100,))):
        own_mac = f"52:54:00:{g // 256:02x}:{g % 256:02x}:{speaker + 1:02x}"
        for prio in prios:
            if kind == "v3v6":
                src = f"fe80::{speaker + 1}:{g:x}"
                msg = vrrp3(vrid, prio, [f"fe80::1:{g:x}", f"2001:db8:{g:x}::1"], src, "ff02::12")
                ip = ipv6(msg, src, "ff02::12", 112, 255)
                frame = link.frame(ip, "33:33:00:00:00:12", f"00:00:5e:00:02:{vrid:02x}", vlans,
                                   ifindex)  # fmt: skip
            else:
                src = f"{net}.{speaker + 2}"
                if kind == "v3v4":
                    msg = vrrp3(vrid, prio, [f"{net}.1"], src, "224.0.0.18")
                else:
                    msg = vrrp2(vrid, prio, [f"{net}.1"] + ([f"{net}.254"] if g % 3 == 0 else []))
                ip = ipv4(msg, src, "224.0.0.18", 112, 255)
                src_mac = f"00:00:5e:00:01:{vrid:02x}" if g % 2 else own_mac
                frame = link.frame(ip, "01:00:5e:00:00:12", src_mac, vlans, ifindex)
            out[(speaker, prio)] = frame
    return out, (256 - 100) / 256


def _vrrp_group(builder: Builder, g: int, vrid: int, duration: float) -> None:
    rng = builder.rng
    frames, skew = _vrrp_frames(builder, g, vrid)
    ids = {key: builder.template(frame) for key, frame in frames.items()}
    phase_a, phase_b = rng.random(), rng.random()
    t = 0.0
    while t < duration:
        event_at = t + rng.exponential(1800.0)
        end = min(event_at, duration)
        builder.emit(builder.grid(phase_a, t, end), ids[(0, 150)])
        if event_at >= duration:
            break
        kind = rng.choice(["failover", "priority", "split"], p=[0.4, 0.35, 0.25])
        span = float(rng.uniform(20, 300))
        stop = min(event_at + span, duration)
        if kind == "failover":
            builder.emit(np.array([event_at]), ids[(0, 0)])
            builder.emit(builder.grid(event_at + skew, event_at + skew, stop), ids[(1, 100)])
        elif kind == "priority":
            builder.emit(builder.grid(phase_a, event_at, stop), ids[(0, 110)])
        else:
            builder.emit(builder.grid(phase_a, event_at, stop), ids[(0, 150)])
            builder.emit(builder.grid(phase_b, event_at, stop), ids[(1, 100)])
        t = stop


def _other_traffic(builder: Builder, duration: float) -> None:
    rng = builder.rng
    link = builder.link
    # HSRP: 10 groups, active and standby hello every 3 s.
    for group in range(10):
        vip = f"172.16.{group}.1"
        for router, (prio, state) in enumerate(((110, 16), (100, 8))):
            src = f"172.16.{group}.{router + 2}"
            ip = ipv4(udp4(hsrp(group, prio, state, vip), src, "224.0.0.2", 1985, 1985),
                      src, "224.0.0.2", 17, 1)  # fmt: skip
            frame = link.frame(ip, "01:00:5e:00:00:02", f"00:00:0c:07:ac:{group:02x}", (), 2)
            builder.emit(builder.grid(rng.random() * 3, 0, duration, 3.0), builder.template(frame))
    # OSPF: 4 routers, hello every 10 s.
    routers = [f"192.168.0.{i}" for i in range(1, 5)]
    for i, router in enumerate(routers):
        hello = ospf_hello(router, "0.0.0.0", "255.255.255.0", [r for r in routers if r != router])
        ip = ipv4(hello, router, "224.0.0.5", 89, 1)
        frame = link.frame(ip, "01:00:5e:00:00:05", f"52:54:00:aa:00:{i:02x}", (), 2)
        builder.emit(builder.grid(rng.random() * 10, 0, duration, 10.0), builder.template(frame))
    # PIM: 4 routers, hello every 30 s.
    for i, router in enumerate(routers):
        ip = ipv4(pim_hello(105, 0x1000 + i), router, "224.0.0.13", 103, 1)
        frame = link.frame(ip, "01:00:5e:00:00:0d", f"52:54:00:aa:00:{i:02x}", (), 2)
        builder.emit(builder.grid(rng.random() * 30, 0, duration, 30.0), builder.template(frame))
    # IGMP: a query every 125 s, reports from 20 hosts (router alert option, TTL 1).
    query = ipv4(igmp(0x11, "0.0.0.0"), "192.168.0.1", "224.0.0.1", 2, 1, b"\x94\x04\x00\x00")
    qframe = link.frame(query, "01:00:5e:00:00:01", "52:54:00:aa:00:00", (), 2)
    builder.emit(builder.grid(rng.random() * 125, 0, duration, 125.0), builder.template(qframe))
    reports = []
    for host in range(20):
        src = f"192.168.0.{100 + host}"
        group = "224.0.0.251" if host % 2 else "224.0.0.252"
        ip = ipv4(igmp(0x16, group), src, group, 2, 1, b"\x94\x04\x00\x00")
        frame = link.frame(ip, "01:00:5e:00:00:fb", f"52:54:01:00:00:{host:02x}", (), 2)
        reports.append(builder.template(frame))
    _poisson(builder, duration, 0.5, reports)
    # mDNS: announcements from 30 hosts, about 10 per second in all.
    announcements = []
    for host in range(30):
        src = f"192.168.0.{100 + host}"
        service = ["_ipp._tcp.local", "_airplay._tcp.local", "_ssh._tcp.local"][host % 3]
        message = mdns_announce(service, f"host{host}")
        ip = ipv4(udp4(message, src, "224.0.0.251", 5353, 5353),
                  src, "224.0.0.251", 17, 255)  # fmt: skip
        frame = link.frame(ip, "01:00:5e:00:00:fb", f"52:54:01:00:00:{host:02x}", (), 2)
        announcements.append(builder.template(frame))
    _poisson(builder, duration, 10.0, announcements)


def _poisson(builder: Builder, duration: float, rate: float, templates: list[int]) -> None:
    count = builder.rng.poisson(rate * duration)
    times = builder.rng.uniform(0, duration, count)
    builder.emit(times, np.asarray(templates)[builder.rng.integers(0, len(templates), count)])


def scenario(packets: int, seed: int = 1, link: str = "ether", vlan: bool = False) -> Scenario:
    """The first ``packets`` packets of the scenario, in time order."""
    builder = Builder(seed, Link(link), vlan)
    duration = max(packets / (GROUPS + 15.0) * 1.05, 10.0)
    vrid_next: dict[tuple[int, ...], int] = {}
    for g in range(GROUPS):
        key = builder.segment_of(g)[0]
        vrid = vrid_next[key] = vrid_next.get(key, 0) + 1
        _vrrp_group(builder, g, vrid, duration)
    _other_traffic(builder, duration)
    times = np.concatenate(builder.times)
    ids = np.concatenate(builder.ids)
    order = np.argsort(times, kind="stable")[:packets]
    ts_ns = START * 1_000_000_000 + np.round(times[order] * 1e6).astype(np.int64) * 1000
    ids = ids[order]
    # keepalived increments the IPv4 identification on every advert it sends.
    by_template = np.argsort(ids, kind="stable")
    _uniq, first, counts = np.unique(ids[by_template], return_index=True, return_counts=True)
    rank = np.empty(len(ids), np.int64)
    rank[by_template] = np.arange(len(ids)) - np.repeat(first, counts)
    start = builder.rng.integers(0, 1 << 16, len(builder.templates))
    ip_id = (rank + start[ids]) & 0xFFFF
    return Scenario(builder.templates, ts_ns, ids, ip_id, link)


def steady(adverts: int, interval_cs: int = 100, version: int = 2) -> Scenario:
    """One master alone sending ``adverts`` identical adverts every ``interval_cs``
    centiseconds (VRRPv2 needs whole seconds): the capture lasts adverts * interval."""
    if version == 2 and interval_cs % 100:
        raise ValueError("VRRPv2 advertises in whole seconds")
    src = "10.9.0.2"
    if version == 2:
        msg = vrrp2(9, 150, ["10.9.0.1"], interval_cs // 100)
    else:
        msg = vrrp3(9, 150, ["10.9.0.1"], src, "224.0.0.18", interval_cs)
    ip = ipv4(msg, src, "224.0.0.18", 112, 255)
    frame = Link().frame(ip, "01:00:5e:00:00:12", "00:00:5e:00:01:09", (), 2)
    ts_ns = START * 1_000_000_000 + np.arange(adverts, dtype=np.int64) * interval_cs * 10_000_000
    ids = np.zeros(adverts, np.int64)
    return Scenario([frame], ts_ns, ids, np.arange(adverts, dtype=np.int64) & 0xFFFF)


def deep_vlans(groups: int, depth: int, adverts: int, seed: int = 1) -> Scenario:
    """``groups`` masters, each on a segment of its own behind ``depth`` VLAN tags (a
    QinQ stack: the longest segment names a report and a plot must carry), advertising
    every second, ``adverts`` in all."""
    builder = Builder(seed, Link(), False)
    per_group = max(1, adverts // groups)
    for g in range(groups):
        vlans = tuple(1 + (g * 7 + k) % 4000 for k in range(depth))
        msg = vrrp2(1 + g % 255, 150, [f"10.{g // 250 + 1}.{g % 250}.1"], 1)
        ip = ipv4(msg, f"10.{g // 250 + 1}.{g % 250}.2", "224.0.0.18", 112, 255)
        frame = builder.link.frame(ip, "01:00:5e:00:00:12", "00:00:5e:00:01:01", vlans, 2)
        times = builder.rng.random() + np.arange(per_group, dtype=np.float64)
        builder.emit(times, builder.template(frame))
    times = np.concatenate(builder.times)
    ids = np.concatenate(builder.ids)
    order = np.argsort(times, kind="stable")
    ts_ns = START * 1_000_000_000 + np.round(times[order] * 1e6).astype(np.int64) * 1000
    ip_id = np.arange(len(ids), dtype=np.int64) & 0xFFFF
    return Scenario(builder.templates, ts_ns, ids[order], ip_id)


def random_sources(adverts: int, seed: int = 1) -> Scenario:
    """``adverts`` adverts, each from a random source address and MAC on a random VRID at
    a random priority, 1,000 a second (a scan, or a flood of forged adverts): what the
    engine's caps must hold at a plateau of memory."""
    rng = np.random.default_rng(seed)
    link = Link()
    templates = []
    for i in range(adverts):
        a, b, c = (int(x) for x in rng.integers(0, 256, 3))
        vrid, prio = int(rng.integers(1, 256)), int(rng.integers(1, 255))
        msg = vrrp2(vrid, prio, [f"10.{a}.{b}.1"], 1)
        ip = ipv4(msg, f"10.{a}.{b}.{c % 253 + 2}", "224.0.0.18", 112, 255)
        own = f"02:{a:02x}:{b:02x}:{c:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
        templates.append(link.frame(ip, "01:00:5e:00:00:12", own, (), 2))
    ts_ns = START * 1_000_000_000 + np.arange(adverts, dtype=np.int64) * 1_000_000
    ids = np.arange(adverts, dtype=np.int64)
    return Scenario(templates, ts_ns, ids, ids & 0xFFFF)


def write_scenario(path: str, scn: Scenario, fmt: str = "pcap") -> int:
    """Write ``scn`` as a capture; returns the number of packets written."""
    with open(path, "wb") as out:
        for piece in assemble(scn, LINKTYPES[scn.link], fmt == "pcapng"):
            out.write(piece)
    return len(scn.ts_ns)


# --- file assembly ---------------------------------------------------------------------


def _head_pcap(ts_ns: np.ndarray, lens: np.ndarray) -> np.ndarray:
    sec, usec = np.divmod(ts_ns // 1000, 1_000_000)
    head = np.stack([sec, usec, lens, lens], axis=1).astype("<u4")
    return head.view(np.uint8).reshape(len(ts_ns), 16)


def _head_pcapng(ts_ns: np.ndarray, lens: np.ndarray) -> np.ndarray:
    ticks = ts_ns // 1000
    total = 28 + ((lens + 3) // 4) * 4 + 4
    cols = [np.full_like(lens, 6), total, np.zeros_like(lens), ticks >> 32, ticks & 0xFFFFFFFF]
    head = np.stack(cols + [lens, lens], axis=1).astype("<u4")
    return head.view(np.uint8).reshape(len(ts_ns), 28)


def _bodies(templates: list[bytes], pcapng: bool) -> list[bytes]:
    if not pcapng:
        return templates
    return [t + bytes(-len(t) % 4) + struct.pack("<I", 28 + len(t) + (-len(t) % 4) + 4)
            for t in templates]  # fmt: skip


def assemble(scn: Scenario, linktype: int, pcapng: bool) -> Iterator[bytes]:
    """The file's bytes, in pieces of at most ASSEMBLY_CHUNK records."""
    if pcapng:
        shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
        opts = struct.pack("<HHB3x", 9, 1, 6) + b"\x00" * 4  # if_tsresol = 6 (microseconds)
        idb_body = struct.pack("<HHI", linktype, 0, 262144) + opts
        idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body
        yield shb + idb + struct.pack("<I", 12 + len(idb_body))
    else:
        yield struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)
    bodies = _bodies(scn.templates, pcapng)
    caplens = np.array([len(t) for t in scn.templates], np.int64)
    body_lens = np.array([len(b) for b in bodies], np.int64)
    hsize = 28 if pcapng else 16
    head_of = _head_pcapng if pcapng else _head_pcap
    ip_at = np.array([_ipv4_offset(t, scn.link) for t in scn.templates], np.int64)
    sums = np.array(
        [int.from_bytes(t[a + 10 : a + 12], "big") if a >= 0 else 0 for t, a in
         zip(scn.templates, ip_at.tolist(), strict=True)], np.int64
    )  # fmt: skip
    by_len: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for length in np.unique(body_lens).tolist():
        members = np.flatnonzero(body_lens == length)
        local = np.full(len(bodies), -1, np.int64)
        local[members] = np.arange(len(members))
        matrix = np.frombuffer(b"".join(bodies[i] for i in members), np.uint8)
        by_len[length] = (local, matrix.reshape(len(members), length))
    for lo in range(0, len(scn.ts_ns), ASSEMBLY_CHUNK):
        ids = scn.template[lo : lo + ASSEMBLY_CHUNK]
        ts = scn.ts_ns[lo : lo + ASSEMBLY_CHUNK]
        blen = body_lens[ids]
        size = hsize + blen
        offsets = np.cumsum(size) - size
        out = np.empty(int(size.sum()), np.uint8)
        out[offsets[:, None] + np.arange(hsize)] = head_of(ts, caplens[ids])
        for length, (local, matrix) in by_len.items():
            rows = np.flatnonzero(blen == length)
            if len(rows):
                at = offsets[rows, None] + hsize + np.arange(length)
                out[at] = matrix[local[ids[rows]]]
        _stamp_ip_ids(out, offsets + hsize, ip_at[ids], sums[ids], scn.ip_id[lo : lo + len(ids)])
        yield out.tobytes()


def _stamp_ip_ids(
    out: np.ndarray,
    frame_at: np.ndarray,
    ip_at: np.ndarray,
    checksum: np.ndarray,
    ip_id: np.ndarray,
) -> None:
    """Write each IPv4 identification and update the header checksum (RFC 1624)."""
    rows = np.flatnonzero(ip_at >= 0)
    base = frame_at[rows] + ip_at[rows]
    value = ip_id[rows]
    total = (~checksum[rows] & 0xFFFF) + value  # the templates carry identification 0
    total = (total & 0xFFFF) + (total >> 16)
    new = ~total & 0xFFFF
    out[base + 4], out[base + 5] = value >> 8, value & 0xFF
    out[base + 10], out[base + 11] = new >> 8, new & 0xFF


def _ipv4_offset(frame: bytes, link: str) -> int:
    """Where the IPv4 header of a template frame starts, or -1 (IPv6)."""
    if link == "sll2":
        at, ethertype = 20, int.from_bytes(frame[0:2], "big")
    else:
        at = 16 if link == "sll" else 14
        ethertype = int.from_bytes(frame[at - 2 : at], "big")
        while ethertype in (0x8100, 0x88A8):
            ethertype = int.from_bytes(frame[at + 2 : at + 4], "big")
            at += 4
    return at if ethertype == 0x0800 else -1


def write(path: str, packets: int, seed: int = 1, fmt: str = "pcap", link: str = "ether",
          vlan: bool = False) -> int:  # fmt: skip
    """Generate and write the capture; returns the number of packets written."""
    scn = scenario(packets, seed, link, vlan)
    out = sys.stdout.buffer if path == "-" else open(path, "wb")  # noqa: SIM115
    try:
        for piece in assemble(scn, LINKTYPES[link], fmt == "pcapng"):
            out.write(piece)
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    return len(scn.ts_ns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("-o", "--output", required=True, help="output file, - for stdout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("pcap", "pcapng"), default="pcap")
    parser.add_argument("--link", choices=tuple(LINKTYPES), default="ether")
    parser.add_argument("--vlan", action="store_true", help="tag every group (some QinQ)")
    args = parser.parse_args(argv)
    count = write(args.output, args.packets, args.seed, args.format, args.link, args.vlan)
    print(f"{count} packets written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
