"""Cisco HSRP hellos (RFC 2281 "version 1", and HSRPv2's group state TLV): the group,
its virtual IP, the sender's state and priority, and its timers.

HSRP version 1 goes to 224.0.0.2 (UDP 1985) with a version byte of 0 on the wire (tcpdump's
"HSRPv0"); HSRPv2 goes to 224.0.0.102 (UDP 1985) or ff02::66 (UDP 2029) as TLVs: a group
state TLV (type 1), then a text (type 3) or MD5 (type 4) authentication TLV. Opcode 3
(advertise: interface state, no group) and unknown versions give no hello. Versions are
named the way Cisco's ``standby version`` names them (1 and 2).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from vrrpscope.proto.ip import IPPacket
from vrrpscope.secrets import mask_secret

HSRP_PORTS = (1985, 2029)
OPCODES = {0: "hello", 1: "coup", 2: "resign"}
V1_STATES = {0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"}
V2_STATES = {1: "initial", 2: "learn", 3: "listen", 4: "speak", 5: "standby", 6: "active"}
_V1 = struct.Struct("!BBBBBBBB8s4s")
_V2_GROUP = struct.Struct("!BBBBH6sIII16s")


@dataclass(frozen=True, slots=True)
class HsrpHello:
    """One HSRP group message (hello, coup or resign) as its sender states it."""

    version: int  # 1 or 2 (Cisco's ``standby version``)
    opcode: str  # hello, coup, resign
    state: str  # initial, learn, listen, speak, standby, active (or "state N")
    group: int
    priority: int
    hello_ms: int
    hold_ms: int
    virtual_ip: str | None  # None: not configured on this router (learnt from the active)
    auth: str | None  # "text" or "md5" (None: HSRPv2 without an authentication TLV)
    auth_data: bytes | None  # the text key (secret: masked wherever shown)
    identifier: str | None = None  # HSRPv2: the sender's MAC as it identifies itself

    def __repr__(self) -> str:
        auth = f", auth {self.auth} {mask_secret(self.auth_data) or ''}".rstrip()
        auth = auth if self.auth else ""
        return (
            f"<HsrpHello v{self.version} group {self.group} {self.opcode} {self.state} "
            f"prio {self.priority} vip {self.virtual_ip or '-'}{auth}>"
        )


def is_hsrp(ip: IPPacket) -> bool:
    """Whether ``ip`` is a UDP datagram between HSRP ports."""
    if ip.proto != 17 or len(ip.payload) < 4:
        return False
    sport, dport = struct.unpack_from("!HH", ip.payload)
    return sport in HSRP_PORTS and dport in HSRP_PORTS


def parse_hsrp(ip: IPPacket) -> HsrpHello | None:
    """The HSRP group message in ``ip``, or None (not HSRP, truncated, advertise, unknown)."""
    if not is_hsrp(ip):
        return None
    body = ip.payload[8:]
    if body[:1] == b"\x00":
        return _v1(body)
    if body[:1] == b"\x01":
        return _v2(body)
    return None


def _v1(body: bytes) -> HsrpHello | None:
    if len(body) < _V1.size:
        return None
    _v, op, state, hello, hold, prio, group, _r, auth, vip = _V1.unpack_from(body)
    if op not in OPCODES:
        return None
    return HsrpHello(
        version=1,
        opcode=OPCODES[op],
        state=V1_STATES.get(state, f"state {state}"),
        group=group,
        priority=prio,
        hello_ms=hello * 1000,
        hold_ms=hold * 1000,
        virtual_ip=None if vip == b"\0\0\0\0" else socket.inet_ntoa(vip),
        auth="text",
        auth_data=auth,
    )


def _v2(body: bytes) -> HsrpHello | None:
    """TLVs: (type, length) then the value; the group state TLV first."""
    hello: HsrpHello | None = None
    auth: str | None = None
    auth_data: bytes | None = None
    at = 0
    while at + 2 <= len(body):
        kind, length = body[at], body[at + 1]
        value = body[at + 2 : at + 2 + length]
        if len(value) < length:
            break
        if kind == 1 and hello is None and length >= _V2_GROUP.size:
            hello = _v2_group(value)
            if hello is None:
                return None
        elif kind == 3:
            auth, auth_data = "text", value[:8]
        elif kind == 4:
            auth, auth_data = "md5", None  # a digest, no key
        at += 2 + length
    if hello is None:
        return None
    return HsrpHello(
        version=2,
        opcode=hello.opcode,
        state=hello.state,
        group=hello.group,
        priority=hello.priority,
        hello_ms=hello.hello_ms,
        hold_ms=hello.hold_ms,
        virtual_ip=hello.virtual_ip,
        auth=auth,
        auth_data=auth_data,
        identifier=hello.identifier,
    )


def _v2_group(value: bytes) -> HsrpHello | None:
    version, op, state, ipver, group, ident, prio, hello, hold, vip = _V2_GROUP.unpack_from(value)
    if version != 2 or op not in OPCODES or ipver not in (4, 6):
        return None
    raw = vip[:4] if ipver == 4 else vip
    address = None
    if raw.strip(b"\0"):
        address = socket.inet_ntop(socket.AF_INET if ipver == 4 else socket.AF_INET6, raw)
    return HsrpHello(
        version=2,
        opcode=OPCODES[op],
        state=V2_STATES.get(state, f"state {state}"),
        group=group,
        priority=prio,
        hello_ms=hello,
        hold_ms=hold,
        virtual_ip=address,
        auth=None,
        auth_data=None,
        identifier=":".join(f"{b:02x}" for b in ident),
    )
