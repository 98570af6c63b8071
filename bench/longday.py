"""Long captures of a keepalived fleet: a healthy day, and a day with known incidents.

One Ethernet segment; node pairs (``198.18.K.1`` master at priority 150, ``198.18.K.2``
backup at 100, keepalived without use_vmac: adverts from the interface MAC) each run a
block of VRIDs; only masters advertise, as keepalived does. Most pairs speak VRRPv2 at
1 s with simple authentication; some 2 s / 3 s, VRRPv3 over IPv4 (one at 50 cs) and one
pair VRRPv3 over IPv6. Other multicast (HSRP, OSPF, PIM, IGMP, mDNS) as bench's.

The healthy day has only benign imperfections: a few ms of jitter, 0.3 % of adverts
late by 10-300 ms, 0.05 % of frames missing from the capture, tens of ppm of clock drift
per master. :func:`incident_day` adds injected incidents at known times
(:class:`InjectedIncident`), written next to the capture as ``OUT.truth.json``.

    python -m bench.longday OUT.pcap --duration 9000 [--incidents] [--groups 200]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench.generate import (
    START,
    Builder,
    Link,
    Scenario,
    _other_traffic,
    ipv4,
    ipv6,
    vrrp2,
    vrrp3,
    write_scenario,
)

VRIDS_PER_PAIR = 10
JITTER_S = 0.002
LATE_SHARE, LATE_S = 0.003, (0.010, 0.300)
CAPTURE_LOSS = 0.0005
DRIFT_PPM = 40.0


@dataclass(frozen=True)
class Pair:
    """Two keepalived nodes running a block of VRIDs with one configuration."""

    k: int  # 1, 2, ...: the third octet of its addresses
    vrids: tuple[int, ...]
    version: int = 2
    family: int = 4
    interval_cs: int = 100

    def node(self, which: int) -> str:
        """which 1: the master (priority 150), 2: the backup (100)."""
        if self.family == 6:
            return f"fe80::{self.k:x}:{which}"
        return f"198.18.{self.k}.{which}"

    def mac(self, which: int) -> str:
        return f"02:00:00:00:{self.k:02x}:{which:02x}"

    def vip(self, vrid: int) -> str:
        if self.family == 6:
            return f"2001:db8:{self.k:x}::{vrid:x}"
        return f"198.19.{self.k}.{vrid}"

    @property
    def interval_s(self) -> float:
        return self.interval_cs / 100


@dataclass
class InjectedIncident:
    """One incident put into the capture: what, who, which VRIDs, when (seconds after the
    capture start)."""

    kind: str  # node-stopped, node-crashed, node-returned, split-brain, flapping,
    # duplicate-vrid, capture-gap, mismatch
    nodes: tuple[str, ...]
    vrids: tuple[int, ...]
    start_s: float
    end_s: float


@dataclass
class GroundTruth:
    start_epoch_s: int
    duration_s: float
    pairs: int
    groups: int
    incidents: list[InjectedIncident] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def fleet(groups: int) -> list[Pair]:
    """The node pairs running ``groups`` VRIDs (VRIDS_PER_PAIR each)."""
    pairs = []
    for k in range(1, (groups + VRIDS_PER_PAIR - 1) // VRIDS_PER_PAIR + 1):
        lo = (k - 1) * VRIDS_PER_PAIR + 1
        vrids = tuple(range(lo, min(lo + VRIDS_PER_PAIR, groups + 1)))
        if k % 10 == 7:
            pairs.append(Pair(k, vrids, version=3, family=6))
        elif k % 10 == 3:
            pairs.append(Pair(k, vrids, version=3, interval_cs=50 if k % 20 == 3 else 100))
        elif k % 10 == 5:
            pairs.append(Pair(k, vrids, interval_cs=200 if k % 20 == 5 else 300))
        else:
            pairs.append(Pair(k, vrids))
    return pairs


class _Day:
    """Builds the schedule: streams of adverts, each from one template."""

    def __init__(self, seed: int, groups: int, duration_s: float) -> None:
        self.b = Builder(seed, Link("ether"), False)
        self.rng = self.b.rng
        self.duration = duration_s
        self.pairs = fleet(groups)
        self.drift = {
            (p.k, which): 1 + self.rng.uniform(-DRIFT_PPM, DRIFT_PPM) * 1e-6
            for p in self.pairs
            for which in (1, 2)
        }
        self.phase = {(p.k, v): self.rng.random() for p in self.pairs for v in p.vrids}
        self.gaps: list[tuple[float, float]] = []  # capture gaps (every frame lost)
        self.bursts: list[tuple[float, float, float]] = []  # (from, to, share lost)
        self.nominal: dict[tuple[int, int, int], float] = {}  # last advert, before noise
        self.last: dict[tuple[int, int, int], float] = {}  # last advert as sent

    def frame(self, pair: Pair, which: int, vrid: int, prio: int, **kw) -> int:
        """The template of ``pair``'s node ``which`` advertising ``vrid`` at ``prio``."""
        src = kw.get("src") or pair.node(which)
        mac = kw.get("mac") or pair.mac(which)
        vip = kw.get("vip") or pair.vip(vrid)
        interval_cs = kw.get("interval_cs") or pair.interval_cs
        if pair.family == 6:
            msg = vrrp3(vrid, prio, [vip], src, "ff02::12", interval_cs)
            ip = ipv6(msg, src, "ff02::12", 112, 255)
            frame = self.b.link.frame(ip, "33:33:00:00:00:12", mac, (), 2)
        else:
            if pair.version == 3:
                msg = vrrp3(vrid, prio, [vip], src, "224.0.0.18", interval_cs)
            else:
                msg = vrrp2(vrid, prio, [vip], interval_cs // 100)
                msg = msg[:-8] + b"vrid%-4d" % (vrid % 1000)  # simple auth, like the lab
                msg = _with_simple_auth(msg)
            ip = ipv4(msg, src, "224.0.0.18", 112, 255)
            frame = self.b.link.frame(ip, "01:00:5e:00:00:12", mac, (), 2)
        return self.b.template(frame)

    def stream(self, pair: Pair, which: int, vrid: int, start: float, stop: float,
               prio: int = 150, first_at: float | None = None, **kw) -> float:  # fmt: skip
        """Adverts of one node for one VRID from ``start`` to before ``stop``: exactly at
        ``first_at`` and every interval after, or going on from its last advert (on its
        own grid when it has none); returns the time of the last one."""
        key = (pair.k, which, vrid)
        period = (kw.get("interval_cs") or pair.interval_cs) / 100 * self.drift[(pair.k, which)]
        if first_at is None and key in self.nominal:
            first_at = self.nominal[key] + period
            while first_at < start:
                first_at += period
        if first_at is not None:
            times = first_at + np.arange(0, max(0.0, stop - first_at) / period) * period
        else:
            phase = self.phase[(pair.k, vrid)] * period
            k0 = np.ceil((start - phase) / period)
            k1 = np.ceil((stop - phase) / period)
            times = phase + np.arange(k0, k1) * period
        times = times[times < stop]
        if not len(times):
            return self.last.get(key, start)
        self.nominal[key] = float(times[-1])
        noise = self.rng.normal(0.0, JITTER_S, len(times)).clip(-5 * JITTER_S, 5 * JITTER_S)
        late = self.rng.random(len(times)) < LATE_SHARE
        noise[late] += self.rng.uniform(*LATE_S, int(late.sum()))
        noise[0] = 0.0 if first_at is not None and kw.get("exact", True) else noise[0]
        times = np.minimum(times + noise, stop - 1e-4).clip(start, None)
        self.b.emit(times, self.frame(pair, which, vrid, prio, **kw))
        self.last[key] = float(times[-1])
        return self.last[key]

    def silence(self, pair: Pair, which: int, vrid: int) -> None:
        """The node stops advertising this VRID: a later stream starts afresh."""
        self.nominal.pop((pair.k, which, vrid), None)

    def scenario(self) -> Scenario:
        _other_traffic(self.b, self.duration)
        times = np.concatenate(self.b.times)
        ids = np.concatenate(self.b.ids)
        keep = (times >= 0) & (times < self.duration)
        keep &= ~_isolated_losses(self.rng, times, ids)
        for lo, hi in self.gaps:
            keep &= (times < lo) | (times >= hi)
        for lo, hi, share in self.bursts:
            inside = (times >= lo) & (times < hi)
            keep &= ~(inside & (self.rng.random(len(times)) < share))
        times, ids = times[keep], ids[keep]
        order = np.argsort(times, kind="stable")
        ts_ns = START * 1_000_000_000 + np.round(times[order] * 1e6).astype(np.int64) * 1000
        ids = ids[order]
        ip_id = np.arange(len(ids), dtype=np.int64) & 0xFFFF
        return Scenario(self.b.templates, ts_ns, ids, ip_id, "ether")


def _isolated_losses(rng: np.random.Generator, times: np.ndarray, ids: np.ndarray):
    """Frames the capture misses: CAPTURE_LOSS of them at random, but never two in a
    row of one stream (two adverts of one master lost in a row are a gap of 3 intervals,
    near the Master_Down_Interval: a real risk to report, not a benign imperfection;
    independent losses at 0.05 % make it a once-in-4-million-adverts event anyway)."""
    lost = rng.random(len(times)) < CAPTURE_LOSS
    order = np.lexsort((times, ids))
    in_order = lost[order]
    same = np.zeros(len(order), bool)
    same[1:] = ids[order][1:] == ids[order][:-1]
    repeat = np.zeros(len(order), bool)
    repeat[1:] = in_order[1:] & in_order[:-1] & same[1:]
    lost[order[repeat]] = False
    return lost


def _with_simple_auth(msg: bytes) -> bytes:
    """A VRRPv2 advert with auth type 1 (simple text) and its checksum recomputed."""
    from bench.generate import checksum

    body = bytearray(msg)
    body[4] = 1  # auth type: simple text
    body[6:8] = b"\x00\x00"
    body[6:8] = checksum(bytes(body)).to_bytes(2, "big")
    return bytes(body)


def healthy_day(
    path: str | Path,
    duration_s: float = 4500,
    groups: int = 200,
    seed: int = 1,
    capture_gaps: Sequence[tuple[float, float]] = (),
    loss_bursts: Sequence[tuple[float, float, float]] = (),
):
    """Write a healthy capture (masters advertising throughout; the capture losing every
    frame over ``capture_gaps``, (start, end) in seconds, and a share of them over
    ``loss_bursts``, (start, end, share)); returns frames written."""
    day = _Day(seed, groups, duration_s)
    for pair in day.pairs:
        for vrid in pair.vrids:
            day.stream(pair, 1, vrid, 0.0, duration_s)
    day.gaps = list(capture_gaps)
    day.bursts = list(loss_bursts)
    return write_scenario(str(path), day.scenario())


def incident_day(
    path: str | Path, duration_s: float = 9000, groups: int = 200, seed: int = 1
) -> GroundTruth:
    """Write a capture with injected incidents, one every few minutes on pairs taken in
    turn; returns (and writes to ``PATH.truth.json``) what was injected."""
    day = _Day(seed, groups, duration_s)
    truth = GroundTruth(START, duration_s, len(day.pairs), groups)
    plans = ["stop", "crash", "split", "flap", "duplicate", "gap", "mismatch"]
    slot = 420.0  # seconds per injected story (a stop and its return take two incidents)
    busy: dict[int, list[tuple[float, float, str]]] = {p.k: [] for p in day.pairs}
    n = 0
    t = 120.0
    while t + slot <= duration_s - 60:
        plan = plans[n % len(plans)]
        pair = day.pairs[(n * 3) % len(day.pairs)]
        if plan in ("split", "mismatch", "flap") and pair.family == 6:
            pair = day.pairs[(n * 3 + 1) % len(day.pairs)]
        busy[pair.k].append((t, t + slot, plan))
        n += 1
        t += slot
    for pair in day.pairs:
        _pair_story(day, pair, busy[pair.k], truth)
    truth.incidents.sort(key=lambda i: i.start_s)
    write_scenario(str(path), day.scenario())
    Path(f"{path}.truth.json").write_text(truth.to_json())
    return truth


def _pair_story(day: _Day, pair: Pair, plans: list, truth: GroundTruth) -> None:
    """Every VRID of ``pair`` through the day, with its injected stories (timers as
    keepalived runs them, RFC 5798: a backup takes over Skew_Time after a priority-0
    advert, Master_Down_Interval after the master's last one; a better node preempts
    with its first advert and the old master falls silent at once)."""
    a, b = pair.node(1), pair.node(2)
    iv = pair.interval_s
    skew_b = (256 - 100) / 256 * (iv if pair.version == 3 else 1.0)
    mdi_b = 3 * iv + skew_b
    cursor = 0.0
    add = truth.incidents.append
    for start, end, plan in plans:
        last_a = {v: day.stream(pair, 1, v, cursor, start) for v in pair.vrids}
        if plan in ("stop", "crash"):
            back = start + float(day.rng.uniform(60, 180))
            for i, vrid in enumerate(pair.vrids):
                if plan == "stop":
                    at = start + 0.005 * i
                    day.b.emit(np.array([at]), day.frame(pair, 1, vrid, 0))
                    took = at + skew_b
                else:  # A froze: B takes over Master_Down_Interval after its last advert
                    took = last_a[vrid] + mdi_b
                day.silence(pair, 1, vrid)
                first_back = back + 0.05 * i  # A preempts; B falls silent at once
                day.stream(pair, 2, vrid, took, first_back, prio=100, first_at=took)
                day.silence(pair, 2, vrid)
                day.stream(pair, 1, vrid, first_back, end, first_at=first_back)
            kind = "node-stopped" if plan == "stop" else "node-crashed"
            add(InjectedIncident(kind, (a,), pair.vrids, start, start + mdi_b))
            add(InjectedIncident("node-returned", (a,), pair.vrids, back, back + 1.0))
        elif plan in ("split", "mismatch"):
            # B stops hearing A (a firewall): B takes over, both advertise; then B
            # hears A again and falls back to backup. A mismatch: B advertises another
            # interval on one VRID, each drops the other's adverts.
            length = float(day.rng.uniform(10, 40)) if plan == "split" else 30.0
            vrids = pair.vrids if plan == "split" else pair.vrids[:1]
            other = {"interval_cs": 200 if pair.interval_cs == 100 else 100}
            for vrid in pair.vrids:
                day.stream(pair, 1, vrid, start, end)
                if vrid in vrids:
                    took = start + mdi_b + 0.01 * vrid % 0.5
                    kw = other if plan == "mismatch" else {}
                    day.stream(pair, 2, vrid, took, took + length, prio=100, first_at=took, **kw)
                    day.silence(pair, 2, vrid)
            add(InjectedIncident("split-brain" if plan == "split" else "mismatch", (a, b),
                                 vrids, start, start + mdi_b + length))  # fmt: skip
        elif plan == "flap":
            vrid = pair.vrids[1]
            for v in pair.vrids:
                if v != vrid:
                    day.stream(pair, 1, v, start, end)
            t = start
            for _ in range(6):  # a track_script weight: 150 -> 90 -> 150, B preempts
                last150 = day.stream(pair, 1, vrid, t, t + 5 * iv)
                took = last150 + mdi_b  # B discards A's 90 adverts, then times out
                day.stream(pair, 1, vrid, last150 + 0.5 * iv, took, prio=90)
                day.silence(pair, 1, vrid)
                back = took + 6 * iv + 0.4
                day.stream(pair, 2, vrid, took, back, prio=100, first_at=took)
                day.silence(pair, 2, vrid)
                day.stream(pair, 1, vrid, back, back + 0.01, first_at=back)
                t = back + iv / 2
            day.stream(pair, 1, vrid, t, end)
            add(InjectedIncident("flapping", (a, b), (vrid,), start, t))
        elif plan == "duplicate":
            vrid = pair.vrids[2]
            length = 60.0
            for v in pair.vrids:
                day.stream(pair, 1, v, start, end)
            foreign = Pair(99, (vrid,), pair.version, pair.family, pair.interval_cs)
            day.phase[(99, vrid)] = 0.5
            day.drift[(99, 1)] = 1.0
            day.stream(foreign, 1, vrid, start, start + length)
            day.silence(foreign, 1, vrid)
            add(InjectedIncident("duplicate-vrid", (a, foreign.node(1)), (vrid,), start,
                                 start + length))  # fmt: skip
        elif plan == "gap":
            for vrid in pair.vrids:
                day.stream(pair, 1, vrid, start, end)
            day.gaps.append((start, start + 8.0))
            every = tuple(v for p in day.pairs for v in p.vrids)
            add(InjectedIncident("capture-gap", (), every, start, start + 8))
        cursor = end
    for vrid in pair.vrids:
        day.stream(pair, 1, vrid, cursor, day.duration)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="capture to write (pcap)")
    parser.add_argument("--duration", type=float, default=4500.0, help="seconds [4500]")
    parser.add_argument("--groups", type=int, default=200, help="VRRP groups [200]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--incidents", action="store_true", help="inject incidents")
    args = parser.parse_args(argv)
    if args.incidents:
        truth = incident_day(args.out, args.duration, args.groups, args.seed)
        print(f"{args.out}: {len(truth.incidents)} incidents injected ({args.out}.truth.json)")
    else:
        frames = healthy_day(args.out, args.duration, args.groups, args.seed)
        print(f"{args.out}: {frames:,} frames")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
