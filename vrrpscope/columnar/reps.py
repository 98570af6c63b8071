"""Decode representative frames vectorised, then broadcast the results to every frame.

``decode_reps`` runs the link, IP and VRRP/CARP stages over the representatives of a block
(one per group of identical frames, see :mod:`vrrpscope.columnar.grouping`); ``broadcast``
expands them to the advert rows, filling what differs per frame: timestamp, frame number
and the IPv4 header checksum check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrrpscope.columnar.adverts import ADVERT_DTYPE
from vrrpscope.columnar.byteview import ByteView, fold, word_sums_by_length
from vrrpscope.columnar.ip import ip_columns, label_keys
from vrrpscope.columnar.link import link_columns_multi
from vrrpscope.columnar.records import RecordBlock
from vrrpscope.columnar.tables import address_keys, ip_keys, mac_keys, segment_keys
from vrrpscope.columnar.vrrp import ISSUE_BITS, vrrp_columns
from vrrpscope.model import ISSUE_IP_CHECKSUM
from vrrpscope.proto.hsrp import HSRP_PORTS
from vrrpscope.proto.wire import PROTO_VRRP

IGNORED, OTHER, VRRP, FALLBACK = 0, 1, 2, 3
_IP_CHECKSUM_BIT = 1 << ISSUE_BITS.index(ISSUE_IP_CHECKSUM)
NAMES = ("file", "segment", "src", "src_mac", "addresses")

Keys = dict[str, tuple[np.ndarray, list]]


@dataclass
class RepResult:
    """Per-representative results (arrays of one length)."""

    category: np.ndarray  # IGNORED / OTHER / VRRP / FALLBACK
    label: np.ndarray  # classification key (OTHER)
    needed: np.ndarray  # bytes from the frame start the decoder depended on
    rows: np.ndarray  # ADVERT_DTYPE (VRRP)
    issues: np.ndarray
    form: np.ndarray
    ip_partial: np.ndarray  # IPv4 header word sum without id and checksum, else -1
    keys: Keys  # local side-table ids (-1: none) and their values

    def concat(self, other: RepResult) -> RepResult:
        keys: Keys = {}
        for name, (ids, values) in self.keys.items():
            more, more_values = other.keys[name]
            shifted = np.where(more >= 0, more + len(values), -1)
            keys[name] = (np.concatenate([ids, shifted]), list(values) + list(more_values))
        arrays = {
            name: np.concatenate([getattr(self, name), getattr(other, name)])
            for name in ("category", "label", "needed", "rows", "issues", "form", "ip_partial")
        }
        return RepResult(keys=keys, **arrays)


def _hsrp_ports(keys: np.ndarray) -> np.ndarray:
    """Which classification keys (:func:`label_keys`) are UDP between HSRP ports."""
    udp = ((keys >> 42) & 0xFF) == 17
    sport, dport = (keys >> 16) & 0xFFFF, keys & 0xFFFF
    return udp & np.isin(sport, HSRP_PORTS) & np.isin(dport, HSRP_PORTS)


def _spread(size: int, at: np.ndarray, ids: np.ndarray) -> np.ndarray:
    out = np.full(size, -1, np.int64)
    out[at] = ids
    return out


def decode_reps(view: ByteView, block: RecordBlock, reps: np.ndarray) -> RepResult:
    """Decode the frames ``reps`` (row indices into the block)."""
    m = len(reps)
    start = block.start[reps]
    link = link_columns_multi(view, block.linktype[reps], start, block.caplen[reps])
    ip = ip_columns(view, link)
    is_ip = ip.family > 0
    vr = np.flatnonzero(is_ip & (ip.proto == PROTO_VRRP))
    ot = np.flatnonzero(is_ip & (ip.proto != PROTO_VRRP) & ip.multicast)
    category = np.full(m, IGNORED, np.int64)
    category[ip.fallback] = FALLBACK
    category[vr] = VRRP
    category[ot] = OTHER
    label = np.zeros(m, np.int64)
    label[ot] = label_keys(view, ip, ot)
    needed = np.where(is_ip, ip.payload - start + 24, link.net - start + 8)
    needed[vr] = np.maximum(needed[vr], ip.payload[vr] + ip.length[vr] - start[vr])
    # an HSRP message is decoded (vrrpscope.proto.hsrp): its whole datagram counts
    hsrp = ot[_hsrp_ports(label[ot])]
    needed[hsrp] = np.maximum(needed[hsrp], ip.payload[hsrp] + ip.length[hsrp] - start[hsrp])
    needed[ip.fallback] = 0

    cols = vrrp_columns(view, ip, vr)
    rows = np.zeros(m, ADVERT_DTYPE)
    sub = rows[vr]
    sub["family"] = ip.family[vr]
    sub["carp"] = cols.carp
    sub["version"] = cols.version
    sub["type"] = cols.type
    sub["vrid"] = cols.vrid
    sub["priority"] = cols.priority
    sub["interval_cs"] = cols.interval_cs
    sub["count"] = cols.count
    sub["ttl"] = ip.ttl[vr]
    sub["auth_type"] = cols.auth_type
    sub["checksum_ok"] = cols.checksum_ok
    sub["advskew"] = cols.advskew
    sub["advbase"] = cols.advbase
    sub["hmac_key"] = cols.hmac_key
    rows[vr] = sub
    issues = np.zeros(m, np.int64)
    issues[vr] = cols.issues
    form = np.zeros(m, np.int64)
    form[vr] = cols.form
    v4 = ip.family[vr] == 4
    net = ip.payload[vr] - np.where(v4, ip.header_len[vr], 40)
    header_sum = word_sums_by_length(view, net, np.where(v4, ip.header_len[vr], 0))
    id_and_checksum = view.u16(net + 4) + view.u16(net + 10)
    ip_partial = np.full(m, -1, np.int64)
    ip_partial[vr] = np.where(v4, header_sum - id_and_checksum, -1)

    iface = block.iface[reps[vr]]
    seg_ids, seg_values = segment_keys(link.ifindex[vr], link.vlans[vr], iface, block.iface_names)
    src_ids, src_values = ip_keys(view, net + np.where(v4, 12, 8), ip.family[vr])
    mac_ids, mac_values = mac_keys(view, link.mac[vr])
    addr_ids, addr_values = address_keys(view, cols.addr_at, cols.addr_len, cols.shown)
    keys: Keys = {
        "file": (_spread(m, vr, block.source[reps[vr]]), list(block.source_names)),
        "segment": (_spread(m, vr, seg_ids), seg_values),
        "src": (_spread(m, vr, src_ids), src_values),
        "src_mac": (_spread(m, vr, mac_ids), mac_values),
        "addresses": (_spread(m, vr, addr_ids), addr_values),
    }
    return RepResult(category, label, needed, rows, issues, form, ip_partial, keys)


def broadcast(
    block: RecordBlock, res: RepResult, rep_of: np.ndarray, rows: np.ndarray, ip_fields: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advert rows, issue masks and forms for the block rows ``rows`` (reps ``rep_of``).

    ``ip_fields`` is each block row's IPv4 identification + header checksum word sum (or
    -1) as :func:`vrrpscope.columnar.grouping.dedup` returned it.
    """
    raw = res.rows.view(np.dtype((np.void, ADVERT_DTYPE.itemsize)))
    out = np.take(raw, rep_of).view(ADVERT_DTYPE)  # ~30x faster than a structured gather
    out["ts_ns"] = block.ts_ns[rows]
    out["frame"] = block.number[rows]
    issues = row_issues(res, rep_of, rows, ip_fields)
    out["valid"] = issues == 0
    return out, issues, res.form[rep_of]


def row_issues(
    res: RepResult, rep_of: np.ndarray, rows: np.ndarray, ip_fields: np.ndarray
) -> np.ndarray:
    """The issue masks of :func:`broadcast` alone: each row's representative's, with the
    IPv4 header checksum verified for the row itself."""
    issues = res.issues[rep_of]
    partial = res.ip_partial[rep_of]
    fields = ip_fields[rows]
    own = np.flatnonzero((partial >= 0) & (fields >= 0))
    if len(own):
        bad = fold(partial[own] + fields[own]) != 0xFFFF
        issues[own] = (issues[own] & ~_IP_CHECKSUM_BIT) | np.where(bad, _IP_CHECKSUM_BIT, 0)
    return issues


def local_keys(res: RepResult, rep_of: np.ndarray) -> Keys:
    """Each row's local side-table ids (for merging with general-path adverts)."""
    return {name: (ids[rep_of], values) for name, (ids, values) in res.keys.items()}
