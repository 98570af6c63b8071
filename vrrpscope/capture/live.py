"""Live capture from a Linux AF_PACKET socket with a kernel BPF filter (no external program).

Frames are returned with the kernel's nanosecond timestamp, the interface they arrived on and
any VLAN tag the NIC stripped (recovered from PACKET_AUXDATA and put back in the frame), so
the decoder sees exactly what `tcpdump -w` would have written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

from vrrpscope.capture.bpf import DEFAULT_FILTER, AttachedProgram, compile_filter
from vrrpscope.errors import LiveError
from vrrpscope.model import Frame

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_MR_ALLMULTI = 2
PACKET_AUXDATA = 8
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUF = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
LINKTYPE_ETHERNET = 1
SNAPLEN = 65535
SIOCGIFFLAGS = 0x8913
IFF_UP = 0x1
#: recvmsg errors that mean "the interface went down or away", not a broken socket.
LINK_ERRNOS = frozenset({errno.ENETDOWN, errno.ENXIO, errno.ENODEV})
_ANC_SIZE = socket.CMSG_SPACE(16) + socket.CMSG_SPACE(20)
_NOT_LINUX = (
    "live capture needs Linux AF_PACKET sockets; elsewhere run "
    "`tcpdump -U -w - -i IFACE | vrrpscope analyze -`"
)


@dataclass(slots=True)
class LiveStats:
    """What the kernel says about the socket: packets it passed and packets it dropped."""

    received: int = 0  # frames handed to vrrpscope
    kernel_packets: int = 0  # PACKET_STATISTICS tp_packets (cumulative, drops included)
    kernel_drops: int = 0  # PACKET_STATISTICS tp_drops (cumulative): buffer overflowed
    skipped_non_ethernet: int = 0
    link_downs: int = 0  # times the interface went down (frames lost until it came back)
    link_down_s: float = 0.0  # seconds it was down, in all (the current outage included)

    @property
    def unread(self) -> int:
        """Packets the kernel queued for us but we had not read when the stats were taken."""
        read = self.received + self.skipped_non_ethernet
        return max(self.kernel_packets - self.kernel_drops - read, 0)


class LiveCapture:
    """An open packet socket on one interface (or "any")."""

    def __init__(
        self,
        interface: str,
        bpf: str | None = None,
        promisc: bool = True,
        buffer_bytes: int = 8 << 20,
    ) -> None:
        if not hasattr(socket, "AF_PACKET"):
            raise LiveError(_NOT_LINUX)
        self.interface = interface
        self.stats = LiveStats()
        self._frame_number = 0
        self._ifnames: dict[int, str] = {}
        self.link = "up"  # "up", "down" (waiting for it to come back) or "gone" (deleted)
        self._down_since: float | None = None
        self._link_suspect = False  # a read error said the link went down: check it
        ifindex = 0 if interface == "any" else _ifindex(interface)
        self.ifindex = ifindex
        program = AttachedProgram(compile_filter(bpf or DEFAULT_FILTER))
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError as exc:
            raise LiveError(
                f"{interface}: permission denied opening a packet socket; run as root or "
                "grant cap_net_raw to the real interpreter: "
                "setcap cap_net_raw+eip $(readlink -f $(which python3))"
            ) from exc
        self._sock = sock
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUF, buffer_bytes)
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program.fprog)
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            if ifindex:  # "any": an unbound socket sees every interface
                sock.bind((interface, ETH_P_ALL))
                _check_ethernet(sock, interface)
                kind = PACKET_MR_PROMISC if promisc else PACKET_MR_ALLMULTI
                mreq = struct.pack("iHH8s", ifindex, kind, 0, b"")
                sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            self._drain_pre_filter_backlog()
            self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reset: drained ones
            sock.setblocking(False)
        except LiveError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            raise LiveError(
                f"{interface}: cannot start the capture: {exc.strerror or exc}"
            ) from exc

    def fileno(self) -> int:
        return self._sock.fileno()

    def _drain_pre_filter_backlog(self) -> None:
        """Frames queued between socket() and the filter being attached did not pass it."""
        self._sock.setblocking(False)
        try:
            while True:
                self._sock.recv(SNAPLEN)
        except BlockingIOError:
            pass

    def read(self, timeout_s: float, max_frames: int = 4096) -> list[Frame]:
        """Frames that arrive within `timeout_s` (returns early once some have arrived)."""
        frames: list[Frame] = []
        ready, _, _ = select.select([self._sock], [], [], max(timeout_s, 0.0))
        if not ready:
            return frames
        while len(frames) < max_frames:
            try:
                data, ancdata, _flags, address = self._sock.recvmsg(SNAPLEN, _ANC_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno not in LINK_ERRNOS or not self.ifindex:
                    raise LiveError(
                        f"{self.interface}: capture failed: {exc.strerror or exc}"
                    ) from exc
                self._link_suspect = True  # reported once per event by the kernel
                break
            frame = self._frame(data, ancdata, address)
            if frame is not None:
                frames.append(frame)
        return frames

    def _frame(self, data: bytes, ancdata: list, address: tuple) -> Frame | None:
        ifname, _proto, _pkttype, hatype = address[0], address[1], address[2], address[3]
        if hatype not in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
            self.stats.skipped_non_ethernet += 1
            return None
        ts_ns = 0
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                sec, nsec = struct.unpack_from("qq", payload)
                ts_ns = sec * 1_000_000_000 + nsec
            elif level == SOL_PACKET and kind == PACKET_AUXDATA and len(payload) >= 20:
                data = _reinsert_vlan(data, payload)
        if not ts_ns:
            ts_ns = time.time_ns()
        self._frame_number += 1
        self.stats.received += 1
        return Frame(
            ts_ns=ts_ns,
            linktype=LINKTYPE_ETHERNET,
            data=data,
            orig_len=len(data),
            number=self._frame_number,
            interface=ifname,
            source=self.interface,
        )

    def check_link(self) -> str:
        """Update and return :attr:`link` ("up", "down", "gone"); cheap unless a read
        error or an outage is in progress. While down, the socket stays bound: the kernel
        delivers frames again once the interface is up (same ifindex). Deleted (or
        replaced by another of the same name): "gone", for good."""
        if not self.ifindex or self.link == "gone":
            return self.link
        if not self._link_suspect and self.link == "up":
            return self.link
        self._link_suspect = False
        now = time.monotonic()
        try:
            same = socket.if_nametoindex(self.interface) == self.ifindex
        except OSError:
            same = False
        up = same and self._is_up()
        if self._down_since is not None:  # the outage so far counts in link_down_s
            self.stats.link_down_s += now - self._down_since
            self._down_since = None
        if self.link == "up" and same:  # a read error: down now, or was (a short flap)
            self.stats.link_downs += 1
        if not same:
            self.link = "gone"
        elif up:
            self.link = "up"
        else:
            self.link = "down"
            self._down_since = now
        return self.link

    def _is_up(self) -> bool:
        request = struct.pack("16sH", self.interface.encode()[:15], 0)
        try:
            reply = fcntl.ioctl(self._sock.fileno(), SIOCGIFFLAGS, request)
        except OSError:
            return False
        return bool(struct.unpack_from("16sH", reply)[1] & IFF_UP)

    def kernel_stats(self) -> LiveStats:
        """Refresh the kernel counters (PACKET_STATISTICS resets on read: we accumulate)."""
        raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        packets, drops = struct.unpack("II", raw)
        self.stats.kernel_packets += packets
        self.stats.kernel_drops += drops
        return self.stats

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ifindex(interface: str) -> int:
    try:
        return socket.if_nametoindex(interface)
    except OSError as exc:
        raise LiveError(
            f"{interface}: no such network interface; list them with `ip link` (or use `any`)"
        ) from exc


def _check_ethernet(sock: socket.socket, interface: str) -> None:
    path = f"/sys/class/net/{interface}/type"
    try:
        with open(path) as handle:
            hatype = int(handle.read().strip())
    except (OSError, ValueError):
        return
    if hatype not in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
        raise LiveError(
            f"{interface}: link type {hatype} is not Ethernet; capture it with "
            f"`tcpdump -U -w - -i {interface} | vrrpscope analyze -`"
        )


def _reinsert_vlan(data: bytes, aux: bytes) -> bytes:
    """Put back the 802.1Q tag the NIC stripped (struct tpacket_auxdata)."""
    status, _len, _snap, _mac, _net, tci, tpid = struct.unpack_from("IIIHHHH", aux)
    if not status & TP_STATUS_VLAN_VALID or len(data) < 12:
        return data
    if not status & TP_STATUS_VLAN_TPID_VALID or not tpid:
        tpid = 0x8100
    return data[:12] + struct.pack("!HH", tpid, tci) + data[12:]


def drop_privileges(user: str = "nobody") -> str:
    """Become `user` once the socket is open (like tcpdump -Z); says what was done.

    Python must still be able to import modules afterwards: when the interpreter or
    vrrpscope lives where `user` cannot read (e.g. under /root), root is kept and the
    returned text says why.
    """
    if os.geteuid() != 0:
        return "not root: nothing to drop"
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise LiveError(
            f"cannot drop privileges: no user {user!r}; use --user or --keep-root"
        ) from exc
    blocked = _unreadable_for_others()
    if blocked:
        return f"kept root: {blocked} is not readable by {user} (use --user or --keep-root)"
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    return f"dropped root, running as {user}"


def _unreadable_for_others() -> str | None:
    """The first directory on the way to Python or vrrpscope that others cannot enter."""
    import stat
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for start in (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), here):
        for directory in (start, *start.parents):
            try:
                mode = directory.stat().st_mode
            except OSError:
                return str(directory)
            if not mode & stat.S_IXOTH:
                return str(directory)
    return None
