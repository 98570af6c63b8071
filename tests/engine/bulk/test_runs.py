"""Regular adverts applied in bulk: the timer chain, gap sums, and whole captures.

The end-to-end checks build captures where runs of regular adverts meet every reader of
a router's state (another speaker, an address claim, a priority change, lost adverts,
a resignation, the end of a block) and compare the bulk route with the general one.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import PcapFile
from tests.helpers.routes import assert_same
from vrrpscope import analysis
from vrrpscope.detectors import drift
from vrrpscope.engine.bulk.held import _drift_points
from vrrpscope.engine.bulk.runs import chain, gap_sums, squared
from vrrpscope.engine.gapstats import GapStats

S = 1_000_000_000
T0 = 1_800_000_000 * S
VIP = "198.18.7.1"


def _brute_chain(times: list[int], expiry: int, due: int, until: int) -> int | None:
    """Fire the timer advert by advert, as the engine does without runs."""
    while True:
        last = max((t for t in times if t <= due), default=None)
        if last is None or last + expiry <= due:
            return None
        due = last + expiry
        if due >= until:
            return due
        if max(t for t in times if t <= due) + expiry <= due:
            return due  # the next firing finds silence


def test_chain_matches_firing_advert_by_advert() -> None:
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(1, 60)
        times = sorted(rng.randint(0, 40 * S) for _ in range(n))
        expiry = rng.choice([3 * S + S // 2, 2 * S, 5 * S])
        arr = np.array(times, np.int64)
        nxt = (np.searchsorted(arr, arr + expiry, side="right") - 1).tolist()
        due = rng.randint(times[0], times[-1] + expiry)
        until = rng.randint(due, times[-1] + 2 * expiry)
        assert chain(times, nxt, expiry, due, until) == _brute_chain(times, expiry, due, until)


def test_gap_sums_add_up_exactly() -> None:
    rng = np.random.default_rng(3)
    gaps = rng.integers(0, 400 * S, 5000, dtype=np.int64)
    sums = gap_sums(gaps)
    lo, hi = 17, 4321
    d = (sums[:, hi] - sums[:, lo]).tolist()
    part = [int(g) for g in gaps[lo:hi]]
    assert d[0] == sum(part)
    assert squared(d) == sum(g * g for g in part)


def test_add_regular_equals_adding_one_by_one() -> None:
    rng = random.Random(9)
    gaps = [S + rng.randint(-30_000_000, 30_000_000) for _ in range(500)]
    one, bulk = GapStats(S), GapStats(S)
    for i, g in enumerate(gaps):
        one.add(g, T0 + i)
    hist: dict[int, int] = {}
    for g in gaps:
        b = g * 200 // S
        hist[b] = hist.get(b, 0) + 1
    top = max(range(len(gaps)), key=lambda i: (gaps[i], -i))
    bulk.add_regular(len(gaps), sum(gaps), sum(g * g for g in gaps), gaps[top], T0 + top, hist)
    assert repr(bulk) == repr(one)
    assert bulk.stdev_s == one.stdev_s and bulk.mean_s == one.mean_s


@pytest.mark.parametrize("count", [0, 5, 19, 20, 63, 64, 200])
def test_drift_points_are_where_drift_is_due(count: int) -> None:
    class Speaker:
        gaps = GapStats(S)

    for min_samples in (1, 20, 64, 100):
        sp = Speaker()
        expected = []
        for i in range(1, 300):
            sp.gaps.count = count + i
            if drift.due(sp, 0, min_samples):  # type: ignore[arg-type]
                expected.append(i)
        assert _drift_points(count, 299, min_samples) == expected


def _advert(src: str, mac: str, priority: int, vrid: int = 7, vip: str = VIP) -> bytes:
    return P.ethernet(P.ipv4(P.vrrp_v2(vrid, priority, [vip]), src=src), src_mac=mac)


def _story(seed: int) -> PcapFile:
    """Two routers' life: runs broken by claims, a rival, lost adverts, priority moves."""
    rng = random.Random(seed)
    pcap = PcapFile()
    a = ("198.18.7.11", "52:54:00:00:07:11")
    b = ("198.18.7.12", "52:54:00:00:07:12")
    c = ("198.18.8.11", "52:54:00:00:08:11")
    frames: list[tuple[int, bytes]] = []
    for second in range(400):
        t = T0 + second * S + rng.randint(-3_000_000, 3_000_000)
        if second in (61, 62, 130, 131, 132, 133, 300):  # lost adverts
            pass
        elif second == 350:
            frames.append((t, _advert(*a, 0)))  # resigns
        elif second > 350:
            frames.append((t + 600_000_000, _advert(*b, 100)))
        else:
            prio = 90 if 200 <= second < 230 else 150  # priority change and back
            frames.append((t, _advert(*a, prio)))
        if 150 <= second < 170:  # a rival master: split brain
            frames.append((t + 400_000_000, _advert(*b, 100)))
        if second in (100, 160, 240):  # gratuitous ARPs for the VIP
            frames.append((t + 200_000_000, P.gratuitous_arp(VIP, a[1])))
            frames.append((t + 300_000_000, P.gratuitous_arp(VIP, b[1])))
        if second % 10 == 3:  # another router, and some other multicast
            frames.append((t + 100_000_000, _advert(*c, 120, vrid=8, vip="198.18.8.1")))
        if second % 7 == 0:
            other = P.ipv4(b"\x00" * 8, src="198.18.7.50", dst="224.0.0.5", proto=89)
            frames.append((t + 50_000_000, P.ethernet(other, dst_mac="01:00:5e:00:00:05")))
    for ts, data in sorted(frames, key=lambda f: f[0]):
        pcap.add(ts, data)
    return pcap


@pytest.mark.parametrize("block", [1 << 22, 1 << 14, 6000, 1500])
def test_runs_meet_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    path = tmp_path / "story.pcap"
    path.write_bytes(_story(1).to_bytes())
    monkeypatch.setattr(analysis, "FAST_BLOCK", block)
    result = assert_same([str(path)])
    assert result is not None
    kinds = {str(f.kind) for f in result.findings}
    assert {"split-brain", "interval-drift", "resigned"} <= kinds


@pytest.mark.parametrize("block", [1 << 16, 20000])
def test_generated_capture_in_small_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    from bench import generate

    path = str(tmp_path / "gen.pcap")
    generate.write(path, 20000, seed=4)
    monkeypatch.setattr(analysis, "FAST_BLOCK", block)
    assert assert_same([path]) is not None


def _cap_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factor: int):
    """bench's generated capture (107 findings) with the cap at 40 and its hard limit at
    ``factor`` caps: (blocks fed one by one, fast analysis, general analysis)."""
    from bench import generate
    from tests.helpers.routes import _state
    from vrrpscope import findings
    from vrrpscope.analysis import analyze_files
    from vrrpscope.engine.bulk.planner import BlockPlan
    from vrrpscope.thresholds import Thresholds

    path = str(tmp_path / "gen.pcap")
    generate.write(path, 20000, seed=4)
    monkeypatch.setattr(analysis, "FAST_BLOCK", 1 << 16)
    monkeypatch.setattr(findings, "HARD_CAP_FACTOR", factor)
    calls = []
    original = BlockPlan.items_in_order
    monkeypatch.setattr(BlockPlan, "items_in_order", lambda plan: calls.append(1) or original(plan))
    th = Thresholds(max_findings=40)
    slow = analyze_files([path], th, general=True)
    fast = analyze_files([path], th, general=False)
    assert _state(fast) == _state(slow)
    return calls, fast, slow


def test_past_the_findings_cap_blocks_stay_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap ranks what it keeps, so crossing it inside a block changes nothing: no
    block is fed item by item (the cliff bench's 20 M capture fell off), the same 40
    findings are kept on both routes and the rest counted."""
    calls, fast, slow = _cap_runs(tmp_path, monkeypatch, 1000)
    assert not calls
    assert len(fast.findings) == 40 + 1  # and the one that says so
    assert sum(fast.engine.stats.suppressed_findings.values()) == 107 - 40


def test_near_the_hard_findings_limit_blocks_are_fed_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Near the hard limit, where findings stop being made, blocks go item by item
    (BlockPlan.fits); past it, whole again."""
    calls, fast, slow = _cap_runs(tmp_path, monkeypatch, 2)
    assert calls  # the fallback ran
    assert len(calls) < 20000 // 1000, len(calls)  # not every block: whole again past the limit
    assert fast.engine.stats.suppressed_findings


# Readers found by review: each capture below once made the bulk route differ.


def _write(tmp_path: Path, frames: list[tuple[int, bytes]]) -> str:
    pcap = PcapFile()
    for ts, data in sorted(frames, key=lambda f: f[0]):
        pcap.add(ts, data)
    path = tmp_path / "case.pcap"
    path.write_bytes(pcap.to_bytes())
    return str(path)


def _same(path: str, th: object = None) -> None:
    from tests.helpers.routes import _state
    from vrrpscope.analysis import analyze_files

    slow = analyze_files([path], th, general=True)  # type: ignore[arg-type]
    fast = analyze_files([path], th, general=False)  # type: ignore[arg-type]
    assert _state(fast) == _state(slow)


def test_a_new_carp_router_reads_held_vrrp_speakers(tmp_path: Path) -> None:
    """carp-collision evidence names each router's least recently used speaker."""
    a = ("198.18.9.11", "52:54:00:00:09:11")
    b = ("198.18.9.12", "52:54:00:00:09:12")
    frames = [(T0, _advert(*a, 100, vrid=9)), (T0 + S // 2, _advert(*b, 100, vrid=9))]
    frames += [(T0 + i * S, _advert(*a, 100, vrid=9)) for i in range(1, 4)]
    carp = P.ethernet(P.ipv4(P.carp(9), src="198.18.9.20"), src_mac="52:54:00:00:09:20")
    frames.append((T0 + 3 * S + S // 2, carp))
    _same(_write(tmp_path, frames))


@pytest.mark.parametrize("max_routers", [3, 255])
def test_runs_fed_one_by_one_keep_the_router_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_routers: int
) -> None:
    """A claim waits on every run (one by one): routers still ordered by latest advert."""
    from vrrpscope.thresholds import Thresholds

    r1 = ("198.18.7.11", "52:54:00:00:07:11", 7, "198.18.7.1")
    r2 = ("198.18.8.11", "52:54:00:00:08:11", 8, "198.18.8.1")

    def adv(r: tuple) -> bytes:
        return _advert(r[0], r[1], 100, vrid=r[2], vip=r[3])

    frames = [(T0, adv(r1)), (T0 + 1, P.gratuitous_arp(r1[3], r1[1]))]
    for k in range(1, 30):
        frames += [(T0 + k * S + S // 10, adv(r2)), (T0 + k * S + S // 5, adv(r1))]
        frames.append((T0 + k * S + S // 2, P.gratuitous_arp(r1[3], r1[1])))
        frames.append((T0 + k * S + S // 2 + 1, P.gratuitous_arp(r2[3], r2[1])))
    for n, v in ((40, 9), (41, 10)):  # at a cap of 3, the least recently used goes
        frames.append((T0 + n * S, _advert(f"198.18.{v}.11", "52:54:00:00:00:01", 100, vrid=v)))
    monkeypatch.setattr(analysis, "FAST_BLOCK", 1500)
    _same(_write(tmp_path, frames), Thresholds(max_routers=max_routers))


def test_a_speaker_forgotten_at_the_cap_comes_back(tmp_path: Path) -> None:
    from vrrpscope.thresholds import Thresholds

    vmac = "00:00:5e:00:01:07"
    frames = [(T0 + k * 3 * S // 10, _advert(f"198.18.7.1{k + 1}", vmac, 100)) for k in range(3)]
    frames += [(T0 + k * S, _advert("198.18.7.11", vmac, 100)) for k in range(1, 4)]
    _same(_write(tmp_path, frames), Thresholds(max_speakers_per_router=2))
    # With their findings still open (non-standard MACs): once a KeyError on both routes.
    frames = [
        (T0 + k * S // 3, _advert(f"198.18.7.{n}", f"52:54:00:00:07:{n}", 100))
        for k, n in enumerate([11, 12, 13, 11])
    ]
    _same(_write(tmp_path, frames), Thresholds(max_speakers_per_router=2))


def test_findings_cap_with_timers_inside_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No-master timers of other routers fire inside a block holding a drifting run."""
    from vrrpscope.thresholds import Thresholds

    def adv(vrid: int) -> bytes:
        vmac = f"00:00:5e:00:01:{vrid:02x}"
        return _advert(f"198.18.{vrid}.11", vmac, 100, vrid=vrid, vip=f"198.18.{vrid}.1")

    frames = [(T0 + k * 5 * S // 4, adv(7)) for k in range(32)]  # 1.25 s gaps: drift
    frames += [(T0 + 21 * S + S // 2 + v, adv(v)) for v in range(20, 30)]  # then silent
    path = _write(tmp_path, frames)
    for block in (1000, 2500):
        monkeypatch.setattr(analysis, "FAST_BLOCK", block)
        for cap in (2, 5, 8, 11):
            _same(path, Thresholds(max_findings=cap))


CASES = Path(__file__).resolve().parents[2] / "fixtures" / "bulk"


@pytest.mark.parametrize(
    "case",
    json.loads((CASES / "cases.json").read_text()),
    ids=lambda case: case["file"],
)
def test_stories_a_differential_search_once_told_apart(
    case: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random stories (several routers, split brains, claims, lost adverts, CARP, caps)
    where the bulk route once differed: timers armed by held adverts, drift evaluations
    left for later, simultaneous findings, a speaker forgotten at its cap."""
    from vrrpscope.thresholds import Thresholds

    monkeypatch.setattr(analysis, "FAST_BLOCK", case["block"])
    _same(str(CASES / case["file"]), Thresholds(**case["thresholds"]))


@pytest.mark.parametrize("limit", [3, 40])
def test_planner_ids_renumbered_between_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """When the planner's id tables fill up (routers, speakers, contents, templates it
    remembers) they start over between blocks; the result stays the general path's."""
    from bench import generate
    from vrrpscope.engine.bulk import planner

    path = str(tmp_path / "gen.pcap")
    generate.write(path, 20000, seed=4)
    monkeypatch.setattr(analysis, "FAST_BLOCK", 1 << 15)
    monkeypatch.setattr(planner, "_MAX_IDS", limit)
    cleared = []
    original = planner.Planner.plan

    def plan(self: planner.Planner, *args: object) -> object:
        if len(self._routers) >= limit or len(self._speakers) >= limit:
            cleared.append(len(self._routers))
        return original(self, *args)

    monkeypatch.setattr(planner.Planner, "plan", plan)
    assert assert_same([path]) is not None
    assert cleared  # the renumbering happened
