"""Frame -> Advert / OtherTraffic / AddressClaim: the general (per-packet) decode path."""

from __future__ import annotations

import socket
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from vrrpscope.model import AddressClaim, Advert, Frame, OtherTraffic
from vrrpscope.proto.classify import classify, is_link_local_multicast
from vrrpscope.proto.hsrp import parse_hsrp
from vrrpscope.proto.ip import PROTO_VRRP, IPError, IPPacket, parse_ipv4, parse_ipv6
from vrrpscope.proto.link import (
    ETH_ARP,
    ETH_IPV4,
    ETH_IPV6,
    LinkError,
    LinkPacket,
    UnsupportedLinkType,
    format_mac,
    parse_link,
)
from vrrpscope.proto.tunnel import PROTO_GRE, decapsulate_gre
from vrrpscope.proto.vrrp import FrameContext, parse_advert

Decoded = Advert | OtherTraffic | AddressClaim

DEFAULT_SEGMENT = "default"
MAX_TUNNEL_DEPTH = 2


def printable(text: str) -> str:
    """`text` with control and other unprintable characters escaped (names from files)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def segment_name(interface: str | None, vlans: tuple[int, ...], isid: int | None = None) -> str:
    """Layer-2 segment key: interface, 802.1ah I-SID and VLAN stack ("eth0", "eth0.vlan30",
    "vlan10.vlan30", "eth0.isid1000.vlan30")."""
    parts = [printable(interface)] if interface else []
    if isid is not None:
        parts.append(f"isid{isid}")
    parts.extend(f"vlan{vid}" for vid in vlans)
    return ".".join(parts) if parts else DEFAULT_SEGMENT


@dataclass
class DecodeStats:
    """Counts the decoder keeps while it works."""

    frames: int = 0
    adverts: int = 0
    other: int = 0
    claims: int = 0
    undecodable: int = 0
    ignored: int = 0
    link_types: Counter = field(default_factory=Counter)
    unknown_link_types: Counter = field(default_factory=Counter)
    other_labels: Counter = field(default_factory=Counter)
    first_ts_ns: int | None = None  # earliest frame of any kind (the capture's span)
    last_ts_ns: int | None = None  # latest frame of any kind
    backwards_ts: int = 0  # frames earlier than one before them (merged files, clock steps)
    #: frames the capturing host dropped, per interface (pcapng statistics blocks)
    capture_drops: Counter = field(default_factory=Counter)
    #: each input's earliest and latest frame (file name -> [first, last] ns)
    file_spans: dict[str, list[int]] = field(default_factory=dict)

    def note_span(self, source: str, first_ns: int, last_ns: int) -> None:
        """Widen ``source``'s span to cover ``first_ns`` .. ``last_ns``."""
        span = self.file_spans.get(source)
        if span is None:
            self.file_spans[source] = [first_ns, last_ns]
        else:
            span[0], span[1] = min(span[0], first_ns), max(span[1], last_ns)

    def note_time(self, ts_ns: int) -> None:
        if self.last_ts_ns is None or self.first_ts_ns is None:
            self.first_ts_ns = self.last_ts_ns = ts_ns
        elif ts_ns >= self.last_ts_ns:
            self.last_ts_ns = ts_ns
        else:
            self.backwards_ts += 1
            if ts_ns < self.first_ts_ns:
                self.first_ts_ns = ts_ns


class Decoder:
    """Decodes frames one at a time and keeps counts for the capture summary."""

    def __init__(self) -> None:
        self.stats = DecodeStats()
        #: several inputs: each file's offset for item frame numbers (model.file_bases)
        self.file_bases: dict[str, int] = {}

    def decode_all(self, chunks: Iterable[list[Frame]]) -> Iterator[Decoded]:
        for chunk in chunks:
            for frame in chunk:
                item = self.decode(frame)
                if item is not None:
                    yield item

    def decode(self, frame: Frame) -> Decoded | None:
        stats = self.stats
        stats.frames += 1
        stats.link_types[frame.linktype] += 1
        stats.note_time(frame.ts_ns)
        stats.note_span(frame.source, frame.ts_ns, frame.ts_ns)
        try:
            link = parse_link(frame.linktype, frame.data)
        except UnsupportedLinkType:
            stats.unknown_link_types[frame.linktype] += 1
            return None
        except LinkError:
            stats.undecodable += 1
            return None
        interface = link.interface or frame.interface
        segment = segment_name(interface, link.vlans, link.isid)
        try:
            item = self._decode_network(frame, link, segment)
        except (IPError, LinkError, IndexError, struct.error, ValueError):
            stats.undecodable += 1
            return None
        if item is None:
            stats.ignored += 1
            return None
        if self.file_bases:
            item.frame += self.file_bases.get(frame.source, 0)
        if isinstance(item, Advert):
            stats.adverts += 1
        elif isinstance(item, OtherTraffic):
            stats.other += 1
            stats.other_labels[item.label] += 1
        else:
            stats.claims += 1
        return item

    def _decode_network(
        self, frame: Frame, link: LinkPacket, segment: str, depth: int = 0
    ) -> Decoded | None:
        if link.ethertype == ETH_IPV4:
            ip = parse_ipv4(link.payload)
        elif link.ethertype == ETH_IPV6:
            ip = parse_ipv6(link.payload)
        elif link.ethertype == ETH_ARP:
            return _arp_claim(frame, link, segment)
        else:
            return None
        if ip.proto == PROTO_VRRP:
            ctx = FrameContext(
                ts_ns=frame.ts_ns,
                frame=frame.number,
                source=frame.source,
                segment=segment,
                src_mac=link.src_mac,
                dst_mac=link.dst_mac,
                vlans=link.vlans,
            )
            advert = parse_advert(ip, ctx)
            if advert is None:
                raise IPError("VRRP message shorter than 2 bytes")
            return advert
        if ip.proto == PROTO_GRE and depth < MAX_TUNNEL_DEPTH and not ip.fragment:
            inner = decapsulate_gre(ip.payload)
            if inner is not None:
                inner_link, label = inner
                # A GRE tunnel is a segment of its own: its VRIDs do not meet the outer ones.
                label = label or f"gre:{ip.src}>{ip.dst}"
                inner_segment = segment_name(label, inner_link.vlans, inner_link.isid)
                return self._decode_network(frame, inner_link, inner_segment, depth + 1)
        if ip.family == 6 and ip.proto == 58:
            claim = _unsolicited_na(frame, link, ip, segment)
            if claim is not None:
                return claim
        if not is_link_local_multicast(ip):
            return None
        return OtherTraffic(
            ts_ns=frame.ts_ns,
            frame=frame.number,
            segment=segment,
            family=ip.family,
            label=classify(ip),
            src=ip.src,
            dst=ip.dst,
            hsrp=parse_hsrp(ip),
        )


def _arp_claim(frame: Frame, link: LinkPacket, segment: str) -> AddressClaim | None:
    """Gratuitous ARP (sender IP == target IP) announces who holds an address."""
    data = link.payload
    if len(data) < 28:
        return None
    htype, ptype, hlen, plen = struct.unpack_from("!HHBB", data)
    if htype != 1 or ptype != ETH_IPV4 or hlen != 6 or plen != 4:
        return None
    spa, tpa = data[14:18], data[24:28]
    if spa != tpa or spa == b"\x00\x00\x00\x00":
        return None
    return AddressClaim(
        ts_ns=frame.ts_ns,
        frame=frame.number,
        segment=segment,
        ip=socket.inet_ntop(socket.AF_INET, spa),
        mac=format_mac(data[8:14]),
    )


def _unsolicited_na(
    frame: Frame, link: LinkPacket, ip: IPPacket, segment: str
) -> AddressClaim | None:
    """An unsolicited neighbour advertisement (S flag clear) claims its target address."""
    data = ip.payload
    if len(data) < 24 or data[0] != 136 or data[4] & 0x40:
        return None
    mac = link.src_mac
    offset = 24
    while offset + 8 <= len(data):
        opt_type, opt_len = data[offset], data[offset + 1] * 8
        if opt_len == 0:
            break
        if opt_type == 2 and opt_len >= 8:
            mac = format_mac(data[offset + 2 : offset + 8])
        offset += opt_len
    if mac is None:
        return None
    return AddressClaim(
        ts_ns=frame.ts_ns,
        frame=frame.number,
        segment=segment,
        ip=socket.inet_ntop(socket.AF_INET6, data[8:24]),
        mac=mac,
    )
