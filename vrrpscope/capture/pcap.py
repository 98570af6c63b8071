"""Classic pcap (libpcap) reader: both byte orders, micro- and nanosecond, modified pcap."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from vrrpscope.capture.stream import Buffer, StreamDamage, failure_reason
from vrrpscope.errors import Damage, InputError
from vrrpscope.model import Frame

HEADER_LEN = 24
MAX_CAPLEN = 262144  # libpcap's largest snapshot length for (almost) every link type
MAX_SNAPLEN = 1 << 24  # a header snaplen above this does not raise the caplen limit

# First four bytes read little-endian -> (byte order, ns per timestamp unit, record header length)
MAGICS: dict[int, tuple[str, int, int]] = {
    0xA1B2C3D4: ("<", 1000, 16),  # microsecond
    0xD4C3B2A1: (">", 1000, 16),
    0xA1B23C4D: ("<", 1, 16),  # nanosecond
    0x4D3CB2A1: (">", 1, 16),
    0xA1B2CD34: ("<", 1000, 24),  # Alexey Kuznetsov's modified pcap (extra 8 bytes/record)
    0x34CDB2A1: (">", 1000, 24),
}


def is_pcap(head: bytes) -> bool:
    """True when ``head`` starts with a classic pcap magic number."""
    return len(head) >= 4 and struct.unpack_from("<I", head)[0] in MAGICS


class PcapReader:
    """Reads frames from a classic pcap stream; stops at the first damage."""

    format = "pcap"

    def __init__(self, buf: Buffer, path: str) -> None:
        self.path = path
        self.damage: list[Damage] = []
        self._buf = buf
        if not buf.fill(HEADER_LEN):
            raise InputError(
                path,
                f"truncated pcap file header ({buf.available} of {HEADER_LEN} bytes); "
                "the capture was cut short before its first packet",
            )
        magic = struct.unpack_from("<I", buf.data, buf.pos)[0]
        order, self._ns_per_unit, self._record_len = MAGICS[magic]
        major, minor, _zone, _sigfigs, snaplen, linktype = struct.unpack_from(
            order + "HHiIII", buf.data, buf.pos + 4
        )
        if major != 2:
            raise InputError(
                path,
                f"unsupported pcap version {major}.{minor} (only 2.x exists); "
                "the file header is corrupt",
            )
        buf.pos += HEADER_LEN
        self.version = (major, minor)
        self.nanosecond = self._ns_per_unit == 1
        self.snaplen = snaplen
        self.linktype = linktype & 0xFFFF  # the upper bits carry FCS information
        self.fcs_len: int | None = (linktype >> 28) * 2 if linktype & 0x04000000 else None
        self.caplen_limit = max(MAX_CAPLEN, min(snaplen, MAX_SNAPLEN))
        self._record = struct.Struct(order + "IIII")
        # Files before version 2.3 may have caplen and len swapped (libpcap swaps them back).
        self._swapped_lens = (major, minor) < (2, 3)
        self.frames_read = 0

    def _damage(self, offset: int, message: str) -> None:
        self.damage.append(Damage(self.path, offset, message))

    def chunks(self, size: int = 4096) -> Iterator[list[Frame]]:
        """Yield lists of up to ``size`` frames (fewer when a pipe has nothing more yet)."""
        buf = self._buf
        inp = buf.inp
        interactive = inp.interactive
        path = self.path
        linktype = self.linktype
        ns_per_unit = self._ns_per_unit
        hlen = self._record_len
        limit = self.caplen_limit
        swapped = self._swapped_lens
        unpack = self._record.unpack_from
        number = self.frames_read
        frames: list[Frame] = []
        data = buf.data
        pos = buf.pos
        end = len(data)
        while True:
            if end - pos < hlen:
                if frames and interactive and not inp.ready():
                    yield frames
                    frames = []
                buf.pos = pos
                try:
                    complete = buf.fill(hlen)
                except (StreamDamage, OSError) as exc:
                    self._damage(buf.offset, failure_reason(exc))
                    break
                data, pos, end = buf.data, buf.pos, len(buf.data)
                if not complete:
                    if end > pos:
                        self._damage(
                            buf.offset,
                            f"truncated packet record header ({end - pos} of {hlen} bytes)",
                        )
                    break
            sec, frac, incl, orig = unpack(data, pos)
            if swapped and incl > orig:
                incl, orig = orig, incl
            if incl > limit:
                self._damage(
                    buf.base + pos,
                    f"packet record {number + 1} claims {incl} captured bytes, more than "
                    f"the largest possible ({limit}); the file is corrupt from here",
                )
                break
            stop = pos + hlen + incl
            if stop > end:
                if frames and interactive and not inp.ready():
                    yield frames
                    frames = []
                buf.pos = pos
                try:
                    complete = buf.fill(hlen + incl)
                except (StreamDamage, OSError) as exc:
                    self._damage(buf.offset, failure_reason(exc))
                    break
                data, pos, end = buf.data, buf.pos, len(buf.data)
                if not complete:
                    self._damage(
                        buf.offset,
                        f"truncated packet record {number + 1}: {incl} captured bytes "
                        f"announced, only {end - pos - hlen} present",
                    )
                    break
                stop = pos + hlen + incl
            number += 1
            frames.append(
                Frame(
                    sec * 1_000_000_000 + frac * ns_per_unit,
                    linktype,
                    data[pos + hlen : stop],
                    orig,
                    number,
                    None,
                    path,
                )
            )
            pos = stop
            if len(frames) >= size:
                self.frames_read = number
                buf.pos = pos
                yield frames
                frames = []
        buf.pos = pos
        self.frames_read = number
        if frames:
            yield frames
