"""Writers for classic pcap and pcapng bytes, so tests can build exactly the file they need.

Every writer returns bytes (or collects them); offsets of records and blocks are kept so
tests can assert where damage is reported.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAP_MAGIC_MODIFIED = 0xA1B2CD34


def ether_frame(n: int = 0, size: int = 60) -> bytes:
    """A deterministic Ethernet-looking frame of ``size`` bytes, different for each n."""
    head = bytes.fromhex("01005e000012") + bytes.fromhex("00005e000101") + b"\x08\x00"
    body = n.to_bytes(4, "big") * (size // 4 + 1)
    return (head + body)[:size]


@dataclass
class Record:
    """One pcap packet record. ``caplen`` overrides the written captured length."""

    ts_ns: int
    data: bytes
    orig_len: int | None = None
    caplen: int | None = None


@dataclass
class PcapFile:
    """A classic pcap file under construction."""

    big_endian: bool = False
    nanosecond: bool = False
    modified: bool = False  # Kuznetsov's modified format: 24-byte headers, always microseconds
    linktype: int = LINKTYPE_ETHERNET
    snaplen: int = 262144
    version: tuple[int, int] = (2, 4)
    magic: int | None = None
    records: list[Record] = field(default_factory=list)

    @property
    def order(self) -> str:
        return ">" if self.big_endian else "<"

    def add(self, ts_ns: int, data: bytes, orig_len: int | None = None, **kw: int) -> PcapFile:
        self.records.append(Record(ts_ns, data, orig_len, **kw))
        return self

    def header(self) -> bytes:
        if self.magic is not None:
            magic = self.magic
        elif self.modified:
            magic = PCAP_MAGIC_MODIFIED
        else:
            magic = PCAP_MAGIC_NS if self.nanosecond else PCAP_MAGIC_US
        major, minor = self.version
        return struct.pack(
            self.order + "IHHiIII", magic, major, minor, 0, 0, self.snaplen, self.linktype
        )

    def record(self, rec: Record) -> bytes:
        sec, frac = divmod(rec.ts_ns, 1_000_000_000)
        if self.modified or not self.nanosecond:
            frac //= 1000
        caplen = len(rec.data) if rec.caplen is None else rec.caplen
        orig = len(rec.data) if rec.orig_len is None else rec.orig_len
        head = struct.pack(self.order + "IIII", sec, frac, caplen, orig)
        if self.modified:
            head += struct.pack(self.order + "iHBB", 3, 0x0800, 0, 0)
        return head + rec.data

    def offsets(self) -> list[int]:
        """Byte offset of each record."""
        out, pos = [], 24
        for rec in self.records:
            out.append(pos)
            pos += len(self.record(rec))
        return out

    def to_bytes(self) -> bytes:
        return self.header() + b"".join(self.record(r) for r in self.records)


def pcap_bytes(frames: Iterable[tuple[int, bytes]], **options: object) -> bytes:
    """A classic pcap of (ts_ns, data) pairs; options as for :class:`PcapFile`."""
    pcap = PcapFile(**options)  # type: ignore[arg-type]
    for ts_ns, data in frames:
        pcap.add(ts_ns, data)
    return pcap.to_bytes()


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


class PcapngWriter:
    """Builds a pcapng file block by block; each method returns the block's offset."""

    SHB, IDB, PB, SPB, NRB, ISB, EPB, DSB, CB = (
        0x0A0D0D0A,
        1,
        2,
        3,
        4,
        5,
        6,
        0x0A,
        0x00000BAD,
    )

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.order = "<"

    def _append(self, data: bytes) -> int:
        offset = self.size
        self.parts.append(data)
        self.size += len(data)
        return offset

    def options(self, opts: Iterable[tuple[int, bytes]], end: bool = True) -> bytes:
        out = b"".join(
            struct.pack(self.order + "HH", code, len(value)) + _pad(value) for code, value in opts
        )
        if out and end:
            out += b"\x00\x00\x00\x00"
        return out

    def block(self, btype: int, body: bytes, *, length: int | None = None, trailer=None) -> int:
        """Any block; ``length``/``trailer`` override the written lengths (to make damage)."""
        body = _pad(body)
        real = len(body) + 12
        head = struct.pack(self.order + "II", btype, real if length is None else length)
        tail = struct.pack(self.order + "I", real if trailer is None else trailer)
        return self._append(head + body + tail)

    def raw(self, data: bytes) -> int:
        return self._append(data)

    def shb(
        self,
        big_endian: bool = False,
        version: tuple[int, int] = (1, 0),
        comment: str | None = None,
        magic: int = 0x1A2B3C4D,
    ) -> int:
        self.order = ">" if big_endian else "<"
        opts = [(1, comment.encode())] if comment else []
        body = struct.pack(self.order + "IHHq", magic, *version, -1) + self.options(opts)
        return self.block(self.SHB, body)

    def idb(
        self,
        linktype: int = LINKTYPE_ETHERNET,
        snaplen: int = 0,
        name: str | None = None,
        tsresol: int | None = None,
        tsoffset: int | None = None,
        comment: str | None = None,
        extra: Iterable[tuple[int, bytes]] = (),
    ) -> int:
        opts: list[tuple[int, bytes]] = []
        if comment is not None:
            opts.append((1, comment.encode()))
        if name is not None:
            opts.append((2, name.encode()))
        if tsresol is not None:
            opts.append((9, bytes([tsresol])))
        if tsoffset is not None:
            opts.append((14, struct.pack(self.order + "q", tsoffset)))
        opts.extend(extra)
        body = struct.pack(self.order + "HHI", linktype, 0, snaplen) + self.options(opts)
        return self.block(self.IDB, body)

    def epb(
        self,
        iface: int,
        ticks: int,
        data: bytes,
        orig_len: int | None = None,
        comment: str | None = None,
        caplen: int | None = None,
    ) -> int:
        opts = [(1, comment.encode())] if comment else []
        body = struct.pack(
            self.order + "IIIII",
            iface,
            ticks >> 32,
            ticks & 0xFFFFFFFF,
            len(data) if caplen is None else caplen,
            len(data) if orig_len is None else orig_len,
        )
        return self.block(self.EPB, body + _pad(data) + self.options(opts))

    def pb(self, iface: int, ticks: int, data: bytes, orig_len: int | None = None) -> int:
        body = struct.pack(
            self.order + "HHIIII",
            iface,
            0,
            ticks >> 32,
            ticks & 0xFFFFFFFF,
            len(data),
            len(data) if orig_len is None else orig_len,
        )
        return self.block(self.PB, body + _pad(data))

    def spb(self, data: bytes, orig_len: int | None = None) -> int:
        orig = len(data) if orig_len is None else orig_len
        return self.block(self.SPB, struct.pack(self.order + "I", orig) + _pad(data))

    def nrb(self, name: str = "router.example", ip: bytes = b"\xc0\x00\x02\x01") -> int:
        record = ip + name.encode() + b"\x00"
        body = struct.pack(self.order + "HH", 1, len(record)) + _pad(record) + b"\x00" * 4
        return self.block(self.NRB, body)

    def isb(self, iface: int = 0) -> int:
        body = struct.pack(self.order + "III", iface, 0, 0) + self.options([(4, b"\x00" * 8)])
        return self.block(self.ISB, body)

    def dsb(self) -> int:
        return self.block(self.DSB, struct.pack(self.order + "II", 0x544C534B, 4) + b"key!")

    def custom(self, pen: int = 32473, payload: bytes = b"vendor data") -> int:
        return self.block(self.CB, struct.pack(self.order + "I", pen) + payload)

    def to_bytes(self) -> bytes:
        return b"".join(self.parts)
