"""Per-advert checks: invalid-packet, plaintext-auth, non-standard-mac, ipv6-first-address."""

from __future__ import annotations

import ipaddress

from vrrpscope.detectors import Context, open_speaker, scope, virtual_mac, who
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.model import (
    ISSUE_AUTH_V3,
    ISSUE_CHECKSUM,
    ISSUE_FRAGMENT,
    ISSUE_INTERVAL,
    ISSUE_IP_CHECKSUM,
    ISSUE_LENGTH,
    ISSUE_NO_AUTH,
    ISSUE_RESERVED,
    ISSUE_TEXT,
    ISSUE_TRUNCATED,
    ISSUE_TTL,
    ISSUE_TYPE,
    ISSUE_VERSION,
    ISSUE_VRID,
    Advert,
)
from vrrpscope.secrets import mask_secret

KINDS = declare(
    __name__,
    KindSpec(
        Kind.INVALID_PACKET,
        Severity.WARNING,
        "an advert receivers discard (TTL, checksum, length, version)",
    ),
    KindSpec(Kind.PLAINTEXT_AUTH, Severity.INFO, "VRRPv2 simple-text password on the wire"),
    KindSpec(Kind.NON_STANDARD_MAC, Severity.INFO, "adverts not from the virtual MAC"),
    KindSpec(
        Kind.IPV6_FIRST_ADDRESS,
        Severity.INFO,
        "an IPv6 advert whose first address is not the virtual router's link-local one",
    ),
)
EVERY_ADVERT = False  # repeated adverts (applied in bulk) never call it

MAX_LISTED_SPEAKERS = 16

_ADVICE = {
    ISSUE_TTL: (
        "keepalived logs 'invalid TTL/HL' and 'bogus VRRP packet received'; the advert was "
        "routed or sent with a wrong TTL: check unicast_peer paths and that nothing "
        "between the peers decrements the TTL"
    ),
    ISSUE_CHECKSUM: (
        "keepalived logs an invalid checksum and 'bogus VRRP packet received'; check for "
        "corruption or a peer using another VRRPv3 checksum form"
    ),
    ISSUE_IP_CHECKSUM: (
        "the kernel drops it before keepalived sees it; if the capture was taken on the "
        "sending host, checksum offloading can explain it"
    ),
    ISSUE_TRUNCATED: (
        "if only the capture is short (snaplen), receivers were not affected; otherwise "
        "check the sender"
    ),
    ISSUE_LENGTH: (
        "keepalived logs 'receive an invalid ip number count associated with VRID!' or "
        "'bogus VRRP packet received'; check the sender's implementation"
    ),
    ISSUE_NO_AUTH: (
        "receivers that check the length (keepalived: 'bogus VRRP packet received') "
        "discard it; the sender leaves out the 8 authentication bytes every VRRPv2 advert "
        "carries, even with authentication none: check its implementation"
    ),
    ISSUE_VERSION: (
        "keepalived logs a wrong-version error and 'bogus VRRP packet received'; "
        "set the same version (vrrp_version) on all peers"
    ),
    ISSUE_TYPE: "receivers ignore anything but advertisements; check the sender",
    ISSUE_FRAGMENT: "VRRP adverts are never fragmented; check MTU and the sender",
    ISSUE_VRID: "VRID 0 is not a valid virtual router; check the sender's configuration",
    ISSUE_INTERVAL: "an interval of 0 is invalid; check advert_int on the sender",
    ISSUE_RESERVED: "VRRPv3 receivers discard adverts with reserved bits set",
    ISSUE_AUTH_V3: ("VRRPv3 has no authentication: drop 'authentication' from the configuration"),
}


def invalid_packet(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """One finding per virtual router and issue code, counting the bad adverts."""
    for code in advert.issues:
        key = (Kind.INVALID_PACKET, router.key, code)
        finding = ctx.book.get(key)
        if finding is not None:
            details = finding.details
            details["count"] += 1
            new_speaker = sp.src not in details["speakers"]
            if new_speaker:
                if len(details["speakers"]) < MAX_LISTED_SPEAKERS:
                    details["speakers"].append(sp.src)
                else:
                    details["more_speakers"] = details.get("more_speakers", 0) + 1
            ttls = details.get("ttls")
            if ttls is not None and advert.ttl not in ttls and len(ttls) < MAX_LISTED_SPEAKERS:
                ttls.append(advert.ttl)
            ctx.book.update(
                finding,
                ts_ns,
                frames=(advert.frame,),
                speakers=details["speakers"] if new_speaker else None,
                notify=new_speaker,
            )
            continue
        text = ISSUE_TEXT.get(code, code)
        details = {"issue": code, "issue_text": text, "count": 1, "speakers": [sp.src]}
        if code == ISSUE_TTL:
            details["ttls"] = [advert.ttl]
        advice = _ADVICE.get(code, "check the sender")
        message = (
            f"{router.label}: adverts from {sp.src} are invalid ({text}); receivers discard "
            f"them, so for its peers this speaker is silent: {advice}"
        )
        finding = ctx.book.open(
            key,
            Kind.INVALID_PACKET,
            scope(router),
            (sp.src,),
            ts_ns,
            ts_ns,
            (advert.frame,),
            message,
            details,
        )
        if finding is not None:
            ctx.schedule_quiet(finding, int(ctx.th.quiet_close_s * 1e9))


def plaintext_auth(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """VRRPv2 simple-text authentication: the password is on the wire (masked here)."""
    key = (Kind.PLAINTEXT_AUTH, router.key, sp.key)
    open_finding = ctx.book.get(key)
    if advert.auth_type != 1:
        if open_finding is not None:
            ctx.book.close(open_finding, ts_ns)
        return
    if open_finding is not None:
        return
    masked = mask_secret(advert.auth_data)
    message = (
        f"{router.label}: {who(sp)} uses VRRPv2 simple-text authentication; the password "
        f"crosses the wire in clear (masked: '{masked}') and only guards against "
        "misconfiguration, not attackers (RFC 5798 dropped it). Peers with another "
        "password log 'receive an invalid passwd!'; use distinct VRIDs per cluster instead"
    )
    finding = ctx.book.open(
        key,
        Kind.PLAINTEXT_AUTH,
        scope(router),
        (sp.src,),
        ts_ns,
        ts_ns,
        (advert.frame,),
        message,
        {
            "auth_type": "simple",
            "password_masked": masked,
            "mac": sp.mac,
        },
    )
    ctx.follow(finding, (sp,))


def non_standard_mac(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """Source MAC is not the virtual MAC (informational; one finding per speaker)."""
    if sp.mac is None:
        return
    expected = virtual_mac(router.proto, router.family, router.vrid)
    if sp.mac.lower() == expected:
        return
    ucarp = f"00:00:5e:00:00:{router.vrid & 0xFF:02x}"
    if router.proto == "carp" and sp.mac.lower() == ucarp:
        advice = (
            "that is ucarp's virtual source MAC (00:00:5e:00:00:VHID), not the interface "
            "MAC; ucarp announces the VIP itself from the interface MAC (its gratuitous "
            "ARPs), while kernel CARP (OpenBSD/FreeBSD) uses the CARP virtual MAC "
            "00:00:5e:00:01:VHID for both. Normal for ucarp"
        )
    elif sp.mac.lower().startswith("00:00:5e:00:01:") and router.family == 6:
        advice = (
            "that is the IPv4 virtual MAC block (00:00:5e:00:01:VRID); RFC 5798 gives IPv6 "
            "virtual routers 00:00:5e:00:02:VRID, so hosts resolving the IPv6 VIP learn a "
            "MAC the standard does not expect: check the sender's VRRP implementation"
        )
    elif sp.mac.lower().startswith("00:00:5e:00:0"):
        advice = (
            "that is a virtual MAC of another virtual router (00:00:5e:00:01:VRID / "
            "00:00:5e:00:02:VRID for another VRID): a sender configured for another VRID "
            "(or a VMAC interface shared between instances)"
        )
    elif router.proto == "carp":
        advice = (
            "CARP's virtual MAC is 00:00:5e:00:01:VHID (kernel CARP on OpenBSD/FreeBSD), "
            "ucarp's 00:00:5e:00:00:VHID; this one is neither (the interface MAC, or "
            "another implementation), so check which implementation this is"
        )
    else:
        advice = (
            "normal for keepalived without use_vmac (the VIP then moves by gratuitous ARP / "
            "unsolicited NA and clients' ARP caches must follow); routers and keepalived "
            "with use_vmac send from the virtual MAC"
        )
    finding = ctx.book.open(
        (Kind.NON_STANDARD_MAC, router.key, sp.key),
        Kind.NON_STANDARD_MAC,
        scope(router),
        (sp.src,),
        ts_ns,
        ts_ns,
        (advert.frame,),
        f"{router.label}: {sp.src} advertises from MAC {sp.mac}, not the virtual MAC "
        f"{expected}: {advice}",
        {"mac": sp.mac, "expected_mac": expected},
    )
    ctx.follow(finding, (sp,))


def ipv6_first_address(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """RFC 5798 5.2.9 (and 9568): in an IPv6 advert the first address MUST be the
    virtual router's link-local address. keepalived sends what virtual_ipaddress lists
    (often only a global VIP), and keepalived accepts that; RFC-strict peers may not."""
    if router.family != 6 or router.proto != "vrrp" or not advert.addresses:
        return
    key = (Kind.IPV6_FIRST_ADDRESS, router.key)  # one per virtual router: its config
    finding = ctx.book.get(key)
    first = advert.addresses[0]
    try:
        link_local = ipaddress.IPv6Address(first).is_link_local
    except ValueError:  # (a VRRPv2-in-IPv6 oddity with 4-byte addresses)
        return
    if link_local:
        if finding is not None and finding.speakers == (sp.src,):
            ctx.book.close(finding, ts_ns)
        return
    if finding is not None:
        if sp.src not in finding.speakers:
            ctx.book.update(finding, ts_ns, (advert.frame,), speakers=(*finding.speakers, sp.src))
        return
    message = (
        f"{router.label}: its adverts list {first} first, not a link-local address: "
        "RFC 5798 wants the virtual router's link-local address (fe80::/10) first, the one "
        "hosts use as their default router from router advertisements. keepalived and FRR "
        "accept this; RFC-strict peers (Cisco, Juniper) may not interoperate. With "
        "keepalived, list a link-local VIP (e.g. fe80::1/64) first in virtual_ipaddress"
    )
    details = {"first_address": first}
    kind = Kind.IPV6_FIRST_ADDRESS
    open_speaker(ctx, router, sp, key, kind, ts_ns, advert.frame, message, details, follow=False)
