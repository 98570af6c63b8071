"""analysis.analyze_files: capture span, merged files, the decoder feeding the engine."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from vrrpscope.analysis import analyze_files

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
VIP = "198.18.1.100"


def advert(t: float, src: str = "198.18.1.1", priority: int = 150) -> tuple[int, bytes]:
    msg = P.vrrp_v2(51, priority, [VIP])
    return T0 + int(t * NS), P.ethernet(P.ipv4(msg, src=src), src_mac="02:00:00:00:01:01")


def unicast(t: float) -> tuple[int, bytes]:
    udp = b"\x30\x39\x30\x39\x00\x08\x00\x00"
    packet = P.ipv4(udp, src="198.18.1.7", dst="198.18.1.8", proto=17, ttl=64)
    return T0 + int(t * NS), P.ethernet(packet, dst_mac="02:00:00:00:01:08")


def write(path: Path, frames: list[tuple[int, bytes]]) -> str:
    path.write_bytes(pcap_bytes(frames, nanosecond=True))
    return str(path)


def test_silence_up_to_the_last_frame_of_any_kind_is_no_master(tmp_path: Path):
    """`tcpdump vrrp or host X`: the capture goes on after the adverts stop."""
    frames = [advert(t) for t in range(6)] + [unicast(6 + t) for t in range(30)]
    analysis = analyze_files([write(tmp_path / "c.pcap", frames)])
    assert analysis.last_ts_ns == T0 + 35 * NS
    (gone,) = [f for f in analysis.findings if f.kind == "no-master"]
    assert gone.first_ts_ns == T0 + 5 * NS  # silent since the last advert


def test_same_segment_captured_twice_is_counted_once(tmp_path: Path):
    adverts = [advert(t) for t in range(30)]
    node_a = write(tmp_path / "a.pcap", adverts)
    node_b = write(tmp_path / "b.pcap", [(ts + 300_000, data) for ts, data in adverts])
    analysis = analyze_files([node_a, node_b])
    (router,) = analysis.routers.values()
    assert router.adverts == 30
    assert not [f for f in analysis.findings if f.kind == "interval-drift"]
    assert any("counted once" in note for note in analysis.notes)


def test_two_files_with_different_adverts_are_both_kept(tmp_path: Path):
    first = write(tmp_path / "a.pcap", [advert(t) for t in range(0, 30, 2)])
    second = write(tmp_path / "b.pcap", [advert(t) for t in range(1, 30, 2)])
    (router,) = analyze_files([first, second]).routers.values()
    assert router.adverts == 30


def test_the_same_file_given_twice_is_read_once(tmp_path: Path):
    path = write(tmp_path / "a.pcap", [advert(t) for t in range(30)])
    (tmp_path / "link.pcap").symlink_to(path)
    for general in (False, True):
        analysis = analyze_files([path, path, str(tmp_path / "link.pcap")], general=general)
        (router,) = analysis.routers.values()
        assert router.adverts == 30 and analysis.files == [path]
        assert analysis.notes == [
            f"{path}: given twice: read once",
            f"{tmp_path / 'link.pcap'}: given twice (as {path}): read once",
        ]


def test_gre_tunnel_is_a_segment_of_its_own():
    from vrrpscope.model import Advert, Frame
    from vrrpscope.proto.decode import Decoder

    inner = P.ethernet(P.ipv4(P.vrrp_v2(51, 100, [VIP]), src="198.18.1.1"))
    gre = b"\x00\x00\x65\x58" + inner  # GRE, transparent Ethernet bridging
    outer = P.ethernet(P.ipv4(gre, src="198.18.9.1", dst="198.18.9.2", proto=47, ttl=64))
    item = Decoder().decode(Frame(T0, 1, outer, len(outer), 1))
    assert isinstance(item, Advert) and item.segment == "gre:198.18.9.1>198.18.9.2"
