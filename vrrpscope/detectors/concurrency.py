"""Two masters at once: split-brain (same VIPs) and duplicate-vrid (different VIPs).

Only a master advertises, so two speakers of one virtual router that keep advertising
within the Master_Down_Interval of each other for longer than that interval are both
master. The wire shows it in two ways:

- overlap: both advertise side by side (each ignores the other's adverts, or they cannot
  hear each other);
- alternation: keepalived resets its own advert timer when it drops a peer's bogus
  advert, so two masters that reject each other take turns on the wire, each taking
  over within one interval of the other's last advert. A backup that hears its master
  only takes over after priority 0 (Skew_Time) or silence (Master_Down_Interval), and
  a preemption needs a higher priority: a lower-priority speaker taking over within an
  interval, back and forth, is a second master.

- address claims: a master whose adverts its peer rejects may fall silent on the wire
  altogether (its timer is reset before it ever fires) yet still hold the VIP; its
  gratuitous ARPs / unsolicited NAs for the VIP, sent while another speaker advertises
  steadily, give it away.

A preemption or an equal-priority tie overlaps for less than one interval and is neither.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from vrrpscope.detectors import (
    Context,
    name,
    pair,
    pair_close,
    pair_get,
    pair_track,
    scope,
    sec,
    secs,
)
from vrrpscope.engine.inventory import format_ranges, free_vrids
from vrrpscope.engine.state import (
    ClaimRecord,
    Contest,
    PendingClaim,
    RouterState,
    SpeakerState,
    election_rank,
    yields_to,
)
from vrrpscope.engine.timers import interval_ns
from vrrpscope.findings import Finding, Kind, KindSpec, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.DUPLICATE_VRID,
        Severity.CRITICAL,
        "two clusters (different VIPs) advertise one VRID on one segment",
    ),
    KindSpec(Kind.SPLIT_BRAIN, Severity.CRITICAL, "two speakers hold the same VIPs at once"),
)
EVERY_ADVERT = True  # claims and overlaps are judged advert by advert (bulk only once found)

# A segment's address claims: VIP -> MAC -> its claims
Claims = Mapping[str, Mapping[str, ClaimRecord]]
_KINDS = (Kind.SPLIT_BRAIN, Kind.DUPLICATE_VRID)
_MAX_CONTESTS = 256  # contest records kept per virtual router
_MAX_PENDING_CLAIMS = 64  # claims awaiting judgement per virtual router
_CLAIM_WINDOW = 1.5  # advert intervals around a claim in which its sender must advertise


def check(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """`sp` just advertised while others are active: open or extend overlap findings."""
    since = sp.active_since_ns
    assert since is not None
    factor = ctx.th.concurrency_factor
    for other in router.active.values():
        if other is sp:
            continue
        assert other.active_since_ns is not None and other.last_valid_ns is not None
        start = since if since > other.active_since_ns else other.active_since_ns
        overlap = other.last_valid_ns - start
        if overlap <= 0:
            continue
        limit = factor * max(sp.mdi_ns, other.mdi_ns)
        if overlap <= limit and not router.pair_findings:
            continue
        a, b = pair(sp, other)
        key = (_kind(a, b), router.key, a.key, b.key)
        finding = pair_get(router, key)
        if finding is not None:  # found already (any evidence): both advertise, it goes on
            if ts_ns > finding.last_ts_ns:
                finding.last_ts_ns = ts_ns
            continue
        if overlap > limit:
            _open(ctx, router, key, a, b, start, ts_ns, int(limit), "overlap", 0)


def overlap_finding(ctx: Context, router: RouterState, *masters: SpeakerState) -> bool:
    """Two masters whose overlap finding is open and past its limit seen from either:
    each further advert of theirs only moves that finding's end (see :func:`check`)."""
    if len(masters) != 2:
        return False
    a, b = pair(*masters)
    if pair_get(router, (_kind(a, b), router.key, a.key, b.key)) is None:
        return False
    assert a.active_since_ns is not None and b.active_since_ns is not None
    assert a.last_valid_ns is not None and b.last_valid_ns is not None
    start = max(a.active_since_ns, b.active_since_ns)
    limit = ctx.th.concurrency_factor * max(a.mdi_ns, b.mdi_ns)
    return a.last_valid_ns - start > limit and b.last_valid_ns - start > limit


def overlap_continues(router: RouterState, ts_ns: int, *masters: SpeakerState) -> None:
    """Adverts of the two masters of :func:`overlap_finding` up to ``ts_ns``."""
    a, b = pair(*masters)
    finding = pair_get(router, (_kind(a, b), router.key, a.key, b.key))
    if finding is not None and ts_ns > finding.last_ts_ns:
        finding.last_ts_ns = ts_ns


def handover(
    ctx: Context, router: RouterState, old: SpeakerState, new: SpeakerState, contested: bool
) -> None:
    """`new` took over within about an interval of `old`'s last advert (not a resignation).

    `contested` when `new` does not outrank `old`: no healthy backup does that. Two such
    moves back and forth within `quiet_close_s`, spanning more than the Master_Down_Interval,
    make a split-brain / duplicate-vrid finding; later ones extend it.
    """
    assert old.end_ns is not None and new.active_since_ns is not None
    t0, t1 = old.end_ns, new.active_since_ns
    _contest(ctx, router, old, new, t0, t1, contested, new.episode_frame, "alternation")


def _reject_each_other(router: RouterState, x: SpeakerState, y: SpeakerState) -> Kind | None:
    """The open finding kind that says the pair drops each other's adverts, if any: a
    checksum-form-mismatch, or a config-mismatch other than the interval between two
    VRRPv3 speakers (a VRRPv3 backup adopts the master's)."""
    a, b = pair(x, y)
    if pair_get(router, (Kind.CHECKSUM_FORM_MISMATCH, router.key, a.key, b.key)):
        return Kind.CHECKSUM_FORM_MISMATCH
    mismatch = pair_get(router, (Kind.CONFIG_MISMATCH, router.key, a.key, b.key))
    if mismatch is None:
        return None
    fields = set(mismatch.details.get("fields", ()))
    if a.version == b.version == 3:
        fields.discard("interval")
    return Kind.CONFIG_MISMATCH if fields else None


def yielded_at_end(ctx: Context, router: RouterState, sp: SpeakerState, freshest: int) -> bool:
    """End of capture: whether `sp`, still counted as master, became backup on hearing a
    better speaker of its own cluster (same VIPs) that advertised after its last advert,
    being silent for over an interval since (RFC 5798 6.4.3: a master hearing a better
    advert yields at once; a one-advert backup answered by its master at once is none).
    Not for a pair that drops each other's adverts (they stay master without advertising).
    """
    last = sp.last_valid_ns
    if last is None:
        return False
    if freshest - last <= interval_ns(sp.interval_cs or 100) * (1 + ctx.th.timer_slack):
        return False
    return any(
        p is not sp
        and p.address_set == sp.address_set
        and (p.last_valid_ns or 0) > last
        and yields_to(sp, p)
        and _reject_each_other(router, sp, p) is None
        for p in router.active.values()
    )


def yielded_meanwhile(
    ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int
) -> SpeakerState | None:
    """Master `sp` advertises at `ts_ns` after a silence that missed adverts: the better
    peer of its own cluster that started during that silence, more than an interval
    before now, if any. `sp` heard it and became backup then (RFC 5798 6.4.3), so this
    advert begins a new episode (a preemption back, e.g. a tracker's weight restored),
    not a master going on over better adverts. Not for a pair that drops each other's
    adverts (they stay master without advertising)."""
    last = sp.last_valid_ns
    if last is None:
        return None
    for p in router.active.values():
        since = p.active_since_ns
        if p is sp or since is None or since <= last:
            continue
        waited = interval_ns(sp.interval_cs or 100) * (1 + ctx.th.timer_slack)
        if ts_ns - since <= waited or (p.last_valid_ns or 0) <= last:
            continue
        if p.address_set != sp.address_set or not _heard_better(sp, p):
            continue
        if _reject_each_other(router, sp, p) is None:
            return p
    return None


def _heard_better(sp: SpeakerState, p: SpeakerState) -> bool:
    """Whether `p` outranked `sp` as it started or as it is now (its priority may have
    dropped since: a tracker). CARP's advskew is no election here."""
    if yields_to(sp, p):
        return True
    if p.start_standing is None or p.advskew is not None:
        return False
    return election_rank(p.src, p.start_standing) > election_rank(sp.src, sp.standing)


def started(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """`sp` starts advertising at `ts_ns` while another speaker that drops its adverts (and
    whose adverts it drops) was advertising right then: both are master.

    Peers that reject each other never become backup for each other: a speaker only
    starts advertising because it hears no valid master, and keeps the VIP while the
    other's adverts go on. keepalived then resets its advert timer on every advert it
    drops, so one of the two often falls silent for seconds or for good while still
    holding the VIP: the moment both show is this one.
    """
    for other in router.active.values():
        last = other.last_valid_ns
        if other is sp or last is None:
            continue
        recent = interval_ns(other.interval_cs or 100) * (1 + ctx.th.timer_slack)
        if ts_ns - last > recent:
            continue
        why = _reject_each_other(router, sp, other)
        if why is None:
            continue
        a, b = pair(sp, other)
        key = (_kind(a, b), router.key, a.key, b.key)
        finding = pair_get(router, key)
        if finding is not None:  # both show again: the split brain goes on
            ctx.book.update(finding, ts_ns, frames=(sp.episode_frame,), notify=False)
            continue
        because = f"see {why.value}: make them agree"
        if key[0] is Kind.DUPLICATE_VRID:  # two clusters: agreeing is not the fix
            because = "they belong to two clusters with different VIPs"
        how = (
            f"{sp.src} started advertising {sec(ts_ns - last):.2f} s after an advert of "
            f"{other.src}, and the two drop each other's adverts ({because}), so neither "
            "ever becomes backup for the other. keepalived resets a "
            "master's advert timer on every advert it drops: one of the two may fall silent "
            "for seconds or for good and still hold the VIP (check 'ip addr' on both nodes)"
        )
        limit = int(ctx.th.concurrency_factor * max(a.mdi_ns, b.mdi_ns))
        finding = _open(ctx, router, key, a, b, last, ts_ns, limit, "rejected-adverts", 0, how)
        if finding is not None:  # closes after quiet_close_s with neither showing again
            ctx.schedule_quiet(finding, int(ctx.th.quiet_close_s * 1e9))


def ignored_better(
    ctx: Context, router: RouterState, sp: SpeakerState, previous: int | None, ts_ns: int
) -> None:
    """`sp`, master since its `previous` advert at least, advertises again at `ts_ns` although
    a speaker that outranks it advertised in between: it did not take that advert (RFC
    5798 6.4.3: a master hearing a better advert becomes backup at once), so both are master.

    Counted with the handovers of :func:`handover`: two such moments of a pair within
    `quiet_close_s`, spanning more than the Master_Down_Interval, make a split-brain /
    duplicate-vrid finding. An advert sent less than half an interval after the better one
    does not count: it may have crossed a preemption's first advert on the wire, or come
    from a capture whose clock is off (several nodes' captures merged).
    """
    if previous is None or sp.active_since_ns is None or sp.active_since_ns > previous:
        return
    margin = interval_ns(sp.interval_cs or 100) // 2
    for other in router.active.values():
        last = other.last_valid_ns
        if other is sp or last is None or not previous < last <= ts_ns - margin:
            continue
        if not yields_to(sp, other):
            continue
        a, b = pair(sp, other)
        if any(pair_get(router, (kind, router.key, a.key, b.key)) for kind in _KINDS):
            continue  # reported already (the bulk route skips this check then)
        # While the two overlap without a break, :func:`check` reports them (as overlap);
        # these moments make a finding only across a break (an episode that restarted).
        since = max(sp.active_since_ns, other.active_since_ns or 0)
        _contest(ctx, router, other, sp, last, ts_ns, True, sp.last_frame, "ignored", sp, since)


def _contest(
    ctx: Context,
    router: RouterState,
    first: SpeakerState,
    second: SpeakerState,
    t0: int,
    t1: int,
    contested: bool,
    frame: int,
    evidence: str,
    ignorer: SpeakerState | None = None,
    overlap_since: int | None = None,
) -> None:
    """A move of mastership between the pair from `first` at `t0` to `second` at `t1` (a
    handover, or `second` going on over `first`'s better advert); `contested` when no
    healthy router makes it. With `overlap_since`, the moves make a finding only if they
    began before it."""
    a, b = pair(first, second)
    quiet = int(ctx.th.quiet_close_s * 1e9)
    record = router.contests.get((a.key, b.key))
    if record is not None and t0 - record.last_ns > quiet:
        record = None
    if record is None:
        if contested:
            if len(router.contests) >= _MAX_CONTESTS:
                _prune(router, t0 - quiet)
            router.contests[(a.key, b.key)] = Contest(t0, t1, 1, int(contested), first.last_frame)
        return
    record.last_ns = max(record.last_ns, t1)
    record.handovers += 1
    record.contested += int(contested)
    key = (_kind(a, b), router.key, a.key, b.key)
    finding = pair_get(router, key)
    if finding is not None:
        finding.details["handovers"] = record.handovers
        ctx.book.update(finding, t1, frames=(frame,), notify=False)
        return
    limit = int(ctx.th.concurrency_factor * max(a.mdi_ns, b.mdi_ns))
    if t1 - record.first_ns <= limit or (
        overlap_since is not None and record.first_ns >= overlap_since
    ):
        return
    how = None
    if ignorer is not None:
        better = b if ignorer is a else a
        how = (
            f"{ignorer.src} goes on advertising after adverts of {better.src}, which "
            "outrank it, again and again: a router that takes them becomes backup at once, "
            "so both are master"
        )
    finding = _open(
        ctx, router, key, a, b, record.first_ns, t1, limit, evidence, record.handovers, how
    )
    if finding is not None:
        finding.frames.insert(0, record.first_frame)
        ctx.schedule_quiet(finding, quiet)


def _prune(router: RouterState, before_ns: int) -> None:
    """Bound the contest records: drop stale ones, then the older half."""
    contests = router.contests
    for pk in [pk for pk, rec in contests.items() if rec.last_ns < before_ns]:
        del contests[pk]
    if len(contests) >= _MAX_CONTESTS:
        for pk in sorted(contests, key=lambda k: contests[k].last_ns)[: len(contests) // 2]:
            del contests[pk]


OWNER_PRIORITY = 255  # RFC 5798: the router that owns the virtual addresses


def _kind(a: SpeakerState, b: SpeakerState) -> Kind:
    return Kind.SPLIT_BRAIN if a.address_set == b.address_set else Kind.DUPLICATE_VRID


def _open(
    ctx: Context,
    router: RouterState,
    key: tuple[Any, ...],
    a: SpeakerState,
    b: SpeakerState,
    start: int,
    ts_ns: int,
    limit: int,
    evidence: str,
    handovers: int,
    how: str | None = None,
) -> Finding | None:
    kind = key[0]
    details: dict[str, Any] = {
        "speakers": [_speaker(a), _speaker(b)],
        "evidence": evidence,
        "concurrent_s": sec(ts_ns - start),
        "limit_s": sec(limit),
        "handovers": handovers,
        "arp_confirmed": {},
    }
    if how is None and evidence == "overlap":
        how = f"both advertise as master for longer than {secs(limit)} (Master_Down_Interval)"
    elif how is None:
        how = (
            "they take over from each other within an advert interval, which a backup "
            "that hears its master never does: both are master, and keepalived's timer reset "
            "on each dropped advert makes them take turns on the wire"
        )
    if kind is Kind.SPLIT_BRAIN:
        vips = ", ".join(a.addresses[:4]) or "no addresses"
        fix = ""  # rejected-adverts: `how` says what to fix
        clash = _colliding(ctx, router)
        if clash is not None:
            fix = (
                f". The {clash} with number {router.vrid} on this segment causes it (see "
                "carp-collision), not a firewall: each side drops the other's adverts as "
                "bogus and keepalived resets its advert timer on each, so its nodes fall "
                "silent and time out in turns. Move the CARP vhid or the VRRP VRID to a free "
                "number"
            )
        elif a.priority == b.priority == OWNER_PRIORITY:
            details["two_owners"] = True
            owners = [s.src for s in (a, b) if s.src in s.address_set]
            fix = (
                ". Both advertise priority 255, the address owner's: each claims to own "
                "the VIP, and an owner keeps it (keepalived logs '... both configured as "
                "address owner', FRR vrrpd 'Received advertisement but we are the address "
                "owner'). Only the node whose own interface address is the VIP may use 255"
                + (f" ({', '.join(owners)} here)" if owners else " (neither is, here)")
                + ": give the other a lower priority"
            )
        elif evidence != "rejected-adverts":
            fix = (
                ". They do not hear each other: look for a firewall dropping VRRP on one node "
                "(INPUT -p vrrp -j DROP), a VLAN, bridge or multicast-snooping problem, or a "
                "config mismatch (the log shows 'bogus VRRP packet received', 'advertisement "
                "interval mismatch' or 'receive an invalid passwd!'); run tcpdump for vrrp on "
                "each node"
            )
        an, bn = name(router, a.src, a.mac), name(router, b.src, b.mac)
        message = (
            f"{router.label}: split brain: {an} and {bn} hold the same VIPs ({vips}): "
            f"{how}. Traffic is split between them{fix}"
        )
    else:
        message = (
            f"{router.label}: duplicate VRID: {a.src} advertises "
            f"{', '.join(a.addresses[:4]) or '-'} and {b.src} advertises "
            f"{', '.join(b.addresses[:4]) or '-'}: {how}. Two clusters share VRID "
            f"{router.vrid} on this segment (and its virtual MAC). Each rejects the other's "
            "adverts (keepalived logs 'ip address associated with VRID not present in "
            "received packet', 'one or more VIP associated with VRID mismatch actual MASTER "
            f"advert', 'bogus VRRP packet received'). {_free_advice(ctx, router)}"
        )
    finding = ctx.book.open(
        key,
        kind,
        scope(router),
        (a.src, b.src),
        start,
        ts_ns,
        (a.episode_frame, b.episode_frame, a.last_frame, b.last_frame),
        message,
        details,
    )
    pair_track(router, finding)
    claims = ctx.claims.get(router.segment)
    if finding is not None and claims is not None and kind is Kind.SPLIT_BRAIN:
        confirm(ctx, finding, a.address_set, claims)
    return finding


def sll_merged(findings: Iterable[Finding]) -> int:
    """A Linux cooked v1 capture (`tcpdump -i any`) merges every interface into one
    segment: a duplicate-vrid (or a config-mismatch) between speakers whose source IPs
    lie in different subnets is most likely one VRID on two interfaces, not two clusters
    on one. Lower those to info, with the reason; returns how many."""
    lowered = 0
    for f in findings:
        if f.kind not in (Kind.DUPLICATE_VRID, Kind.CONFIG_MISMATCH) or len(f.speakers) != 2:
            continue
        if not _other_subnets(*f.speakers) or f.severity is Severity.INFO:
            continue
        was = f.severity
        f.severity = Severity.INFO
        f.details["lowered_from"] = str(was)
        f.details["lowered_because"] = "sll-v1-merge, different subnets"
        f.message = (
            f"(lowered from {was}: a Linux cooked v1 capture merges all interfaces, and "
            f"{f.speakers[0]} and {f.speakers[1]} are in different subnets, so this is "
            "most likely the same VRID on two interfaces; recapture with `tcpdump -i any "
            "-y LINUX_SLL2` to be sure) " + f.message
        )
        lowered += 1
    return lowered


def _other_subnets(a: str, b: str) -> bool:
    """Whether two source IPs are in different subnets (IPv4 /24, IPv6 /64; link-local
    addresses never differ)."""
    try:
        x, y = ipaddress.ip_address(a), ipaddress.ip_address(b)
    except ValueError:
        return False
    if x.version != y.version or x.is_link_local or y.is_link_local:
        return False
    bits = 24 if x.version == 4 else 64
    net = ipaddress.ip_network(f"{x}/{bits}", strict=False)
    return y not in net


def _colliding(ctx: Context, router: RouterState) -> str | None:
    """The other protocol's router using this number on the segment ('CARP vhid' /
    'VRRP VRID'), if any: a carp-collision."""
    for other in (ctx.segments.get(router.segment) or {}).values():
        if other.vrid == router.vrid and other.proto != router.proto:
            return "CARP vhid" if other.proto == "carp" else "VRRP VRID"
    return None


def _free_advice(ctx: Context, router: RouterState) -> str:
    """Move one cluster to a VRID free on the segment, naming them (as seen so far)."""
    free = free_vrids((ctx.segments.get(router.segment) or {}).values()).get(router.family)
    if free is None:  # (no engine segments: a detector test)
        return "Move one cluster to a free VRID (see the segment inventory)"
    if not free:
        return (
            f"No VRID is free for IPv{router.family} on this segment: move one cluster to "
            "another segment or VLAN"
        )
    return (
        f"Move one cluster to a free VRID: {format_ranges(free)} are free for "
        f"IPv{router.family} on this segment (the inventory has the final list)"
    )


def _speaker(sp: SpeakerState) -> dict[str, Any]:
    return {
        "src": sp.src,
        "mac": sp.mac,
        "priority": sp.priority,
        "advskew": sp.advskew,
        "interval_s": None if sp.interval_cs is None else sp.interval_cs / 100,
        "version": sp.version,
        "addresses": list(sp.addresses),
    }


def end(ctx: Context, router: RouterState, sp: SpeakerState) -> None:
    """`sp` stopped advertising: close its overlap findings at the end of the overlap.

    Findings from alternation stay open (the next turn may come) until `quiet_close_s`
    passes without a handover. A rejected-adverts split brain lasts while the silent one
    still claims the VIP (gratuitous ARPs after its last advert): it ends when `sp`, the
    one that went on advertising, stops.
    """
    if router.pair_findings:
        _silent_partner_end(ctx, router, sp)
    if len(router.active) < 2 or not router.pair_findings:
        return
    for other in router.active.values():
        if other is sp:
            continue
        a, b = pair(sp, other)
        for kind in _KINDS:
            finding = pair_get(router, (kind, router.key, a.key, b.key))
            if finding is None or finding.details["evidence"] != "overlap":
                continue
            last = min(sp.last_valid_ns or 0, other.last_valid_ns or 0)
            finding.details["concurrent_s"] = sec(max(last - finding.first_ts_ns, 0))
            pair_close(ctx, router, finding, last)


def _silent_partner_end(ctx: Context, router: RouterState, sp: SpeakerState) -> None:
    """`sp` stops advertising: its rejected-adverts split brains with a partner that fell
    silent but still claimed the VIP afterwards lasted until now."""
    end = sp.last_valid_ns
    claims = ctx.claims.get(router.segment) or {}
    if end is None:
        return
    for finding in list(router.pair_findings.values()):
        if not finding.open or finding.details.get("evidence") != "rejected-adverts":
            continue
        pair_keys = finding.key[2:4]  # (kind, router, a.key, b.key)
        if sp.key not in pair_keys:
            continue
        other = router.speakers.get(pair_keys[1] if pair_keys[0] == sp.key else pair_keys[0])
        if other is None or other.active or other.last_valid_ns is None:
            continue
        mac = (other.mac or "").lower()
        held = [
            rec.last_ns
            for vip in other.addresses
            if (rec := (claims.get(vip) or {}).get(mac)) is not None
            and rec.last_ns > other.last_valid_ns
        ]
        if not held:
            continue
        finding.details["concurrent_s"] = sec(end - finding.first_ts_ns)
        finding.details["silent_holder"] = other.src
        finding.details["held_until_ts"] = max(held) / 1e9
        message = (
            f"{finding.message} {other.src} fell silent but kept the VIP (its gratuitous "
            f"ARPs / unsolicited NAs) until {sp.src} stopped: {secs(end - finding.first_ts_ns)} "
            "of split brain in all."
        )
        ctx.book.update(finding, end, message=message, notify=False)
        pair_close(ctx, router, finding, end)


def claims_changed(ctx: Context, router: RouterState) -> None:
    """A gratuitous ARP / unsolicited NA arrived on the segment: confirm open split brains."""
    claims = ctx.claims.get(router.segment)
    if claims is None:
        return
    for finding in list(router.pair_findings.values()):
        if finding.open and finding.kind is Kind.SPLIT_BRAIN:
            vips = {a for s in finding.details["speakers"] for a in s["addresses"]}
            confirm(ctx, finding, frozenset(vips), claims)


def confirm(ctx: Context, finding: Finding, vips: frozenset[str], claims: Claims) -> None:
    """Record VIPs claimed by two or more MACs since shortly before the split began."""
    since = finding.first_ts_ns - int(finding.details["limit_s"] * 1e9)
    confirmed: dict[str, list[str]] = {}
    frames: list[int] = []
    for vip in vips:
        macs = claims.get(vip)
        if not macs or len(macs) < 2:
            continue
        # Two MACs claimed the VIP, one of them since the split began (the other may have
        # claimed it when it became master long before).
        if any(rec.last_ns >= since for rec in macs.values()):
            confirmed[vip] = sorted(macs)[:16]
            frames.extend(rec.first_frame for rec in macs.values() if rec.last_ns >= since)
    if not confirmed or confirmed == finding.details["arp_confirmed"]:
        return
    note = (
        ". Confirmed: gratuitous ARP / unsolicited NA for "
        f"{', '.join(sorted(confirmed))} came from {len(max(confirmed.values(), key=len))} "
        "MACs."
    )
    message = finding.message.split(". Confirmed:", 1)[0] + note
    ctx.book.update(finding, frames=frames, message=message, details={"arp_confirmed": confirmed})


def claim_seen(router: RouterState, mac: str, vip: str, ts_ns: int, frame: int) -> None:
    """Remember a claim for one of the router's VIPs; judged by the following adverts."""
    if len(router.pending_claims) < _MAX_PENDING_CLAIMS:
        router.pending_claims.append(PendingClaim(mac, vip, ts_ns, frame))


def judge_claims(
    ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int, final: bool = False
) -> None:
    """`sp` advertised: decide the claims made long enough ago (`final`: at capture end,
    every claim that `sp` advertised after).

    A claim is a split brain when its sender did not advertise within _CLAIM_WINDOW
    intervals of it while `sp`, another MAC, advertised before and after it: the sender
    holds the VIP without advertising. A master that just took over claims the VIP while
    it starts advertising, so it never matches.
    """
    window = _window(sp)
    keep = []
    for claim in router.pending_claims:
        mac, vip, at, frame = claim.mac, claim.vip, claim.ts_ns, claim.frame
        if final:
            if (sp.last_valid_ns or 0) <= at:
                continue  # nobody advertised after it: nothing to compare with
        elif ts_ns - at <= window:
            keep.append(claim)
            continue
        if (sp.mac or "").lower() == mac or sp.active_since_ns is None:
            continue  # (a claimant's own adverts resolve its claims: claimant_advertised)
        if sp.active_since_ns > at - window // 3 or vip not in sp.address_set:
            continue  # sp was not advertising steadily when the claim was made
        owner = next((o for o in router.speakers.values() if (o.mac or "").lower() == mac), None)
        if owner is not None and (owner.last_valid_ns or 0) >= at - window:
            continue  # the claimant was advertising around then: a takeover
        last = owner.last_valid_ns if owner is not None else None
        _silent_master(ctx, router, sp, owner, last, mac, vip, at, ts_ns, frame)
    router.pending_claims = keep


def claimant_advertised(
    ctx: Context, router: RouterState, sp: SpeakerState, prev: int | None, ts_ns: int
) -> None:
    """`sp` advertises at `ts_ns` (its previous valid advert at `prev`): decide now the
    claims it made since, whatever their age.

    A claim is a split brain when `sp` was silent within a window around it, before
    (previous advert) and after (this one), while another master advertised steadily
    before it and again after it. Otherwise it was a takeover or its own refresh. Waiting
    for the other master to judge would be too late: by then `sp`'s new advert hides
    its silence.
    """
    mac = (sp.mac or "").lower()
    if not mac or not any(claim.mac == mac for claim in router.pending_claims):
        return
    keep = []
    for claim in router.pending_claims:
        claimant, vip, at, frame = claim.mac, claim.vip, claim.ts_ns, claim.frame
        if claimant != mac:
            keep.append(claim)
            continue
        for other in router.active.values():
            if other is sp or (other.mac or "").lower() == mac or other.active_since_ns is None:
                continue
            window = _window(other)
            if ts_ns - at <= window or (prev is not None and prev >= at - window):
                continue  # sp advertised around its claim: a takeover
            if other.active_since_ns > at - window // 3 or vip not in other.address_set:
                continue  # other was not advertising steadily when the claim was made
            if (other.last_valid_ns or 0) <= at:
                continue  # other has not advertised since the claim
            _silent_master(ctx, router, other, sp, prev, mac, vip, at, ts_ns, frame)
            break
    router.pending_claims = keep


def _window(sp: SpeakerState) -> int:
    """Nanoseconds around a claim in which `sp` advertising makes the claim a takeover."""
    return int(_CLAIM_WINDOW * (sp.interval_cs or 100) * 10_000_000)


def _silent_master(
    ctx: Context,
    router: RouterState,
    master: SpeakerState,
    owner: SpeakerState | None,
    owner_last_ns: int | None,
    mac: str,
    vip: str,
    claim_ns: int,
    ts_ns: int,
    frame: int,
) -> None:
    if owner is not None:
        a, b = pair(master, owner)
        key: tuple[Any, ...] = (Kind.SPLIT_BRAIN, router.key, a.key, b.key)
        who = f"{owner.src} ({mac})"
        speakers = (a.src, b.src)
    else:
        key = (Kind.SPLIT_BRAIN, router.key, master.key, ("claim", mac))
        who = f"MAC {mac}, which never advertised for this VRID,"
        speakers = (master.src, mac)
    finding = pair_get(router, key)
    if finding is not None:
        ctx.book.update(finding, ts_ns, frames=(frame,), notify=False)
        return
    limit = int(ctx.th.quiet_close_s * 1e9)
    message = (
        f"{router.label}: split brain: {who} claims VIP {vip} by gratuitous ARP / "
        f"unsolicited NA while {master.src} advertises as master, so both hold it and "
        "traffic is split between them. The silent one is master without advertising: "
        "either its adverts are dropped on the way out (an OUTPUT rule dropping VRRP; its "
        "log shows 'send advert error 1 (Operation not permitted)') or it keeps resetting "
        "its advert timer because it rejects the other's adverts (log: 'bogus VRRP packet "
        "received', 'receive an invalid passwd!', 'advertisement interval mismatch': make "
        "the configs agree, or move one cluster to a free VRID)"
    )
    if owner is None:
        message += "; a host with no VRRP speaker claiming the VIP is an address conflict"
    details = {
        "speakers": [_speaker(master)] + ([_speaker(owner)] if owner is not None else []),
        "evidence": "address-claims",
        "claimed_by": mac,
        "vip": vip,
        "concurrent_s": sec(ts_ns - claim_ns),
        "limit_s": sec(limit),
        "handovers": 0,
        "arp_confirmed": {vip: sorted({mac, (master.mac or "").lower()})},
    }
    # Both are master from the later of: the silent one's last advert (it was master by
    # then at the latest) and the start of the advertising one's episode.
    start = claim_ns
    if owner_last_ns is not None:
        start = min(max(owner_last_ns, master.active_since_ns or 0), claim_ns)
        details["silent_since_ts"] = owner_last_ns / 1e9
    finding = ctx.book.open(
        key,
        Kind.SPLIT_BRAIN,
        scope(router),
        speakers,
        start,
        ts_ns,
        (frame, master.last_frame),
        message,
        details,
    )
    pair_track(router, finding)
    if finding is not None:
        ctx.schedule_quiet(finding, limit)
