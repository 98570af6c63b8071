"""The node view: per segment, the boxes behind the speakers (issue 13).

Operators think in nodes: one keepalived host speaks for every VRID it runs on a segment
from one interface address. A node here is a speaker IP on a segment, with every MAC it
sent from, the VRIDs it masters at the end of the capture and those it backs up, its
priorities, and the incidents it took part in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vrrpscope.engine.inventory import SegmentInventory
    from vrrpscope.incidents import Incident


@dataclass(slots=True)
class Node:
    """One speaker address on one segment, across all its virtual routers."""

    segment: str
    ip: str
    macs: list[str] = field(default_factory=list)
    masters: list[int] = field(default_factory=list)  # VRIDs it advertises at the end
    backups: list[int] = field(default_factory=list)  # VRIDs it spoke for, not master now
    priorities: dict[int, int | None] = field(default_factory=dict)  # VRID -> last priority
    states: dict[int, str] = field(default_factory=dict)  # VRID -> inventory state word
    adverts: int = 0
    incidents: list[str] = field(default_factory=list)  # incident ids, worst first

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "node",
            "segment": self.segment,
            "ip": self.ip,
            "macs": self.macs,
            "masters": self.masters,
            "backups": self.backups,
            "priorities": {str(k): v for k, v in self.priorities.items()},
            "states": {str(k): v for k, v in self.states.items()},
            "adverts": self.adverts,
            "incidents": self.incidents,
        }


def node_view(
    inventory: Iterable[SegmentInventory], incidents: Iterable[Incident] = ()
) -> dict[str, list[Node]]:
    """Segment -> its nodes (most VRIDs first, then by address)."""
    by_key: dict[tuple[str, str], Node] = {}
    for segment in inventory:
        for router in segment.routers:
            for sp in router.speakers:
                node = by_key.get((segment.segment, sp.src))
                if node is None:
                    node = by_key[(segment.segment, sp.src)] = Node(segment.segment, sp.src)
                if sp.mac and sp.mac not in node.macs:
                    node.macs.append(sp.mac)
                (node.masters if sp.master_now else node.backups).append(router.vrid)
                node.priorities[router.vrid] = sp.priority
                node.states[router.vrid] = sp.state
                node.adverts += sp.adverts
    for incident in incidents:
        for ip in incident.nodes:
            node = by_key.get((incident.segment or "", ip))
            if node is not None and incident.id not in node.incidents:
                node.incidents.append(incident.id)
    out: dict[str, list[Node]] = {}
    for node in by_key.values():
        node.masters.sort()
        node.backups.sort()
        out.setdefault(node.segment, []).append(node)
    for nodes in out.values():
        nodes.sort(key=lambda n: (-(len(n.masters) + len(n.backups)), _ip_key(n.ip)))
    return out


def _ip_key(ip: str) -> tuple[int, str]:
    import ipaddress

    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (2, ip)
    return (addr.version, f"{int(addr):040d}")
