"""The benchmark generator writes valid, deterministic captures (tcpdump and tshark agree)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from bench import generate
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession

PACKETS = 4000


def _decode(path: Path) -> tuple[list[Advert], DecodeSession]:
    run = DecodeSession([str(path)])
    adverts = [item for item in run.items() if isinstance(item, Advert)]
    return adverts, run


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "plain.pcap"
    assert generate.write(str(path), PACKETS, seed=3) == PACKETS
    return path


def test_deterministic(tmp_path: Path, plain: Path) -> None:
    again = tmp_path / "again.pcap"
    generate.write(str(again), PACKETS, seed=3)
    assert (
        hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(plain.read_bytes()).digest()
    )
    other = tmp_path / "other.pcap"
    generate.write(str(other), PACKETS, seed=4)
    assert other.read_bytes() != plain.read_bytes()


def test_general_path_finds_no_issue(plain: Path) -> None:
    adverts, run = _decode(plain)
    stats = run.decoder.stats
    assert stats.frames == PACKETS and not run.damage
    assert stats.undecodable == 0 and stats.ignored == 0
    assert all(a.valid and a.ttl == 255 and a.checksum_ok for a in adverts), [
        a for a in adverts if not a.valid
    ][:3]
    assert {"hsrp", "mdns", "ospf", "igmp", "pim"} <= set(stats.other_labels)
    assert {(a.family, a.version) for a in adverts} == {(4, 2), (4, 3), (6, 3)}
    assert any(a.vlans for a in adverts) and any(not a.vlans for a in adverts)
    timestamps = [a.ts_ns for a in adverts]
    assert timestamps == sorted(timestamps)


def test_scenario_has_failovers_priority_changes_and_split_brain() -> None:
    scn = generate.scenario(120_000, seed=1)
    assert len(scn.ts_ns) == 120_000
    frames = [scn.templates[i] for i in set(scn.template.tolist())]
    prios = Counter()
    for frame in frames:
        if frame[23:24] == b"\x70" and frame[12:14] == b"\x08\x00":  # untagged VRRP over IPv4
            prios[frame[36]] += 1
    assert {0, 100, 110, 150} <= set(prios)  # resignation, backup, lowered, normal master


@pytest.mark.parametrize(
    "options", [{"vlan": True}, {"link": "sll"}, {"link": "sll2"}, {"fmt": "pcapng"}]
)
def test_variants_decode_cleanly(tmp_path: Path, options: dict) -> None:
    path = tmp_path / "variant.cap"
    generate.write(str(path), 2000, seed=9, **options)
    adverts, run = _decode(path)
    assert run.decoder.stats.frames == 2000 and run.decoder.stats.undecodable == 0
    assert adverts and all(a.valid for a in adverts)
    if options.get("link") == "sll2":
        assert all(a.segment.startswith("if") for a in adverts)
    if options.get("vlan"):
        assert all(a.vlans for a in adverts) and any(len(a.vlans) == 2 for a in adverts)


def _run(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_tcpdump_agrees(plain: Path) -> None:
    adverts, _run_ = _decode(plain)
    untagged = sum(1 for a in adverts if not a.vlans)
    # tcpdump's "vrrp" primitive is IPv4 only; VLAN-tagged frames need "vlan and ...".
    out = _run(["tcpdump", "-nn", "-r", str(plain), "vrrp or ip6 proto 112"])
    assert len(out.splitlines()) == untagged
    tagged = _run(["tcpdump", "-nn", "-r", str(plain), "vlan and (vrrp or ip6 proto 112)"])
    assert len(tagged.splitlines()) == len(adverts) - untagged
    verbose = _run(["tcpdump", "-nn", "-vv", "-r", str(plain)])
    assert "bad" not in verbose.lower() and "wrong" not in verbose.lower()
    assert verbose.count("ttl 255") >= len(adverts)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_agrees(plain: Path) -> None:
    adverts, _run_ = _decode(plain)
    fields = _run(
        [
            "tshark", "-r", str(plain), "-o", "ip.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE", "-Y", "vrrp",
            "-T", "fields", "-e", "vrrp.checksum.status", "-e", "ip.checksum.status",
        ]
    )  # fmt: skip
    rows = [line.split("\t") for line in fields.splitlines()]
    assert len(rows) == len(adverts)
    assert {r[0] for r in rows} == {"1"}  # 1: good
    assert {r[1] for r in rows} <= {"1", ""}  # IPv6 has no header checksum
    expert = _run(
        ["tshark", "-r", str(plain), "-o", "ip.check_checksum:TRUE",
         "-o", "udp.check_checksum:TRUE", "-q", "-z", "expert,warn"]
    )  # fmt: skip
    assert "Warns" not in expert and "Errors" not in expert, expert
