"""What keepalived, FRR vrrpd and ucarp say, as events.

keepalived's wording, from its sources across versions: the instance prefix is
``VRRP_Instance(VI_1)`` up to 1.4 and ``(VI_1)`` from 2.0, optionally followed by a
colon; 2.0 dropped "bogus VRRP packet received" and "ignoring received advertisment";
2.3.3 added "from <source>" to the receive errors (logged once per state change since);
2.4 added the auth_hmac trailer errors. FRR vrrpd logs ``[CORE] [VRID 51] [IPv4] Backup
-> Master`` (FRR 7.5 and later put a message id like ``[ABCDE-FGHIJ]`` in front);
ucarp ``[WARNING] Switching to state: MASTER``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Event kinds (stable: they appear in JSON output).
STATE = "state"  # entered MASTER / BACKUP / FAULT / INIT (details: state, init, reason)
ADVERT_TIMEOUT = "advert-timeout"  # a backup's Master_Down timer fired
PRIORITY0_RECEIVED = "priority0-received"  # a backup heard the master resign
RESIGNED = "resigned"  # this node sent priority 0 (stopping, leaving master)
PREEMPTED = "preempted"  # a master heard a better advert (details: peer, priority, ours)
LOWER_PRIORITY = "lower-priority"  # heard a lower-priority advert (details: peer, ...)
PRIORITY_CHANGE = "priority-change"  # effective priority from X to Y (track scripts)
SCRIPT = "script"  # a track script succeeded / failed / timed out
FAULT = "fault"  # why the instance went to FAULT (script, interface, file, ...)
RECEIVE_ERROR = "receive-error"  # an advert rejected (details: reason, peer)
SEND_ERROR = "send-error"  # an advert could not be sent (details: errno, error)
TIMER = "timer-expired"  # keepalived's thread timer expired late (a stalled daemon)
ADDRESS_OWNER = "address-owner"  # two address owners (priority 255) on one VRID
GARP = "garp"  # a gratuitous ARP / unsolicited NA sent for a VIP (details: vip)
VIPS = "vips"  # VIPs set / removed on this node (details: action)
DAEMON = "daemon"  # the daemon started / stopped (details: action)

# Receive-error reasons (details["reason"]).
REASONS = (
    "auth",  # invalid password / HMAC: usually another cluster on the VRID
    "auth-type",
    "vip-mismatch",  # "ip address associated with VRID not present": another cluster
    "vip-count",
    "interval",
    "version",
    "ttl",
    "checksum",
    "cast",  # unicast / multicast mismatch
    "not-peer",  # a unicast source not among the unicast peers
    "length",
    "type",
    "ah",
    "hmac",  # keepalived 2.4 auth_hmac trailer errors
    "bogus",  # keepalived <= 1.4: "bogus VRRP packet received"
    "other",
)


@dataclass(slots=True)
class Said:
    """What one message means (its time, node and file come with the line)."""

    daemon: str  # "keepalived", "frr", "ucarp"
    kind: str
    instance: str | None = None  # keepalived's instance name (VI_1)
    vrid: int | None = None
    family: int | None = None  # 4 / 6 when the line says
    details: dict[str, Any] = field(default_factory=dict)


_INSTANCE = re.compile(r"^(?:VRRP_Instance\((?P<old>[^)]*)\)|\((?P<new>[^)]*)\)):? ?")
_FROM = r"(?: from (?P<peer>[0-9A-Fa-f:.]+))?"


def _k(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# keepalived messages after the instance prefix: (pattern, kind, details from the match).
_KEEPALIVED: list[tuple[re.Pattern[str], str, Callable[[re.Match], dict[str, Any]]]] = [
    (
        # case matters: "entering FAULT state due to ..." is the reason (FAULT below)
        re.compile(
            r"^(?:Entering|Transition to) (?P<state>MASTER|BACKUP|FAULT) STATE(?P<rest>.*)$"
        ),
        STATE,
        lambda m: {
            "state": m.group("state").upper(),
            "init": "(init)" in m.group("rest"),
            **({"transition": True} if m.group(0).lower().startswith("transition") else {}),
            **_reason(m.group("rest")),
        },
    ),
    (
        _k(r"^Now in FAULT state"),
        STATE,
        lambda m: {"state": "FAULT", "init": False},
    ),
    (_k(r"^Receive advertisement timeout"), ADVERT_TIMEOUT, lambda m: {}),
    (_k(r"^Backup received priority 0 advertisement"), PRIORITY0_RECEIVED, lambda m: {}),
    (_k(r"^sent 0 priority"), RESIGNED, lambda m: {}),
    (
        _k(
            r"^(?:Master )?received advert(?: from (?P<peer>\S+))? with higher priority "
            r"(?P<prio>\d+), ours (?P<ours>\d+)"
        ),
        PREEMPTED,
        lambda m: _peer(m) | {"priority": int(m.group("prio")), "ours": int(m.group("ours"))},
    ),
    (
        _k(
            r"^Master received advert from (?P<peer>\S+) with same priority (?P<prio>\d+) "
            r"but higher IP address than ours"
        ),
        PREEMPTED,
        lambda m: (
            _peer(m)
            | {"priority": int(m.group("prio")), "ours": int(m.group("prio")), "same": True}
        ),
    ),
    (
        _k(r"^received lower priority \((?P<prio>\d+)\) advert from (?P<peer>\S+) - discarding"),
        LOWER_PRIORITY,
        lambda m: _peer(m) | {"priority": int(m.group("prio"))},
    ),
    (
        _k(
            r"^Received advert from (?P<peer>\S+) with lower priority (?P<prio>\d+), ours "
            r"(?P<ours>\d+)(?P<rest>.*)$"
        ),
        LOWER_PRIORITY,
        lambda m: (
            _peer(m)
            | {
                "priority": int(m.group("prio")),
                "ours": int(m.group("ours")),
                "forcing_election": "forcing new election" in m.group("rest"),
            }
        ),
    ),
    (
        _k(r"^Changing effective priority from (?P<old>\d+) to (?P<new>\d+)"),
        PRIORITY_CHANGE,
        lambda m: {"from": int(m.group("old")), "to": int(m.group("new"))},
    ),
    (
        _k(r"^entering FAULT state(?P<rest>.*)$"),
        FAULT,
        lambda m: _reason(m.group("rest")) or {"reason": "unknown"},
    ),
    (_k(r"^received an invalid passwd!?" + _FROM), RECEIVE_ERROR, lambda m: _err("auth", m)),
    (
        _k(r"^(?:Invalid auth type|received an invalid auth type)" + _FROM),
        RECEIVE_ERROR,
        lambda m: _err("auth-type", m),
    ),
    (
        _k(r"^received a (?P<got>\d+) auth" + _FROM + r", expecting (?P<want>\d+)"),
        RECEIVE_ERROR,
        lambda m: _err("auth-type", m) | {"got": int(m.group("got")), "want": int(m.group("want"))},
    ),
    (
        _k(r"^(?:Received AH header but auth type not AH|No AH header but auth type is AH)"),
        RECEIVE_ERROR,
        lambda m: _err("auth-type", m),
    ),
    (_k(r"^IPSEC-AH"), RECEIVE_ERROR, lambda m: _err("ah", m)),
    (
        _k(
            r"^ip address associated with VRID (?P<vrid>\d+) not present in (?:MASTER advert|"
            r"received packet)" + _FROM + r"\s*:\s*(?P<vip>\S+)"
        ),
        RECEIVE_ERROR,
        lambda m: _err("vip-mismatch", m) | {"vrid": int(m.group("vrid")), "vip": m.group("vip")},
    ),
    (
        _k(r"^ip address associated with VRID not present in .*?:\s*(?P<vip>\S+)"),
        RECEIVE_ERROR,
        lambda m: _err("vip-mismatch", m) | {"vip": m.group("vip")},
    ),
    (
        _k(r"^one or more VIP associated with VRID mismatch actual MASTER advert"),
        RECEIVE_ERROR,
        lambda m: _err("vip-mismatch", m),
    ),
    (
        _k(r"^expected (?P<want>\d+) VIPs but received (?P<got>\d+)" + _FROM),
        RECEIVE_ERROR,
        lambda m: _err("vip-count", m) | {"want": int(m.group("want")), "got": int(m.group("got"))},
    ),
    (
        _k(r"^received an unexpected ip number count (?P<got>\d+), expected (?P<want>\d+)"),
        RECEIVE_ERROR,
        lambda m: _err("vip-count", m) | {"want": int(m.group("want")), "got": int(m.group("got"))},
    ),
    (
        _k(r"^advertisement interval mismatch(?: with (?P<peer>\S+))?.*?mine=(?P<mine>\d+)"),
        RECEIVE_ERROR,
        lambda m: _err("interval", m) | {"mine_s": int(m.group("mine"))} | _rcvd(m.string),
    ),
    (
        _k(r"^(?:wrong version|wrong VRRP version)" + _FROM + r"[.:]? ?(?:Received (?P<got>\d+))?"),
        RECEIVE_ERROR,
        lambda m: _err("version", m) | ({"got": int(m.group("got"))} if m.group("got") else {}),
    ),
    (
        _k(r"^(?:invalid TTL/HL|invalid ttl)" + _FROM + r"[.:]? ?(?:Received )?(?P<got>\d+)?"),
        RECEIVE_ERROR,
        lambda m: _err("ttl", m) | ({"got": int(m.group("got"))} if m.group("got") else {}),
    ),
    (
        _k(r"^TTL/HL (?P<got>\d+)" + _FROM + r" not in range"),
        RECEIVE_ERROR,
        lambda m: _err("ttl", m) | {"got": int(m.group("got"))},
    ),
    (
        _k(r"^Invalid VRRPv(?P<v>[23]) checksum" + _FROM),
        RECEIVE_ERROR,
        lambda m: _err("checksum", m) | {"version": int(m.group("v"))},
    ),
    (
        _k(r"^Expected (?P<want>mult|un)icast packet but received (?P<got>mult|un)icast"),
        RECEIVE_ERROR,
        lambda m: _err("cast", m) | {"want": m.group("want") + "icast"},
    ),
    (
        _k(r"^unicast source address (?P<peer>\S+) not a unicast peer"),
        RECEIVE_ERROR,
        lambda m: _err("not-peer", m),
    ),
    (
        _k(r"^(?:vrrp packet too (?:long|short)|ip_tot_len mismatch)"),
        RECEIVE_ERROR,
        lambda m: _err("length", m),
    ),
    (_k(r"^Invalid packet type"), RECEIVE_ERROR, lambda m: _err("type", m)),
    (
        _k(
            r"^(?:.*authentication trailer|invalid authentication HMAC|unknown authentication "
            r"key id)" + r".*?" + _FROM
        ),
        RECEIVE_ERROR,
        lambda m: _err("hmac", m),
    ),
    (_k(r"^ignoring received advertis"), RECEIVE_ERROR, lambda m: _err("bogus", m)),
    (
        _k(r"^:? ?send advert error (?P<errno>\d+) \((?P<error>[^)]*)\)"),
        SEND_ERROR,
        lambda m: {"errno": int(m.group("errno")), "error": m.group("error")},
    ),
    (
        _k(r"^Cant send advert to (?P<peer>\S+) \((?P<error>[^)]*)\)"),
        SEND_ERROR,
        lambda m: _peer(m) | {"error": m.group("error")},
    ),
    (
        _k(
            r"^(?:CONFIGURATION ERROR: )?.*(?:both configured as address owner|still advertising "
            r"as address owner)"
        ),
        ADDRESS_OWNER,
        lambda m: {},
    ),
    (
        _k(r"^(?P<action>setting|removing) (?:protocol )?VIPs"),
        VIPS,
        lambda m: {"action": "set" if m.group("action").lower() == "setting" else "remove"},
    ),
    (
        _k(r"^Sending/queueing gratuitous ARPs on (?P<iface>\S+) for (?P<vip>\S+)"),
        GARP,
        lambda m: {"interface": m.group("iface"), "vip": m.group("vip")},
    ),
]

# keepalived messages without an instance prefix.
_KEEPALIVED_GLOBAL: list[tuple[re.Pattern[str], str, Callable[[re.Match], dict[str, Any]]]] = [
    (
        _k(
            r"^VRRP_Script\((?P<script>[^)]*)\) (?P<result>succeeded|failed|timed_out)"
            r"(?P<rest>.*)$"
        ),
        SCRIPT,
        lambda m: (
            {"script": m.group("script"), "result": m.group("result")} | _status(m.group("rest"))
        ),
    ),
    (
        _k(r"^VRRP_Script\((?P<script>[^)]*)\) considered (?P<result>successful|unsuccessful)"),
        SCRIPT,
        lambda m: {
            "script": m.group("script"),
            "result": "succeeded" if m.group("result").lower() == "successful" else "failed",
        },
    ),
    (
        _k(r"^A thread timer expired (?P<late>[\d.]+) seconds ago"),
        TIMER,
        lambda m: {"late_s": float(m.group("late"))},
    ),
    (
        _k(r"^Sending gratuitous ARP on (?P<iface>\S+) for (?P<vip>\S+)"),
        GARP,
        lambda m: {"interface": m.group("iface"), "vip": m.group("vip")},
    ),
    (
        _k(r"^Sending unsolicited Neighbour Adverts? on (?P<iface>\S+) for (?P<vip>\S+)"),
        GARP,
        lambda m: {"interface": m.group("iface"), "vip": m.group("vip")},
    ),
    (
        _k(r"^bogus VRRP packet received on (?P<iface>\S+)"),
        RECEIVE_ERROR,
        lambda m: {"reason": "bogus", "interface": m.group("iface")},
    ),
    (
        _k(r"^ip address associated with VRID not present in .*?:\s*(?P<vip>\S+)"),
        RECEIVE_ERROR,
        lambda m: {"reason": "vip-mismatch", "vip": m.group("vip")},
    ),
    (
        _k(r"^one or more VIP associated with VRID mismatch actual MASTER advert"),
        RECEIVE_ERROR,
        lambda m: {"reason": "vip-mismatch"},
    ),
    (_k(r"^Starting (?:Keepalived|VRRP child process)"), DAEMON, lambda m: {"action": "start"}),
    (_k(r"^Stopping$|^Stopping Keepalived"), DAEMON, lambda m: {"action": "stop"}),
    (_k(r"^Stopped(?: Keepalived)?(?: |$)"), DAEMON, lambda m: {"action": "stopped"}),
    (
        _k(r"^Keepalived_vrrp exited|^VRRP child process\(\d+\) died"),
        DAEMON,
        lambda m: {"action": "died"},
    ),
]


def _peer(m: re.Match) -> dict[str, Any]:
    peer = m.groupdict().get("peer")
    return {"peer": peer.rstrip(",.:")} if peer else {}


def _err(reason: str, m: re.Match) -> dict[str, Any]:
    return {"reason": reason, **_peer(m)}


def _reason(rest: str) -> dict[str, Any]:
    """``(init)``, ``due to script chk``, ``(interface eth0 down)``, ``- master down timer``."""
    rest = rest.strip(" .")
    if not rest or rest == "(init)":
        return {}
    m = re.search(r"due to script (\S+)", rest)
    if m:
        return {"reason": "script", "script": m.group(1)}
    m = re.search(r"interface (\S+) down", rest)
    if m:
        return {"reason": "interface", "interface": m.group(1)}
    m = re.search(r"tracked file (\S+)", rest)
    if m:
        return {"reason": "file", "file": m.group(1)}
    if "tracked process" in rest:
        return {"reason": "process"}
    return {"reason": rest.strip("()- ")}


def _status(rest: str) -> dict[str, Any]:
    m = re.search(r"exited with status (\d+)", rest)
    return {"status": int(m.group(1))} if m else {}


def _rcvd(text: str) -> dict[str, Any]:
    m = re.search(r"rcv'?d=(\d+)", text)
    return {"received_s": int(m.group(1))} if m else {}


def keepalived(message: str) -> Said | None:
    """A keepalived message, or None when it is none we read."""
    m = _INSTANCE.match(message)
    if m is not None:
        instance = m.group("old") if m.group("old") is not None else m.group("new")
        rest = message[m.end() :]
        for pattern, kind, details in _KEEPALIVED:
            hit = pattern.match(rest)
            if hit is not None:
                d = details(hit)
                vrid = d.pop("vrid", None)
                return Said("keepalived", kind, instance, vrid, None, d)
    for pattern, kind, details in _KEEPALIVED_GLOBAL:
        hit = pattern.match(message)
        if hit is not None:
            return Said("keepalived", kind, None, None, None, details(hit))
    return None


_FRR = re.compile(
    r"^(?:\[[A-Z0-9]{5}-[A-Z0-9]{5}\] )?\[(?:CORE|ZEBRA|PKT|ARP|NDISC|NB|VTY|SOCK)\] "
    r"\[VRID (?P<vrid>\d+)\] (?:\[(?P<fam>IPv4|IPv6)\] )?(?P<rest>.*)$"
)
_FRR_STATES = {"master": "MASTER", "backup": "BACKUP", "initialize": "INIT"}


def frr(message: str) -> Said | None:
    """An FRR vrrpd message, or None (wording from vrrpd 8.x: vrrp.c, vrrp_packet.c)."""
    m = _FRR.match(message)
    if m is None:
        return None
    vrid = int(m.group("vrid"))
    family = {"IPv4": 4, "IPv6": 6}.get(m.group("fam") or "")
    rest = m.group("rest")
    for pattern, kind, details in _FRR_MESSAGES:
        hit = pattern.match(rest)
        if hit is not None:
            return Said("frr", kind, None, vrid, family, details(hit))
    return None


def _frr_move(m: re.Match) -> dict[str, Any]:
    before = _FRR_STATES.get(m.group(1).lower(), m.group(1))
    state = _FRR_STATES[m.group(2).lower()]
    # Master -> Initialize is the Shutdown event: the master sends priority 0 (RFC 5798)
    resigned = {"resigned": True} if before == "MASTER" and state == "INIT" else {}
    return {"state": state, "from": before} | resigned


_FRR_MESSAGES: list[tuple[re.Pattern[str], str, Callable[[re.Match], dict[str, Any]]]] = [
    (re.compile(r"^(\w+) -> (Master|Backup|Initialize)$", re.I), STATE, _frr_move),
    (re.compile(r"^Master_Down_Timer expired"), ADVERT_TIMEOUT, lambda m: {}),
    (
        # a master hearing a better advert
        re.compile(
            r"^Received advertisement from (?P<peer>\S+) w/ priority (?P<prio>\d+); "
            r"switching to Backup"
        ),
        PREEMPTED,
        lambda m: _peer(m) | {"priority": int(m.group("prio"))},
    ),
    (
        # "(theirs <= ours & their IP <= ours)" as master; "(theirs < ours & preempt = true)"
        re.compile(
            r"^Discarding advertisement from (?P<peer>\S+) \((?P<prio>\d+) <=? (?P<ours>\d+)"
        ),
        LOWER_PRIORITY,
        lambda m: _peer(m) | {"priority": int(m.group("prio")), "ours": int(m.group("ours"))},
    ),
    (
        re.compile(r"^Datagram invalid: Received advertisement but we are the address owner"),
        ADDRESS_OWNER,
        lambda m: {},
    ),
    (
        re.compile(r"^Datagram invalid: Advertisement contains VRID (?P<got>\d+)"),
        RECEIVE_ERROR,
        lambda m: {"reason": "other", "got_vrid": int(m.group("got"))},
    ),
    (
        re.compile(
            r"^Datagram invalid: Received advertisement with advertisement interval "
            r"(?P<got>\d+) unequal to our configured value (?P<mine>\d+)"
        ),
        RECEIVE_ERROR,
        lambda m: {
            "reason": "interval",
            "received_s": int(m.group("got")),
            "mine_s": int(m.group("mine")),
        },
    ),
    (
        re.compile(
            r"^Datagram has (?P<got>\d+) addresses, but this VRRP instance has (?P<want>\d+)"
        ),
        RECEIVE_ERROR,
        lambda m: {"reason": "vip-count", "got": int(m.group("got")), "want": int(m.group("want"))},
    ),
    (
        re.compile(r"^Datagram invalid: (?P<why>.*)$"),
        RECEIVE_ERROR,
        lambda m: {"reason": _frr_reason(m.group("why"))},
    ),
    (
        re.compile(r"^Failed to send VRRP Advertisement: (?P<error>.*)$"),
        SEND_ERROR,
        lambda m: {"error": m.group("error")},
    ),
    (
        re.compile(r"^Interface (?P<iface>\S+) down"),
        FAULT,
        lambda m: {"reason": "interface", "interface": m.group("iface")},
    ),
    (re.compile(r"^'Startup' event"), DAEMON, lambda m: {"action": "start"}),
    (re.compile(r"^'Shutdown' event"), DAEMON, lambda m: {"action": "stop"}),
]


def _frr_reason(why: str) -> str:
    """The reason of vrrpd's ``Datagram invalid: <why>`` (vrrp_packet.c's parse errors)."""
    low = why.lower()
    for word, reason in (
        ("checksum", "checksum"),
        ("version", "version"),
        ("ttl", "ttl"),
        ("hop limit", "ttl"),
        ("authentication", "auth-type"),
        ("length", "length"),
        ("missing auth", "length"),
        ("too short", "length"),
        ("bad type", "type"),
        ("ip address", "vip-mismatch"),
    ):
        if word in low:
            return reason
    return "other"


_UCARP = re.compile(r"^\[(?:INFO|WARNING|ERROR|DEBUG|NOTICE)\] (?P<rest>.*)$")


def ucarp(message: str) -> Said | None:
    """A ucarp message, or None."""
    m = _UCARP.match(message)
    rest = m.group("rest") if m else message
    state = re.match(r"^Switching to state: (MASTER|BACKUP|INIT)", rest)
    if state:
        return Said("ucarp", STATE, details={"state": state.group(1)})
    for pattern, reason in (
        (r"^Bad TTL", "ttl"),
        (r"^Bad version", "version"),
        (r"^Bad IP checksum", "checksum"),
        (r"^Bad digest", "auth"),
    ):
        if re.match(pattern, rest):
            return Said("ucarp", RECEIVE_ERROR, details={"reason": reason})
    if rest.startswith("Putting MASTER down"):
        return Said("ucarp", STATE, details={"state": "BACKUP", "reason": rest})
    if rest.startswith("Preferred master advertised"):
        return Said("ucarp", PREEMPTED, details={})
    if rest.startswith("Non-preferred master advertising"):
        return Said("ucarp", LOWER_PRIORITY, details={})
    return None


# Which reader a program name goes to.
PROGRAMS: dict[str, Callable[[str], Said | None]] = {
    "keepalived": keepalived,
    "keepalived_vrrp": keepalived,
    "vrrpd": frr,
    "frr": frr,
    "vrrp": frr,  # FRR's own log file names the protocol: "VRRP: [CORE] ..."
    "ucarp": ucarp,
}


def reader_for(program: str | None) -> Callable[[str], Said | None] | None:
    """The message reader of a syslog program name (None: not a VRRP daemon)."""
    if program is None:
        return None
    return PROGRAMS.get(program.lower())


def any_daemon(message: str) -> Said | None:
    """A message of unknown origin (``journalctl -o cat``, keepalived's console): each
    daemon's reader in turn."""
    return keepalived(message) or frr(message) or _ucarp_marked(message)


def _ucarp_marked(message: str) -> Said | None:
    return ucarp(message) if _UCARP.match(message) else None
