"""Fuzz and damage tests (issue 7): shared settings, watchdog, known bugs, strategies.

Every fuzz test runs a bounded, derandomized number of examples in the normal suite.
Run longer with ``VRRPSCOPE_FUZZ_EXAMPLES=N`` (examples per property) and
``VRRPSCOPE_FUZZ_ROUNDS=N`` (random damages per capture, times N); explore new inputs with
``VRRPSCOPE_FUZZ_RANDOM=1`` (see docs/ROBUSTNESS.md).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import struct
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.helpers import packets as P
from tests.helpers.layers import pbb

EXAMPLES_ENV = "VRRPSCOPE_FUZZ_EXAMPLES"  # examples per hypothesis property
ROUNDS_ENV = "VRRPSCOPE_FUZZ_ROUNDS"  # multiplies the random cuts and bit flips per capture
RANDOM_ENV = "VRRPSCOPE_FUZZ_RANDOM"  # unset/0: fixed seeds; any other value: a new seed
CORPUS = Path(__file__).parent / "corpus"
REPO = Path(__file__).parents[2]
HANG_SECONDS = 10.0  # one input taking longer than this is a hang


def fuzz_settings(examples: int) -> settings:
    """Bounded, deterministic settings; the environment can raise the bound or randomize."""
    count = int(os.environ.get(EXAMPLES_ENV) or examples)
    return settings(
        max_examples=count,
        derandomize=os.environ.get(RANDOM_ENV, "") in ("", "0"),
        database=None,
        deadline=None,  # hangs are caught by time_limit, not by a flaky per-example deadline
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


def rounds(count: int) -> int:
    """How many random damages to try per capture: ``count`` times VRRPSCOPE_FUZZ_ROUNDS."""
    return count * max(1, int(os.environ.get(ROUNDS_ENV) or 1))


def rng(label: str) -> random.Random:
    """A generator seeded by ``label`` (and by VRRPSCOPE_FUZZ_RANDOM when set, so a run
    with a new value tries new damage and can be repeated with the same value)."""
    extra = os.environ.get(RANDOM_ENV, "")
    return random.Random(label if extra in ("", "0") else f"{label} {extra}")


class Hang(Exception):
    """An input took longer than the watchdog allows."""


@contextlib.contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread when the block runs longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- known bugs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownBug:
    """A crash found by these tests and not fixed yet; its input is in the corpus.

    The fuzzers tolerate exactly this exception raised in exactly this function, so they
    keep hunting for new bugs; the corpus replay test is xfail(strict=True) on the same
    input, so fixing the bug turns it into an XPASS failure: then delete the entry here.
    """

    name: str
    exc_types: tuple[type[BaseException], ...]
    file_suffix: str
    function: str  # where it is raised (innermost frame), or any caller when ``anywhere``
    corpus: str
    anywhere: bool = False

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, self.exc_types):
            return False
        frames = traceback.extract_tb(exc.__traceback__)
        return any(
            f.filename.replace(os.sep, "/").endswith(self.file_suffix) and f.name == self.function
            for f in (frames if self.anywhere else frames[-1:])
        )


KNOWN_BUGS: tuple[KnownBug, ...] = ()  # all found so far are fixed (see corpus/README.md)


def known_bug(exc: BaseException) -> KnownBug | None:
    """The known bug this exception is, or None (then it is a new bug: re-raise it)."""
    return next((bug for bug in KNOWN_BUGS if bug.matches(exc)), None)


# -- strategies: packets ------------------------------------------------------------------

TS_REALISTIC = st.integers(0, (1 << 32) * 1_000_000_000 - 1)  # what classic pcap can hold
TS_ANY = st.one_of(
    TS_REALISTIC,
    st.integers(-(1 << 63) * 1_000_000_000, (1 << 64) * 1_000_000_000),  # pcapng's range
)


def _gre(inner: bytes, proto: int, flags: int = 0, extra: bytes = b"") -> bytes:
    return struct.pack("!HH", flags, proto) + extra + inner


ERSPAN_SEQ_AND_HEADER = b"\0\0\0\1" + b"\x10\x01\0\x05\0\0\0\0"  # GRE seq, ERSPAN II session 5


def valid_frames() -> list[tuple[int, bytes]]:
    """(linktype, frame) pairs that decode to an advert: the seeds of structured fuzzing."""
    v2 = P.vrrp_v2(7, 100, ["198.18.1.100"], auth_type=1, auth_data=b"hunter22")
    v3 = P.vrrp_v3(7, 100, ["198.18.1.100"], src="198.18.1.11")
    v3_6 = P.vrrp_v3(7, 100, ["fe80::100", "2001:db8::100"], src="fe80::11")
    ip_v2 = P.ipv4(v2, src="198.18.1.11")
    ip_v3 = P.ipv4(v3, src="198.18.1.11")
    ip_v3_6 = P.ipv6(v3_6, src="fe80::11")
    v2_ah = P.vrrp_v2(8, 90, ["198.18.1.101"], auth_type=2)
    ah_v2 = P.ipv4(P.ah(v2_ah), src="198.18.1.12", proto=51)
    ah_v3_6 = P.ipv6(P.ah(v3_6), src="fe80::11", nxt=51)
    carp = P.ipv4(P.carp(51, advskew=10), src="198.18.1.31")
    teb = P.ipv4(_gre(P.ethernet(ip_v2), 0x6558), src="192.0.2.1", dst="192.0.2.2", proto=47)
    erspan = P.ipv4(
        _gre(P.ethernet(ip_v3, vlans=(30,)), 0x88BE, 0x1000, ERSPAN_SEQ_AND_HEADER),
        src="192.0.2.1",
        dst="192.0.2.2",
        proto=47,
    )
    return [
        (1, P.ethernet(ip_v2)),
        (1, P.ethernet(ip_v3, vlans=(10, 20, 30))),
        (1, P.ethernet(ip_v3_6)),
        (1, P.ethernet(ah_v2)),
        (1, P.ethernet(ah_v3_6)),
        (1, P.ethernet(carp)),
        (1, P.ethernet(teb)),
        (1, P.ethernet(erspan)),
        (1, pbb(ip_v3, isid=1000, b_vlan=5, vlans=(30,))),  # 802.1ah
        (113, P.sll(ip_v3)),
        (276, P.sll2(ip_v3_6, ifindex=3)),
        (0, P.null_loopback(ip_v2)),
        (0, P.null_loopback(ip_v3_6, big_endian=True)),
        (101, ip_v3),
        (229, ip_v3_6),
    ]


# IP protocol / next-header numbers (hop-by-hop, routing, fragment, ESP, AH, ICMPv6, none,
# destination options, GRE, VRRP), the CARP/VRRP version-type byte and boundary values.
INTERESTING_BYTES = [0, 1, 2, 3, 7, 8, 0x21, 0x31, 43, 44, 47, 50, 51, 58, 59, 60, 112, 0x7F, 0xFF]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few byte-level mutations: overwrite (with any byte or one that means
    something: protocol numbers, lengths), bit flip, insert, delete, cut."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "flip", "insert", "delete", "cut", "word", "byte"]))
        if op == "insert" or not data:
            data.insert(draw(st.integers(0, len(data))), draw(st.integers(0, 255)))
            continue
        # Headers are at the front: half of the mutations land in the first 64 bytes.
        at = draw(st.one_of(st.integers(0, min(len(data), 64) - 1), st.integers(0, len(data) - 1)))
        if op == "set":
            data[at] = draw(st.integers(0, 255))
        elif op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[at] = draw(st.sampled_from(INTERESTING_BYTES))
        elif op == "delete":
            del data[at]
        elif op == "cut":
            del data[at:]
        else:
            word = draw(st.sampled_from([0, 1, 0x7FFF, 0xFFFF, 0x0800, 0x86DD, 0x8100]))
            data[at : at + 2] = word.to_bytes(2, "big")
    return bytes(data)
