"""Name the non-VRRP link-local multicast traffic on a segment (the segment inventory)."""

from __future__ import annotations

import struct

from vrrpscope.proto.ip import IPPacket
from vrrpscope.proto.wire import HSRPV2_GROUP, PROTO_VRRP

_IP_PROTOCOLS = {
    1: "icmp",
    2: "igmp",
    6: "tcp",
    17: "udp",
    58: "icmpv6",
    88: "eigrp",
    89: "ospf",
    103: "pim",
    PROTO_VRRP: "vrrp",
    115: "l2tp",
    124: "isis",
}

_UDP_PORTS = {
    67: "dhcp",
    68: "dhcp",
    123: "ntp",
    137: "netbios-ns",
    138: "netbios-dgm",
    427: "slp",
    496: "pim-rp-disc",
    520: "rip",
    521: "ripng",
    546: "dhcpv6",
    547: "dhcpv6",
    646: "ldp",
    698: "olsr",
    1900: "ssdp",
    3222: "glbp",
    3702: "ws-discovery",
    5353: "mdns",
    5355: "llmnr",
}

_HSRP_PORTS = {1985: "hsrp", 2029: "hsrpv2"}  # 2029: HSRPv2 over IPv6

_ICMPV6_TYPES = {
    130: "mld",
    131: "mld",
    132: "mld",
    143: "mld",
    133: "ndp",
    134: "ndp",
    135: "ndp",
    136: "ndp",
    137: "ndp",
}


def is_link_local_multicast(ip: IPPacket) -> bool:
    """224.0.0.0/8 for IPv4 (as DESIGN asks), ff02::/16 for IPv6."""
    if ip.family == 4:
        return ip.dst_raw[0] == 224
    return ip.dst_raw[0] == 0xFF and ip.dst_raw[1] & 0x0F == 0x02


def classify(ip: IPPacket) -> str:
    """A short protocol label: "ospf", "hsrp", "mdns", "ip proto 253", "udp port 9999"."""
    if ip.proto == 17:
        return _classify_udp(ip)
    if ip.proto == 58 and ip.payload:
        return _ICMPV6_TYPES.get(ip.payload[0], "icmpv6")
    if ip.proto == 89 and ip.family == 6:
        return "ospfv3"
    return _IP_PROTOCOLS.get(ip.proto, f"ip proto {ip.proto}")


def _classify_udp(ip: IPPacket) -> str:
    if len(ip.payload) < 4:
        return "udp"
    sport, dport = struct.unpack_from("!HH", ip.payload)
    for port in (dport, sport):
        if port in _HSRP_PORTS:
            if port == 1985 and ip.dst == HSRPV2_GROUP:
                return "hsrpv2"
            return _HSRP_PORTS[port]
        if port in _UDP_PORTS:
            return _UDP_PORTS[port]
    return f"udp port {dport}"
