"""no-master: a virtual router that was advertising fell silent and nobody took over."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vrrpscope.detectors import Context, scope, sec, secs, who
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Finding, Kind, KindSpec, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.NO_MASTER,
        Severity.CRITICAL,
        "a router went silent past its Master_Down_Interval and nobody took over",
    ),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it


def open_no_master(
    ctx: Context, router: RouterState, last: SpeakerState, since_ns: int, wait_ns: int
) -> None:
    """Nobody advertised for `wait_ns` (the longest Master_Down_Interval) after `since_ns`."""
    key = (Kind.NO_MASTER, router.key)
    if ctx.book.get(key) is not None:
        return
    reason = last.end_reason or "silence"
    how = "resigned (priority 0)" if reason == "resigned" else "stopped advertising"
    vips = ", ".join(last.addresses[:4]) or "the virtual router's addresses"
    if router.proto == "carp":
        daemons = "CARP (or ucarp) runs on the backups"
    else:
        daemons = "keepalived runs on the backups"
    mdi = router.takeover_ns(last)
    message = (
        f"{router.label}: no master: {who(last)} {how} and no backup took over within "
        f"the Master_Down_Interval ({secs(mdi)}; none after {secs(wait_ns)}, the longest "
        f"any backup may wait). {vips}: unreachable, unless a node holds it without "
        "advertising (the old master while its adverts are blocked, or a backup whose "
        "adverts are; gratuitous ARPs for the VIP would show it). "
        f"Check that {daemons}, that no firewall drops protocol 112 ('send advert error 1 "
        "(Operation not permitted)' on the sender), and the link/VLAN."
    )
    ctx.book.open(
        key,
        Kind.NO_MASTER,
        scope(router),
        (last.src,),
        since_ns,
        since_ns + wait_ns,
        (last.last_frame,),
        message,
        {
            "last_master": last.src,
            "last_master_mac": last.mac,
            "reason": reason,
            "last_advert_ts": sec(since_ns),
            "waited_s": sec(wait_ns),
            "master_down_s": sec(mdi),
            "addresses": list(last.addresses),
        },
    )


def close_no_master(ctx: Context, router: RouterState, by: SpeakerState, ts_ns: int) -> None:
    """Adverts resumed (from `by`)."""
    finding = ctx.book.get((Kind.NO_MASTER, router.key))
    if finding is None:
        return
    details: dict[str, Any] = {"resumed_by": by.src, "silence_s": sec(ts_ns - finding.first_ts_ns)}
    ctx.book.update(finding, ts_ns, frames=(by.last_frame,), details=details, notify=False)
    holders(ctx, router, finding, ts_ns)
    ctx.book.close(finding, ts_ns)


def holders(ctx: Context, router: RouterState, finding: Finding, end_ns: int) -> None:
    """Say who held the VIPs during the silence, by their gratuitous ARPs / unsolicited NAs.

    A MAC claiming a VIP between the last advert and `end_ns` holds it without advertising:
    a master whose adverts do not reach the wire. One that is not the last master's means
    two nodes may hold it (the old master behind a blocked OUTPUT too): a split brain.
    """
    claims = ctx.claims.get(router.segment)
    if not claims or "holders" in finding.details:
        return
    start = finding.first_ts_ns
    last_mac = (finding.details.get("last_master_mac") or "").lower()
    held: dict[str, list[str]] = {}
    frames: list[int] = []
    for vip in finding.details.get("addresses", ()):
        for mac, claim in (claims.get(vip) or {}).items():
            if start < claim.first_ns <= end_ns or start < claim.last_ns <= end_ns:
                held.setdefault(vip, []).append(mac)
                frames.append(claim.first_frame)
    if not held:
        return
    macs = sorted({m for ms in held.values() for m in ms})
    named = {
        (sp.mac or "").lower(): sp.src for sp in router.speakers.values() if sp.mac is not None
    }
    vips = ", ".join(sorted(held))
    names = " and ".join(_mac_name(m, named, last_mac) for m in macs)
    note = f" During the silence gratuitous ARPs / unsolicited NAs for {vips} came from {names}"
    if last_mac in macs and len(macs) > 1:
        note += (
            ": both hold the VIP without advertising, a split brain with every node's "
            "adverts blocked (check 'ip addr' on both)."
        )
    elif len(macs) > 1 or last_mac not in macs:
        old = finding.details.get("last_master") or "the old master"
        note += (
            ": a backup became master without its adverts reaching the wire, and "
            f"{old} may still hold the VIP too: probably a split brain (check 'ip addr' "
            "on both)."
        )
    else:
        note += ": it still holds the VIP while its adverts do not reach the wire."
    message = finding.message.split(" During the silence", 1)[0] + note
    ctx.book.update(
        finding,
        frames=frames,
        message=message,
        details={"holders": {vip: sorted(ms) for vip, ms in held.items()}},
        notify=False,
    )


def _mac_name(mac: str, named: dict[str, str], last_mac: str) -> str:
    src = named.get(mac)
    if mac == last_mac:
        return f"{mac} ({src}, the last master)"
    return f"{mac} ({src})" if src else f"{mac} (which never advertised here)"


def capture_end(ctx: Context, routers: Iterable[RouterState], end_ns: int) -> None:
    """The capture ends: name the VIPs' silent holders of the no-masters still open."""
    for router in routers:
        finding = ctx.book.get((Kind.NO_MASTER, router.key))
        if finding is not None:
            holders(ctx, router, finding, end_ns)
