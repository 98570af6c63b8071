"""Helpers for the `vrrpscope live` lab tests: run it as a subprocess in a lab namespace.

Safety: everything here runs inside namespaces a :class:`~tests.lab.netlab.Lab` created
(``ip netns exec <ns> ...``), every process is bounded twice (``--duration`` for
vrrpscope, ``timeout -k`` around it as a hard limit) and is killed by its own pid when a
test fails; the lab deletes its namespaces (killing what is left in them) on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.netlab import _children

ROOT = Path(__file__).resolve().parents[2]
#: Extra seconds the ``timeout`` wrapper grants beyond ``--duration``.
HARD_MARGIN = 15.0
#: Interpreter for vrrpscope (override to test the privilege drop with a Python that
#: user nobody can read, e.g. a venv outside /root).
PYTHON = os.environ.get("VRRPSCOPE_LIVE_PYTHON") or sys.executable


def live_env() -> dict[str, str]:
    """Environment for vrrpscope subprocesses (this checkout first on PYTHONPATH)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


def live_command(ns: str, args: list[str], duration: float) -> list[str]:
    """``ip netns exec NS timeout ... python -m vrrpscope live ARGS --duration D``."""
    limit = f"{duration + HARD_MARGIN:.0f}"
    return [
        "ip",
        "netns",
        "exec",
        ns,
        "timeout",
        "-k",
        "3",
        limit,
        PYTHON,
        "-m",
        "vrrpscope",
        "live",
        *args,
        "--duration",
        f"{duration:g}",
    ]


@dataclass
class Line:
    """One stdout line of a live run and when it arrived (wall clock, seconds)."""

    t: float
    text: str

    def json(self) -> dict | None:
        try:
            obj = json.loads(self.text)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None


@dataclass
class LiveRun:
    """A running ``vrrpscope live`` (JSON or plain output on a pipe)."""

    proc: subprocess.Popen[bytes]
    started: float
    lines: list[Line] = field(default_factory=list)
    stderr: str = ""
    returncode: int | None = None
    _reader: threading.Thread | None = None
    _err_reader: threading.Thread | None = None
    _err_chunks: list[bytes] = field(default_factory=list)

    @classmethod
    def start(cls, ns: str, args: list[str], duration: float) -> LiveRun:
        proc = subprocess.Popen(
            live_command(ns, args, duration),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=live_env(),
            start_new_session=True,
        )
        run = cls(proc, time.time())
        run._reader = threading.Thread(target=run._read_out, daemon=True)
        run._err_reader = threading.Thread(target=run._read_err, daemon=True)
        run._reader.start()
        run._err_reader.start()
        return run

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(Line(time.time(), raw.decode(errors="replace").rstrip("\n")))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._err_chunks.append(raw)

    @property
    def pid(self) -> int | None:
        """PID of the Python process (child of the ``timeout`` wrapper)."""
        kids = _children(self.proc.pid)
        return kids[0] if kids else None

    def objects(self, until: float | None = None) -> list[tuple[float, dict]]:
        """Parsed JSON lines (arrival time, object), optionally those before ``until``."""
        out = []
        for line in list(self.lines):
            obj = line.json()
            if obj is not None and (until is None or line.t <= until):
                out.append((line.t, obj))
        return out

    def findings(self, kind: str, event: str | None = "open") -> list[tuple[float, dict]]:
        """Streamed finding events of ``kind`` (``event`` None: the final summary ones)."""
        return [
            (t, o)
            for t, o in self.objects()
            if o.get("type") == "finding" and o.get("kind") == kind and o.get("event") == event
        ]

    def wait_for(self, predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            if self.proc.poll() is not None:
                return bool(predicate())
            time.sleep(0.05)
        return bool(predicate())

    def vm_hwm_kb(self) -> int | None:
        """Peak resident set size of the Python process (VmHWM), while it runs."""
        pid = self.pid
        if pid is None:
            return None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to vrrpscope itself (falls back to the wrapper, which relays it)."""
        pid = self.pid or self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def finish(self, timeout: float = 20.0) -> int:
        """Wait for exit (killing our process group when it overstays); return the code."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.returncode = self.proc.wait(5)
        for reader in (self._reader, self._err_reader):
            if reader is not None:
                reader.join(5)
        self.stderr = b"".join(self._err_chunks).decode(errors="replace")
        return self.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def summary(self) -> dict | None:
        for _t, obj in self.objects():
            if obj.get("type") == "summary":
                return obj
        return None

    def final_findings(self) -> list[dict]:
        """Findings of the closing summary (no ``event`` key, after the summary line)."""
        seen_summary = False
        out = []
        for _t, obj in self.objects():
            if obj.get("type") == "summary":
                seen_summary = True
            elif seen_summary and obj.get("type") == "finding" and "event" not in obj:
                out.append(obj)
        return out


def run_in_ns(ns: str, args: list[str], timeout: float = 20.0) -> subprocess.CompletedProcess:
    """Run a short command in namespace ``ns`` (bounded), capturing text output."""
    return subprocess.run(
        ["ip", "netns", "exec", ns, "timeout", "-k", "2", f"{timeout:.0f}", *args],
        capture_output=True,
        text=True,
        timeout=timeout + 5,
        cwd=ROOT,
        env=live_env(),
        check=False,
    )


def scrape(ns: str, port: int, timeout: float = 5.0) -> str:
    """GET http://127.0.0.1:PORT/metrics from inside namespace ``ns`` ('' when it fails)."""
    code = (
        "import sys,urllib.request;"
        f"sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:{port}/metrics',"
        f"timeout={timeout}).read().decode())"
    )
    res = run_in_ns(ns, [sys.executable, "-c", code], timeout=timeout + 3)
    return res.stdout if res.returncode == 0 else ""


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metric_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text exposition → (name, labels, value) samples."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            labels = dict(_LABEL.findall(m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def metric(text: str, name: str, **labels: str) -> list[float]:
    """Values of samples called ``name`` whose labels include ``labels``."""
    return [
        v
        for n, lab, v in metric_samples(text)
        if n == name and all(lab.get(k) == want for k, want in labels.items())
    ]


def link_rx_packets(ns: str, dev: str) -> int:
    """The interface's rx_packets counter (sysfs, read inside the namespace)."""
    res = run_in_ns(ns, ["cat", f"/sys/class/net/{dev}/statistics/rx_packets"], timeout=5)
    return int(res.stdout.strip())


# --------------------------------------------------------------------------- flood

#: Self-contained sender (runs with ``python -c`` in a router namespace): builds a few
#: hundred Ethernet frames once — link-local multicast UDP and IGMP, malformed VRRP
#: (truncated, bad version, bad checksum, bad IHL, TTL 64, address count beyond the
#: packet) and well-formed adverts from many sources and VRIDs — then sends them in a
#: tight loop on a raw AF_PACKET socket for the given seconds. Prints JSON counts.
FLOOD_SENDER = r"""
import json, os, random, socket, struct, sys, time
iface, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
src_mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def ipv4(src, dst, proto, payload, ttl=255, ihl=5, fix=True):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(payload), rnd.randrange(65536),
                      0, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    if fix:
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload

def eth(dst_ip, packet):
    o = socket.inet_aton(dst_ip)
    dmac = bytes([0x01, 0x00, 0x5E, o[1] & 0x7F, o[2], o[3]])
    return dmac + src_mac + b"\x08\x00" + packet

def vrrp(vrid, prio, addrs, version=2, good=True, count=None):
    n = len(addrs) if count is None else count
    body = struct.pack("!BBBBBBH", (version << 4) | 1, vrid, prio, n, 0, 1, 0)
    body += b"".join(socket.inet_aton(a) for a in addrs) + b"\0" * 8
    c = csum(body) if good else 0x1234
    return body[:6] + struct.pack("!H", c) + body[8:]

frames = []
for i in range(200):  # other link-local multicast: UDP to 224.0.0.x, IGMP
    dst = f"224.0.0.{rnd.choice([1, 9, 22, 251, 252, 102])}"
    udp = struct.pack("!HHHH", 5353, 5353, 8 + 32, 0) + os.urandom(32)
    frames.append(eth(dst, ipv4(f"198.18.1.{rnd.randrange(10, 250)}", dst, 17, udp, ttl=1)))
    igmp = struct.pack("!BBH4s", 0x16, 0, 0, socket.inet_aton(dst))
    frames.append(eth(dst, ipv4("198.18.1.9", dst, 2, igmp, ttl=1)))
for i in range(300):  # malformed VRRP
    src = f"198.18.{rnd.randrange(2, 200)}.{rnd.randrange(1, 250)}"
    vrid = rnd.randrange(1, 256)
    kind = i % 6
    if kind == 0:
        pkt = ipv4(src, "224.0.0.18", 112, os.urandom(rnd.randrange(0, 8)))
    elif kind == 1:
        pkt = ipv4(src, "224.0.0.18", 112, vrrp(vrid, 100, ["198.18.9.9"], version=7))
    elif kind == 2:
        pkt = ipv4(src, "224.0.0.18", 112, vrrp(vrid, 100, ["198.18.9.9"], good=False))
    elif kind == 3:
        pkt = ipv4(src, "224.0.0.18", 112, vrrp(vrid, 100, ["198.18.9.9"]), ihl=3)
    elif kind == 4:
        pkt = ipv4(src, "224.0.0.18", 112, vrrp(vrid, 100, ["198.18.9.9"]), ttl=64)
    else:
        pkt = ipv4(src, "224.0.0.18", 112, vrrp(vrid, 100, ["198.18.9.9"], count=200))
    frames.append(eth("224.0.0.18", pkt))
for i in range(100):  # well-formed adverts from many sources and VRIDs
    src = f"198.18.{rnd.randrange(2, 200)}.{rnd.randrange(1, 250)}"
    pkt = ipv4(src, "224.0.0.18", 112, vrrp(rnd.randrange(100, 256), rnd.randrange(1, 255),
                                            [f"198.18.77.{i}"]))
    frames.append(eth("224.0.0.18", pkt))
frames = [f + b"\0" * max(0, 60 - len(f)) for f in frames]
rnd.shuffle(frames)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
send = sock.send
sent = errors = 0
n = len(frames)
start = time.monotonic()
end = start + seconds
while True:
    for f in frames:
        try:
            send(f)
            sent += 1
        except OSError:
            errors += 1
    if time.monotonic() >= end:
        break
elapsed = time.monotonic() - start
print(json.dumps({"sent": sent, "errors": errors, "seconds": elapsed, "kinds": n}))
"""


def start_flood(ns: str, iface: str, seconds: float, seed: int) -> subprocess.Popen[str]:
    """One flood sender (see :data:`FLOOD_SENDER`) in namespace ``ns``, bounded."""
    limit = f"{seconds + 10:.0f}"
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, "timeout", "-k", "2", limit, sys.executable, "-c"]
        + [FLOOD_SENDER, iface, f"{seconds:g}", str(seed)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


# --------------------------------------------------------------------------- terminal

_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]")


@dataclass
class PtyRun:
    """``vrrpscope live`` on a pseudo-terminal; the output stream with arrival times."""

    proc: subprocess.Popen[bytes]
    master: int
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    returncode: int | None = None
    _thread: threading.Thread | None = None

    @classmethod
    def start(
        cls, ns: str, args: list[str], duration: float, cols: int = 160, rows: int = 48
    ) -> PtyRun:
        import fcntl
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = live_env()
        env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        env.pop("NO_COLOR", None)
        try:
            proc = subprocess.Popen(
                live_command(ns, args, duration),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        run = cls(proc, master)
        run._thread = threading.Thread(target=run._read, daemon=True)
        run._thread.start()
        return run

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not data:
                break
            self.chunks.append((time.time(), data))

    def text(self, until: float | None = None) -> str:
        """Everything written so far (escape sequences removed)."""
        raw = b"".join(d for t, d in list(self.chunks) if until is None or t <= until)
        return _CSI.sub("", raw.decode(errors="replace")).replace("\r", "")

    def frames(self, marker: str) -> list[tuple[float, str]]:
        """Redraws of the screen, each starting with ``marker`` (the dashboard's title).

        Each comes with the arrival time of its last byte; the last one may be partial.
        """
        chunks = list(self.chunks)
        raw = b"".join(d for _t, d in chunks)
        ends, total = [], 0
        for t, d in chunks:
            total += len(d)
            ends.append((total, t))
        needle = marker.encode()
        starts = [m.start() for m in re.finditer(re.escape(needle), raw)]
        out: list[tuple[float, str]] = []
        for a, b in zip(starts, [*starts[1:], len(raw)], strict=True):
            t = next(t for end, t in ends if end >= b)
            text = _CSI.sub("", raw[a:b].decode(errors="replace")).replace("\r", "")
            out.append((t, text))
        return out

    def signal(self, sig: int) -> None:
        """Send ``sig`` to vrrpscope itself (falls back to the wrapper, which relays it)."""
        kids = _children(self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(kids[0] if kids else self.proc.pid, sig)

    def finish(self, timeout: float = 20.0) -> int:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.returncode = self.proc.wait(5)
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(OSError):
            os.close(self.master)
        return self.returncode
