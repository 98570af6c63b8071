"""keepalived auth_hmac on the wire: hmac-replay and hmac-clock-skew.

Mixed signing in one virtual router (a node that signs beside one that does not, or two
key ids) is a configuration difference: :mod:`vrrpscope.detectors.config` reports it.
"""

from __future__ import annotations

from vrrpscope.detectors import Context, open_speaker, who
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Kind, KindSpec, Severity, declare
from vrrpscope.model import Advert

KINDS = declare(
    __name__,
    KindSpec(
        Kind.HMAC_REPLAY,
        Severity.WARNING,
        "a signed advert whose auth_hmac sequence does not grow (replayed, or a clock step)",
    ),
    KindSpec(
        Kind.HMAC_CLOCK_SKEW,
        Severity.WARNING,
        "a signer's clock outside auth_hmac's freshness window",
    ),
)
EVERY_ADVERT = False  # signed adverts are never applied in bulk (they never repeat)


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1e9, 3)


def hmac_replayed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """A signed advert of ``sp`` repeats or goes back on its anti-replay sequence."""
    stats = sp.signing
    assert stats is not None and advert.hmac is not None
    key = (Kind.HMAC_REPLAY, router.key, sp.key)
    details = {
        "replays": stats.replays,
        "seq": advert.hmac.seq,
        "high_water_seq": stats.last_seq,
        "key_id": advert.hmac.key_id,
        "mac": sp.mac,
    }
    finding = ctx.book.get(key)
    if finding is not None:
        message = _replay_message(router, sp, stats.replays)
        ctx.book.update(finding, ts_ns, (advert.frame,), message, details, notify=False)
        return
    message = _replay_message(router, sp, stats.replays)
    open_speaker(ctx, router, sp, key, Kind.HMAC_REPLAY, ts_ns, advert.frame, message, details)


def _replay_message(router: RouterState, sp: SpeakerState, replays: int) -> str:
    times = "once" if replays == 1 else f"{replays:,} times"
    return (
        f"{router.label}: a signed advert from {who(sp)} carried an auth_hmac sequence no "
        f"higher than one it had already sent ({times}). Receivers drop it as a replay: "
        "either someone re-sent a captured advert (an injection attempt that auth_hmac "
        "stopped) or the sender's clock stepped back (check NTP on that node; keepalived "
        "recovers once the clock passes its last sequence or the freshness window expires)"
    )


def hmac_signed(
    ctx: Context, router: RouterState, sp: SpeakerState, advert: Advert, ts_ns: int
) -> None:
    """A signed advert: is its sender's clock within the freshness window of ours?"""
    stats = sp.signing
    assert stats is not None and stats.skew_last_ns is not None
    window = ctx.th.hmac_skew_s
    key = (Kind.HMAC_CLOCK_SKEW, router.key, sp.key)
    finding = ctx.book.get(key)
    skewed = abs(stats.skew_last_ns) > window * 1e9
    if not skewed:
        if finding is not None:
            ctx.book.close(finding, ts_ns)
        return
    details = {
        "skew_s": _seconds(stats.skew_last_ns),
        "skew_min_s": _seconds(stats.skew_min_ns),
        "skew_max_s": _seconds(stats.skew_max_ns),
        "window_s": window,
        "mac": sp.mac,
    }
    if finding is not None:
        ctx.book.update(finding, ts_ns, details=details, notify=False)
        return
    skew = stats.skew_last_ns / 1e9
    side = "ahead of" if skew > 0 else "behind"
    message = (
        f"{router.label}: {who(sp)} signs its adverts with a clock {abs(skew):,.1f} s {side} "
        f"the capture's (auth_hmac timestamps). Receivers that check freshness (a window of "
        f"{window:g} s or a few intervals) drop its adverts as stale, so they may take over "
        "beside it. Fix the node's time (chronyc tracking); if every signer shows the same "
        "offset, the capturing host's clock is the one that is off"
    )
    open_speaker(ctx, router, sp, key, Kind.HMAC_CLOCK_SKEW, ts_ns, advert.frame, message, details)
