"""Timelines of an analysis as matplotlib figures and files (headless, Agg).

`save_plots(analysis, "out.png")` writes:
  - one virtual router: its timeline to out.png;
  - several: the overview to out.png and one timeline per router beside it, named
    out-vrid51-eth0.png (IPv6: out-vrid51-ipv6-eth0.png; CARP: out-vhid5-eth0.png; the
    segment with characters other than letters, digits, '.', '_' and '-' replaced by '_';
    when a character was replaced or the name cut to 48 characters, a short hash of the
    full name follows, so file names stay short and distinct).
The format follows the extension (.png, .svg or .pdf).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from vrrpscope.engine.state import RouterState
from vrrpscope.errors import UsageError
from vrrpscope.findings import Severity
from vrrpscope.report.plot.data import AdvertIndex, router_data
from vrrpscope.report.plot.overview import overview_figure
from vrrpscope.report.plot.router import router_figure
from vrrpscope.result import Analysis

FORMATS = (".png", ".svg", ".pdf")
DPI = 110
MAX_ROUTER_FIGURES = 64  # per save_plots call; the worst routers first, all in the overview


def matching(
    routers: Iterable[RouterState],
    vrid: int | None = None,
    segment: str | None = None,
    family: int | None = None,
    proto: str | None = None,
) -> list[RouterState]:
    """The routers that pass every filter given (None: any)."""
    return [
        r
        for r in routers
        if (vrid is None or r.vrid == vrid)
        and (segment is None or r.segment == segment)
        and (family is None or r.family == family)
        and (proto is None or r.proto == proto)
    ]


def select_routers(
    analysis: Analysis,
    vrid: int | None = None,
    segment: str | None = None,
    family: int | None = None,
    proto: str | None = None,
) -> list[RouterState]:
    """Virtual routers matching the filters; a one-line UsageError when none does."""
    routers = list(analysis.routers.values())
    chosen = matching(routers, vrid, segment, family, proto)
    if not chosen:
        wanted = " ".join(
            part
            for part in (
                f"VRID {vrid}" if vrid is not None else "",
                f"IPv{family}" if family is not None else "",
                f"on segment {segment}" if segment is not None else "",
            )
            if part
        )
        seen = ", ".join(sorted({f"{r.vrid} on {r.segment}" for r in routers})) or "none"
        raise UsageError(f"no virtual router {wanted or 'at all'} in the capture (seen: {seen})")
    return sorted(chosen, key=lambda r: (r.segment, r.family, r.proto, r.vrid))


def timeline_figure(analysis: Analysis, router: RouterState, local: bool = False) -> Figure:
    """The four-panel timeline of one virtual router."""
    return next(_timelines(analysis, [router], local))


def overview(
    analysis: Analysis,
    routers: Sequence[RouterState] | None = None,
    local: bool = False,
    note: str | None = None,
) -> Figure:
    """One row per virtual router (all of them by default), coloured by master."""
    rows = list(analysis.routers.values()) if routers is None else list(routers)
    span = None
    if analysis.first_ts_ns is not None and analysis.last_ts_ns is not None:
        span = (analysis.first_ts_ns, analysis.last_ts_ns)
    return overview_figure(rows, analysis.findings, analysis.files, local, note, span)


MAX_SEGMENT_CHARS = 48  # of the segment in a file name; longer ones are cut and hashed
MAX_NAME_BYTES = 200  # a whole file name (file systems allow 255)


def router_path(out: str | Path, router: RouterState) -> Path:
    """out.png -> out-vrid51-eth0.png (see the module docstring): always a file in OUT's
    directory, whatever the segment holds (separators, '..', control characters, a
    50-tag VLAN stack): unsafe characters become '_', a long segment is cut and given a
    short hash of its full name (two segments never share a file)."""
    out = Path(out)
    word = "vhid" if router.proto == "carp" else "vrid"
    fam = "-ipv6" if router.family == 6 else ""
    seg = re.sub(r"[^A-Za-z0-9._-]", "_", router.segment).strip(".") or "_"
    if len(seg) > MAX_SEGMENT_CHARS or seg != router.segment:
        digest = hashlib.sha256(router.segment.encode("utf-8", "surrogateescape")).hexdigest()
        seg = f"{seg[: MAX_SEGMENT_CHARS - 9]}-{digest[:8]}"
    tail = f"-{word}{router.vrid}{fam}-{seg}{out.suffix}"
    stem = out.stem.encode()[: max(MAX_NAME_BYTES - len(tail.encode()), 1)]
    name = stem.decode("utf-8", "ignore") + tail
    path = out.parent / name
    assert path.parent == out.parent and "/" not in name  # never outside OUT's directory
    return path


def check_output(out: str | Path) -> Path:
    """The output path, if its extension is one matplotlib writes here."""
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"{out}: the plot output must end in .png, .svg or .pdf")
    if not path.parent.is_dir():
        raise UsageError(f"{out}: directory {path.parent} does not exist")
    return path


def save_plots(
    analysis: Analysis,
    out: str | Path,
    routers: Sequence[RouterState] | None = None,
    local: bool = False,
    limit: int = MAX_ROUTER_FIGURES,
) -> list[Path]:
    """Write the timelines (and the overview when there are several routers); paths written."""
    path = check_output(out)
    chosen = list(analysis.routers.values()) if routers is None else list(routers)
    if not chosen:
        fig = overview(analysis, [], local, note="no VRRP/CARP adverts in the capture")
        return [_save(fig, path)]
    if len(chosen) == 1:
        return [_save(timeline_figure(analysis, chosen[0], local), path)]
    worst = _worst_first(analysis, chosen, limit)
    note = None
    if len(worst) < len(chosen):
        note = f"timelines written for the {len(worst)} most troubled of {len(chosen)} routers"
    written = [_save(overview(analysis, chosen, local, note), path)]
    targets = [router_path(path, router) for router in worst]
    workers = min(os.cpu_count() or 1, MAX_WORKERS, len(worst) // FIGURES_PER_WORKER)
    # (forking a process with other threads, a notebook's kernel, risks their locks)
    alone = threading.active_count() == 1
    if workers > 1 and alone and "fork" in mp.get_all_start_methods():
        return written + _save_forked(analysis, worst, targets, local, workers)
    for fig, target in zip(_timelines(analysis, worst, local), targets, strict=True):
        written.append(_save(fig, target))
    return written


def _timelines(analysis: Analysis, routers: Sequence[RouterState], local: bool) -> Iterator[Figure]:
    """One figure at a time (each is dropped once saved)."""
    index = AdvertIndex(analysis.adverts)
    findings = analysis.findings
    end = analysis.last_ts_ns
    for r in routers:
        data = router_data(r, index, findings, analysis.files, end)
        if analysis.logs:
            from vrrpscope.report.plot.logpanel import router_events

            data.log_events = router_events(analysis.logs, r)
            times = [e.when_ns for evs in data.log_events.values() for e in evs]
            floor = (analysis.first_ts_ns or data.start_ns) - 60 * 10**9
            ceiling = (analysis.last_ts_ns or data.end_ns) + 60 * 10**9
            inside = [t for t in times if t is not None and floor <= t <= ceiling]
            if inside:  # the daemons' moments just outside the adverts show too
                data.start_ns = min(data.start_ns, min(inside))
                data.end_ns = max(data.end_ns, max(inside))
        yield router_figure(data, local)


# Timelines take ~0.5 s of matplotlib each (its constrained layout and drawing, twice):
# with this many or more per core they are drawn in forked processes, one per core.
FIGURES_PER_WORKER = 3
MAX_WORKERS = 4
_JOB: tuple | None = None  # (analysis, routers, targets, local), inherited by the fork


def _save_forked(
    analysis: Analysis,
    routers: Sequence[RouterState],
    targets: Sequence[Path],
    local: bool,
    workers: int,
) -> list[Path]:
    """The timelines drawn by ``workers`` forked processes, each every n-th; the paths in
    order. An error in one (an unwritable file) is raised here as it would be inline."""
    global _JOB
    _JOB = (analysis, routers, targets, local)
    try:
        with mp.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
            parts = pool.map(_draw_share, [(k, workers) for k in range(workers)])
    finally:
        _JOB = None
    by_index = {i: p for part in parts for i, p in part}
    return [by_index[i] for i in range(len(targets))]


def _worker_start() -> None:
    from vrrpscope.parallel import die_with

    die_with(os.getppid())


def _draw_share(share: tuple[int, int]) -> list[tuple[int, Path]]:
    assert _JOB is not None
    analysis, routers, targets, local = _JOB
    k, n = share
    mine = list(range(k, len(routers), n))
    figs = _timelines(analysis, [routers[i] for i in mine], local)
    return [(i, _save(fig, targets[i])) for i, fig in zip(mine, figs, strict=True)]


def _worst_first(
    analysis: Analysis, routers: Sequence[RouterState], limit: int
) -> list[RouterState]:
    """All routers in row order, or the `limit` with the worst findings when there are more."""
    if len(routers) <= limit:
        return sorted(routers, key=lambda r: (r.segment, r.family, r.proto, r.vrid))
    score: dict[tuple, tuple[int, int]] = {}
    for f in analysis.findings:
        key = (f.segment, f.family, f.proto, f.vrid)
        rank, count = score.get(key, (-1, 0))
        score[key] = (max(rank, f.severity.rank), count + (f.severity >= Severity.WARNING))
    return sorted(routers, key=lambda r: score.get(r.key, (-1, 0)), reverse=True)[:limit]


def _save(fig: Figure, path: Path) -> Path:
    try:
        with warnings.catch_warnings():  # layout advice is for matplotlib users, not ours
            warnings.simplefilter("ignore", UserWarning)
            fig.savefig(path, dpi=DPI)
    except OSError as exc:  # full disk, no permission, a directory in the way, ...
        raise UsageError(f"{path}: cannot write the plot: {exc.strerror or exc}") from None
    return path
