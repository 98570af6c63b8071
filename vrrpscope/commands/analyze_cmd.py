"""`vrrpscope analyze`: inventory and findings for one or more captures."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from typing import TYPE_CHECKING

from vrrpscope.commands.options import threshold_type
from vrrpscope.errors import EXIT_DAMAGED, EXIT_FINDINGS, EXIT_OK, UsageError
from vrrpscope.findings import Severity
from vrrpscope.proto.link import linktype_name
from vrrpscope.report.progress import progress_for
from vrrpscope.thresholds import Thresholds

if TYPE_CHECKING:
    from vrrpscope.analysis import Analysis


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    """One --option per engine threshold, with its RFC-rooted default in the help."""
    group = parser.add_argument_group("thresholds (defaults are RFC-rooted; see README)")
    for name, default, unit, help_text in Thresholds.describe():
        flag = "--" + name.replace("_", "-")
        suffix = f" [{default}{' ' + unit if unit else ''}]"
        group.add_argument(
            flag,
            dest=f"threshold_{name}",
            type=threshold_type(name, default),
            default=None,
            metavar="N",
            help=help_text.replace("%", "%%") + suffix,
        )


def thresholds_from(args: argparse.Namespace) -> Thresholds:
    given = {
        f.name: getattr(args, f"threshold_{f.name}")
        for f in fields(Thresholds)
        if getattr(args, f"threshold_{f.name}", None) is not None
    }
    try:
        return Thresholds(**given)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from exc


def run_analyze(args: argparse.Namespace) -> int:
    from vrrpscope.analysis import analyze_files

    thresholds = thresholds_from(args)
    if args.plot:
        from vrrpscope.report.plot.figures import check_output

        check_output(args.plot)
    with progress_for(args.files, enabled=not args.json) as on_progress:
        analysis = analyze_files(
            args.files, thresholds, keep_adverts=bool(args.plot), on_progress=on_progress
        )
    if args.json:
        write_json(analysis, sys.stdout)
    else:
        from rich.console import Console

        from vrrpscope.report.text import render

        render(analysis, Console(highlight=False, width=report_width()), local=args.local)
    report_problems(analysis, notes=args.json)  # the text report shows notes itself
    if args.plot:
        from vrrpscope.report.plot.figures import save_plots

        for path in save_plots(analysis, args.plot, local=args.local):
            print(f"vrrpscope: wrote {path}", file=sys.stderr)
    return exit_code(analysis, args.fail_on)


PIPE_WIDTH = 160  # columns of the text report in a pipe or file when COLUMNS is not set


def report_width() -> int | None:
    """Columns for the text report: COLUMNS when set, the terminal's, else PIPE_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if sys.stdout.isatty() else PIPE_WIDTH


def report_problems(analysis: Analysis, notes: bool = True) -> None:
    """Notes and damage on stderr, one line each."""
    for note in analysis.notes if notes else ():
        print(f"vrrpscope: note: {note}", file=sys.stderr)
    for damage in analysis.damage:
        print(f"vrrpscope: damaged input: {damage}; analysed up to there", file=sys.stderr)


def exit_code(analysis: Analysis, fail_on: str | None) -> int:
    """Damage (4) wins over findings (1): an incomplete analysis must not look clean."""
    if analysis.damage:
        return EXIT_DAMAGED
    if fail_on:
        bar = Severity(fail_on)
        if any(f.severity >= bar for f in analysis.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def summary_dict(analysis: Analysis, inventory: list, findings: list) -> dict:
    stats = analysis.stats
    return {
        "type": "summary",
        "files": analysis.files,
        "frames": stats.frames,
        "adverts": stats.adverts,
        "other_multicast": stats.other,
        "address_claims": stats.claims,
        "undecodable": stats.undecodable,
        "ignored": stats.ignored,
        "link_types": {linktype_name(k): v for k, v in sorted(stats.link_types.items())},
        "unknown_link_types": {str(k): v for k, v in stats.unknown_link_types.items()},
        "first_ts": None if analysis.first_ts_ns is None else analysis.first_ts_ns / 1e9,
        "last_ts": None if analysis.last_ts_ns is None else analysis.last_ts_ns / 1e9,
        "timestamps_backwards": analysis.backwards_ts,
        "damage": [str(d) for d in analysis.damage],
        "notes": analysis.notes,
        "segments": [
            {k: v for k, v in seg.to_dict().items() if k not in ("routers", "type")}
            for seg in inventory
        ],
        "findings": {sev.value: sum(f.severity == sev for f in findings) for sev in Severity},
    }


def write_json(analysis: Analysis, out) -> None:
    """JSON lines: one summary, one object per virtual router, one per finding."""
    dump = lambda obj: out.write(json.dumps(obj, separators=(",", ":")) + "\n")  # noqa: E731
    inventory, findings = analysis.inventory, analysis.findings  # each built once
    dump(summary_dict(analysis, inventory, findings))
    for segment in inventory:
        for router in segment.routers:
            dump(router.to_dict())
    for finding in findings:
        dump(finding.to_dict())
