"""keepalived auth_hmac in the engine: mixed signing and key ids (config-mismatch),
hmac-replay and hmac-clock-skew, the per-speaker signing summary; a signed hour is
silent. Captures are built from real bytes (tests/helpers/packets.auth_hmac) and read
on both routes."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from tests.helpers.frames import HMAC_KEY
from tests.helpers.routes import assert_same
from vrrpscope.analysis import Analysis
from vrrpscope.findings import Kind, Severity

NS = 1_000_000_000
T0 = 1_760_000_000 * NS
R1, R2 = "198.18.1.1", "198.18.1.2"
MACS = {R1: "02:00:00:00:01:01", R2: "02:00:00:00:01:02"}
VIP = "198.18.1.100"


def clock_seq(ns: int) -> int:
    seconds, nanos = divmod(ns, NS)
    return seconds << 32 | ((nanos << 16) // NS) << 16


def advert(src: str, priority: int, t: float, *, vrid: int = 51, key_id: int | None = 1,
           skew: float = 0.02) -> tuple[int, bytes]:  # fmt: skip
    """(capture time, frame) of one VRRPv3 advert from ``src`` at ``t`` s, signed with
    ``key_id`` (None: unsigned) by a clock ``skew`` s ahead of the capture's."""
    ts = T0 + round(t * NS)
    msg = P.vrrp_v3(vrid, priority, [VIP], src=src)
    if key_id is not None:
        seq = clock_seq(ts + round(skew * NS))
        msg = P.auth_hmac(msg, src=src, key=HMAC_KEY, seq=seq, key_id=key_id)
    return ts, P.ethernet(P.ipv4(msg, src=src), src_mac=MACS[src])


def train(src: str, priority: int, start: float, stop: float, **kw) -> list[tuple[int, bytes]]:
    return [advert(src, priority, start + i, **kw) for i in range(int(stop - start) + 1)]


def write(path: Path, frames: list[tuple[int, bytes]]) -> str:
    path.write_bytes(pcap_bytes(sorted(frames, key=lambda f: f[0])))
    return str(path)


def analyse(path: str) -> Analysis:
    analysis = assert_same([path])
    assert analysis is not None
    return analysis


def of_kind(analysis: Analysis, kind: Kind) -> list:
    return [f for f in analysis.findings if f.kind == kind]


def _failover(tmp_path: Path, first: dict, second: dict) -> Analysis:
    """r1 (150) advertises 0-10 s and resigns; r2 (100) takes over."""
    frames = train(R1, 150, 0, 10, **first) + [advert(R1, 0, 10.5, **first)]
    frames += train(R2, 100, 11.2, 30, **second)
    return analyse(write(tmp_path / "failover.pcap", frames))


def test_a_signed_hour_is_silent_and_summarised(tmp_path: Path) -> None:
    frames = train(R1, 150, 0, 3600) + train(R2, 150, 0.3, 3600.3, vrid=52, key_id=3)
    analysis = analyse(write(tmp_path / "hour.pcap", frames))
    assert [f for f in analysis.findings if f.severity > Severity.INFO] == []
    kinds = {f.kind for f in analysis.findings}
    assert Kind.HMAC_REPLAY not in kinds and Kind.HMAC_CLOCK_SKEW not in kinds
    speakers = {s.src: s for seg in analysis.inventory for r in seg.routers for s in r.speakers}
    one = speakers[R1].signing
    assert one is not None
    assert (one["signed"], one["unsigned"], one["key_ids"], one["replays"]) == (3601, 0, [1], 0)
    assert abs(one["skew_min_s"] - 0.02) < 0.001 and abs(one["skew_max_s"] - 0.02) < 0.001
    assert speakers[R2].signing["key_ids"] == [3]


def test_signed_beside_unsigned_is_a_mismatch(tmp_path: Path) -> None:
    analysis = _failover(tmp_path, {}, {"key_id": None})
    (cm,) = of_kind(analysis, Kind.CONFIG_MISMATCH)
    assert cm.details["fields"] == {"auth_hmac": {R1: "key 1", R2: "unsigned"}}
    assert f"{R1} signs its adverts (auth_hmac key 1) and {R2} does not" in cm.message
    assert "vrrp packet too long" in cm.message and "receive-only" in cm.message
    (r2,) = [
        s for seg in analysis.inventory for r in seg.routers for s in r.speakers if s.src == R2
    ]
    assert r2.signing is None


def test_two_key_ids_are_a_mismatch_that_names_the_rotation(tmp_path: Path) -> None:
    analysis = _failover(tmp_path, {"key_id": 1}, {"key_id": 2})
    (cm,) = of_kind(analysis, Kind.CONFIG_MISMATCH)
    assert cm.details["fields"] == {"auth_hmac": {R1: "key 1", R2: "key 2"}}
    assert "unknown authentication key id" in cm.message and "rotation" in cm.message


def test_same_key_on_both_is_no_mismatch(tmp_path: Path) -> None:
    analysis = _failover(tmp_path, {}, {})
    assert of_kind(analysis, Kind.CONFIG_MISMATCH) == []


def test_a_replayed_signed_advert(tmp_path: Path) -> None:
    """Someone re-sends r1's advert of 5 s at 25.5 s (the same bytes, same MAC)."""
    frames = train(R1, 150, 0, 40)
    _, old = frames[5]
    frames.append((T0 + round(25.5 * NS), old))
    frames.append((T0 + round(26.5 * NS), old))
    analysis = analyse(write(tmp_path / "replay.pcap", frames))
    (replay,) = of_kind(analysis, Kind.HMAC_REPLAY)
    assert replay.severity == Severity.WARNING and replay.speakers == (R1,)
    assert replay.details["replays"] == 2
    assert replay.details["seq"] < replay.details["high_water_seq"]
    assert replay.frames[0] == 27  # the first replayed frame (1-based, time order)
    assert "replay" in replay.message and "2 times" in replay.message
    (s,) = [s for seg in analysis.inventory for r in seg.routers for s in r.speakers]
    assert s.signing["replays"] == 2 and s.signing["signed"] == 43


def test_a_skewed_signer_clock(tmp_path: Path) -> None:
    frames = train(R1, 150, 0, 20, skew=61.5) + train(R2, 150, 0.4, 20.4, vrid=52)
    analysis = analyse(write(tmp_path / "skew.pcap", frames))
    (skew,) = of_kind(analysis, Kind.HMAC_CLOCK_SKEW)
    assert skew.speakers == (R1,) and skew.vrid == 51
    assert skew.details["skew_s"] == 61.5 and skew.details["window_s"] == 5.0
    assert "61.5 s ahead of the capture's" in skew.message


def test_a_clock_just_inside_the_window_is_fine(tmp_path: Path) -> None:
    frames = train(R1, 150, 0, 20, skew=-4.5)
    analysis = analyse(write(tmp_path / "near.pcap", frames))
    assert of_kind(analysis, Kind.HMAC_CLOCK_SKEW) == []
