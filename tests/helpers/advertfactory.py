"""Concise Advert construction for engine and detector tests.

Example: ``f = AdvertFactory(vrid=51)``; ``a = f.train("10.0.0.1", 0, 10, priority=200)``
gives adverts at 0, 1, ..., 10 s; ``run(capture(a, b), end=20)`` merges streams by time,
renumbers frames, feeds a new Engine and finishes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from vrrpscope.engine.core import Engine
from vrrpscope.findings import Finding, FindingEvent, Severity
from vrrpscope.model import FORM_PSEUDO, FORM_V2, Advert
from vrrpscope.thresholds import Thresholds

NS = 1_000_000_000
T0 = 1_700_000_000 * NS  # a plausible epoch, so timestamps look like real captures


def virtual_mac(vrid: int, family: int = 4, proto: str = "vrrp") -> str:
    block = 2 if family == 6 and proto == "vrrp" else 1
    return f"00:00:5e:00:{block:02x}:{vrid:02x}"


class AdvertFactory:
    """Makes Adverts with router-wide defaults; any Advert field can be overridden."""

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults
        self._frame = 0

    def advert(self, ts: float, src: str = "10.0.0.1", **kw: Any) -> Advert:
        """One advert `ts` seconds after T0 from `src`."""
        o = {**self.defaults, **kw}
        proto = o.pop("proto", "vrrp")
        family = o.pop("family", 6 if ":" in src else 4)
        version = o.pop("version", 3 if family == 6 else 2)
        vrid = o.pop("vrid", 51)
        carp = proto == "carp"
        interval = o.pop("interval", 1.0)
        advskew = o.pop("advskew", 0 if carp else None)
        advbase = o.pop("advbase", int(interval) if carp else None)
        interval_cs = advbase * 100 + advskew * 100 // 256 if carp else round(interval * 100)
        v2 = version == 2 and not carp
        addresses = tuple(o.pop("addresses", ("10.0.0.100",) if family == 4 else ("fd00::100",)))
        self._frame += 1
        fields: dict[str, Any] = {
            "ts_ns": T0 + round(ts * NS),
            "frame": self._frame,
            "source": "test.pcap",
            "segment": "eth0",
            "family": family,
            "proto": proto,
            "version": version,
            "type": 1,
            "src": src,
            "dst": "224.0.0.18" if family == 4 else "ff02::12",
            "src_mac": virtual_mac(vrid, family, proto),
            "ttl": 255,
            "vrid": vrid,
            "priority": None if carp else 100,
            "interval_cs": interval_cs,
            "count": None if carp else len(addresses),
            "addresses": () if carp else addresses,
            "auth_type": 0 if v2 else None,
            "auth_data": None,
            "checksum": 0,
            "checksum_ok": True,
            "checksum_form": FORM_V2 if (v2 or carp) else FORM_PSEUDO,
            "length": 20,
            "advbase": advbase,
            "advskew": advskew,
            "counter": 0 if carp else None,
            "demote": 0 if carp else None,
        }
        fields.update(o)
        return Advert(**fields)

    def train(
        self, src: str, start: float, stop: float, every: float | None = None, **kw: Any
    ) -> list[Advert]:
        """Adverts from `src` at start, start + every, ... up to and including stop."""
        step = every or kw.get("interval") or self.defaults.get("interval", 1.0)
        out = []
        n = 0
        while start + n * step <= stop + 1e-9:
            out.append(self.advert(start + n * step, src, **kw))
            n += 1
        return out


def capture(*streams: Iterable[Advert]) -> list[Advert]:
    """Merge advert streams by time (stable) and renumber frames as a capture would."""
    merged = sorted((a for s in streams for a in s), key=lambda a: a.ts_ns)
    return [replace(a, frame=i) for i, a in enumerate(merged, 1)]


def at(seconds: float) -> int:
    """Timestamp (ns) `seconds` after T0."""
    return T0 + round(seconds * NS)


def run(
    adverts: Iterable[Advert],
    end: float | None = None,
    thresholds: Thresholds | None = None,
    events: list[FindingEvent] | None = None,
) -> Engine:
    """Feed `adverts` into a new Engine and finish it `end` seconds after T0."""
    engine = Engine(thresholds, on_event=events.append if events is not None else None)
    for a in adverts:
        engine.feed(a)
    engine.finish(None if end is None else at(end))
    return engine


def of_kind(engine: Engine, kind: str) -> list[Finding]:
    """The engine's findings of one kind, in time order."""
    return sorted((f for f in engine.findings if f.kind == kind), key=lambda f: f.first_ts_ns)


def serious(engine: Engine) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, speakers) of every warning or critical finding."""
    return [(str(f.kind), f.speakers) for f in engine.findings if f.severity >= Severity.WARNING]


def write_pcap(path: Path, adverts: Iterable[Advert]) -> Path:
    """VRRPv2 IPv4 ``adverts`` (VRID, priority, addresses, interval) as an Ethernet
    capture, each source from its own MAC (52:54:00:00:00:<last octet>), so a test can
    run both routes on them."""
    from tests.helpers import packets as P
    from tests.helpers.capturewriter import pcap_bytes

    frames = []
    for adv in adverts:
        mac = f"52:54:00:00:00:{int(adv.src.rsplit('.', 1)[1]) % 256:02x}"
        msg = P.vrrp_v2(
            adv.vrid, adv.priority, list(adv.addresses), interval_s=adv.interval_cs // 100
        )
        frames.append((adv.ts_ns, P.ethernet(P.ipv4(msg, src=adv.src), src_mac=mac)))
    path.write_bytes(pcap_bytes(frames))
    return path
