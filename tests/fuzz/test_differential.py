"""Differential fuzzing (issues 17 and 18): the fast route and the general route of
``analyze`` must give the same JSON on any input, and neither may crash.

The fast route groups frames by their first 128 bytes (less the IPv4 id and checksum);
the inputs aim at that: random sequences of adverts and of the traffic met next to
them, near twins and mutants (tests/helpers/difffuzz.py), crafted key collisions, and
mutated copies of every real capture (byte flips, byte-set mutations, truncations,
caplen lies). Bounded and derandomized here; docs/ROBUSTNESS.md has the long run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz import REPO, known_bug, rng, rounds, time_limit
from tests.helpers import difffuzz as D

POOL = D.pool()


def real_captures() -> list[Path]:
    peer = REPO / "tests" / "fixtures"
    found = [*peer.glob("*/*/*.pcap"), *peer.glob("*/*/*.pcapng"), *peer.glob("*/*.pcap")]
    found += [*(REPO / "captures").glob("*.pcap"), *(REPO / "tests" / "fuzz" / "corpus").glob("*")]
    return sorted(p for p in found if p.suffix in (".pcap", ".pcapng"))


def check(path: Path, data: bytes) -> None:
    """Both routes on ``data``: equal JSON; a crash is re-raised unless a known bug."""
    path.write_bytes(data)
    try:
        with time_limit():
            problem = D.differs(path)
    except Exception as exc:
        if known_bug(exc) is None:
            raise
        return
    assert problem is None, problem


def test_crafted_key_collisions(fast_tmp: Path) -> None:
    cases = D.collisions(POOL)
    assert len(cases) >= 50
    for case in cases:
        check(fast_tmp / "collision.pcap", case.to_bytes())


def test_random_sequences(fast_tmp: Path) -> None:
    r = rng("differential sequences")
    for _ in range(rounds(60)):
        check(fast_tmp / "sequence.pcap", D.random_case(r, POOL).to_bytes())


CAPTURES = real_captures()


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_mutated_real_capture(fast_tmp: Path, path: Path) -> None:
    seed = D.load_seed(path)
    if seed is None:  # no frames to mutate (an empty or damaged-at-once corpus file)
        return
    r = rng(f"differential {path.name}")
    for _ in range(rounds(2)):
        check(fast_tmp / "mutant.pcap", D.mutate_capture(r, seed))
