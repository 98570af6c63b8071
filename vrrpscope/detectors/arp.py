"""ARP / ND follow-through after a split brain: stale-arp.

While two nodes are master of one virtual router both claim its VIPs by gratuitous ARP
(IPv6: unsolicited neighbour advertisements). When the split brain ends the winner was
master all along, so keepalived sends no new gratuitous ARP (unless
``vrrp_garp_master_refresh`` / ``garp_master_refresh`` is set): hosts and switches that
last heard the loser's MAC keep sending the VIP's traffic there until their entry
expires. Judged at the end of the capture, from the claims each MAC made for each VIP
(the same state on every route).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vrrpscope.detectors import Context, scope
from vrrpscope.engine.state import RouterState
from vrrpscope.findings import Finding, Kind, KindSpec, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.STALE_ARP,
        Severity.WARNING,
        "a split brain ended but the winner sent no gratuitous ARP / NA for the VIP",
    ),
)
EVERY_ADVERT = False  # judged once, at the end of the capture

NS = 1_000_000_000
MIN_AFTER_NS = 2 * NS  # judged only when this much was captured after the split brain


def capture_end(ctx: Context, routers: Iterable[RouterState], end_ns: int) -> None:
    """Every split brain that ended before the capture did: did the winner re-claim?"""
    by_key = {router.key: router for router in routers}
    for f in ctx.book.all():
        if f.kind is not Kind.SPLIT_BRAIN or f.open or end_ns - f.last_ts_ns < MIN_AFTER_NS:
            continue
        router = by_key.get((f.segment, f.family, f.proto, f.vrid))  # type: ignore[arg-type]
        if router is not None:
            _judge(ctx, router, f, end_ns)


def _judge(ctx: Context, router: RouterState, split: Finding, end_ns: int) -> None:
    healed = split.last_ts_ns
    pair = [s for s in split.details.get("speakers", ()) if s.get("mac")]
    if len(pair) != 2 or pair[0]["mac"].lower() == pair[1]["mac"].lower():
        return  # one virtual MAC for both (use_vmac): hosts were never misled
    after = {
        sp.src
        for sp in router.speakers.values()
        if sp.last_valid_ns is not None and sp.last_valid_ns > healed
    }
    went_on = [s for s in pair if s["src"] in after]
    if len(went_on) != 1:
        return  # nobody, or both, advertised after it: no single winner
    winner = went_on[0]
    loser = pair[1] if winner is pair[0] else pair[0]
    claims = ctx.claims.get(router.segment) or {}
    for vip in winner["addresses"]:
        macs = claims.get(vip) or {}
        theirs = macs.get(loser["mac"].lower())
        mine = macs.get(winner["mac"].lower())
        if theirs is None or theirs.last_ns < split.first_ts_ns:
            continue  # the loser never claimed it during the split brain
        if mine is not None and mine.last_ns > healed:
            continue  # the winner claimed it again after the split brain
        if mine is not None and mine.last_ns > theirs.last_ns:
            continue  # the winner's claim was the last hosts heard
        _open(ctx, router, split, winner, loser, vip, theirs.last_ns, end_ns)


def _open(
    ctx: Context,
    router: RouterState,
    split: Finding,
    winner: dict[str, Any],
    loser: dict[str, Any],
    vip: str,
    loser_claim_ns: int,
    end_ns: int,
) -> None:
    key = (Kind.STALE_ARP, router.key, vip, split.first_ts_ns)
    if ctx.book.get(key) is not None:
        return
    arp = "unsolicited NA" if router.family == 6 else "gratuitous ARP"
    watched = (end_ns - split.last_ts_ns) / NS
    message = (
        f"{router.label}: the split brain ended, {winner['src']} ({winner['mac']}) stayed "
        f"master, but in the {watched:,.1f} s captured since it sent no {arp} for {vip}. "
        f"The last one hosts heard came from {loser['src']} ({loser['mac']}), now backup: "
        "hosts and switches keep sending the VIP's traffic to that MAC, where it is lost, "
        "until their ARP / neighbour entry expires (seconds to many minutes). Set keepalived's "
        "garp_master_refresh (or vrrp_garp_master_refresh) so a master re-announces the "
        f"VIP; now, 'arping -U -I <iface> {vip}' on {winner['src']} (IPv6: 'ndsend')"
    )
    details = {
        "vip": vip,
        "winner": winner["src"],
        "winner_mac": winner["mac"],
        "loser": loser["src"],
        "loser_mac": loser["mac"],
        "split_brain_ts": split.first_ts_ns / NS,
        "healed_ts": split.last_ts_ns / NS,
        "loser_claim_ts": loser_claim_ns / NS,
        "watched_s": round(watched, 3),
    }
    ctx.book.open(
        key,
        Kind.STALE_ARP,
        scope(router),
        (winner["src"], loser["src"]),
        split.last_ts_ns,
        end_ns,
        tuple(split.frames[-1:]),
        message,
        details,
    )
