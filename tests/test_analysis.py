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


def _split(tmp_path: Path, source: Path, at: int) -> list[str]:
    """``source`` cut into two classic pcaps: frames 1..at and the rest."""
    from vrrpscope.capture import read_frames

    frames = [f for chunk in read_frames([str(source)]) for f in chunk]
    out = []
    for name, part in (("one.pcap", frames[:at]), ("two.pcap", frames[at:])):
        path = tmp_path / name
        path.write_bytes(pcap_bytes((f.ts_ns, f.data) for f in part))
        out.append(str(path))
    return out


def test_evidence_frames_of_several_files_name_their_file(tmp_path: Path, monkeypatch) -> None:
    """failover.pcap cut after frame 20: the first move's frames 18 and 21 are
    one.pcap:18 and two.pcap:1, the second's (42, 43) two.pcap:22,23, on both routes."""
    source = Path(__file__).parent.parent / "captures" / "failover.pcap"
    monkeypatch.chdir(tmp_path)
    paths = [Path(p).name for p in _split(tmp_path, source, 20)]
    for general in (True, False):
        analysis = analyze_files(paths, general=general)
        moves = sorted(
            (f for f in analysis.findings if f.kind == "failover"), key=lambda f: f.first_ts_ns
        )
        assert [m.evidence() for m in moves] == ["one.pcap:18 two.pcap:1", "two.pcap:22,23"]
        assert moves[0].to_dict()["frames"] == [18, 1]
        assert moves[0].to_dict()["frame_files"] == paths
        adverts = analyze_files(paths, general=general, keep_adverts=True).adverts
        assert adverts is not None
        rows = adverts.to_pandas()
        assert rows["frame"].max() == 30 and set(rows["file"]) == set(paths)


def test_one_file_has_plain_evidence_frames() -> None:
    path = Path(__file__).parent.parent / "captures" / "failover.pcap"
    moves = [f for f in analyze_files([str(path)]).findings if f.kind == "failover"]
    assert sorted(m.evidence() for m in moves) == ["18,21", "42,43"]
    assert all("frame_files" not in m.to_dict() for m in moves)
