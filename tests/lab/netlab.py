"""Real-traffic lab: keepalived and ucarp in network namespaces, captured with tcpdump.

Layout: one *bridge namespace* holds a Linux bridge per segment (``br0``, ``br1``, ...,
multicast snooping off, ageing 0 so it floods like a hub and a capture on the bridge
sees unicast too, no IPv6 so it stays silent). Each *router namespace* gets one veth
per segment it joins (``eth0``, ``eth1``, ... inside the router; ``<router>-<iface>`` on
the bridge side). Untagged interfaces get ``198.18.<seg>.<idx>/24`` and
``2001:db8:<seg>::<idx>/64``. A router port may be put in a VLAN instead: the bridge then
does VLAN filtering, the router's port is an untagged access port of that VLAN and the
bridge device itself is a tagged member, so a capture on the bridge sees 802.1Q tags
(no 8021q module needed); such interfaces get ``198.19.<vid % 256>.<idx>/24`` and
``2001:db8:<seg>:<vid>::<idx>/64``. MACs are deterministic
(``02:00:00:00:<seg>:<idx>``), so link-local addresses are too.

Safety: nothing is ever created, addressed or captured in the caller's namespace; every
command runs via ``ip netns exec`` / ``ip -n`` in namespaces this module made. Daemons and
tcpdump run under ``timeout`` (a hard bound even if Python dies), the lab has a watchdog,
and cleanup (context manager, ``atexit``, SIGTERM) kills only processes we started or that
live in our namespaces, then deletes the namespaces. Namespace names are
``vsl<pid><hex>-<name>``; :func:`cleanup_stale` removes those of dead lab processes.

Typical use::

    ok, why = Lab.available()
    with Lab(["r1", "r2"], timeout=60) as lab:
        cap = lab.start_capture(out / "x.pcap")
        for name, prio in (("r1", 150), ("r2", 100)):
            inst = VrrpInstance("VI_51", vrid=51, priority=prio, vips=["198.18.1.100/24"])
            lab.start_keepalived(name, keepalived_config(inst, router_id=name))
        lab.wait(6)
        lab.stop("r1")                    # SIGTERM: keepalived sends priority 0
        lab.wait(4)
        lab.stop_capture(cap)             # SIGINT: tcpdump flushes and exits
        lab.write_sidecar(out / "x.events.json", cap)
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

IP = "ip"
NS_PREFIX = "vsl"
CMD_TIMEOUT = 10.0
#: Extra lifetime given to the ``timeout`` wrapper of daemons beyond the lab deadline.
HARD_MARGIN = 20.0
_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")


class LabError(RuntimeError):
    """A lab command failed."""


class LabTimeout(LabError):
    """The lab's overall deadline passed."""


class Unsupported(LabError):
    """The requested feature (e.g. netem) is not available on this kernel."""


# --------------------------------------------------------------------------- helpers


def _run(
    args: Sequence[str],
    *,
    ns: str | None = None,
    timeout: float = CMD_TIMEOUT,
    check: bool = True,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command (inside namespace ``ns`` when given) and capture its output."""
    cmd = [IP, "netns", "exec", ns, *args] if ns else list(args)
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, input=input, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {' '.join(cmd)}") from exc
    if check and res.returncode != 0:
        raise LabError(f"{' '.join(cmd)} -> rc={res.returncode}: {res.stderr.strip()}")
    return res


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (all threads), from /proc."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                kids.extend(int(x) for x in text.split())
    return kids


def _descendants(pid: int) -> list[int]:
    """All descendants of ``pid``, parents before children."""
    out: list[int] = []
    todo = [pid]
    while todo:
        for kid in _children(todo.pop()):
            if kid not in out:
                out.append(kid)
                todo.append(kid)
    return out


def _alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _signal(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def list_namespaces() -> list[str]:
    """Names of all network namespaces known to ``ip netns``."""
    res = _run([IP, "netns", "list"], check=False)
    return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def ns_pids(ns: str) -> list[int]:
    """PIDs of processes living in namespace ``ns``."""
    res = _run([IP, "netns", "pids", ns], check=False)
    return [int(x) for x in res.stdout.split() if x.isdigit()]


def _destroy_namespace(ns: str) -> None:
    """Kill everything inside ``ns`` (it is ours) and delete it."""
    for _ in range(3):
        pids = ns_pids(ns)
        if not pids:
            break
        _signal(pids, signal.SIGKILL)
        time.sleep(0.1)
    _run([IP, "netns", "del", ns], check=False)


_TAGS_USED: set[str] = set()


def new_tag() -> str:
    """A namespace tag ``vsl<pid><hex>`` not used before by this process nor present now.

    Two random bytes alone collide: about 40 labs a test run give a ~1% chance that two
    share a tag (CI once failed on "Cannot create namespace file ... File exists").
    """
    present = {ns.split("-", 1)[0] for ns in list_namespaces()}
    while True:
        tag = f"{NS_PREFIX}{os.getpid()}{secrets.token_hex(2)}"
        if tag not in _TAGS_USED and tag not in present:
            _TAGS_USED.add(tag)
            return tag


def cleanup_stale() -> list[str]:
    """Delete lab namespaces whose creating process is gone; return their names."""
    removed = []
    pat = re.compile(rf"^{NS_PREFIX}(\d+)[0-9a-f]{{4}}-")
    for ns in list_namespaces():
        m = pat.match(ns)
        if m and not _alive(int(m.group(1))):
            _destroy_namespace(ns)
            removed.append(ns)
    return removed


_NETEM: dict[str, bool] = {}


def netem_available() -> bool:
    """Whether ``tc qdisc ... netem`` works here (probed once in a throwaway namespace)."""
    if "ok" not in _NETEM:
        ns = f"{new_tag()}-probe"
        try:
            _run([IP, "netns", "add", ns])
            _run([IP, "-n", ns, "link", "set", "lo", "up"])
            res = _run(
                ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
                ns=ns,
                check=False,
            )
            _NETEM["ok"] = res.returncode == 0
        except LabError:
            _NETEM["ok"] = False
        finally:
            _destroy_namespace(ns)
    return _NETEM["ok"]


# --------------------------------------------------------------------------- data


@dataclass
class Event:
    """Something the lab did, stamped with the wall clock (same clock as pcap stamps)."""

    t_ns: int
    event: str
    router: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Flat JSON form: ``{"t_ns":..., "event":..., "router":..., **details}``."""
        return {"t_ns": self.t_ns, "event": self.event, "router": self.router, **self.details}


@dataclass
class Iface:
    """One interface of a router namespace."""

    name: str
    segment: int
    bridge: str
    ipv4: str
    ipv6: str
    mac: str
    link_local: str
    prefix4: int = 24
    vlan: int | None = None
    port: str | None = None
    ifindex: int | None = None


@dataclass
class Router:
    """A router namespace."""

    name: str
    index: int
    ns: str
    workdir: Path
    ifaces: dict[str, Iface] = field(default_factory=dict)

    def iface(self, name: str | None = None) -> Iface:
        """The named interface, or the first one."""
        return self.ifaces[name] if name else next(iter(self.ifaces.values()))

    @property
    def ipv4(self) -> str:
        """IPv4 address of the first interface."""
        return self.iface().ipv4

    @property
    def ipv6(self) -> str:
        """Global IPv6 address of the first interface."""
        return self.iface().ipv6

    @property
    def mac(self) -> str:
        """MAC of the first interface."""
        return self.iface().mac

    @property
    def link_local(self) -> str:
        """fe80:: address of the first interface."""
        return self.iface().link_local


@dataclass
class Daemon:
    """A keepalived, ucarp or FRR process we started (wrapped in ``timeout`` in the router
    ns)."""

    kind: str
    router: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    pid_file: Path | None = None
    extra_logs: tuple[Path, ...] = ()

    @property
    def running(self) -> bool:
        """Whether the wrapper (and so normally the daemon) is still running."""
        return self.proc.poll() is None

    def main_pid(self) -> int | None:
        """PID of the daemon itself (child of the ``timeout`` wrapper)."""
        if self.pid_file is not None:
            with contextlib.suppress(OSError, ValueError):
                pid = int(self.pid_file.read_text().split()[0])
                if _alive(pid):
                    return pid
        kids = _children(self.proc.pid)
        return kids[0] if kids else None

    def pids(self) -> list[int]:
        """The daemon and all its children (not the wrapper)."""
        return _descendants(self.proc.pid) if self.running else []

    def own_log(self) -> str:
        """The daemon's own log so far (console output; FRR's log file)."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def log(self) -> str:
        """The daemon's console log so far (plus up/down script logs for ucarp)."""
        parts = []
        for p in (self.log_path, *self.extra_logs):
            with contextlib.suppress(OSError):
                parts.append(p.read_text(errors="replace"))
        return "".join(parts)


@dataclass
class Capture:
    """A tcpdump process (with ``-U -w``) in the bridge or a router namespace."""

    path: Path
    ns: str
    iface: str
    proc: subprocess.Popen[bytes]
    stderr_path: Path
    linktype: str | None = None
    where: str = "bridge"
    packets: int | None = None
    started_ns: int = 0

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop tcpdump with SIGINT (it flushes), return the number of packets captured."""
        if self.proc.poll() is None:
            _signal([self.proc.pid], signal.SIGINT)  # timeout(1) relays it to tcpdump
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        m = re.search(r"(\d+) packets? captured", self.stderr_path.read_text(errors="replace"))
        self.packets = int(m.group(1)) if m else None
        return self.packets


@dataclass
class FirewallRule:
    """An iptables/ip6tables rule added in a router namespace."""

    router: str
    family: int
    args: tuple[str, ...]


@dataclass
class TrackFile:
    """A keepalived track_file: the file's integer value × weight is added to priority."""

    name: str
    path: Path
    router: str
    weight: int = 1

    def definition(self) -> str:
        """Global block (keepalived ≥ 2.1 syntax; ``vrrp_track_file`` is deprecated)."""
        return f"track_file {self.name} {{\n  file {self.path}\n  weight {self.weight}\n}}\n"


@dataclass
class VrrpInstance:
    """One keepalived ``vrrp_instance``; :meth:`render` gives its config text."""

    name: str
    vrid: int
    priority: int
    vips: Sequence[str]
    interface: str = "eth0"
    state: str = "BACKUP"
    advert_int: float = 1
    auth_pass: str | None = None
    version: int | None = None
    native_ipv6: bool = False
    unicast_src_ip: str | None = None
    unicast_peers: Sequence[str] = ()
    track_files: Sequence[TrackFile] = ()
    nopreempt: bool = False
    preempt_delay: float | None = None
    use_vmac: bool = False
    extra: str = ""

    def render(self) -> str:
        """The ``vrrp_instance NAME { ... }`` block."""
        lines = [
            f"vrrp_instance {self.name} {{",
            f"  state {self.state}",
            f"  interface {self.interface}",
            f"  virtual_router_id {self.vrid}",
            f"  priority {self.priority}",
            f"  advert_int {self.advert_int:g}",
        ]
        if self.version is not None:
            lines.append(f"  version {self.version}")
        if self.native_ipv6:
            lines.append("  native_ipv6")
        if self.use_vmac:
            lines.append("  use_vmac")
        if self.nopreempt:
            lines.append("  nopreempt")
        if self.preempt_delay is not None:
            lines.append(f"  preempt_delay {self.preempt_delay:g}")
        if self.auth_pass is not None:
            lines += ["  authentication {", "    auth_type PASS", f"    auth_pass {self.auth_pass}"]
            lines.append("  }")
        if self.unicast_src_ip:
            lines.append(f"  unicast_src_ip {self.unicast_src_ip}")
        if self.unicast_peers:
            lines += ["  unicast_peer {", *(f"    {p}" for p in self.unicast_peers), "  }"]
        lines += ["  virtual_ipaddress {", *(f"    {v}" for v in self.vips), "  }"]
        if self.track_files:
            lines += ["  track_file {", *(f"    {t.name}" for t in self.track_files), "  }"]
        if self.extra:
            lines += [f"  {x}" for x in self.extra.strip().splitlines()]
        lines.append("}")
        return "\n".join(lines) + "\n"


def keepalived_config(
    *instances: VrrpInstance, router_id: str = "lab", global_extra: str = ""
) -> str:
    """A complete keepalived.conf: global_defs, track_file blocks, the instances."""
    tfs: dict[str, TrackFile] = {}
    for inst in instances:
        for tf in inst.track_files:
            tfs[tf.name] = tf
    head = f"global_defs {{\n  router_id {router_id}\n{global_extra}}}\n"
    return (
        head
        + "".join(t.definition() for t in tfs.values())
        + "".join(i.render() for i in instances)
    )


# --------------------------------------------------------------------------- the lab


RouterSpec = Sequence[str] | dict[str, Sequence[int | tuple[int, int]]]


class Lab:
    """Namespaces, bridges, daemons, captures and an event log, cleaned up on exit.

    ``routers`` is a list of names (all on segment 1, untagged) or a mapping
    ``name -> [segment | (segment, vlan), ...]``; interface ``ethN`` is the N-th entry
    (a ``(segment, vlan)`` entry makes ``ethN`` an access port of that VLAN).
    ``timeout`` bounds the whole lab: a watchdog kills daemons and captures when it passes,
    and later lab calls raise :class:`LabTimeout`.
    """

    def __init__(
        self,
        routers: RouterSpec = ("r1", "r2"),
        *,
        timeout: float = 120.0,
        workdir: Path | None = None,
        keep_workdir: bool = False,
    ) -> None:
        spec: dict[str, list[int | tuple[int, int]]]
        if isinstance(routers, dict):
            spec = {k: list(v) for k, v in routers.items()}
        else:
            spec = {name: [1] for name in routers}
        for name, segs in spec.items():
            if not _NAME_RE.match(name):
                raise ValueError(f"router name {name!r}: want [a-z][a-z0-9]{{0,9}}")
            if not segs or len(segs) > 8:
                raise ValueError(f"router {name}: 1..8 interfaces")
        if len(spec) > 250:
            raise ValueError("at most 250 routers")
        self.spec = spec
        self.timeout = timeout
        self.tag = new_tag()
        self.bridge_ns = f"{self.tag}-br"
        self.routers: dict[str, Router] = {}
        self.segments: dict[int, str] = {}
        self.events: list[Event] = []
        self.daemons: list[Daemon] = []
        self.captures: list[Capture] = []
        self.rules: list[FirewallRule] = []
        self.leftovers: dict[str, list[Any]] = {}
        self._own_workdir = workdir is None
        self.keep_workdir = keep_workdir
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        self._namespaces: list[str] = []
        self._deadline = 0.0
        self._expired = threading.Event()
        self._watchdog: threading.Timer | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._old_sigterm: Any = None
        self._nft_ready = False
        self._abort_reason = ""
        self._nft_chains: set[str] = set()

    # ------------------------------------------------------------------ availability

    @staticmethod
    def available() -> tuple[bool, str]:
        """``(True, "")`` when the lab can run here, else ``(False, reason)``."""
        if os.geteuid() != 0:
            return False, "lab needs root (network namespaces)"
        for tool in ("ip", "keepalived", "tcpdump", "timeout", "iptables"):
            if shutil.which(tool) is None:
                return False, f"{tool} not installed"
        try:
            res = _run([IP, "netns", "list"], check=False, timeout=5)
        except LabError as exc:
            return False, str(exc)
        if res.returncode != 0:
            return False, f"ip netns unusable: {res.stderr.strip()}"
        return True, ""

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Build namespaces, bridges and veths; arm the watchdog and exit hooks."""
        ok, why = self.available()
        if not ok:
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise Unsupported(why)
        _LIVE.add(self)
        atexit.register(self.close)
        if threading.current_thread() is threading.main_thread():
            self._old_sigterm = signal.getsignal(signal.SIGTERM)
            if self._old_sigterm in (signal.SIG_DFL, None):
                signal.signal(signal.SIGTERM, _sigterm_to_exit)
        self._deadline = time.monotonic() + self.timeout
        self._watchdog = threading.Timer(self.timeout, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        self.mark("lab-up", routers=list(self.routers), segments=len(self.segments))

    def _add_ns(self, ns: str) -> None:
        _run([IP, "netns", "add", ns])
        self._namespaces.append(ns)
        _run([IP, "-n", ns, "link", "set", "lo", "up"])

    def _build(self) -> None:
        self._add_ns(self.bridge_ns)
        _run(
            [
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ],
            ns=self.bridge_ns,
        )
        seg_ids = sorted({s if isinstance(s, int) else s[0] for v in self.spec.values() for s in v})
        for seg in seg_ids:
            if not 1 <= seg <= 99:
                raise ValueError(f"segment {seg}: want 1..99")
            br = f"br{seg - 1}"
            self.segments[seg] = br
            _run(
                [IP, "-n", self.bridge_ns, "link", "add", br, "type", "bridge"]
                + [
                    "mcast_snooping",
                    "0",
                    "stp_state",
                    "0",
                    "forward_delay",
                    "0",
                    "ageing_time",
                    "0",
                ]
            )
            _run([IP, "-n", self.bridge_ns, "link", "set", br, "up"])
        for idx, (name, segs) in enumerate(self.spec.items(), start=1):
            ns = f"{self.tag}-{name}"
            self._add_ns(ns)
            _run(
                ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]
                + [
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.default.router_solicitations=0",
                ],
                ns=ns,
            )
            rdir = self.workdir / name
            rdir.mkdir(parents=True, exist_ok=True)
            router = Router(name=name, index=idx, ns=ns, workdir=rdir)
            for n, entry in enumerate(segs):
                seg, vlan = (entry, None) if isinstance(entry, int) else entry
                router.ifaces.update(self._wire(router, f"eth{n}", seg, vlan))
            self.routers[name] = router

    def _wire(self, r: Router, ifname: str, seg: int, vlan: int | None) -> dict[str, Iface]:
        port = f"{r.name}-{ifname}"
        mac = f"02:00:00:00:{seg:02x}:{r.index:02x}"
        br = self.segments[seg]
        _run(
            [IP, "-n", self.bridge_ns, "link", "add", port, "type", "veth"]
            + ["peer", "name", ifname, "netns", r.ns]
        )
        _run([IP, "-n", self.bridge_ns, "link", "set", port, "master", br])
        if vlan is None:
            v4 = f"198.18.{seg}.{r.index}"
            v6 = f"2001:db8:{seg}::{r.index}"
        else:
            if not 1 < vlan <= 4094:
                raise ValueError(f"vlan {vlan}: want 2..4094")
            self._vlan_port(br, port, vlan)
            v4 = f"198.19.{vlan % 256}.{r.index}"
            v6 = f"2001:db8:{seg}:{vlan:x}::{r.index}"
        _run([IP, "-n", self.bridge_ns, "link", "set", port, "up"])
        _run([IP, "-n", r.ns, "link", "set", ifname, "address", mac, "up"])
        _run([IP, "-n", r.ns, "addr", "add", f"{v4}/24", "dev", ifname])
        _run([IP, "-n", r.ns, "addr", "add", f"{v6}/64", "dev", ifname])
        link = _run([IP, "-n", r.ns, "-o", "link", "show", "dev", ifname]).stdout
        return {
            ifname: Iface(
                name=ifname,
                segment=seg,
                bridge=br,
                ipv4=v4,
                ipv6=v6,
                mac=mac,
                link_local=_eui64_link_local(mac),
                vlan=vlan,
                port=port,
                ifindex=int(link.split(":", 1)[0]),
            )
        }

    def _vlan_port(self, br: str, port: str, vlan: int) -> None:
        """Make ``port`` an untagged access port of ``vlan``; ``br`` itself a tagged member."""
        ns = self.bridge_ns
        res = _run(
            [IP, "-n", ns, "link", "set", br, "type", "bridge", "vlan_filtering", "1"],
            check=False,
        )
        if res.returncode != 0:
            raise Unsupported(f"bridge VLAN filtering unavailable: {res.stderr.strip()}")
        _run(["bridge", "vlan", "del", "dev", port, "vid", "1"], ns=ns, check=False)
        _run(["bridge", "vlan", "add", "dev", port, "vid", str(vlan), "pvid", "untagged"], ns=ns)
        _run(["bridge", "vlan", "add", "dev", br, "vid", str(vlan), "self"], ns=ns)

    def _expire(self) -> None:
        """Watchdog: the deadline passed; stop every process we started."""
        self.abort(f"exceeded its {self.timeout}s budget")

    def abort(self, reason: str = "aborted") -> None:
        """Kill every process of this lab now (any thread); later lab calls raise.

        Namespaces are removed by :meth:`close`, which the owner's ``with`` still runs.
        """
        self._abort_reason = reason
        self._expired.set()
        self._kill_all()

    def check(self) -> None:
        """Raise :class:`LabTimeout` when the lab's deadline has passed."""
        if self._expired.is_set():
            raise LabTimeout(f"lab {self._abort_reason}")
        if time.monotonic() > self._deadline:
            raise LabTimeout(f"lab exceeded its {self.timeout}s budget")

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return max(0.0, self._deadline - time.monotonic())

    def _kill_all(self) -> None:
        for cap in self.captures:
            if cap.proc.poll() is None:
                _signal([cap.proc.pid], signal.SIGINT)
        for d in self.daemons:
            if d.running:
                _signal([d.proc.pid, *d.pids()], signal.SIGCONT)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(d.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop captures and daemons, delete namespaces, verify nothing of ours survives."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _LIVE.discard(self)
        if self._watchdog is not None:
            self._watchdog.cancel()
        try:
            for cap in self.captures:
                with contextlib.suppress(Exception):
                    cap.stop(timeout=3)
            running = [d for d in self.daemons if d.running]
            for d in running:  # resume paused ones so SIGTERM is handled
                _signal([d.proc.pid, *d.pids()], signal.SIGCONT)
                _signal([d.main_pid() or d.proc.pid], signal.SIGTERM)
            end = time.monotonic() + 3
            for d in running:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    d.proc.wait(max(0.05, end - time.monotonic()))
            for d in self.daemons:
                if d.proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(d.proc.pid, signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        d.proc.wait(3)
            for ns in reversed(self._namespaces):
                _destroy_namespace(ns)
            started = [d.proc.pid for d in self.daemons] + [c.proc.pid for c in self.captures]
            self.leftovers = {
                "namespaces": [ns for ns in list_namespaces() if ns.startswith(self.tag)],
                "processes": [p for p in started if _alive(p)],
            }
        finally:
            if self._old_sigterm is not None:
                with contextlib.suppress(ValueError):
                    signal.signal(signal.SIGTERM, self._old_sigterm)
            with contextlib.suppress(Exception):
                atexit.unregister(self.close)
            if self._own_workdir and not self.keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ events

    def mark(self, event: str, router: str | None = None, **details: Any) -> Event:
        """Record an event stamped with ``time.time_ns()``."""
        ev = Event(time.time_ns(), event, router, details)
        self.events.append(ev)
        return ev

    def wait(self, seconds: float, label: str | None = None) -> None:
        """Sleep (bounded by the deadline); record a ``wait`` event when ``label`` is set."""
        self.check()
        if label:
            self.mark("wait", seconds=seconds, label=label)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._expired.wait(min(left, 0.2)):
                break
        self.check()

    def wait_for(self, predicate: Any, timeout: float, interval: float = 0.2) -> bool:
        """Poll ``predicate()`` until true or ``timeout``; return its last truth value."""
        end = time.monotonic() + timeout
        while True:
            self.check()
            if predicate():
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(interval)

    # ------------------------------------------------------------------ queries

    def router(self, name: str) -> Router:
        """The router called ``name``."""
        return self.routers[name]

    def layout(self) -> dict[str, Any]:
        """JSON-able description: segments (bridges) and routers' interfaces."""
        return {
            "bridge_ns": self.bridge_ns,
            "segments": {str(k): v for k, v in self.segments.items()},
            "routers": {
                r.name: {
                    "ns": r.ns,
                    "interfaces": {
                        i.name: {k: v for k, v in asdict(i).items() if k != "name"}
                        for i in r.ifaces.values()
                    },
                }
                for r in self.routers.values()
            },
        }

    def addresses(self, router: str) -> list[str]:
        """All addresses (without prefix length) configured in the router's namespace."""
        res = _run([IP, "-n", self.routers[router].ns, "-o", "addr", "show"])
        return [line.split()[3].split("/")[0] for line in res.stdout.splitlines()]

    def holders(self, vip: str) -> list[str]:
        """Routers whose namespace currently holds address ``vip``."""
        addr = str(ipaddress.ip_address(vip.split("/")[0]))
        return [n for n in self.routers if addr in self.addresses(n)]

    def ns_exec(self, router: str, *args: str, check: bool = True) -> str:
        """Run a short command inside a router namespace; return stdout."""
        self.check()
        return _run(list(args), ns=self.routers[router].ns, check=check).stdout

    # ------------------------------------------------------------------ capture

    def start_capture(
        self,
        path: Path | str,
        *,
        segment: int = 1,
        router: str | None = None,
        iface: str | None = None,
        linktype: str | None = None,
        count: int = 3000,
        max_seconds: float | None = None,
        bpf: str | None = None,
        snaplen: int = 0,
    ) -> Capture:
        """Start ``tcpdump -U -w path`` and wait until it listens.

        By default on the segment's bridge (``br<segment-1>``) in the bridge namespace;
        with ``router`` it runs in that router's namespace (``iface="any"`` there gives a
        LINUX_SLL2 capture, ``linktype="LINUX_SLL"`` the v1 form). Bounded by ``-c count``
        and ``max_seconds`` (default: the lab's remaining time).
        """
        self.check()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if router is None:
            ns, where, dev = self.bridge_ns, "bridge", iface or self.segments[segment]
        else:
            ns, where, dev = self.routers[router].ns, router, iface or "any"
        limit = max_seconds if max_seconds is not None else self.remaining() + 2
        err = self.workdir / f"tcpdump-{len(self.captures)}.err"
        args = [
            "timeout",
            "-k",
            "3",
            "-s",
            "INT",
            f"{limit:.1f}",
            "tcpdump",
            "-n",
            "-U",
            "-Z",
            "root",
        ]
        args += ["-i", dev, "-c", str(count), "-w", str(path)]
        if snaplen:
            args += ["-s", str(snaplen)]
        if linktype:
            args += ["-y", linktype]
        if bpf:
            args.append(bpf)
        with open(err, "wb") as errf:
            proc = subprocess.Popen(
                [IP, "netns", "exec", ns, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errf,
                start_new_session=True,
            )
        cap = Capture(path, ns, dev, proc, err, linktype=linktype, where=where)
        self.captures.append(cap)
        ok = self.wait_for(
            lambda: "listening on" in err.read_text(errors="replace") or proc.poll() is not None,
            timeout=5,
            interval=0.05,
        )
        if not ok or proc.poll() is not None:
            raise LabError(f"tcpdump did not start: {err.read_text(errors='replace')}")
        ev = self.mark("capture-start", where=where, iface=dev, file=path.name, linktype=linktype)
        cap.started_ns = ev.t_ns
        return cap

    def stop_capture(self, cap: Capture) -> int | None:
        """Stop ``cap`` and record a ``capture-stop`` event with the packet count."""
        n = cap.stop()
        self.mark("capture-stop", where=cap.where, iface=cap.iface, file=cap.path.name, packets=n)
        return n

    def write_sidecar(
        self, path: Path | str, cap: Capture | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Write ``{scenario info, layout, events}`` as JSON next to a capture."""
        doc: dict[str, Any] = {**extra}
        if cap is not None:
            doc.update(pcap=cap.path.name, capture_ns=cap.where, capture_iface=cap.iface)
            doc["linktype"] = cap.linktype or ("LINUX_SLL2" if cap.iface == "any" else "EN10MB")
            doc["packets"] = cap.packets
        doc["t0_ns"] = cap.started_ns if cap else (self.events[0].t_ns if self.events else None)
        doc["layout"] = self.layout()
        doc["events"] = [e.to_json() for e in self.events]
        Path(path).write_text(json.dumps(doc, indent=1) + "\n")
        return doc

    # ------------------------------------------------------------------ daemons

    def _spawn(self, router: str, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        self.check()
        limit = self.remaining() + HARD_MARGIN
        cmd = [IP, "netns", "exec", self.routers[router].ns, "timeout", "-k", "5"]
        cmd += [f"{limit:.0f}", *args]
        with open(log, "ab") as logf:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=log.parent,
            )

    def start_keepalived(self, router: str, config: str, *, ready: float = 5.0) -> Daemon:
        """Start keepalived (``-n -l -D``, own pid files) in ``router`` with ``config``."""
        r = self.routers[router]
        n = sum(1 for d in self.daemons if d.router == router)
        base = r.workdir / f"keepalived{n}"
        conf = base.with_suffix(".conf")
        conf.write_text(config)
        pid, vrrp_pid, chk_pid = (base.with_suffix(s) for s in (".pid", ".vrrp.pid", ".chk.pid"))
        for p in (pid, vrrp_pid, chk_pid):
            p.unlink(missing_ok=True)
        log = base.with_suffix(".log")
        args = ["keepalived", "-n", "-l", "-D", "-f", str(conf)]
        args += ["-p", str(pid), "-r", str(vrrp_pid), "-c", str(chk_pid)]
        proc = self._spawn(router, args, log)
        d = Daemon("keepalived", router, proc, log, pid_file=pid)
        self.daemons.append(d)
        if not self.wait_for(lambda: vrrp_pid.exists() or proc.poll() is not None, ready, 0.05):
            raise LabError(f"keepalived in {router} not ready:\n{d.log()}")
        if proc.poll() is not None:
            raise LabError(f"keepalived in {router} exited rc={proc.returncode}:\n{d.log()}")
        self.mark("start", router, daemon="keepalived", config=config)
        return d

    def start_ucarp(
        self,
        router: str,
        *,
        vhid: int,
        password: str,
        vip: str,
        iface: str = "eth0",
        advbase: int = 1,
        advskew: int = 0,
        preempt: bool = False,
        src: str | None = None,
    ) -> Daemon:
        """Start ucarp in ``router``; its up/down scripts log and add/remove the VIP."""
        r = self.routers[router]
        src = src or r.iface(iface).ipv4
        n = sum(1 for d in self.daemons if d.router == router)
        base = r.workdir / f"ucarp{n}"
        script_log = base.with_suffix(".scripts.log")
        scripts = {}
        for kind, op in (("up", "add"), ("down", "del")):
            sp = base.with_suffix(f".{kind}.sh")
            sp.write_text(
                "#!/bin/sh\n"
                f'echo "$(date +%s.%N) {kind} $*" >> {script_log}\n'
                f'ip addr {op} "$2/32" dev "$1" 2>/dev/null\n'
                "exit 0\n"
            )
            sp.chmod(0o755)
            scripts[kind] = sp
        args = ["ucarp", "-i", iface, "-s", src, "-v", str(vhid), "-p", password, "-a", vip]
        args += ["-b", str(advbase), "-k", str(advskew), "-z"]
        args += ["-u", str(scripts["up"]), "-d", str(scripts["down"])]
        if preempt:
            args.append("-P")
        log = base.with_suffix(".log")
        proc = self._spawn(router, args, log)
        d = Daemon("ucarp", router, proc, log, extra_logs=(script_log,))
        self.daemons.append(d)
        self.wait_for(lambda: d.main_pid() is not None or proc.poll() is not None, 3, 0.05)
        if proc.poll() is not None:
            raise LabError(f"ucarp in {router} exited rc={proc.returncode}:\n{d.log()}")
        self.mark(
            "start", router, daemon="ucarp", vhid=vhid, vip=vip, advbase=advbase, advskew=advskew
        )
        return d

    def start_frr(
        self,
        router: str,
        *,
        vrid: int,
        priority: int,
        vips: Sequence[str],
        iface: str = "eth0",
        version: int = 3,
        advert_ms: int = 1000,
        preempt: bool = True,
        ready: float = 5.0,
    ) -> Daemon:
        """Start FRR's zebra and vrrpd in ``router`` for one IPv4 virtual router.

        vrrpd sends from a macvlan on ``iface`` carrying the virtual MAC and the VIPs
        (made here, as FRR's docs tell the operator to); both daemons log to their own
        files in FRR's format (``2026/12/03 19:02:53.123 VRRP: ...``). Returns vrrpd."""
        r = self.routers[router]
        base = r.workdir / f"frr{sum(1 for d in self.daemons if d.router == router)}"
        base.mkdir(mode=0o777)
        base.chmod(0o777)  # the daemons drop to user frr
        for d in (self.workdir, r.workdir):
            d.chmod(0o711)
        mvl = f"vrrp4-{vrid}"
        self.ns_exec(router, IP, "link", "add", mvl, "link", iface, "type", "macvlan")
        self.ns_exec(router, IP, "link", "set", mvl, "address", f"00:00:5e:00:01:{vrid:02x}")
        for vip in vips:
            self.ns_exec(router, IP, "addr", "add", vip, "dev", mvl)
        self.ns_exec(router, IP, "link", "set", mvl, "up")
        lines = [f"interface {iface}"]
        lines += [f" vrrp {vrid} version {version}", f" vrrp {vrid} priority {priority}"]
        lines.append(f" vrrp {vrid} advertisement-interval {advert_ms}")
        lines += [f" vrrp {vrid} ip {vip.split('/')[0]}" for vip in vips]
        if not preempt:
            lines.append(f" no vrrp {vrid} preempt")
        (base / "vrrpd.conf").write_text("\n".join(lines) + "\n")
        (base / "zebra.conf").write_text("")
        common = [
            "-z",
            str(base / "zserv.api"),
            "--vty_socket",
            str(base),
            "-u",
            "frr",
            "-g",
            "frr",
        ]
        started = []
        for daemon in ("zebra", "vrrpd"):
            log = base / f"{daemon}.log"
            args = [f"/usr/lib/frr/{daemon}", "-f", str(base / f"{daemon}.conf")]
            args += ["-i", str(base / f"{daemon}.pid"), *common, "--log", f"file:{log}"]
            proc = self._spawn(router, args, base / f"{daemon}.out")
            d = Daemon(
                "frr" if daemon == "vrrpd" else "zebra",
                router,
                proc,
                log,
                pid_file=base / f"{daemon}.pid",
            )
            self.daemons.append(d)
            started.append(d)
            # vrrpd retries a zebra socket that is not there yet only after 10 s
            up = base / ("zserv.api" if daemon == "zebra" else "vrrpd.log")
            if not self.wait_for(lambda d=d, up=up: up.exists() or not d.running, ready, 0.05):
                raise LabError(f"{daemon} in {router} not ready")
            if not d.running:
                out = (base / f"{daemon}.out").read_text(errors="replace")
                raise LabError(f"{daemon} in {router} exited rc={proc.returncode}:\n{out}")
        self.mark(
            "start",
            router,
            daemon="frr",
            vrid=vrid,
            priority=priority,
            vips=list(vips),
            version=version,
            advert_ms=advert_ms,
        )
        return started[-1]

    def daemon(self, router: str, kind: str = "keepalived") -> Daemon:
        """The latest running daemon of ``kind`` in ``router``."""
        for d in reversed(self.daemons):
            if d.router == router and d.kind == kind and d.running:
                return d
        raise LabError(f"no running {kind} in {router}")

    def _target(self, who: str | Daemon) -> Daemon:
        return who if isinstance(who, Daemon) else self.daemon(who)

    # ------------------------------------------------------------------ injections

    def stop(self, who: str | Daemon, *, wait: float = 5.0) -> Event:
        """SIGTERM the daemon (keepalived then sends priority 0) and wait for it to exit."""
        self.check()
        d = self._target(who)
        ev = self.mark("stop", d.router, daemon=d.kind, signal="SIGTERM")
        _signal([d.main_pid() or d.proc.pid], signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            d.proc.wait(wait)
        ev.details["exited"] = not d.running
        return ev

    def kill(self, who: str | Daemon) -> Event:
        """SIGKILL the daemon and its children at once: no goodbye advert, VIPs stay."""
        self.check()
        d = self._target(who)
        ev = self.mark("kill", d.router, daemon=d.kind, signal="SIGKILL")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(d.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            d.proc.wait(3)
        return ev

    def pause(self, who: str | Daemon) -> Event:
        """SIGSTOP the daemon and its children (adverts stop, state is frozen)."""
        self.check()
        d = self._target(who)
        pids = d.pids()
        ev = self.mark("pause", d.router, daemon=d.kind, signal="SIGSTOP")
        _signal(pids, signal.SIGSTOP)
        return ev

    def resume(self, who: str | Daemon) -> Event:
        """SIGCONT a paused daemon."""
        self.check()
        d = self._target(who)
        pids = d.pids()
        ev = self.mark("resume", d.router, daemon=d.kind, signal="SIGCONT")
        _signal(pids, signal.SIGCONT)
        return ev

    def block(
        self, router: str, chain: str = "INPUT", *, family: int | str = "both", proto: str = "112"
    ) -> list[FirewallRule]:
        """Drop protocol ``proto`` (VRRP/CARP) in ``chain`` of the router's firewall."""
        self.check()
        fams = (4, 6) if family == "both" else (int(family),)
        rules = []
        for fam in fams:
            rule = FirewallRule(router, fam, (chain, "-p", proto, "-j", "DROP"))
            self._iptables(rule, "-A")
            self.rules.append(rule)
            rules.append(rule)
        self.mark("block", router, chain=chain, proto=proto, families=list(fams))
        return rules

    def unblock(self, router: str, chain: str = "INPUT", *, family: int | str = "both") -> None:
        """Remove rules added by :meth:`block` for ``router``/``chain``."""
        self.check()
        fams = (4, 6) if family == "both" else (int(family),)
        gone = [r for r in self.rules if r.router == router and r.args[0] == chain]
        gone = [r for r in gone if r.family in fams]
        ev = self.mark("unblock", router, chain=chain, families=sorted({r.family for r in gone}))
        for rule in gone:
            self._iptables(rule, "-D")
            self.rules.remove(rule)
        ev.details["removed"] = len(gone)

    def wire_drop(self, router: str, iface: str = "eth0", *, proto: int = 112) -> Event:
        """Drop the router's protocol-``proto`` frames *in the bridge* (nft bridge family).

        Unlike :meth:`block`, this also silences daemons that send through packet sockets
        (ucarp bypasses iptables OUTPUT): nobody, not even the capture on the bridge, sees
        the frames — like a broken switch port. Undo with :meth:`wire_restore`.
        """
        self.check()
        port = self.routers[router].iface(iface).port
        chain = f"p_{router}_{iface}"
        if not self._nft_ready:
            self._nft("add table bridge lab")
            for name, hook in (("fw", "forward"), ("inp", "input")):
                self._nft(f"add chain bridge lab {name} {{ type filter hook {hook} priority 0; }}")
            self._nft_ready = True
        if chain not in self._nft_chains:
            self._nft(f"add chain bridge lab {chain}")
            for name in ("fw", "inp"):
                self._nft(f'add rule bridge lab {name} iifname "{port}" jump {chain}')
            self._nft_chains.add(chain)
        self._nft(f"add rule bridge lab {chain} ip protocol {proto} drop")
        self._nft(f"add rule bridge lab {chain} ip6 nexthdr {proto} drop")
        return self.mark("wire-drop", router, iface=iface, proto=proto)

    def wire_restore(self, router: str, iface: str = "eth0") -> Event:
        """Undo :meth:`wire_drop` for this router port."""
        self.check()
        chain = f"p_{router}_{iface}"
        if chain in self._nft_chains:
            self._nft(f"flush chain bridge lab {chain}")
        return self.mark("wire-restore", router, iface=iface)

    def _nft(self, cmd: str) -> None:
        _run(["nft", cmd], ns=self.bridge_ns)

    def _iptables(self, rule: FirewallRule, op: str) -> None:
        tool = "iptables" if rule.family == 4 else "ip6tables"
        _run([tool, "-w", "5", op, *rule.args], ns=self.routers[rule.router].ns)

    def track_file(self, router: str, name: str, *, weight: int = 1, value: int = 0) -> TrackFile:
        """Create a track file for ``router`` (reference it in a :class:`VrrpInstance`)."""
        path = self.routers[router].workdir / f"{name}.track"
        path.write_text(f"{value}\n")
        return TrackFile(name, path, router, weight)

    def set_track_file(self, tf: TrackFile, value: int) -> Event:
        """Write a new value into a track file (keepalived re-reads it via inotify)."""
        self.check()
        ev = self.mark("track", tf.router, file=tf.name, value=value, weight=tf.weight)
        tmp = tf.path.with_suffix(".tmp")
        tmp.write_text(f"{value}\n")
        tmp.replace(tf.path)
        return ev

    def netem(self, router: str, iface: str = "eth0", **opts: str) -> Event:
        """``tc qdisc replace ... netem`` (e.g. ``delay="100ms 50ms"``); needs sch_netem."""
        self.check()
        if not netem_available():
            raise Unsupported("tc netem not available (sch_netem missing)")
        args = ["tc", "qdisc", "replace", "dev", iface, "root", "netem"]
        for k, v in opts.items():
            args += [k, *v.split()]
        _run(args, ns=self.routers[router].ns)
        return self.mark("netem", router, iface=iface, **opts)

    def clear_netem(self, router: str, iface: str = "eth0") -> Event:
        """Remove the netem qdisc."""
        self.check()
        _run(["tc", "qdisc", "del", "dev", iface, "root"], ns=self.routers[router].ns, check=False)
        return self.mark("netem-clear", router, iface=iface)

    def link(self, router: str, up: bool, iface: str = "eth0") -> Event:
        """Set the router's interface down/up (carrier loss as seen by the daemon)."""
        self.check()
        _run([IP, "-n", self.routers[router].ns, "link", "set", iface, "up" if up else "down"])
        return self.mark("link-up" if up else "link-down", router, iface=iface)


_LIVE: set[Lab] = set()


def abort_all() -> None:
    """:meth:`Lab.abort` every open lab of this process (e.g. on Ctrl-C in a worker pool)."""
    for lab in list(_LIVE):
        lab.abort()


def _eui64_link_local(mac: str) -> str:
    """The fe80:: address the kernel derives from ``mac`` (EUI-64)."""
    b = bytearray(int(x, 16) for x in mac.split(":"))
    b[0] ^= 0x02
    eui = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + b"\x00" * 6 + eui))


def _sigterm_to_exit(signum: int, frame: object) -> None:
    """SIGTERM → SystemExit, so ``with Lab(...)`` cleans up."""
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def lab(routers: RouterSpec = ("r1", "r2"), **kw: Any) -> Iterator[Lab]:
    """Functional spelling of ``with Lab(...)``."""
    with Lab(routers, **kw) as lb:
        yield lb


# --------------------------------------------------------------------------- oracle


@dataclass
class WireAdvert:
    """One VRRP/CARP advert as ``tcpdump -nn -v`` prints it (an independent decode)."""

    t: float
    src: str
    dst: str
    proto: str
    vrid: int
    prio: int | None
    line: str
    iface: str | None = None


_TD_HEAD = re.compile(r"^(\d+\.\d+)\s+(?:(\S+)\s+(?:In|Out|M|B|P)\s+)?")
_TD_VRRP = re.compile(r"(\S+) > (\S+): (VRRPv\d), Advertisement, vrid (\d+), prio (\d+)")
_TD_CARP = re.compile(r"(\S+) > (\S+): (CARPv\d)-advertise \d+: vhid=(\d+)")


def tcpdump_adverts(
    pcap: Path | str, *, carp: bool = False, timeout: float = 20.0
) -> list[WireAdvert]:
    """VRRP (or, with ``carp``, CARP via ``-T carp``) adverts in ``pcap`` per tcpdump.

    Epoch times; ``iface`` is tcpdump's name for ``-i any`` captures (SLL2 stores only an
    ifindex, which tcpdump resolves against the *reading* host's interfaces). Packets
    whose IP protocol is not 112 (e.g. an ICMP error quoting an advert) are skipped.
    tcpdump decodes every protocol-112 packet as VRRP unless told ``-T carp``: CARP then
    reads as "VRRPv2 ... prio 0" with bogus addresses.
    """
    args = ["tcpdump", "-nn", "-v", "-tt", *(["-T", "carp"] if carp else []), "-r", str(pcap)]
    res = _run(args, timeout=timeout, check=False)
    rx = _TD_CARP if carp else _TD_VRRP
    out: list[WireAdvert] = []
    head: re.Match[str] | None = None
    is112 = False
    for line in res.stdout.splitlines():
        if not line.startswith((" ", "\t")):
            head = _TD_HEAD.match(line)
            is112 = "VRRP (112)" in line
        m = rx.search(line)
        if not m or head is None or not is112:
            continue
        is112 = False  # one advert per packet
        prio = int(m.group(5)) if not carp else None
        adv = WireAdvert(
            float(head.group(1)),
            m.group(1),
            m.group(2),
            m.group(3),
            int(m.group(4)),
            prio,
            line.strip(),
            head.group(2),
        )
        out.append(adv)
    return out
