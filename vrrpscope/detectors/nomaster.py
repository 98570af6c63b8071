"""no-master: a virtual router that was advertising fell silent and nobody took over."""

from __future__ import annotations

from vrrpscope.detectors import Context, scope, sec, secs, who
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.routerstate import RouterState, SpeakerState

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
    message = (
        f"{router.label}: no master: {who(last)} {how} and no backup took over within "
        f"{secs(wait_ns)} (the longest Master_Down_Interval). {vips}: probably "
        "unreachable, or still held by the old master while its adverts are blocked. "
        f"Check that {daemons}, that no firewall drops protocol 112 ('send advert error 1 "
        "(Operation not permitted)' on the sender), and the link/VLAN"
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
            "addresses": list(last.addresses),
        },
    )


def close_no_master(ctx: Context, router: RouterState, by: SpeakerState, ts_ns: int) -> None:
    """Adverts resumed (from `by`)."""
    finding = ctx.book.get((Kind.NO_MASTER, router.key))
    if finding is None:
        return
    ctx.book.update(
        finding,
        ts_ns,
        frames=(by.last_frame,),
        details={"resumed_by": by.src, "silence_s": sec(ts_ns - finding.first_ts_ns)},
        notify=False,
    )
    ctx.book.close(finding, ts_ns)
