"""Fuzzing the layers below and at VRRP: link layers, IPv4/IPv6, the VRRP/CARP parser and
the Decoder; then structured fuzzing of valid packets, whose damage must be recorded as the
issue for which an RFC receiver would drop the packet."""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
import unicodedata

import dpkt
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz import (
    KNOWN_BUGS,
    TS_ANY,
    TS_REALISTIC,
    fuzz_settings,
    known_bug,
    mutated,
    time_limit,
    valid_frames,
)
from tests.helpers import packets as P
from vrrpscope.model import (
    ISSUE_CHECKSUM,
    ISSUE_FRAGMENT,
    ISSUE_INTERVAL,
    ISSUE_IP_CHECKSUM,
    ISSUE_LENGTH,
    ISSUE_RESERVED,
    ISSUE_TEXT,
    ISSUE_TRUNCATED,
    ISSUE_TTL,
    ISSUE_TYPE,
    ISSUE_VERSION,
    ISSUE_VRID,
    AddressClaim,
    Advert,
    Frame,
    OtherTraffic,
)
from vrrpscope.proto.decode import Decoder
from vrrpscope.proto.ip import IPError, IPPacket, parse_ipv4, parse_ipv6
from vrrpscope.proto.link import SUPPORTED_LINKTYPES, LinkError, UnsupportedLinkType, parse_link
from vrrpscope.proto.vrrp import FrameContext, parse_advert
from vrrpscope.report.adverts import advert_to_dict, format_advert

SEEDS = valid_frames()
LINKTYPES = sorted(SUPPORTED_LINKTYPES)
CTX = FrameContext(0, 1, "fuzz.pcap", "default", None, None, ())


def frame_bytes() -> st.SearchStrategy[bytes]:
    """Random bytes, or a valid advert frame of any link layer with a few mutations."""
    return st.one_of(
        st.binary(max_size=160),
        st.sampled_from([data for _, data in SEEDS]).flatmap(mutated),
    )


def ip_bytes(version: int) -> st.SearchStrategy[bytes]:
    """Random bytes behind a version nibble, or a mutated valid IPv4/IPv6 packet."""
    seeds = []
    for linktype, data in SEEDS:
        link = parse_link(linktype, data)
        if link.payload[:1] and link.payload[0] >> 4 == version:
            seeds.append(link.payload)
    random = st.binary(max_size=120).map(lambda b: bytes([version << 4 | 5]) + b)
    return st.one_of(random, st.sampled_from(seeds).flatmap(mutated))


# -- link layer ---------------------------------------------------------------------------


@fuzz_settings(600)
@given(linktype=st.one_of(st.sampled_from(LINKTYPES), st.integers(0, 0xFFFF)), data=frame_bytes())
def test_parse_link_returns_a_suffix_or_raises_link_errors(linktype: int, data: bytes) -> None:
    try:
        link = parse_link(linktype, data)
    except UnsupportedLinkType:
        assert linktype not in SUPPORTED_LINKTYPES
        return
    except LinkError as exc:
        assert str(exc)
        return
    assert linktype in SUPPORTED_LINKTYPES
    assert data.endswith(link.payload)  # the network layer is what follows the link header
    assert all(0 <= vid <= 4095 for vid in link.vlans)
    assert len(link.vlans) * 4 <= len(data)


# -- IP layer -----------------------------------------------------------------------------


def _parse_ip(parse, data: bytes) -> IPPacket | None:
    try:
        return parse(data)
    except IPError as exc:
        assert str(exc)
        return None
    except Exception as exc:
        bug = known_bug(exc)
        if bug is None:
            raise
        event(f"known bug: {bug.name}")
        return None


@fuzz_settings(500)
@given(data=ip_bytes(4))
def test_parse_ipv4_gives_a_packet_or_ip_error(data: bytes) -> None:
    ip = _parse_ip(parse_ipv4, data)
    if ip is None:
        return
    header_len = (data[0] & 0x0F) * 4
    total = struct.unpack_from("!H", data, 2)[0]
    assert ip.family == 4 and ip.src == socket.inet_ntop(socket.AF_INET, data[12:16])
    assert ip.ttl == data[8]
    assert ip.payload in data[header_len:]
    assert len(ip.payload) <= ip.payload_len or total == 0
    assert 0 <= ip.payload_len <= 0xFFFF
    assert ip.header_checksum_ok == (dpkt.in_cksum(data[:header_len]) == 0)
    if ip.ah_icv is None:
        assert ip.proto == data[9]


@fuzz_settings(500)
@given(data=ip_bytes(6))
def test_parse_ipv6_gives_a_packet_or_ip_error(data: bytes) -> None:
    ip = _parse_ip(parse_ipv6, data)
    if ip is None:
        return
    assert ip.family == 6 and ip.src == socket.inet_ntop(socket.AF_INET6, data[8:24])
    assert ip.ttl == data[7]
    assert ip.payload in data[40:]
    assert 0 <= ip.payload_len <= 0xFFFF


# -- VRRP / CARP parser ---------------------------------------------------------------------


@st.composite
def ip_packets(draw: st.DrawFn) -> IPPacket:
    """Any IPPacket the IP layer could produce: consistent family and address sizes,
    everything else arbitrary (payload random or a mutated VRRP/CARP message)."""
    family = draw(st.sampled_from([4, 6]))
    size = 4 if family == 4 else 16
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    src_raw, dst_raw = (
        draw(st.binary(min_size=size, max_size=size)),
        draw(
            st.sampled_from([socket.inet_pton(af, "224.0.0.18" if family == 4 else "ff02::12")])
            | st.binary(min_size=size, max_size=size)
        ),
    )
    messages = [
        P.vrrp_v2(1, 100, ["198.18.1.1"], auth_type=1, auth_data=b"hunter22"),
        P.vrrp_v3(2, 100, ["198.18.1.1"], src="198.18.1.2"),
        P.vrrp_v3(3, 100, ["fe80::1"], src="fe80::2"),
        P.carp(4),
    ]
    payload = draw(st.one_of(st.binary(max_size=80), st.sampled_from(messages).flatmap(mutated)))
    length = draw(st.one_of(st.just(len(payload)), st.integers(0, 0xFFFF), st.just(36)))
    return IPPacket(
        family=family,
        src=socket.inet_ntop(af, src_raw),
        dst=socket.inet_ntop(af, dst_raw),
        src_raw=src_raw,
        dst_raw=dst_raw,
        ttl=draw(st.integers(0, 255)),
        proto=112,
        payload=payload[:length],
        payload_len=length,
        fragment=draw(st.booleans()),
        header_checksum_ok=draw(st.booleans()),
        ah_spi=None,
        ah_icv=draw(st.none() | st.binary(max_size=20)),
    )


@fuzz_settings(600)
@given(ip=ip_packets())
def test_parse_advert_never_raises_and_flags_what_receivers_drop(ip: IPPacket) -> None:
    advert = parse_advert(ip, CTX)
    if len(ip.payload) < 2:
        assert advert is None
        return
    assert isinstance(advert, Advert)
    assert set(advert.issues) <= ISSUE_TEXT.keys()
    assert len(set(advert.issues)) == len(advert.issues)
    assert advert.vrid == ip.payload[1] and advert.length == ip.payload_len
    # RFC 5798 §7.1, RFC 3768 §7.1; unicast peers are exempt, as in keepalived
    multicast = ipaddress.ip_address(ip.dst_raw).is_multicast
    assert (ISSUE_TTL in advert.issues) == (ip.ttl != 255 and multicast)
    assert (ISSUE_FRAGMENT in advert.issues) == ip.fragment
    assert (ISSUE_IP_CHECKSUM in advert.issues) == (not ip.header_checksum_ok)
    assert (ISSUE_VRID in advert.issues) == (ip.payload[1] == 0)
    if len(ip.payload) < ip.payload_len:
        assert ISSUE_TRUNCATED in advert.issues
    if advert.proto == "vrrp" and ip.payload_len < 8:
        assert ISSUE_TRUNCATED in advert.issues
    if advert.proto == "vrrp" and (ISSUE_TRUNCATED in advert.issues or ip.fragment):
        # cannot be verified (like tshark's "unverified"); CARP verifies fragments that
        # hold the whole 36 bytes
        assert ISSUE_CHECKSUM not in advert.issues and not advert.checksum_ok
    if advert.valid:
        assert advert.checksum_ok


# -- the Decoder ------------------------------------------------------------------------------


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    """Mostly a mutated valid frame with its own link type; sometimes anything at all."""
    linktype, seed = draw(st.sampled_from(SEEDS))
    if draw(st.integers(0, 3)) == 0:
        linktype = draw(st.one_of(st.sampled_from(LINKTYPES), st.integers(0, 0xFFFF)))
        data = draw(frame_bytes())
    else:
        data = draw(st.one_of(st.just(seed), mutated(seed)))
    return Frame(
        ts_ns=draw(TS_ANY),
        linktype=linktype,
        data=data,
        orig_len=draw(st.integers(0, 0xFFFFFFFF)),
        number=draw(st.integers(1, 1 << 40)),
        # control characters in names: see test_damaged_captures (corpus, a known bug)
        interface=draw(st.none() | st.text(PRINTABLE, max_size=8)),
        source=draw(st.sampled_from(["-", "a.pcap", "dir/ü.pcapng"])),
    )


PRINTABLE = st.characters(blacklist_categories=("Cc",))


def _render(item: Advert) -> None:
    """Every way decode prints an advert works (masked and shown, text and JSON), and a
    text line has no control character (no line or terminal escape injection)."""
    for show in (False, True):
        try:
            for line in (format_advert(item, show), format_advert(item, show, local=True)):
                assert not any(unicodedata.category(c) == "Cc" for c in line), line
        except Exception as exc:
            bug = known_bug(exc)
            if bug is None:
                raise
            event(f"known bug: {bug.name}")
        json.loads(json.dumps(advert_to_dict(item, show)))


@fuzz_settings(800)
@given(batch=st.lists(frames(), min_size=1, max_size=5))
def test_decoder_never_raises_and_counts_every_frame(batch: list[Frame]) -> None:
    decoder = Decoder()
    items = []
    with time_limit():
        for frame in batch:
            try:
                item = decoder.decode(frame)
            except Exception as exc:
                bug = known_bug(exc)
                if bug is None:
                    raise
                event(f"known bug: {bug.name}")
                return  # the counts are off by this frame; the corpus test tracks the bug
            items.append(item)
            event(type(item).__name__)
    stats = decoder.stats
    assert stats.frames == len(batch)
    accounted = stats.adverts + stats.other + stats.claims + stats.undecodable + stats.ignored
    assert accounted + sum(stats.unknown_link_types.values()) == len(batch)
    assert stats.adverts == sum(isinstance(i, Advert) for i in items)
    assert stats.other == sum(isinstance(i, OtherTraffic) for i in items)
    assert stats.claims == sum(isinstance(i, AddressClaim) for i in items)
    for frame, item in zip(batch, items, strict=True):
        if item is None:
            continue
        assert item.ts_ns == frame.ts_ns and item.frame == frame.number
        if isinstance(item, Advert):
            assert item.source == frame.source
            _render(item)


@fuzz_settings(300)
@given(ts_ns=TS_REALISTIC)
def test_every_pcap_timestamp_renders(ts_ns: int) -> None:
    """Timestamps a classic pcap can hold (32-bit seconds) always print."""
    item = Decoder().decode(Frame(ts_ns, 1, SEEDS[0][1], 60, 1))
    assert isinstance(item, Advert)
    assert format_advert(item)
    assert json.dumps(advert_to_dict(item))


# -- structured fuzzing: valid adverts with fields changed ----------------------------------


def decode_one(linktype: int, data: bytes) -> Advert | None:
    decoder = Decoder()
    item = decoder.decode(Frame(1_700_000_000 * 10**9, linktype, data, len(data), 1))
    assert item is None or isinstance(item, Advert)
    return item


def _fix_ipv4_checksum(packet: bytearray) -> None:
    header_len = (packet[0] & 0x0F) * 4
    packet[10:12] = b"\0\0"
    packet[10:12] = struct.pack("!H", dpkt.in_cksum(bytes(packet[:header_len])))


@st.composite
def vrrp_cases(draw: st.DrawFn) -> tuple[bytes, set[str], set[str]]:
    """An Ethernet frame carrying VRRP with fields drawn freely, the issues that the RFCs
    make a receiver drop it for (computed here, independently of the decoder), and the
    issues that may also be named (a message of unknown version has no defined length)."""
    v3 = draw(st.booleans())
    v6 = v3 and draw(st.booleans())
    actual = draw(st.integers(0, 4))
    addresses = [f"fe80::{i + 1}" if v6 else f"198.18.1.{i + 1}" for i in range(actual)]
    count = draw(st.one_of(st.just(actual), st.integers(0, 255)))
    vrid = draw(st.one_of(st.integers(1, 255), st.just(0)))
    ttl = draw(st.one_of(st.just(255), st.integers(0, 254)))
    bad_checksum = draw(st.integers(0, 3)) == 0
    expected = set()
    optional = set()
    src = "fe80::11" if v6 else "198.18.1.11"
    if v3:
        interval = draw(st.one_of(st.integers(1, 0xFFF), st.just(0)))
        reserved = draw(st.one_of(st.just(0), st.integers(1, 15)))
        msg = P.vrrp_v3(
            vrid, 100, addresses, src=src, interval_cs=interval, count=count,
            reserved=reserved, bad_checksum=bad_checksum,
        )  # fmt: skip
        if reserved:
            expected.add(ISSUE_RESERVED)
        expected_len = 8 + count * (16 if v6 else 4)
    else:
        interval = draw(st.one_of(st.integers(1, 255), st.just(0)))
        version = draw(st.one_of(st.just(2), st.sampled_from([0, 1, *range(4, 16)])))
        vtype = draw(st.one_of(st.just(1), st.integers(0, 15)))
        msg = P.vrrp_v2(
            vrid, 100, addresses, interval_s=interval, count=count, version=version,
            vtype=vtype, bad_checksum=bad_checksum,
        )  # fmt: skip
        if version != 2:
            expected.add(ISSUE_VERSION)
            optional.add(ISSUE_LENGTH)
        if vtype != 1:
            expected.add(ISSUE_TYPE)
        expected_len = 8 + count * 4 + 8
    fragment = not v6 and draw(st.integers(0, 5)) == 0
    if v6:
        packet = bytearray(P.ipv6(msg, src=src, hlim=ttl))
    else:
        packet = bytearray(P.ipv4(msg, src=src, ttl=ttl, mf=fragment))
        if draw(st.integers(0, 5)) == 0:
            packet[10] ^= 0xFF
            expected.add(ISSUE_IP_CHECKSUM)
    if ttl != 255:
        expected.add(ISSUE_TTL)
    if fragment:
        expected.add(ISSUE_FRAGMENT)
    if count != actual and len(msg) != expected_len:
        expected.add(ISSUE_LENGTH)
    if vrid == 0:
        expected.add(ISSUE_VRID)
    if interval == 0:
        expected.add(ISSUE_INTERVAL)
    if bad_checksum and not fragment:
        expected.add(ISSUE_CHECKSUM)
    return P.ethernet(bytes(packet)), expected, optional


@fuzz_settings(600)
@given(case=vrrp_cases())
def test_changed_fields_are_the_issues_an_rfc_receiver_drops_for(case) -> None:
    frame, expected, optional = case
    advert = decode_one(1, frame)
    assert advert is not None and advert.proto in ("vrrp", "carp")
    if advert.proto == "carp":  # a 36-byte v2 message with count 7 is CARP (DESIGN §2)
        return
    assert set(advert.issues) - optional == expected - optional
    assert advert.valid == (not expected)


@fuzz_settings(300)
@given(case=vrrp_cases(), cut=st.integers(1, 200))
def test_a_capture_cut_inside_the_message_is_truncated_not_a_crash(case, cut: int) -> None:
    frame = case[0]
    short = frame[: len(frame) - cut]
    advert = decode_one(1, short)
    if advert is None:
        return  # not even two VRRP bytes left, or the IP header is cut: undecodable
    assert ISSUE_TRUNCATED in advert.issues
    assert ISSUE_CHECKSUM not in advert.issues and not advert.checksum_ok


V2_MSG = P.vrrp_v2(9, 100, ["198.18.1.100"], auth_type=2)
V2_IPV4 = P.ipv4(V2_MSG, src="198.18.1.11")


@pytest.mark.parametrize("ihl", range(16))
def test_every_ipv4_header_length(ihl: int) -> None:
    """IHL below 5 is undecodable; above 5 the options swallow VRRP bytes: never valid."""
    packet = bytearray(V2_IPV4)
    packet[0] = 0x40 | ihl
    _fix_ipv4_checksum(packet)
    advert = decode_one(1, P.ethernet(bytes(packet)))
    if ihl < 5:
        assert advert is None
    elif ihl == 5:
        assert advert is not None and advert.valid
    else:
        assert advert is None or not advert.valid


def test_every_ipv4_total_length() -> None:
    """A total length shorter than the message cuts it (length/checksum issues), a longer
    one announces bytes that are not there (truncated); only the true one is valid."""
    true_total = len(V2_IPV4)
    outcomes = {}
    for total in range(0, 0x10000, 7):
        packet = bytearray(V2_IPV4)
        struct.pack_into("!H", packet, 2, total)
        _fix_ipv4_checksum(packet)
        advert = decode_one(1, P.ethernet(bytes(packet)))
        outcomes[total] = advert
        if total in (0, true_total):  # 0: TSO, the capture's length is used
            assert advert is not None and advert.valid
        elif advert is not None:
            assert not advert.valid
        if total > true_total and advert is not None:
            assert ISSUE_TRUNCATED in advert.issues
    assert any(a is None for a in outcomes.values())  # too short for two VRRP bytes


def test_every_ah_length() -> None:
    """Only the true AH length finds the VRRP message; any other is undecodable or invalid."""
    inner = P.vrrp_v2(9, 100, ["198.18.1.100"], auth_type=2)
    good = P.ipv4(P.ah(inner), src="198.18.1.11", proto=51)
    true_words = good[21]
    for words in range(256):
        packet = bytearray(good)
        packet[21] = words
        advert = decode_one(1, P.ethernet(bytes(packet)))
        if words == true_words:
            assert advert is not None and advert.valid and advert.ah_spi == 0x1234
        else:
            assert advert is None or not advert.valid, words


def _decode_tolerating_known_bugs(frame: bytes) -> object:
    """What the Decoder makes of an Ethernet frame, or the name of the known bug it hit
    (any other exception propagates)."""
    try:
        return Decoder().decode(Frame(0, 1, frame, len(frame), 1))
    except Exception as exc:
        bug = known_bug(exc)
        if bug is None:
            raise
        return bug.name


V3_MSG_6 = P.vrrp_v3(9, 100, ["fe80::100"], src="fe80::11")


def test_every_ip_protocol_and_next_header() -> None:
    """Each of the 256 values in IPv4's protocol, IPv6's next header and the next header
    of an IPv6 extension header in front of VRRP: decoded or dropped, never a crash."""
    known = set()
    for value in range(256):
        v4 = bytearray(V2_IPV4)
        v4[9] = value
        _fix_ipv4_checksum(v4)
        v6 = P.ipv6(V3_MSG_6, src="fe80::11", nxt=value)
        ext = P.ipv6(bytes([value, 0, 0, 1, 0, 0, 0, 1]) + V3_MSG_6, src="fe80::11", nxt=44)
        hop = P.ipv6(bytes([value, 0, 1, 4, 0, 0, 0, 0]) + V3_MSG_6, src="fe80::11", nxt=0)
        for packet in (bytes(v4), v6, ext, hop):
            outcome = _decode_tolerating_known_bugs(P.ethernet(packet))
            if isinstance(outcome, str):
                known.add(outcome)
            elif isinstance(outcome, Advert):
                assert value == 112 or outcome.issues  # only VRRP itself is a valid advert
    # the sweep reaches the two IPv6 known bugs; when one is fixed, remove it from KNOWN_BUGS
    assert known == {bug.name for bug in KNOWN_BUGS if bug.corpus.startswith("ipv6-")}


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 8, 64, 300])
@pytest.mark.parametrize("tpid", [0x8100, 0x88A8, 0x9100, 0x9200])
def test_vlan_stacks_of_any_depth(depth: int, tpid: int) -> None:
    """Every tag is kept in the segment name, however deep; a cut stack is undecodable."""
    vids = [(i * 37) % 4096 for i in range(depth)]
    tags = b"".join(struct.pack("!HH", tpid, 0xE000 | vid) for vid in vids)
    frame = P.ethernet(V2_IPV4)
    stacked = frame[:12] + tags + frame[12:]
    with time_limit():
        advert = decode_one(1, stacked)
        assert advert is not None and advert.valid
        assert advert.vlans == tuple(vids)
        cut = decode_one(1, stacked[: 14 + 4 * depth - 2]) if depth else None
    assert cut is None
