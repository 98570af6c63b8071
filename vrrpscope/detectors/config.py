"""Peers that disagree: config-mismatch and checksum-form-mismatch.

Speakers of one virtual router are compared whenever one of them shows a new
configuration, whether or not they advertise at the same time (a backup only advertises
after a failover, so its configuration is seen then).
"""

from __future__ import annotations

from typing import Any

from vrrpscope.detectors import Context, pair, pair_close, pair_get, pair_track, scope, who
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.model import AUTH_NAMES
from vrrpscope.secrets import auth_text, mask_secret

KINDS = declare(
    __name__,
    KindSpec(
        Kind.CONFIG_MISMATCH,
        Severity.WARNING,
        "speakers of one router disagree on their configuration",
    ),
    KindSpec(
        Kind.CHECKSUM_FORM_MISMATCH,
        Severity.WARNING,
        "VRRPv3 peers use different IPv4 checksum forms",
    ),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it

_LOG_LINES = {
    "interval": "'advertisement interval mismatch' (older: 'advertissement interval mismatch')",
    "version": "a wrong-version error and 'bogus VRRP packet received'",
    "auth_type": "an authentication-type error and 'bogus VRRP packet received'",
    "auth_data": "'receive an invalid passwd!'",
    "auth_hmac": (
        "(2.4, enforcing) a missing authentication trailer or 'unknown authentication key "
        "id'; (before 2.4) 'vrrp packet too long' for the signed adverts"
    ),
    "address_count": "'receive an invalid ip number count associated with VRID!'",
    "addresses": (
        "'ip address associated with VRID not present in received packet' / 'one or more "
        "VIP associated with VRID mismatch actual MASTER advert'"
    ),
}


def _labels(a: SpeakerState, b: SpeakerState) -> tuple[str, str]:
    """Keys for per-speaker values: the IPs, with the MACs when the IPs are equal."""
    if a.src != b.src:
        return a.src, b.src
    return f"{a.src}/{a.mac}", f"{b.src}/{b.mac}"


def _differences(a: SpeakerState, b: SpeakerState, carp: bool) -> dict[str, Any]:
    ka, kb = _labels(a, b)
    diff: dict[str, Any] = {}
    if a.interval_cs != b.interval_cs and not carp:
        diff["interval"] = {ka: _iv(a), kb: _iv(b)}
    if a.version != b.version:
        diff["version"] = {ka: a.version, kb: b.version}
    if carp:
        # A CARP host's interval is advbase + advskew/256: it is how hosts rank, not a
        # setting peers share. CARP HMACs change every advert; its adverts carry no
        # addresses.
        return diff
    if a.auth_type != b.auth_type:
        diff["auth_type"] = {ka: _auth(a.auth_type), kb: _auth(b.auth_type)}
    elif a.auth_type == 1 and auth_text(a.auth_data) != auth_text(b.auth_data):
        diff["auth_data"] = {ka: mask_secret(a.auth_data), kb: mask_secret(b.auth_data)}
    if a.hmac_key != b.hmac_key:
        diff["auth_hmac"] = {ka: _signing(a), kb: _signing(b)}
    if len(a.addresses) != len(b.addresses):
        diff["address_count"] = {ka: len(a.addresses), kb: len(b.addresses)}
    elif a.address_set != b.address_set:
        diff["addresses"] = {ka: sorted(a.address_set), kb: sorted(b.address_set)}
    return diff


def _iv(sp: SpeakerState) -> float | None:
    return None if sp.interval_cs is None else sp.interval_cs / 100


def _signing(sp: SpeakerState) -> str:
    return "unsigned" if sp.hmac_key is None else f"key {sp.hmac_key}"


def _auth(t: int | None) -> str | None:
    return None if t is None else AUTH_NAMES.get(t, str(t))


def comparable(sp: SpeakerState, carp: bool) -> tuple[Any, ...]:
    """What peers must agree on, as one value (equal values: nothing to report)."""
    if carp:
        return (sp.version,)
    secret = auth_text(sp.auth_data) if sp.auth_type == 1 else None
    return (sp.interval_cs, sp.version, sp.auth_type, secret, sp.address_set, sp.hmac_key)


def config_changed(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """`sp` showed a new configuration: compare it with every other speaker of the router."""
    carp = router.proto == "carp"
    mine = sp.comparable = comparable(sp, carp)
    if ctx.book.full:
        _compare_while_full(ctx, router, sp, carp, ts_ns)
        return
    tracked = bool(router.pair_findings)
    for other in router.speakers.values():
        if other is sp or other.version is None:
            continue
        if other.comparable == mine and not tracked:
            continue
        _compare(ctx, router, sp, other, carp, ts_ns)


def _compare(
    ctx: Context, router: RouterState, sp: SpeakerState, other: SpeakerState, carp: bool, ts_ns: int
) -> None:
    """Open, update or close the pair's mismatch finding."""
    a, b = pair(sp, other)
    key = (Kind.CONFIG_MISMATCH, router.key, a.key, b.key)
    finding = pair_get(router, key)
    diff = _differences(a, b, carp) if other.comparable != sp.comparable else {}
    if not diff:
        if finding is not None:
            pair_close(ctx, router, finding, ts_ns)
        return
    if finding is not None:
        if finding.details["fields"] != diff:
            message = _message(router, a, b, diff)
            ctx.book.update(finding, ts_ns, message=message, details={"fields": diff})
        return
    if ctx.book.full:  # (the cap reached meanwhile: only counted)
        ctx.book.suppress(key, Kind.CONFIG_MISMATCH, ts_ns)
        return
    message = _message(router, a, b, diff)
    _open_pair(ctx, router, key, (a, b), (other, sp), ts_ns, message, {"fields": diff})


def _compare_while_full(
    ctx: Context, router: RouterState, sp: SpeakerState, carp: bool, ts_ns: int
) -> None:
    """At the findings cap (a flood of speakers, each disagreeing with all the others):
    the pairs of ``sp`` with a finding open are compared as ever, the others that
    disagree only counted, without making each pair (O(speakers) cheap steps)."""
    known: set[object] = set()
    for key in [k for k in router.pair_findings if k[0] == Kind.CONFIG_MISMATCH]:
        if sp.key not in key[2:]:
            continue
        other = router.speakers.get(key[3] if key[2] == sp.key else key[2])
        if other is not None and other is not sp:
            known.add(other.key)
            _compare(ctx, router, sp, other, carp, ts_ns)
    mine = sp.comparable
    differing = sum(
        1
        for other in router.speakers.values()
        if other is not sp
        and other.version is not None
        and other.comparable != mine
        and other.key not in known
    )
    ctx.book.count_suppressed(Kind.CONFIG_MISMATCH, differing, ts_ns)


def _message(router: RouterState, a: SpeakerState, b: SpeakerState, diff: dict[str, Any]) -> str:
    ka, kb = _labels(a, b)
    parts = []
    for name, values in diff.items():
        va, vb = values[ka], values[kb]
        if name == "interval":
            parts.append(f"interval {va:g} s vs {vb:g} s")
        elif name == "auth_data":
            parts.append("simple-text passwords differ")
        elif name == "addresses":
            parts.append("different VIPs")
        elif name == "auth_hmac":
            parts.append(f"auth_hmac {va} vs {vb}")
        else:
            parts.append(f"{name.replace('_', ' ')} {va} vs {vb}")
    logs = "; ".join(_LOG_LINES[n] for n in diff)
    if a.address_set and a.address_set.isdisjoint(b.address_set):
        advice = (
            "They share no VIP: most likely two clusters use this VRID, so give one a free "
            "VRID (see the segment inventory)"
        )
    else:
        advice = "Make the peers' vrrp_instance settings identical"
    if set(diff) == {"auth_hmac"}:
        return _signing_message(router, ka, kb, diff["auth_hmac"])
    if set(diff) == {"interval"} and a.version == 3 and b.version == 3:
        # RFC 5798 6.4.2: a VRRPv3 backup adopts the master's interval; keepalived does
        # not drop the advert for it. Timers change after a failover, nothing breaks.
        return (
            f"{router.label}: {ka} and {kb} advertise different intervals "
            f"({', '.join(parts)}). VRRPv3 backups adopt the master's interval (RFC 5798), "
            "so this works, but the takeover time changes with who is master. "
            f"{advice}"
        )
    return (
        f"{router.label}: {ka} and {kb} disagree ({', '.join(parts)}). Each drops the "
        f"other's adverts, so after a failover both can be master; keepalived logs {logs}. "
        f"{advice}"
    )


def _signing_message(router: RouterState, ka: str, kb: str, values: dict[str, str]) -> str:
    """Peers that differ only in keepalived's auth_hmac: a rollout or a key rotation."""
    va, vb = values[ka], values[kb]
    if "unsigned" in (va, vb):
        signer, plain = (ka, kb) if vb == "unsigned" else (kb, ka)
        return (
            f"{router.label}: {signer} signs its adverts (auth_hmac {values[signer]}) and "
            f"{plain} does not. keepalived before 2.4 (and other vendors) drops a signed "
            "advert as 28 bytes too long ('vrrp packet too long, length 60 and expect 32' "
            "for one IPv4 VIP), and a node enforcing auth_hmac drops unsigned "
            "ones: unless the unsigned node runs auth_hmac in receive-only mode (a rollout "
            "in progress), after a failover both can be master. Give every node the same "
            "auth_hmac keys and mode"
        )
    return (
        f"{router.label}: {ka} and {kb} sign with different auth_hmac keys ({va} vs {vb}). "
        "A receiver without the other's key drops its adverts ('unknown authentication key "
        "id'), so after a failover both can be master; during a key rotation every node "
        "must hold both keys until all sign with the new one"
    )


def checksum_form_seen(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """`sp` used a checksum form it had not used before (VRRPv3 over IPv4 only)."""
    if router.family != 4 or sp.version != 3:
        return
    mine = set(sp.checksum_forms)
    for other in router.speakers.values():
        if other is sp or other.version != 3 or not other.checksum_forms:
            continue
        a, b = pair(sp, other)
        key = (Kind.CHECKSUM_FORM_MISMATCH, router.key, a.key, b.key)
        finding = pair_get(router, key)
        theirs = set(other.checksum_forms)
        if not mine.isdisjoint(theirs):
            if finding is not None:
                pair_close(ctx, router, finding, ts_ns)
            continue
        if finding is not None:
            continue
        ka, kb = _labels(a, b)  # IPs, with MACs when two speakers share an IP
        forms = {ka: sorted(a.checksum_forms), kb: sorted(b.checksum_forms)}
        message = (
            f"{router.label}: {who(a)} computes VRRPv3 checksums as "
            f"{'/'.join(forms[ka])} and {who(b)} as {'/'.join(forms[kb])}: each "
            "rejects the other's adverts as having a bad checksum, so both become master. "
            "Align them (RFC 5798 pseudo-header is keepalived's default; RFC 9568 "
            "message-only is Cisco/Juniper and keepalived 'v3_checksum_as_v2'; FRR and "
            "old keepalived unicast use the group address in the pseudo-header)"
        )
        _open_pair(ctx, router, key, (a, b), (other, sp), ts_ns, message, {"forms": forms})


def _open_pair(
    ctx: Context,
    router: RouterState,
    key: tuple[Any, ...],
    pair_: tuple[SpeakerState, SpeakerState],
    evidence: tuple[SpeakerState, SpeakerState],
    ts_ns: int,
    message: str,
    details: dict[str, Any],
) -> None:
    """Open a finding about two speakers of `router` (kind from `key`) and follow them."""
    a, b = pair_
    finding = ctx.book.open(
        key,
        key[0],
        scope(router),
        (a.src, b.src),
        ts_ns,
        ts_ns,
        tuple(sp.last_frame for sp in evidence),
        message,
        {**details, "macs": [a.mac, b.mac]},
    )
    pair_track(router, finding)
    ctx.follow(finding, (a, b))
