"""`vrrpscope analyze`: inventory and findings for one or more captures."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from typing import TYPE_CHECKING

from vrrpscope.commands.options import threshold_type
from vrrpscope.errors import EXIT_DAMAGED, EXIT_FINDINGS, EXIT_OK, UsageError
from vrrpscope.filters import view_from
from vrrpscope.findings import Severity
from vrrpscope.report.jsonl import write_json
from vrrpscope.report.progress import progress_for
from vrrpscope.report.stderr import say
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
    view = view_from(args)
    if args.plot:
        from vrrpscope.report.plot.figures import check_output

        check_output(args.plot)
    if args.log:
        from vrrpscope.logs.attach import check_logs

        check_logs(args.log)
    from vrrpscope.compiled import say_if_not_built

    say_if_not_built()
    with progress_for(args.files, enabled=not args.json) as on_progress:
        analysis = analyze_files(
            args.files,
            thresholds,
            keep_adverts=bool(args.plot),
            on_progress=on_progress,
            view=view,
        )
    check_selection(analysis)
    if args.log:
        from vrrpscope.logs.attach import load_logs

        load_logs(args.log, analysis, args.log_tz, args.config)
    if args.json:
        write_json(analysis, sys.stdout)
    else:
        from rich.console import Console

        from vrrpscope.report.text import render

        console = Console(highlight=False, width=report_width())
        render(analysis, console, local=args.local, details=args.details)
    report_problems(analysis, notes=args.json)  # the text report shows notes itself
    if args.plot:
        from vrrpscope.report.plot.figures import save_plots

        for path in save_plots(analysis, args.plot, local=args.local):
            say(f"wrote {path}")
    code = exit_code(analysis, args.fail_on)
    if analysis.logs:
        from vrrpscope.commands.logs_cmd import report_log_damage

        if report_log_damage(analysis.logs):
            code = EXIT_DAMAGED  # an incomplete log must not look clean either
    return code


PIPE_WIDTH = 160  # columns of the text report in a pipe or file when COLUMNS is not set


def report_width() -> int | None:
    """Columns for the text report: COLUMNS when set, the terminal's, else PIPE_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if sys.stdout.isatty() else PIPE_WIDTH


def check_selection(analysis: Analysis) -> None:
    """A selection that kept no advert is an error (what the input has, in one line)."""
    selection = analysis.selection
    if selection is not None and not selection.kept:
        for damage in analysis.damage:
            say(f"damaged input: {damage}; {damage.outcome('analysed')}")
        raise UsageError(selection.nothing_matched())


def report_problems(analysis: Analysis, notes: bool = True) -> None:
    """Notes and damage on stderr, one line each."""
    for note in analysis.notes if notes else ():
        say(f"note: {note}")
    for damage in analysis.damage:
        say(f"damaged input: {damage}; {damage.outcome('analysed')}")


def exit_code(analysis: Analysis, fail_on: str | None) -> int:
    """Damage (4) wins over findings (1): an incomplete analysis must not look clean."""
    if analysis.damage:
        return EXIT_DAMAGED
    if fail_on:
        _ = analysis.incidents  # (correlating marks the drifts a capture gap explains as info)
        bar = Severity(fail_on)
        if any(f.severity >= bar for f in analysis.findings):
            return EXIT_FINDINGS
    return EXIT_OK
