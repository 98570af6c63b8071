"""interval-drift: a speaker's observed gaps deviate from its advertised interval."""

from __future__ import annotations

from typing import Any

from vrrpscope.detectors import Context, scope, who
from vrrpscope.engine.gapstats import _LAST_BIN, BINS_PER_INTERVAL
from vrrpscope.engine.state import RouterState, SpeakerState
from vrrpscope.findings import Finding, Kind, KindSpec, Severity, declare

KINDS = declare(
    __name__,
    KindSpec(
        Kind.INTERVAL_DRIFT, Severity.WARNING, "observed gaps deviate from the advertised interval"
    ),
)
EVERY_ADVERT = False  # repeated adverts reach it as summed gaps (GapStats.add_regular)


def due(sp: SpeakerState, missed: int, min_samples: int) -> bool:
    """Whether to evaluate after this gap: on missed adverts and at sparse sample counts."""
    if missed:
        return True
    gaps = sp.gaps
    if gaps is None or gaps.count < min_samples:
        return False
    n = gaps.count
    return n == min_samples or n & 63 == 0


def quiet_through(ctx: Context, router: RouterState, sp: SpeakerState, more: Any) -> bool:
    """Whether :func:`evaluate` does nothing at any point while ``more`` gaps are added.

    ``more`` (a :class:`vrrpscope.engine.bulk.runs.GapSummary`) gives the range of histogram bins
    and the longest of gaps that miss no advert. Conservative: the median and p95 of any
    prefix lie within the bins hit so far, the worst gap and missed count only grow, and
    with no drift finding open and no reason found, evaluate returns without effect.
    """
    th = ctx.th
    gaps = sp.gaps
    if gaps is None or ctx.book.get((Kind.INTERVAL_DRIFT, router.key, sp.key)) is not None:
        return False
    if _missed_in_window(th, sp, sp.last_ts_ns)[0] >= th.drift_missed_min:
        return False  # (a regular run adds no miss: the window's count only falls)
    low, high = more.low_bin, more.high_bin
    if gaps.hist:
        low, high = min(low, min(gaps.hist)), max(high, max(gaps.hist))
    if high >= _LAST_BIN:
        return False
    margin = 0.999  # stay clear of float rounding at the thresholds
    off = max(abs(low / BINS_PER_INTERVAL - 1), abs((high + 1) / BINS_PER_INTERVAL - 1))
    if off >= th.drift_median_tolerance * margin:
        return False
    if (high + 1 - low) / BINS_PER_INTERVAL >= th.drift_jitter_tolerance * margin:
        return False
    worst = max(gaps.max_ns, more.max_ns) / 1e9
    return worst < th.drift_worst_gap_fraction * _master_down_s(router, sp) * margin


def open_for_good(ctx: Context, router: RouterState, sp: SpeakerState) -> Finding | None:
    """The speaker's open drift finding, if it stays open whatever gaps that miss none
    add (each :func:`evaluate` then only updates it): so when its worst gap is near the
    takeover (the worst gap only grows); missed adverts do not keep it open, they count
    over a sliding window and leave it as regular gaps follow."""
    gaps = sp.gaps
    if gaps is None:
        return None
    near_takeover = ctx.th.drift_worst_gap_fraction * _master_down_s(router, sp)
    if gaps.max_ns / 1e9 < near_takeover:
        return None
    return ctx.book.get((Kind.INTERVAL_DRIFT, router.key, sp.key))


def _master_down_s(router: RouterState, sp: SpeakerState) -> float:
    """The Master_Down_Interval a backup of ``sp`` waits (3 intervals when unknown)."""
    assert sp.gaps is not None
    takeover = router.takeover_ns(sp)
    return takeover / 1e9 if takeover else 3 * sp.gaps.interval_ns / 1e9


def _missed_in_window(th: Any, sp: SpeakerState, ts_ns: int) -> tuple[int, float]:
    """Adverts missed in the window ending at ``ts_ns`` and their share of those due."""
    gaps = sp.gaps
    assert gaps is not None
    window = int(th.drift_window_s * 1e9)
    missed = gaps.missed_since(ts_ns - window)
    since = sp.gaps_since_ns if sp.gaps_since_ns is not None else ts_ns
    span = max(min(window, ts_ns - since), gaps.interval_ns)
    return missed, missed * gaps.interval_ns / span


def _missed_span(th: Any, sp: SpeakerState, ts_ns: int) -> dict[str, float]:
    """When the gaps that missed adverts within the window ended (``missed_from`` ..
    ``missed_until``, epoch seconds): what the correlation compares across speakers
    (the capture losing frames of many at once)."""
    assert sp.gaps is not None
    since = ts_ns - int(th.drift_window_s * 1e9)
    ends = [end for end, _n in sp.gaps.recent if end > since]
    if not ends:
        return {}
    return {"missed_from": round(min(ends) / 1e9, 6), "missed_until": round(max(ends) / 1e9, 6)}


def evaluate(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """Open, update or close the speaker's interval-drift finding from its gap statistics."""
    sp.drift_pending = None  # (this one comes after any left for later)
    th = ctx.th
    gaps = sp.gaps
    if gaps is None or not gaps.count:
        return
    iv = gaps.interval_ns / 1e9
    median = gaps.median_s or 0.0
    p95 = gaps.p95_s or 0.0
    offset = median - iv
    jitter = p95 - median
    mdi = _master_down_s(router, sp)
    worst = gaps.max_ns / 1e9
    reasons = []
    if gaps.count >= th.drift_min_samples:  # statistics need samples; lost adverts do not
        if abs(offset) > th.drift_median_tolerance * iv:
            reasons.append("median")
        if jitter > th.drift_jitter_tolerance * iv:
            reasons.append("jitter")
    recent, rate = _missed_in_window(th, sp, ts_ns)
    if recent >= th.drift_missed_min and rate >= th.drift_missed_rate:
        reasons.append("missed")
    if worst >= th.drift_worst_gap_fraction * mdi:
        reasons.append("worst-gap")
    key = (Kind.INTERVAL_DRIFT, router.key, sp.key)
    finding = ctx.book.get(key)
    if not reasons:
        if finding is not None:
            ctx.book.close(finding, ts_ns)
        return
    details: dict[str, Any] = {
        "reasons": reasons,
        "advertised_s": round(iv, 4),
        "median_s": round(median, 4),
        "median_offset_s": round(offset, 4),
        "p95_s": round(p95, 4),
        "p95_jitter_s": round(jitter, 4),
        "worst_gap_s": round(worst, 4),
        "master_down_s": round(mdi, 4),
        "worst_gap_of_master_down": round(worst / mdi, 3),
        "missed": gaps.missed,
        "missed_in_window": recent,
        "window_s": th.drift_window_s,
        **_missed_span(th, sp, ts_ns),
        "worst_gap_at": None if gaps.max_at_ns is None else round(gaps.max_at_ns / 1e9, 6),
        "gaps": gaps.count,
        "mean_s": round(gaps.mean_s or 0.0, 4),
        "stdev_s": round(gaps.stdev_s or 0.0, 4),
    }
    message = (
        f"{router.label}: adverts from {who(sp)} drift from the advertised {iv:g} s interval "
        f"(median gap {median:.3f} s, p95 {p95:.3f} s, {gaps.missed} missed "
        f"({recent} in the last {th.drift_window_s:g} s), worst gap "
        f"{worst:.2f} s = {worst / mdi:.0%} of the {mdi:.2f} s Master_Down_Interval). At "
        "100 % a backup takes over (a false failover). Check the master's CPU load and "
        "scheduling (keepalived may log 'A thread timer expired ... seconds ago'), a paused "
        "process or VM, congested links or queueing (netem); raise advert_int if needed"
    )
    if finding is not None:
        notify = finding.details["reasons"] != reasons or finding.details["missed"] != gaps.missed
        ctx.book.update(
            finding, ts_ns, frames=(sp.last_frame,), message=message, details=details, notify=notify
        )
        return
    # Lost adverts date from the first gap that lost some; statistics from their start.
    lost_only = "median" not in reasons and "jitter" not in reasons
    starts = [gaps.first_missed_at_ns, gaps.max_at_ns] if lost_only else [sp.gaps_since_ns]
    if reasons == ["worst-gap"]:  # one long gap: from it (earlier single misses are none)
        starts = [gaps.max_at_ns]
    first = min((s for s in starts if s is not None), default=ts_ns)
    ctx.book.open(
        key,
        Kind.INTERVAL_DRIFT,
        scope(router),
        (sp.src,),
        first,
        ts_ns,
        (sp.last_frame,),
        message,
        details,
    )


def end(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """The speaker stopped advertising: evaluate its statistics once more.

    The finding stays open (the statistics cover the whole capture at this interval) until
    the statistics recover, the interval changes (`reset`) or the capture ends.
    """
    evaluate(ctx, router, sp, ts_ns)


def reset(ctx: Context, router: RouterState, sp: SpeakerState, ts_ns: int) -> None:
    """The advertised interval changes and statistics restart: settle and close."""
    evaluate(ctx, router, sp, ts_ns)
    finding = ctx.book.get((Kind.INTERVAL_DRIFT, router.key, sp.key))
    if finding is not None:
        ctx.book.close(finding)
