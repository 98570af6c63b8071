"""The long-day generator: deterministic, readable by tcpdump, its truth on the wire."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import longday
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession


def _adverts(path: Path) -> list[Advert]:
    return [item for item in DecodeSession([str(path)]).items() if isinstance(item, Advert)]


def test_healthy_day_is_deterministic_and_only_masters_advertise(tmp_path: Path):
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    assert longday.healthy_day(a, 600, 40) == longday.healthy_day(b, 600, 40)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    adverts = _adverts(a)
    assert {ad.vrid for ad in adverts} == set(range(1, 41))
    assert {ad.src for ad in adverts} == {p.node(1) for p in longday.fleet(40)}  # masters
    assert {ad.priority for ad in adverts} == {150}
    per_vrid = {v: sum(ad.vrid == v for ad in adverts) for v in (1, 21)}
    assert 595 <= per_vrid[1] <= 600  # 1 s, a few lost to the capture
    assert 1190 <= per_vrid[21] <= 1200  # pair 3: VRRPv3 at 50 cs
    assert all(ad.checksum_ok for ad in adverts)


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_incident_day_truth_is_on_the_wire(tmp_path: Path):
    path = tmp_path / "day.pcap"
    truth = longday.incident_day(path, 2800, 30)
    saved = json.loads(Path(f"{path}.truth.json").read_text())
    assert [i["kind"] for i in saved["incidents"]] == [i.kind for i in truth.incidents]
    out = subprocess.run(
        ["tcpdump", "-nn", "-tt", "-r", str(path), "vrrp"], capture_output=True, text=True
    ).stdout.splitlines()
    assert len(out) == len(_adverts(path))  # tcpdump reads every advert
    zeros = [line for line in out if "prio 0," in line]
    stops = [i for i in truth.incidents if i.kind == "node-stopped"]
    assert stops and len(zeros) == 10 * len(stops)
    for stop in stops:  # the priority-0 adverts at the injected time, from that node
        at = truth.start_epoch_s + stop.start_s
        mine = [z for z in zeros if abs(float(z.split()[0]) - at) < 0.1]
        assert len(mine) == 10 and all(f" {stop.nodes[0]} > " in z for z in mine)
    gap = next(i for i in truth.incidents if i.kind == "capture-gap")
    lo, hi = truth.start_epoch_s + gap.start_s, truth.start_epoch_s + gap.end_s
    assert not [x for x in out if lo <= float(x.split()[0]) < hi]
