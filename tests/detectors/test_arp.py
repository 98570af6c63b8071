"""stale-arp: a split brain healed while the last gratuitous ARP for the VIP came from
the node that became backup (ARP follow-through, issue 16). Judged at the end of the
capture from real frames, the same on both routes."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from tests.helpers.routes import assert_same
from vrrpscope.analysis import Analysis
from vrrpscope.findings import Kind

NS = 1_000_000_000
T0 = 1_760_000_000 * NS
R1, R2 = "198.18.1.1", "198.18.1.2"
MAC1, MAC2 = "02:00:00:00:01:01", "02:00:00:00:01:02"
VIP = "198.18.1.100"


def _advert(src: str, mac: str, priority: int, t: float) -> tuple[int, bytes]:
    frame = P.ethernet(P.ipv4(P.vrrp_v2(51, priority, [VIP]), src=src), src_mac=mac)
    return T0 + round(t * NS), frame


def _garp(mac: str, t: float) -> tuple[int, bytes]:
    return T0 + round(t * NS), P.gratuitous_arp(VIP, mac)


def _split_brain(
    *, end: float = 40.0, winner_garps: tuple[float, ...] = (0.1,), mac2: str = MAC2
) -> list[tuple[int, bytes]]:
    """r1 (150) advertises 0 s to ``end``; r2 (100), deaf to it, 10-25 s with its GARPs
    at 10.1 and 15.1 (keepalived's second burst); r1's GARPs at ``winner_garps``."""
    frames = [_advert(R1, MAC1, 150, t) for t in range(int(end) + 1)]
    frames += [_advert(R2, mac2, 100, t + 0.5) for t in range(10, 25)]
    frames += [_garp(mac2, 10.1), _garp(mac2, 15.1)]
    frames += [_garp(MAC1, t) for t in winner_garps]
    return frames


def _analyse(tmp_path: Path, frames: list[tuple[int, bytes]]) -> Analysis:
    path = tmp_path / "arp.pcap"
    path.write_bytes(pcap_bytes(sorted(frames, key=lambda f: f[0])))
    analysis = assert_same([str(path)])
    assert analysis is not None
    return analysis


def _stale(analysis: Analysis) -> list:
    return [f for f in analysis.findings if f.kind == Kind.STALE_ARP]


def test_a_healed_split_brain_without_a_new_garp(tmp_path: Path) -> None:
    analysis = _analyse(tmp_path, _split_brain())
    (split,) = [f for f in analysis.findings if f.kind == Kind.SPLIT_BRAIN]
    (stale,) = _stale(analysis)
    d = stale.details
    assert (d["vip"], d["winner"], d["winner_mac"], d["loser"], d["loser_mac"]) == (
        VIP,
        R1,
        MAC1,
        R2,
        MAC2,
    )
    assert d["healed_ts"] == split.last_ts_ns / NS and d["loser_claim_ts"] == (T0 / NS + 15.1)
    assert stale.first_ts_ns == split.last_ts_ns and d["watched_s"] == 40 - 24.5
    assert "garp_master_refresh" in stale.message and "arping -U" in stale.message
    (incident,) = [i for i in analysis.incidents if str(i.kind) == "split-brain"]
    assert stale in incident.findings and "hosts still send to 198.18.1.2's MAC" in incident.message


def test_a_garp_from_the_winner_after_the_heal_clears_it(tmp_path: Path) -> None:
    analysis = _analyse(tmp_path, _split_brain(winner_garps=(0.1, 26.0)))
    assert _stale(analysis) == []


def test_the_winner_answering_with_garps_meanwhile_is_no_stale_arp(tmp_path: Path) -> None:
    """keepalived answers a lower priority with GARPs: its claim was the last one heard."""
    analysis = _analyse(tmp_path, _split_brain(winner_garps=(0.1, 16.0)))
    assert [f.kind for f in analysis.findings if f.kind == Kind.SPLIT_BRAIN]
    assert _stale(analysis) == []


def test_one_virtual_mac_for_both_never_misleads_hosts(tmp_path: Path) -> None:
    frames = [
        (ts, frame.replace(bytes.fromhex("020000000102"), bytes.fromhex("020000000101")))
        for ts, frame in _split_brain()
    ]
    assert _stale(_analyse(tmp_path, frames)) == []


def test_a_split_brain_not_over_when_the_capture_ends_is_not_judged(tmp_path: Path) -> None:
    """r2's last advert at 24.5 s; the capture stops 1.5 s later, before the engine
    may say r2 yielded (2 intervals and slack): the split brain is not over."""
    frames = [f for f in _split_brain(end=26.0) if f[0] <= T0 + 26 * NS]
    analysis = _analyse(tmp_path, frames)
    assert [f for f in analysis.findings if f.kind == Kind.SPLIT_BRAIN]
    assert _stale(analysis) == []
