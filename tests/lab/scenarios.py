"""Lab scenarios: each builds a :class:`~tests.lab.netlab.Lab`, runs one experiment with
keepalived/ucarp while tcpdump records it, and writes ``<name>.pcap`` plus
``<name>.events.json`` into an output directory.

Times in the docstrings are relative to the capture start and are what ``tcpdump -nn -v``
showed on the captures committed in ``captures/`` (runs vary by a few tens of ms).
Unless stated otherwise: VRRPv2, advert_int 1, no authentication, r1 = 198.18.1.1
(MAC 02:00:00:00:01:01), r2 = 198.18.1.2 (02:00:00:00:01:02), r3 = .3, r4 = .4,
keepalived sends from the interface MAC (no ``use_vmac``).

keepalived 2.2.7 starts every instance in BACKUP, even with ``state MASTER`` (only an
address owner, priority 255, starts as master), so the first adverts appear ~3.4 s after
start (master-down interval of the configured priority), and a restarted higher-priority
router waits that long again before preempting.

A keepalived master that receives protocol-112 packets it rejects (wrong password,
interval mismatch, other address set, CARP, bad checksum) re-arms its own advert timer on
each one, so two such masters mostly take turns instead of both sending every second,
and a master with a longer interval can be silenced entirely while still holding the
VIP. Captures of duplicate VRIDs, mismatches and CARP collisions show this.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lab.netlab import Capture, Event, Lab, RouterSpec, VrrpInstance, keepalived_config


@dataclass
class CaptureSpec:
    """Where a scenario captures: the bridge of ``segment`` or ``-i any`` in ``router``."""

    suffix: str = ""
    segment: int = 1
    router: str | None = None
    iface: str | None = None
    linktype: str | None = None
    count: int = 3000


@dataclass
class ScenarioResult:
    """What a scenario produced."""

    name: str
    pcaps: list[Path]
    sidecars: list[Path]
    events: list[Event]
    layout: dict[str, Any]
    duration_s: float
    packets: dict[str, int | None] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)  # "r1-keepalived0" → log
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def pcap(self) -> Path:
        """The (first) capture file."""
        return self.pcaps[0]


@dataclass
class Session:
    """A running scenario: the lab, notes for the sidecar, and (after the block) the result."""

    lab: Lab
    notes: dict[str, Any] = field(default_factory=dict)
    result: ScenarioResult | None = None
    starter: Callable[[], None] | None = None

    def start_captures(self) -> None:
        """Start the captures now, for ``recording(..., deferred=True)``."""
        if self.starter is None:
            raise RuntimeError("captures already started")
        start, self.starter = self.starter, None
        start()

    def done(self) -> ScenarioResult:
        """The result, once the ``recording`` block has finished."""
        if self.result is None:
            raise RuntimeError("scenario still running")
        return self.result


@contextlib.contextmanager
def recording(
    name: str,
    out_dir: Path | str,
    routers: RouterSpec = ("r1", "r2"),
    *,
    captures: Sequence[CaptureSpec] = (CaptureSpec(),),
    timeout: float = 90.0,
    summary: str = "",
    deferred: bool = False,
) -> Iterator[Session]:
    """Lab + running captures; on exit stop them and write the sidecars into ``out_dir``.

    With ``deferred``, the captures start only when the block calls
    ``session.start_captures()`` (a capture of a system already running; events before
    it get negative capture times). After the block, ``session.done()`` is the
    :class:`ScenarioResult`. When the block fails, the partial capture files are removed
    and the error propagates.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with Lab(routers, timeout=timeout) as lab:
        caps: list[Capture] = []

        def start() -> None:
            for spec in captures:
                caps.append(
                    lab.start_capture(
                        out / f"{name}{spec.suffix}.pcap",
                        segment=spec.segment,
                        router=spec.router,
                        iface=spec.iface,
                        linktype=spec.linktype,
                        count=spec.count,
                    )
                )

        session = Session(lab, starter=start if deferred else None)
        if not deferred:
            start()
        try:
            yield session
            if session.starter is not None:
                raise RuntimeError(f"{name}: deferred captures were never started")
            lab.wait(0.5)
        except BaseException:
            for cap in caps:
                cap.stop()
                cap.path.unlink(missing_ok=True)
            raise
        for cap in caps:
            lab.stop_capture(cap)
        sidecars = []
        for cap in caps:
            side = cap.path.with_name(cap.path.name.removesuffix(".pcap") + ".events.json")
            lab.write_sidecar(
                side, cap, scenario=name, summary=summary or _first_line(name), **session.notes
            )
            sidecars.append(side)
        logs = {
            f"{d.router}-{d.log_path.parent.name if d.kind == 'frr' else d.log_path.stem}": (
                d.own_log()
            )
            for d in lab.daemons
            if d.kind != "zebra"
        }
        res = ScenarioResult(
            name=name,
            pcaps=[c.path for c in caps],
            sidecars=sidecars,
            events=list(lab.events),
            layout=lab.layout(),
            duration_s=0.0,
            packets={c.path.name: c.packets for c in caps},
            logs=logs,
            notes=session.notes,
        )
    res.duration_s = round(time.monotonic() - t0, 1)
    session.result = res


def _first_line(name: str) -> str:
    fn = SCENARIOS.get(name)
    doc = (fn.__doc__ or "") if fn else ""
    return doc.strip().splitlines()[0] if doc.strip() else name


def pair(
    lab: Lab,
    *,
    vrid: int = 51,
    vips: Sequence[str] = ("198.18.1.100/24",),
    routers: Sequence[tuple[str, int]] = (("r1", 150), ("r2", 100)),
    auth: str | Sequence[str | None] | None = None,
    advert_int: float | Sequence[float] = 1,
    first_master: bool = True,
    **inst: Any,
) -> dict[str, VrrpInstance]:
    """Start one keepalived cluster: one instance per router, the first as ``MASTER``.

    ``auth`` and ``advert_int`` may be per-router sequences (for mismatches).
    """
    made = {}
    for i, (name, prio) in enumerate(routers):
        a = auth if auth is None or isinstance(auth, str) else auth[i]
        ai = advert_int if isinstance(advert_int, int | float) else advert_int[i]
        vi = VrrpInstance(
            f"VI_{vrid}",
            vrid=vrid,
            priority=prio,
            vips=list(vips),
            state="MASTER" if first_master and i == 0 else "BACKUP",
            auth_pass=a,
            advert_int=ai,
            **inst,
        )
        lab.start_keepalived(name, keepalived_config(vi, router_id=name))
        made[name] = vi
    return made


# --------------------------------------------------------------------------- scenarios


def baseline(out_dir: Path | str) -> ScenarioResult:
    """Two keepalived routers, VRID 51, VIP 198.18.1.100, priorities 150/100, stable.

    ~0 s r1 (state MASTER) and r2 (BACKUP) start; ~3.4 s r1 becomes master and from then
    sends VRRPv2 adverts (prio 150, intvl 1 s, authtype none, addrs 198.18.1.100, ttl 255)
    every second from its own MAC to 01:00:5e:00:00:12 (11 adverts), plus 5 gratuitous
    ARPs for the VIP at takeover and 5 more ~5 s later. r2 stays silent. Also IGMP/MLD
    reports of the routers. Expected: no problems (non-standard-mac info only).
    """
    with recording("baseline", out_dir) as s:
        pair(s.lab)
        s.lab.wait(14)
    return s.done()


def failover(out_dir: Path | str) -> ScenarioResult:
    """Master resigns (SIGTERM → priority 0), backup takes over, old master preempts back.

    ~3.4 s r1 master as in baseline; ~7.2 s ``stop`` r1: r1 sends one advert with prio 0,
    r2 advertises prio 100 from ~7.8 s (skew time (256-100)/256 = 0.61 s later); ~14.3 s
    r1 restarted (same config): it starts as BACKUP, discards r2's lower-priority adverts
    and preempts when its master-down timer expires, ~17.6 s (prio 150); r2 falls silent.
    Expected: resigned, failover r1→r2 (priority 0, ~0.6 s), failover r2→r1 (preempted).
    """
    with recording("failover", out_dir) as s:
        made = pair(s.lab)
        s.lab.wait(7)
        s.lab.stop("r1")
        s.lab.wait(6)
        s.lab.start_keepalived("r1", keepalived_config(made["r1"], router_id="r1"))
        s.lab.wait(6)
    return s.done()


def failover_kill(out_dir: Path | str) -> ScenarioResult:
    """Master killed with SIGKILL (no goodbye): backup takes over after master-down time.

    r1 master from ~3.4 s; ~7.2 s ``kill`` r1 (keepalived and its VRRP child, SIGKILL):
    last r1 advert at ~6.4 s, no prio-0 advert; r2 advertises from ~10.0 s, 3.6 s after
    r1's last advert (3 × 1 s + skew 0.61 s). r1 keeps the VIP configured (stale,
    invisible on the wire; ``vip_holders_at_end`` in the sidecar).
    Expected: failover r1→r2 with cause silence, takeover ≈ master-down interval.
    """
    with recording("failover-kill", out_dir) as s:
        pair(s.lab)
        s.lab.wait(7)
        s.lab.kill("r1")
        s.lab.wait(7)
        s.notes["vip_holders_at_end"] = s.lab.holders("198.18.1.100")
    return s.done()


def duplicate_vrid(out_dir: Path | str) -> ScenarioResult:
    """Two unrelated clusters share VRID 51 on one segment (different VIPs and passwords).

    Cluster A: r1 (150, MASTER) / r2 (100), VIP 198.18.1.100, auth PASS "clusterA".
    Cluster B: r3 (150, MASTER) / r4 (100), VIP 198.18.1.200, auth PASS "clusterB".
    From ~3.5 s both r1 and r3 are master (each rejects the other cluster's adverts:
    "received an invalid passwd!"), but they mostly take turns on the wire (see module
    notes): sometimes both in the same second, often r1 alone for a few seconds, then r3;
    when r3 is silent for 3.6 s, r4 briefly goes master (a single prio-100 advert, e.g.
    at ~11.2 s) until r3's next advert sends it back; r2 stays silent.
    Expected: duplicate-vrid (r1, r3, r4; two address sets), plaintext-auth,
    config-mismatch (auth data).
    """
    with recording("duplicate-vrid", out_dir, ("r1", "r2", "r3", "r4")) as s:
        pair(s.lab, auth="clusterA")
        pair(s.lab, vips=["198.18.1.200/24"], routers=[("r3", 150), ("r4", 100)], auth="clusterB")
        s.lab.wait(14)
    return s.done()


def split_brain(out_dir: Path | str) -> ScenarioResult:
    """Backup stops hearing the master (INPUT drop): both advertise, then it recovers.

    r1 master from ~3.4 s; ~6.1 s ``iptables -A INPUT -p 112 -j DROP`` in r2 (and
    ip6tables); ~9.0 s r2 declares the master dead and advertises prio 100 (+ gratuitous
    ARPs for the VIP from r2's MAC at ~9.0 and ~14.0 s; r1, hearing a lower priority,
    sends GARP bursts about every second) while r1 keeps advertising prio 150: both speak
    every second, same address set, for ~8 s; ~16.1 s rule removed, r2 sends one more
    advert (~17.0 s), hears r1 and falls silent.
    Expected: split-brain r1+r2 (~9.1 s to ~17.1 s).
    """
    with recording("split-brain", out_dir) as s:
        pair(s.lab)
        s.lab.wait(6)
        s.lab.block("r2", "INPUT")
        s.lab.wait(10)
        s.notes["vip_holders_while_blocked"] = s.lab.holders("198.18.1.100")
        s.lab.unblock("r2", "INPUT")
        s.lab.wait(5)
    return s.done()


def stale_arp(out_dir: Path | str) -> ScenarioResult:
    """Both nodes deaf to VRRP (INPUT drop on each): a split brain that heals silently.

    r1 (150) master from ~3.4 s, its gratuitous ARPs for 198.18.1.100 at ~3.4 and ~8.4
    s; ~5.1 s ``iptables -A INPUT -p 112 -j DROP`` in r1 and in r2; r2 declares the master
    dead (~8.0 s: 3.61 s after the last advert it heard) and advertises prio 100 beside
    r1 (its GARPs at ~8.0 and ~13.0); r1 hears nothing, so it never answers with GARPs of
    its own (as it does when it hears a lower priority). ~16.1 s r2's rule removed: r2
    hears r1, yields and removes the VIP; ~19.1 s r1's rule removed. r1 was master all
    along and sends no GARP after the heal: the last one on the wire is r2's, so hosts
    keep r2's MAC for the VIP. Expected: split-brain (~8.0 s to ~16.0 s), then stale-arp
    naming r1 (stayed master, no GARP) and r2 (the MAC hosts last heard).
    """
    with recording("stale-arp", out_dir) as s:
        pair(s.lab)
        s.lab.wait(5)
        s.lab.block("r1", "INPUT")
        s.lab.block("r2", "INPUT")
        s.lab.wait(11)
        s.notes["vip_holders_while_blocked"] = s.lab.holders("198.18.1.100")
        s.lab.unblock("r2", "INPUT")
        s.lab.wait(3)
        s.lab.unblock("r1", "INPUT")
        s.lab.wait(5)
        s.notes["vip_holders_at_end"] = s.lab.holders("198.18.1.100")
    return s.done()


def master_blocked(out_dir: Path | str) -> ScenarioResult:
    """Master's outgoing adverts dropped (OUTPUT drop on r1): r2 takes over, r1 unaware.

    r1 master from ~3.4 s; ~6.2 s ``iptables -A OUTPUT -p 112 -j DROP`` in r1: r1's
    adverts vanish (keepalived logs "send advert error 1 (Operation not permitted)"; it
    stays master and keeps the VIP); r2 advertises from ~9.1 s, 3.6 s after r1's last
    advert; ~16.2 s rule removed: r1's prio 150 adverts reappear at ~17.1 s, r2 falls
    silent. On the wire: a silent failover and back (the hidden dual VIP is invisible).
    Expected: failover r1→r2 (silence), failover r2→r1 (higher priority).
    """
    with recording("master-blocked", out_dir) as s:
        pair(s.lab)
        s.lab.wait(6)
        s.lab.block("r1", "OUTPUT")
        s.lab.wait(10)
        s.notes["vip_holders_while_blocked"] = s.lab.holders("198.18.1.100")
        s.lab.unblock("r1", "OUTPUT")
        s.lab.wait(5)
    return s.done()


def no_master(out_dir: Path | str) -> ScenarioResult:
    """All routers' adverts dropped (OUTPUT drop on r1 and r2): VRID 51 goes silent.

    r1 master from ~3.4 s; ~6.1 s OUTPUT drop of protocol 112 in both r1 and r2: no VRRP
    on the wire from ~5.4 s (last advert) to ~16.5 s, although r2 internally goes master
    after 3.6 s and its gratuitous ARPs for the VIP (from 02:00:00:00:01:02, ~9.1 s and
    ~14.1 s) do reach the wire; ~16.1 s rules removed: only r1 advertises again (r2
    yields without sending). Expected: no-master (~5.4 s to ~16.5 s).
    """
    with recording("no-master", out_dir) as s:
        pair(s.lab)
        s.lab.wait(6)
        s.lab.block("r1", "OUTPUT")
        s.lab.block("r2", "OUTPUT")
        s.lab.wait(10)
        s.notes["vip_holders_while_blocked"] = s.lab.holders("198.18.1.100")
        s.lab.unblock("r1", "OUTPUT")
        s.lab.unblock("r2", "OUTPUT")
        s.lab.wait(5)
    return s.done()


#: track-file values for r1 in :func:`priority_flap` (weight 1, base priority 150).
FLAP_VALUES = (-10, 10, -20, 0, -30, 5, -15, 0)


def priority_flap(out_dir: Path | str) -> ScenarioResult:
    """Master's priority changes every 2 s via a keepalived track_file (weight 1).

    r1 has ``track_file { tf_r1 }`` (global ``track_file tf_r1 { file ...; weight 1 }``,
    value 0); r1 master from ~3.4 s; from ~4.1 s every 2 s the file is set to -10, 10,
    -20, 0, -30, 5, -15, 0 and r1's next advert (≤ 1 s later) carries prio 140, 160, 130,
    150, 120, 155, 135, 150 (always above r2's 100, so r1 stays master). Expected:
    priority-flap on r1 (8 changes in ~16 s), no failover.
    """
    with recording("priority-flap", out_dir) as s:
        tf = s.lab.track_file("r1", "tf_r1", weight=1)
        vi1 = VrrpInstance("VI_51", 51, 150, ["198.18.1.100/24"], state="MASTER", track_files=[tf])
        vi2 = VrrpInstance("VI_51", 51, 100, ["198.18.1.100/24"])
        s.lab.start_keepalived("r1", keepalived_config(vi1, router_id="r1"))
        s.lab.start_keepalived("r2", keepalived_config(vi2, router_id="r2"))
        s.lab.wait(4)
        for v in FLAP_VALUES:
            s.lab.set_track_file(tf, v)
            s.lab.wait(2)
        s.lab.wait(1)
    return s.done()


def mastership_flap(out_dir: Path | str) -> ScenarioResult:
    """Mastership moves back and forth: r1's track_file drops it below r2 every 5 s.

    r1 track_file weight 1, value 0; r1 master from ~3.4 s. ~4.1 s value -60: r1 keeps
    advertising, now prio 90 (a master below the backup's 100); r2 discards those and takes
    over on its master-down timer at ~7.1 s. ~9.1 s value 0: r1 (150, backup) preempts at
    ~12.5 s. Repeated at ~14.1 s (r2 master ~17.1 s) and ~19.1 s (r1 back ~22.5 s).
    Expected: flapping (4 mastership moves in ~16 s), priority-flap on r1.
    """
    with recording("mastership-flap", out_dir) as s:
        tf = s.lab.track_file("r1", "tf_r1", weight=1)
        vi1 = VrrpInstance("VI_51", 51, 150, ["198.18.1.100/24"], state="MASTER", track_files=[tf])
        vi2 = VrrpInstance("VI_51", 51, 100, ["198.18.1.100/24"])
        s.lab.start_keepalived("r1", keepalived_config(vi1, router_id="r1"))
        s.lab.start_keepalived("r2", keepalived_config(vi2, router_id="r2"))
        s.lab.wait(4)
        for _ in range(2):
            s.lab.set_track_file(tf, -60)
            s.lab.wait(5)
            s.lab.set_track_file(tf, 0)
            s.lab.wait(5)
    return s.done()


def interval_drift(out_dir: Path | str) -> ScenarioResult:
    """Master frozen with SIGSTOP: 3 short gaps (no failover), then one long (failover).

    r1 master from ~3.4 s; three times (~5.1, ~10.3, ~15.5 s) SIGSTOP r1's keepalived
    for 2.2 s then 3 s normal → r1's gaps of 2.2-3.2 s depending on the advert phase
    (below master-down 3.61 s, so r2 stays silent; keepalived logs "A thread timer
    expired"); ~20.7 s SIGSTOP for 6 s → r2 advertises from ~23.3 s (3.6 s after r1's
    last); ~26.7 s SIGCONT → r1 sends 4 adverts within 1 ms (one per r2 advert it had
    queued), then every second; r2 falls silent. netem jitter is added on r1 only when
    the kernel has sch_netem (not on the machine that made captures/). Expected:
    interval-drift on r1 (worst gap close to master-down), failover r1→r2 (silence) and
    back.
    """
    with recording("interval-drift", out_dir) as s:
        pair(s.lab)
        s.lab.wait(5)
        with contextlib.suppress(Exception):
            from tests.lab.netlab import netem_available

            if netem_available():
                s.lab.netem("r1", delay="20ms 15ms")
        for _ in range(3):
            s.lab.pause("r1")
            s.lab.wait(2.2)
            s.lab.resume("r1")
            s.lab.wait(3)
        s.lab.pause("r1")
        s.lab.wait(6)
        s.lab.resume("r1")
        s.lab.wait(4)
    return s.done()


def config_mismatch(out_dir: Path | str) -> ScenarioResult:
    """VRID 52: advert_int 1 vs 3; VRID 53: different auth passwords.

    VRID 52: r1 (150, MASTER, advert_int 1) / r2 (100, advert_int 3), VIP 198.18.1.152,
    no auth. VRID 53: r3 (150, MASTER, PASS "alpha") / r4 (100, PASS "bravo"), VIP
    198.18.1.153. Each keepalived drops the peer's adverts ("advertisement interval
    mismatch mine=3 sec rcv'd=1 sec", "received an invalid passwd!"), so both backups go
    master too. VRID 53: r3 and r4 both advertise from ~3.6 s, alternating or together.
    VRID 52: r2 (intvl 3 s) goes master at ~9.7 s and sends ONE advert; after that r1's
    rejected adverts keep re-arming r2's timer, so r2 stays master (VIP held, gratuitous
    ARPs for .152 from 02:00:00:00:01:02 at ~9.7 and ~14.7 s) but silent. Expected:
    config-mismatch (interval on 52, auth data on 53), split-brain on 53 (and on 52 only
    if GARPs or the single r2 advert are used), plaintext-auth on 53.

    VRID 53's race differs from run to run: r3 and r4 side by side (overlap), or taking
    turns, or one silenced for seconds at a time; a silenced master's only trace is then
    its delayed gratuitous ARPs (garp_master_delay, 5 s after it became master; keepalived
    refreshes them only when it sends an advert) and the other's adverts going on after
    its better ones. Each run shows one of these, all found as split-brain.
    """
    with recording("config-mismatch", out_dir, ("r1", "r2", "r3", "r4")) as s:
        pair(s.lab, vrid=52, vips=["198.18.1.152/24"], advert_int=(1, 3))
        pair(
            s.lab,
            vrid=53,
            vips=["198.18.1.153/24"],
            routers=[("r3", 150), ("r4", 100)],
            auth=("alpha", "bravo"),
        )
        s.lab.wait(16)
    return s.done()


def vrrpv3_ipv4(out_dir: Path | str) -> ScenarioResult:
    """VRRPv3 over IPv4 (keepalived ``version 3``), VRID 54, then a resignation.

    VIP 198.18.1.154: from ~3.4 s r1 sends VRRPv3 adverts (intvl 100 cs, prio 150, 12-byte
    message, checksum over the RFC 5798 pseudo-header; the destination is the group, so
    the "real destination" and "group" forms coincide); ~7.1 s r1 stopped (prio 0), r2
    advertises from ~7.7 s. Expected: resigned, failover r1→r2.
    """
    with recording("vrrpv3-ipv4", out_dir) as s:
        pair(s.lab, vrid=54, vips=["198.18.1.154/24"], version=3)
        s.lab.wait(7)
        s.lab.stop("r1")
        s.lab.wait(4)
    return s.done()


def vrrpv3_ipv6(out_dir: Path | str) -> ScenarioResult:
    """VRRPv3 over IPv6: VRID 51, VIP 2001:db8:1::100, link-local sources to ff02::12.

    Pair with ``native_ipv6``: from ~3.4 s r1 (fe80::ff:fe00:101, MAC 02:00:00:00:01:01 to
    33:33:00:00:00:12) sends VRRPv3 to ff02::12, hop limit 255, prio 150, intvl 100 cs,
    addrs 2001:db8:1::100, plus unsolicited neighbour advertisements for the VIP; ~7.1 s
    r1 stopped (prio 0), r2 (fe80::ff:fe00:102) advertises from ~7.7 s.
    Expected: resigned, failover r1→r2 (family 6).
    """
    with recording("vrrpv3-ipv6", out_dir) as s:
        pair(s.lab, vrid=51, vips=["2001:db8:1::100/64"], version=3, native_ipv6=True)
        s.lab.wait(7)
        s.lab.stop("r1")
        s.lab.wait(4)
    return s.done()


def unicast(out_dir: Path | str) -> ScenarioResult:
    """keepalived unicast peers: VRID 56 adverts sent to the peer's address, not 224.0.0.18.

    Pair with ``unicast_src_ip`` (own address) and ``unicast_peer`` (the other): from
    ~3.4 s r1 → 198.18.1.2 VRRPv2 prio 150 every second, ttl 255, Ethernet unicast (the
    lab bridge floods, so the capture sees it); ~7.1 s r1 stopped: prio-0 advert to
    198.18.1.2, then r2 → 198.18.1.1 prio 100 from ~7.7 s, each answered by an ICMP
    "protocol 112 unreachable" from r1 that quotes the advert (not an advert itself!).
    Expected: resigned, failover r1→r2; adverts with a unicast destination.
    """
    with recording("unicast", out_dir) as s:
        for name, prio, peer in (("r1", 150, "r2"), ("r2", 100, "r1")):
            vi = VrrpInstance(
                "VI_56",
                56,
                prio,
                ["198.18.1.156/24"],
                state="MASTER" if name == "r1" else "BACKUP",
                unicast_src_ip=s.lab.router(name).ipv4,
                unicast_peers=[s.lab.router(peer).ipv4],
            )
            s.lab.start_keepalived(name, keepalived_config(vi, router_id=name))
        s.lab.wait(7)
        s.lab.stop("r1")
        s.lab.wait(4)
    return s.done()


def v3_checksum_mismatch(out_dir: Path | str) -> ScenarioResult:
    """VRRPv3 unicast peers computing the IPv4 checksum differently (VRID 57).

    r1 (150, MASTER) uses keepalived's default RFC 5798 pseudo-header with the real
    (unicast) destination; r2 (100) has ``old_unicast_checksum`` (pseudo-header with
    224.0.0.18 as destination, as keepalived < 2.0 and FRR do). Unicast VIP 198.18.1.157.
    r2 logs "Invalid VRRPv3 checksum" for every r1 advert, times out and goes MASTER at
    ~3.3 s (one advert on the wire), then stays master but silent (r1's rejected adverts
    keep re-arming its timer); r1 logs "Setting unicast VRRPv3 checksum to old version"
    yet keeps sending the real-destination form. ~8 s r1 stopped (prio 0), then only r2
    (old form). Expected: checksum-form-mismatch, split-brain (r2's advert alongside r1's:
    they drop each other's), resigned, failover r1→r2.
    """
    with recording("v3-checksum-mismatch", out_dir) as s:
        for name, prio, peer in (("r1", 150, "r2"), ("r2", 100, "r1")):
            vi = VrrpInstance(
                "VI_57",
                57,
                prio,
                ["198.18.1.157/24"],
                version=3,
                state="MASTER" if name == "r1" else "BACKUP",
                unicast_src_ip=s.lab.router(name).ipv4,
                unicast_peers=[s.lab.router(peer).ipv4],
                extra="old_unicast_checksum" if name == "r2" else "",
            )
            s.lab.start_keepalived(name, keepalived_config(vi, router_id=name))
        s.lab.wait(8)
        s.lab.stop("r1")
        s.lab.wait(4)
    return s.done()


def vmac(out_dir: Path | str) -> ScenarioResult:
    """keepalived ``use_vmac``: adverts from the virtual MAC 00:00:5e:00:01:33 (VRID 51).

    Pair as in failover but both instances have ``use_vmac`` (keepalived creates a macvlan
    ``vrrp.51`` and sends from it): r1's adverts and gratuitous ARPs come from
    00:00:5e:00:01:33; ~7 s r1 stopped (prio 0, still from the VMAC), r2 takes over and
    sends from the same VMAC. Expected: resigned, failover r1→r2 told apart by source IP
    (same MAC), no non-standard-mac finding.
    """
    with recording("vmac", out_dir) as s:
        pair(s.lab, use_vmac=True)
        s.lab.wait(7)
        s.lab.stop("r1")
        s.lab.wait(4)
    return s.done()


def carp_collision(out_dir: Path | str) -> ScenarioResult:
    """ucarp (CARP vhid 51) next to a keepalived cluster using VRRP VRID 51.

    r1 (150, MASTER) / r2 (100): keepalived VRID 51, VIP 198.18.1.100. r3: ucarp vhid 51,
    VIP 198.18.1.150, password "carp51", advbase 1, advskew 0. From ~3.2 s r3 sends CARP
    adverts every second from MAC 00:00:5e:00:00:33 (36-byte message, tos 0x10, DF;
    ``tcpdump -T carp`` shows "CARPv2-advertise 36: vhid=51 advbase=1 advskew=0
    authlen=7", plain tcpdump shows "VRRPv2 ... vrid 51, prio 0, ... addrs(7): <garbage>"),
    all to 224.0.0.18. keepalived rejects them ("vrrp packet too short, length 56 and
    expect 64") but each one re-arms the master's timer, so r1 (master from ~3.4 s) is
    silenced: r2 times out every ~3.6 s, sends one prio-100 advert, r1 answers with one
    prio-150 advert and r2 yields (~7.1 s, ~10.7 s); otherwise only CARP is on the wire.
    Expected: carp-collision (CARP vhid 51 = VRRP VRID 51), no resigned finding for the
    CARP packets.
    """
    with recording("carp-collision", out_dir, ("r1", "r2", "r3")) as s:
        pair(s.lab)
        s.lab.start_ucarp("r3", vhid=51, password="carp51", vip="198.18.1.150")
        s.lab.wait(14)
    return s.done()


def hijack(out_dir: Path | str) -> ScenarioResult:
    """A third host injects priority-255 VRRPv2 adverts for the cluster's VIP (VRID 51).

    r1 (150, MASTER) / r2 (100) as in baseline, r1 master from ~3.4 s. ~24 s r3 (a host
    that never spoke VRRP, its own MAC) sends 6 hand-built adverts, 1 s apart: VRRPv2
    vrid 51, prio 255, addrs 198.18.1.100, from 198.18.1.3 (tests/lab/inject.py, as
    attack tools do). r1 hears a better master and falls silent (keepalived: "Received
    advert ... with higher priority 255"); when the injection stops r2 or r1 times out and
    r1 is master again. Expected: hijack-suspected naming 198.18.1.3 (r1 master for about
    20 s, past hijack_established_s), a failover to it.
    """
    with recording("hijack", out_dir, ("r1", "r2", "r3")) as s:
        pair(s.lab)
        s.lab.wait(24)
        s.lab.mark("inject", "r3", priority=255, count=6)
        script = str(Path(__file__).with_name("inject.py"))
        s.lab.ns_exec("r3", sys.executable, script, "eth0", s.lab.router("r3").ipv4, "51",
                      "255", "198.18.1.100", "6", "1")  # fmt: skip
        s.lab.wait(8)
    return s.done()


#: The auth_hmac key of :func:`auth_hmac_legacy` (keepalived's test key, 00..1f).
HMAC_KEY = bytes(range(32))


def auth_hmac_legacy(out_dir: Path | str) -> ScenarioResult:
    """A node signing with keepalived 2.4's auth_hmac beside one that predates it (VRID 51).

    r1: keepalived 2.2.7 (Debian's), VRRPv3 VRID 51, priority 100, BACKUP, VIP
    198.18.1.100. r2 stands in for an upgraded keepalived 2.4 (not packaged here): from
    ~0.5 s it sends 14 VRRPv3 adverts 1 s apart, priority 150, each signed as 2.4 signs
    (tests/lab/inject.py --sign: the 28-byte trailer, key 1, the sequence from its clock,
    the checksum over the message alone). r1 drops every one ("vrrp packet too long,
    length 60 and expect 32"), times out after ~3.6 s and is master beside r2 (keepalived
    re-arms a master's advert timer on each advert it drops, so r1 advertises only in the
    injector's pauses, holding the VIP by its GARPs) until the signed adverts stop.
    Expected: config-mismatch (auth_hmac key 1 vs unsigned) and the split brain it
    causes; r2's adverts decoded as valid signed ones, no invalid-packet.
    """
    with recording("auth-hmac-legacy", out_dir) as s:
        inst = VrrpInstance("VI_51", 51, 100, ["198.18.1.100/24"], version=3)
        s.lab.start_keepalived("r1", keepalived_config(inst, router_id="r1"))
        s.lab.wait(0.5)
        s.lab.mark("inject", "r2", priority=150, count=14, signed=True)
        script = str(Path(__file__).with_name("inject.py"))
        for batch in range(2):  # (seven at a time: a lab command is bounded to 10 s)
            if batch:
                s.lab.wait(1)
            s.lab.ns_exec("r2", sys.executable, script, "eth0", s.lab.router("r2").ipv4, "51",
                          "150", "198.18.1.100", "7", "1", "--sign", HMAC_KEY.hex())  # fmt: skip
        s.lab.mark("inject-end", "r2")
        s.lab.wait(2)
    return s.done()


def any_sll(out_dir: Path | str) -> ScenarioResult:
    """``tcpdump -i any`` in a router with two segments; VRID 51 on both; failover.

    r1 and r2 each have eth0 on segment 1 (198.18.1.0/24) and eth1 on segment 2
    (198.18.2.0/24); keepalived instance VI_A = VRID 51 on eth0 (VIP 198.18.1.100),
    VI_B = VRID 51 on eth1 (VIP 198.18.2.100); r1 150 MASTER, r2 100. Two captures in
    r2's namespace at once: ``any-sll.pcap`` (``-y LINUX_SLL``) and ``any-sll2.pcap``
    (default LINUX_SLL2, which records the interface index: r2's eth0 = 2, eth1 = 3, see
    ``ifindex`` in the sidecar layout; tcpdump prints names from the *reading* host).
    LINUX_SLL (v1) has no interface field at all: the two segments can only be told
    apart by addresses. From ~3.4 s r1 advertises on both (received, packet type 2 =
    multicast); ~7.1 s r1 stopped → prio-0 adverts on both, r2 advertises on both from
    ~7.7 s (outgoing, packet type 4). Expected (SLL2): VRID 51 on two interfaces is NOT a
    duplicate; two failovers (one per interface); resigned ×2.
    """
    caps = (
        CaptureSpec(suffix="", router="r2", iface="any", linktype="LINUX_SLL"),
        CaptureSpec(suffix="2", router="r2", iface="any"),
    )
    routers = {"r1": [1, 2], "r2": [1, 2]}
    with recording("any-sll", out_dir, routers, captures=caps) as s:
        for name, prio in (("r1", 150), ("r2", 100)):
            st = "MASTER" if name == "r1" else "BACKUP"
            a = VrrpInstance("VI_A", 51, prio, ["198.18.1.100/24"], interface="eth0", state=st)
            b = VrrpInstance("VI_B", 51, prio, ["198.18.2.100/24"], interface="eth1", state=st)
            s.lab.start_keepalived(name, keepalived_config(a, b, router_id=name))
        s.lab.wait(7)
        s.lab.stop("r1")
        s.lab.wait(5)
    return s.done()


def vlans(out_dir: Path | str) -> ScenarioResult:
    """VRID 51 in VLAN 10 and in VLAN 20 of one bridge: 802.1Q-tagged adverts, no conflict.

    The bridge filters VLANs: r1/r2 ports are access ports of VLAN 10 (198.19.10.0/24),
    r3/r4 of VLAN 20 (198.19.20.0/24); br0 is a tagged member of both, so the capture shows
    802.1Q tags. r1 (150) / r2 (100) run VRID 51 with VIP 198.19.10.100, r3 (150) / r4
    (100) VRID 51 with VIP 198.19.20.100. r1 (vlan 10) and r3 (vlan 20) advertise VRID 51
    every second. Expected: no duplicate-vrid (different segments = VLAN stacks).
    """
    routers = {"r1": [(1, 10)], "r2": [(1, 10)], "r3": [(1, 20)], "r4": [(1, 20)]}
    with recording("vlans", out_dir, routers) as s:
        pair(s.lab, vips=["198.19.10.100/24"])
        pair(s.lab, vips=["198.19.20.100/24"], routers=[("r3", 150), ("r4", 100)])
        s.lab.wait(10)
    return s.done()


#: VRIDs of :func:`many_vrids`; r1 masters the odd ones, r2 the even ones.
MANY_VRIDS = tuple(range(1, 21))


def many_vrid_instances(router: str) -> list[VrrpInstance]:
    """The 20 instances of ``router`` ("r1" or "r2") in :func:`many_vrids`.

    VRID N: VIP 198.18.1.(100 + N), auth PASS ``vrid<N>``; priority 150 (``MASTER``) on
    the router that masters it (r1 odd, r2 even), 100 on the other.
    """
    own = 1 if router == "r1" else 0
    return [
        VrrpInstance(
            f"VI_{vrid}",
            vrid,
            150 if vrid % 2 == own else 100,
            [f"198.18.1.{100 + vrid}/24"],
            state="MASTER" if vrid % 2 == own else "BACKUP",
            auth_pass=f"vrid{vrid}",
        )
        for vrid in MANY_VRIDS
    ]


#: Seconds the :func:`many_vrids` pair runs before its capture starts.
MANY_VRIDS_SETTLE_S = 10.0


def many_vrids(out_dir: Path | str) -> ScenarioResult:
    """Two keepalived nodes share 20 VRIDs; one node is stopped, then restarted.

    VRIDs 1-20, VIP 198.18.1.(100 + N), auth PASS ``vrid<N>`` on all. r1 has priority
    150 (``MASTER``) on the odd VRIDs and 100 on the even ones, r2 the reverse. The
    capture starts only after the pair has run 10 s, as an operator's would: at start-up
    both nodes wait in BACKUP, and a lower-priority instance whose master-down timer
    (3.61 s) expires before its peer's (3.41 s, started ~0.1-0.3 s later) briefly masters
    the VRID and is preempted at once, with gratuitous ARPs then and 5 s later. Keeping
    that race out of the capture keeps it the same from run to run.

    In the capture: r1 masters 1, 3, ..., 19 and r2 2, 4, ..., 20 (20 adverts a second);
    ~3.1 s ``stop`` r2 (SIGTERM): one prio-0 advert on each of its 10 VRIDs; r1
    advertises prio 100 on each ~0.61 s later (Skew_Time (256-100)/256), with 5
    gratuitous ARPs per VIP; ~8.2 s r2 restarted (same config): it starts in BACKUP,
    discards r1's lower-priority adverts and preempts all 10 even VRIDs when its
    master-down timer expires (3.41 s at prio 150), ~11.6 s; r1 falls silent on them.
    Expected today: per even VRID resigned, failover r2→r1 (resigned, ~0.61 s) and
    failover r1→r2 (preempted); plaintext-auth and non-standard-mac per VRID and speaker;
    nothing else.
    """
    with recording("many-vrids", out_dir, deferred=True) as s:
        for name in ("r1", "r2"):
            s.lab.start_keepalived(
                name, keepalived_config(*many_vrid_instances(name), router_id=name)
            )
        s.lab.wait(MANY_VRIDS_SETTLE_S)
        s.start_captures()
        s.lab.wait(3)
        s.lab.stop("r2")
        s.lab.wait(5)
        s.lab.start_keepalived("r2", keepalived_config(*many_vrid_instances("r2"), router_id="r2"))
        s.lab.wait(6)
    return s.done()


def frr(out_dir: Path | str) -> ScenarioResult:
    """FRR vrrpd (VRRPv3) pair: a split brain by INPUT drop on the backup, then the master stops.

    r1 priority 100, r2 priority 200 (FRR 8.4 vrrpd with zebra, VRRPv3, 1 s, VIP
    198.18.1.100 on a macvlan carrying the virtual MAC: vrrpd sends its adverts from
    00:00:5e:00:01:33, RFC 5798's source MAC). Both start in Backup; r2 becomes master
    ~3.2 s later ("Master_Down_Timer expired", "Backup -> Master"). ~6 s ``iptables -A
    INPUT -p 112 -j DROP`` in r1: r1 times out ~3.6 s later and advertises priority 100
    while r2 goes on (split brain); ~16 s rule removed: r1 hears r2 ("Received
    advertisement from 198.18.1.2 w/ priority 200; switching to Backup"). ~19 s r2's
    vrrpd gets SIGTERM ('Shutdown' event, "Master -> Initialize", a priority-0 advert) and
    r1 takes over after Skew_Time (0.61 s). Logs: vrrpd's own files (``frr0``), whole
    seconds. Expected: split-brain r1+r2; failover r2→r1 (resigned, ~0.61 s); with the
    logs, ingress-dropped on r1.
    """
    with recording("frr", out_dir) as s:
        for name, prio in (("r2", 200), ("r1", 100)):
            s.lab.start_frr(name, vrid=51, priority=prio, vips=["198.18.1.100/24"])
        s.lab.wait(6)
        s.lab.block("r1", "INPUT")
        s.lab.wait(10)
        s.lab.unblock("r1", "INPUT")
        s.lab.wait(3)
        s.lab.stop(s.lab.daemon("r2", "frr"))
        s.lab.wait(4)
    return s.done()


ScenarioFn = Callable[[Path | str], ScenarioResult]

#: name → scenario function (names are also the capture file stems).
SCENARIOS: dict[str, ScenarioFn] = {
    "baseline": baseline,
    "failover": failover,
    "failover-kill": failover_kill,
    "duplicate-vrid": duplicate_vrid,
    "split-brain": split_brain,
    "master-blocked": master_blocked,
    "stale-arp": stale_arp,
    "no-master": no_master,
    "priority-flap": priority_flap,
    "mastership-flap": mastership_flap,
    "interval-drift": interval_drift,
    "config-mismatch": config_mismatch,
    "vrrpv3-ipv4": vrrpv3_ipv4,
    "vrrpv3-ipv6": vrrpv3_ipv6,
    "unicast": unicast,
    "v3-checksum-mismatch": v3_checksum_mismatch,
    "vmac": vmac,
    "carp-collision": carp_collision,
    "hijack": hijack,
    "auth-hmac-legacy": auth_hmac_legacy,
    "any-sll": any_sll,
    "vlans": vlans,
    "many-vrids": many_vrids,
    "frr": frr,
}
