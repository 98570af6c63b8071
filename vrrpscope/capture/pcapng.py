"""pcapng reader: sections in either byte order, interfaces, EPB, SPB and obsolete PB.

Frames are numbered by packet block (EPB, SPB, PB), 1-based, per file, as Wireshark
does. Interfaces without ``if_name`` are named ``if<N>``, N counting interface
description blocks across the whole file (Wireshark's ``frame.interface_id``).
A Simple Packet Block has no timestamp: it gets the previous packet's timestamp in the
file (0 when it is the first), which keeps merged files in order.
Name resolution, statistics, decryption secrets, custom and unknown blocks are skipped.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from vrrpscope.capture.stream import Buffer, StreamDamage, failure_reason
from vrrpscope.errors import Damage, InputError
from vrrpscope.model import Frame

BT_SHB = 0x0A0D0D0A
BT_IDB = 1
BT_PB = 2  # obsolete Packet Block
BT_SPB = 3
BT_ISB = 5
BT_EPB = 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D
SHB_MAGIC = b"\x0a\x0d\x0d\x0a"
MAX_BLOCK = 1 << 26  # 64 MiB: a larger block length is taken as corruption

OPT_ENDOFOPT = 0
OPT_IF_NAME = 2
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14
OPT_ISB_IFRECV = 4
OPT_ISB_IFDROP = 5
OPT_ISB_OSDROP = 7


def is_pcapng(head: bytes) -> bool:
    """True when ``head`` starts with a pcapng Section Header Block."""
    return head[:4] == SHB_MAGIC


class _Bad(Exception):
    """A block that cannot be read: (offset, message)."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(slots=True)
class Interface:
    """One Interface Description Block, with its timestamp scale."""

    linktype: int
    snaplen: int
    name: str
    ts_mul: int = 1000  # ns = ticks * ts_mul // ts_div + ts_offset_ns (rounded to nearest)
    ts_div: int = 1
    ts_offset_ns: int = 0

    def ts_ns(self, ticks: int) -> int:
        if self.ts_div == 1:
            return ticks * self.ts_mul + self.ts_offset_ns
        return (ticks * self.ts_mul + self.ts_div // 2) // self.ts_div + self.ts_offset_ns


def tsresol_scale(value: int) -> tuple[int, int]:
    """(multiplier, divisor) turning ticks of an ``if_tsresol`` value into nanoseconds."""
    exponent = value & 0x7F
    if value & 0x80:
        return 1_000_000_000, 1 << exponent
    if exponent <= 9:
        return 10 ** (9 - exponent), 1
    return 1, 10 ** (exponent - 9)


_STRUCTS = {
    order: {
        "I": struct.Struct(order + "I"),
        "II": struct.Struct(order + "II"),
        "HH": struct.Struct(order + "HH"),
        "HHI": struct.Struct(order + "HHI"),
        "IIIII": struct.Struct(order + "IIIII"),
        "HHIIII": struct.Struct(order + "HHIIII"),
        "EPB": struct.Struct(order + "7I"),  # block type, length, then the EPB fields
        "q": struct.Struct(order + "q"),
        "Q": struct.Struct(order + "Q"),
    }
    for order in "<>"
}


class PcapngReader:
    """Reads frames from a pcapng stream; stops at the first damage."""

    format = "pcapng"

    def __init__(self, buf: Buffer, path: str) -> None:
        self.path = path
        self.damage: list[Damage] = []
        self.buffer = buf
        self.structs = _STRUCTS["<"]
        self.interfaces: list[Interface] = []
        self._interface_count = 0  # across sections, for if<N> names
        self.last_ts = 0
        self.frames_read = 0
        self.sections = 0
        self._section_base = 0  # interfaces of the sections before this one
        #: Interface Statistics Blocks, the last per interface: (section base + index)
        #: -> (name, frames the interface and the OS dropped). Counters are cumulative.
        self.statistics: dict[int, tuple[str, int]] = {}
        try:
            block = self.next_block()
        except (StreamDamage, OSError) as exc:
            raise InputError(path, failure_reason(exc)) from exc
        except _Bad as bad:
            raise InputError(path, f"unreadable pcapng section header: {bad.message}") from bad
        if block is None:  # unreachable: the opener saw the magic
            raise InputError(path, "empty pcapng file")
        self.skip(block)

    # -- block framing -------------------------------------------------------------

    def next_block(self) -> tuple[int, int, int] | None:
        """Frame the next block: (type, start, length) with the whole block buffered.

        Returns None at a clean end of input; raises _Bad when the block is damaged.
        """
        buf = self.buffer
        offset = buf.offset
        if not buf.fill(12):
            if buf.available:
                raise _Bad(offset, f"truncated block header ({buf.available} of 12 bytes)")
            return None
        if buf.data[buf.pos : buf.pos + 4] == SHB_MAGIC:
            if not buf.fill(16):
                raise _Bad(offset, f"truncated section header ({buf.available} of 16 bytes)")
            self._start_section(buf.data, buf.pos, offset)
        data, pos = buf.data, buf.pos
        btype, length = self.structs["II"].unpack_from(data, pos)
        if length < 12 or length % 4:
            raise _Bad(
                offset,
                f"block length {length} is impossible (must be a multiple of 4, at least 12)",
            )
        if length > MAX_BLOCK:
            raise _Bad(offset, f"block length {length} is absurd (over {MAX_BLOCK} bytes)")
        if not buf.fill(length):
            raise _Bad(
                offset,
                f"truncated block: its length is {length} bytes but only {buf.available} remain",
            )
        data, pos = buf.data, buf.pos
        (trailer,) = self.structs["I"].unpack_from(data, pos + length - 4)
        if trailer != length:
            raise _Bad(
                offset, f"block trailer length {trailer} does not match its header ({length})"
            )
        return btype, pos, length

    def _block_buffered(self) -> bool:
        """True when the next block is already in the buffer (reading it will not wait)."""
        buf = self.buffer
        if buf.available < 12:
            return False
        (length,) = self.structs["I"].unpack_from(buf.data, buf.pos + 4)
        return buf.available >= length

    def skip(self, block: tuple[int, int, int]) -> None:
        self.buffer.pos = block[1] + block[2]

    def _start_section(self, data: bytes, pos: int, offset: int) -> None:
        (magic,) = struct.unpack_from("<I", data, pos + 8)
        if magic == BYTE_ORDER_MAGIC:
            order = "<"
        elif magic == 0x4D3C2B1A:
            order = ">"
        else:
            raise _Bad(offset, f"section header has a bad byte-order magic 0x{magic:08x}")
        s = _STRUCTS[order]
        major, minor = s["HH"].unpack_from(data, pos + 12)
        if major != 1 or minor not in (0, 2):
            raise _Bad(offset, f"unsupported pcapng version {major}.{minor}")
        self.structs = s
        self._section_base = self._interface_count
        self.interfaces = []
        self.sections += 1

    # -- blocks ----------------------------------------------------------------------

    def add_interface(self, data: bytes, pos: int, length: int, offset: int) -> None:
        if length < 20:
            raise _Bad(offset, f"interface description block too short ({length} bytes)")
        s = self.structs
        linktype, _reserved, snaplen = s["HHI"].unpack_from(data, pos + 8)
        iface = Interface(linktype, snaplen, f"pcapng-if{self._interface_count}")
        self._interface_count += 1
        for code, start, size in self._options(data, pos + 16, pos + length - 4, offset):
            if code == OPT_IF_NAME and size:
                name = bytes(data[start : start + size]).split(b"\x00", 1)[0]
                if name:
                    iface.name = name.decode("utf-8", "replace")
            elif code == OPT_IF_TSRESOL and size >= 1:
                iface.ts_mul, iface.ts_div = tsresol_scale(data[start])
            elif code == OPT_IF_TSOFFSET and size >= 8:
                iface.ts_offset_ns = s["q"].unpack_from(data, start)[0] * 1_000_000_000
        self.interfaces.append(iface)

    def add_statistics(self, data: bytes, pos: int, length: int, offset: int) -> None:
        """An Interface Statistics Block: keep what its interface dropped (isb_ifdrop,
        dropped by the interface or the kernel's buffer, plus isb_osdrop); a statistics
        block that cannot be read is skipped: it holds no frames."""
        if length < 24:
            return
        (index,) = self.structs["I"].unpack_from(data, pos + 8)
        if index >= len(self.interfaces):
            return
        dropped = None
        try:
            for code, start, size in self._options(data, pos + 20, pos + length - 4, offset):
                if code in (OPT_ISB_IFDROP, OPT_ISB_OSDROP) and size == 8:
                    value = self.structs["Q"].unpack_from(data, start)[0]
                    dropped = (dropped or 0) + value
        except _Bad:
            return
        if dropped is not None:
            name = self.interfaces[index].name
            self.statistics[self._section_base + index] = (name, dropped)

    @property
    def drops(self) -> dict[str, int]:
        """Frames the capturing host dropped, per interface name (from the statistics
        blocks; empty when the file has none)."""
        out: Counter[str] = Counter()
        for name, dropped in self.statistics.values():
            out[name] += dropped
        return dict(out)

    def _options(
        self, data: bytes, pos: int, end: int, offset: int
    ) -> Iterator[tuple[int, int, int]]:
        """Yield (code, value start, value length) of each option in data[pos:end]."""
        unpack = self.structs["HH"].unpack_from
        while pos + 4 <= end:
            code, size = unpack(data, pos)
            if code == OPT_ENDOFOPT:
                return
            if pos + 4 + size > end:
                raise _Bad(offset, f"option {code} runs past the end of its block")
            yield code, pos + 4, size
            pos += 4 + ((size + 3) & ~3)

    def _interface(self, index: int, offset: int) -> Interface:
        if index < len(self.interfaces):
            return self.interfaces[index]
        raise _Bad(
            offset,
            f"packet block names interface {index}, but the section describes "
            f"{len(self.interfaces)} interface(s)",
        )

    def packet(self, btype: int, pos: int, length: int, offset: int) -> Frame | None:
        data = self.buffer.data
        s = self.structs
        if btype == BT_EPB:
            if length < 32:
                raise _Bad(offset, f"enhanced packet block too short ({length} bytes)")
            index, ts_high, ts_low, caplen, orig = s["IIIII"].unpack_from(data, pos + 8)
            start = pos + 28
        elif btype == BT_SPB:
            if length < 16:
                raise _Bad(offset, f"simple packet block too short ({length} bytes)")
            iface = self._interface(0, offset)
            (orig,) = s["I"].unpack_from(data, pos + 8)
            caplen = min(orig, length - 16)
            if iface.snaplen:
                caplen = min(caplen, iface.snaplen)
            self.frames_read += 1
            return Frame(
                self.last_ts,
                iface.linktype,
                data[pos + 12 : pos + 12 + caplen],
                orig,
                self.frames_read,
                iface.name,
                self.path,
            )
        elif btype == BT_PB:
            if length < 32:
                raise _Bad(offset, f"packet block too short ({length} bytes)")
            index, _drops, ts_high, ts_low, caplen, orig = s["HHIIII"].unpack_from(data, pos + 8)
            start = pos + 28
        else:
            return None
        if caplen > length - 32:
            raise _Bad(
                offset,
                f"captured length {caplen} does not fit in its {length}-byte packet block",
            )
        iface = self._interface(index, offset)
        ts = iface.ts_ns((ts_high << 32) | ts_low)
        self.last_ts = ts
        self.frames_read += 1
        return Frame(
            ts,
            iface.linktype,
            data[start : start + caplen],
            orig,
            self.frames_read,
            iface.name,
            self.path,
        )

    def chunks(self, size: int = 4096) -> Iterator[list[Frame]]:
        """Yield lists of up to ``size`` frames (fewer when a pipe has nothing more yet)."""
        buf = self.buffer
        inp = buf.inp
        interactive = inp.interactive
        path = self.path
        frames: list[Frame] = []
        while True:
            # Fast path: whole, well-formed EPBs already in the buffer.
            data, pos = buf.data, buf.pos
            end = len(data)
            epb = self.structs["EPB"].unpack_from
            trailer = self.structs["I"].unpack_from
            interfaces = self.interfaces
            number = self.frames_read
            while end - pos >= 32 and len(frames) < size:
                btype, length, index, high, low, caplen, orig = epb(data, pos)
                if (
                    btype != BT_EPB
                    or length & 3
                    or length > end - pos
                    or caplen > length - 32
                    or index >= len(interfaces)
                    or trailer(data, pos + length - 4)[0] != length
                ):
                    break
                iface = interfaces[index]
                ticks = (high << 32) | low
                if iface.ts_div == 1:
                    ts = ticks * iface.ts_mul + iface.ts_offset_ns
                else:
                    ts = iface.ts_ns(ticks)
                number += 1
                frames.append(
                    Frame(
                        ts,
                        iface.linktype,
                        data[pos + 28 : pos + 28 + caplen],
                        orig,
                        number,
                        iface.name,
                        path,
                    )
                )
                pos += length
            if number != self.frames_read:
                self.last_ts = frames[-1].ts_ns
                self.frames_read = number
            buf.pos = pos
            if len(frames) >= size:
                yield frames
                frames = []
                continue
            # Slow path: one block of any kind, with every check and a clear message.
            if frames and interactive and not self._block_buffered() and not inp.ready():
                yield frames
                frames = []
            offset = buf.offset
            try:
                block = self.next_block()
                if block is None:
                    break
                btype, pos, length = block
                if btype == BT_IDB:
                    self.add_interface(buf.data, pos, length, offset)
                elif btype == BT_ISB:
                    self.add_statistics(buf.data, pos, length, offset)
                elif btype in (BT_EPB, BT_SPB, BT_PB):
                    frame = self.packet(btype, pos, length, offset)
                    if frame is not None:
                        frames.append(frame)
                self.skip(block)
            except _Bad as bad:
                self.damage.append(Damage(self.path, bad.offset, bad.message))
                break
            except (StreamDamage, OSError) as exc:
                self.damage.append(Damage(self.path, offset, failure_reason(exc)))
                break
            if len(frames) >= size:
                yield frames
                frames = []
        if frames:
            yield frames
