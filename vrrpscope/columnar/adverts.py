"""Adverts as columns: a numpy structured array plus side tables for strings and addresses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vrrpscope import reprs
from vrrpscope.model import Advert, frame_of

ADVERT_DTYPE = np.dtype(
    [
        ("ts_ns", "i8"),
        ("frame", "i8"),
        ("file", "i2"),  # index into AdvertTable.files
        ("segment", "i4"),  # index into AdvertTable.segments
        ("family", "u1"),
        ("carp", "?"),
        ("version", "u1"),
        ("type", "u1"),
        ("vrid", "u1"),
        ("priority", "i2"),  # -1 for CARP
        ("interval_cs", "i4"),
        ("count", "i2"),  # -1 for CARP
        ("src", "i4"),  # index into AdvertTable.sources (IP string)
        ("src_mac", "i4"),  # index into AdvertTable.macs (-1: unknown)
        ("ttl", "u1"),
        ("addresses", "i4"),  # index into AdvertTable.address_sets
        ("auth_type", "i2"),  # -1: none in the protocol (v3, CARP)
        ("checksum_ok", "?"),
        ("valid", "?"),
        ("advskew", "i2"),  # CARP only, else -1
        ("advbase", "i2"),  # CARP only, else -1
        ("hmac_key", "i2"),  # keepalived auth_hmac key id, -1: not signed
    ]
)


class _Interner:
    def __init__(self) -> None:
        self.values: list = []
        self._index: dict = {}

    def __call__(self, value) -> int:
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.values)
            self.values.append(value)
        return index


@dataclass
class AdvertTable:
    """Columnar adverts (`rows`) with the tables their integer columns index into."""

    __repr__ = reprs.advert_table

    rows: np.ndarray
    files: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    address_sets: list[tuple[str, ...]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def from_adverts(cls, adverts: Iterable[Advert]) -> AdvertTable:
        files, segments, sources, macs, addrs = (_Interner() for _ in range(5))
        records = [
            (
                a.ts_ns,
                frame_of(a.frame)[1],
                files(a.source),
                segments(a.segment),
                a.family,
                a.proto == "carp",
                a.version,
                a.type,
                a.vrid,
                -1 if a.priority is None else a.priority,
                a.interval_cs,
                -1 if a.count is None else a.count,
                sources(a.src),
                -1 if a.src_mac is None else macs(a.src_mac),
                a.ttl,
                addrs(a.addresses),
                -1 if a.auth_type is None else a.auth_type,
                a.checksum_ok,
                not a.issues,
                -1 if a.advskew is None else a.advskew,
                -1 if a.advbase is None else a.advbase,
                -1 if a.hmac is None else a.hmac.key_id,
            )
            for a in adverts
        ]
        rows = np.array(records, dtype=ADVERT_DTYPE) if records else np.zeros(0, ADVERT_DTYPE)
        return cls(rows, files.values, segments.values, sources.values, macs.values, addrs.values)

    def select(self, *, vrid: int | None = None, segment: str | None = None) -> np.ndarray:
        """Row mask for one VRID and/or segment."""
        mask = np.ones(len(self.rows), dtype=bool)
        if vrid is not None:
            mask &= self.rows["vrid"] == vrid
        if segment is not None:
            index = self.segments.index(segment) if segment in self.segments else -1
            mask &= self.rows["segment"] == index
        return mask

    def column_strings(self, name: str, table: Sequence) -> list:
        return [table[i] if i >= 0 else None for i in self.rows[name]]

    def to_pandas(self):
        """A pandas DataFrame with strings resolved and a UTC datetime `time` column."""
        try:
            import pandas as pd
        except ImportError as exc:  # pandas is optional
            raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
        frame = pd.DataFrame(self.rows)
        frame.insert(0, "time", pd.to_datetime(frame["ts_ns"], unit="ns", utc=True))
        frame["file"] = self.column_strings("file", self.files)
        frame["segment"] = self.column_strings("segment", self.segments)
        frame["src"] = self.column_strings("src", self.sources)
        frame["src_mac"] = self.column_strings("src_mac", self.macs)
        frame["addresses"] = self.column_strings("addresses", self.address_sets)
        frame["proto"] = np.where(frame.pop("carp"), "carp", "vrrp")
        for name in ("priority", "count", "auth_type", "advskew", "advbase", "hmac_key"):
            frame[name] = frame[name].where(frame[name] >= 0)
        return frame
