"""What one speaker's keepalived auth_hmac trailers say over the capture.

keepalived 2.4 signs each advert with a growing 64-bit sequence built from its clock
(:class:`vrrpscope.model.HmacTrailer`); a receiver drops an advert whose sequence does not
grow past the sender's last (a replay, or the sender's clock stepped back) and, with its
freshness check on, one whose seconds differ from its own clock by more than its window.
The capture's clock stands in for the receivers' here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vrrpscope.model import HmacTrailer

_SEQ_HALF = 1 << 63


def seq_after(a: int, b: int) -> bool:
    """``a`` comes after ``b`` in RFC 1982 serial arithmetic over 64 bits (keepalived's)."""
    return 0 < (a - b) % (1 << 64) < _SEQ_HALF


@dataclass(slots=True)
class SigningStats:
    """One speaker's signed and unsigned valid adverts, keys, sequence and clock skew."""

    signed: int = 0
    unsigned: int = 0  # valid adverts without a trailer, counted once it has signed
    keys: dict[int, int] = field(default_factory=dict)  # key id -> signed adverts
    last_seq: int | None = None  # highest sequence seen (the receivers' high-water mark)
    replays: int = 0  # signed adverts whose sequence did not grow
    skew_min_ns: int | None = None  # sender's clock minus the capture's
    skew_max_ns: int | None = None
    skew_last_ns: int | None = None

    def add(self, trailer: HmacTrailer, ts_ns: int) -> bool:
        """Count a signed advert captured at ``ts_ns``; True when it is a replay."""
        self.signed += 1
        self.keys[trailer.key_id] = self.keys.get(trailer.key_id, 0) + 1
        skew = trailer.sent_ns - ts_ns
        self.skew_last_ns = skew
        if self.skew_min_ns is None or skew < self.skew_min_ns:
            self.skew_min_ns = skew
        if self.skew_max_ns is None or skew > self.skew_max_ns:
            self.skew_max_ns = skew
        last = self.last_seq
        if last is not None and not seq_after(trailer.seq, last):
            self.replays += 1
            return True
        self.last_seq = trailer.seq
        return False

    def to_dict(self) -> dict[str, object]:
        def seconds(ns: int | None) -> float | None:
            return None if ns is None else round(ns / 1e9, 6)

        return {
            "signed": self.signed,
            "unsigned": self.unsigned,
            "key_ids": sorted(self.keys),
            "replays": self.replays,
            "skew_min_s": seconds(self.skew_min_ns),
            "skew_max_s": seconds(self.skew_max_ns),
            "skew_last_s": seconds(self.skew_last_ns),
        }
