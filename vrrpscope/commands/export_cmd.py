"""`vrrpscope export FILE... --parquet DIR`: captures' adverts, findings and incidents as
Parquet (vrrpscope.export.parquet), several captures at once across the CPUs."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from vrrpscope.commands.analyze_cmd import thresholds_from
from vrrpscope.errors import (
    EXIT_DAMAGED,
    EXIT_OK,
    EXIT_UNREADABLE,
    InputError,
    UsageError,
)
from vrrpscope.report.stderr import say


def run_export(args: argparse.Namespace) -> int:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError("export needs pyarrow: pip install 'vrrpscope[export]'") from None
    out = Path(args.parquet)
    _check_output(out)
    files = list(dict.fromkeys(args.files))
    if "-" in files:
        raise UsageError("export reads files, not stdin: save the capture first")
    workers = max(1, min(len(files), args.jobs or os.cpu_count() or 1))
    thresholds = thresholds_from(args)
    if args.log:
        from vrrpscope.logs.attach import check_logs

        check_logs(args.log)
    logs = (list(args.log), args.log_tz, args.config)
    jobs = [(path, str(out), thresholds, logs) for path in files]
    if workers == 1:
        results = [_export_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            results = list(pool.map(_export_one, jobs))
    code = EXIT_OK
    tables = ("adverts", "findings", "incidents") + (("log_events",) if args.log else ())
    totals = dict.fromkeys(tables, 0)
    for _path, rows, problem, damaged in results:
        if problem is not None:
            say(f"error: {problem} (not exported; the other captures were)")
            code = max(code, EXIT_UNREADABLE)
            continue
        if damaged:
            say(f"damaged input: {damaged}; exported up to there")
            code = max(code, EXIT_DAMAGED)
        for name, n in rows.items():
            totals[name] += n
    done = sum(1 for r in results if r[2] is None)
    summary = ", ".join(f"{n:,} {name}" for name, n in totals.items())
    print(f"exported {done} of {len(files)} capture(s) to {out}: {summary}", file=sys.stdout)
    return code


def _check_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--parquet {out}: cannot create it ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--parquet {out}: not writable")


def _export_one(job: tuple) -> tuple[str, dict[str, int], str | None, str | None]:
    """(path, rows per table, why it could not be read, its damage) for one capture."""
    from vrrpscope.analysis import analyze_files
    from vrrpscope.export.parquet import export_analysis

    path, out, thresholds, (specs, zone, config) = job
    try:
        analysis = analyze_files([path], thresholds, keep_adverts=True, parallel=False)
        if specs:
            from vrrpscope.logs.attach import load_logs

            load_logs(specs, analysis, zone, config)
    except InputError as exc:
        return path, {}, str(exc), None
    exported = export_analysis(analysis, path, Path(out))
    damaged = [str(d) for d in analysis.damage]
    damaged += [f"{log.path}: {log.damage}" for log in analysis.logs if log.damage]
    return path, exported.rows, None, "; ".join(damaged) or None
