"""`vrrpscope logs`: what the daemons logged, as one timeline, without a capture."""

from __future__ import annotations

import argparse
import sys

from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK, display_name
from vrrpscope.logs.attach import check_logs, load_logs
from vrrpscope.report.jsonl import write_line


def run_logs(args: argparse.Namespace) -> int:
    check_logs(args.logs)
    logs = load_logs(args.logs, None, args.log_tz, args.config, args.year)
    code = report_log_damage(logs)
    if args.json:
        for log in logs:
            write_line({"type": "log", **log.to_dict()}, sys.stdout)
        for log in logs:
            for event in log.events:
                write_line(event.to_dict(), sys.stdout)
        return code
    from rich.console import Console

    from vrrpscope.commands.analyze_cmd import report_width
    from vrrpscope.report.logs import logs_lines
    from vrrpscope.report.text import MIN_WIDTH, print_lines

    console = Console(highlight=False, width=report_width())
    print_lines(console, logs_lines(logs, max(console.width, MIN_WIDTH), args.local, args.details))
    return code


def report_log_damage(logs) -> int:
    """One stderr line per damaged log; EXIT_DAMAGED when there is one."""
    from vrrpscope.report.stderr import say

    damaged = [log for log in logs if log.damage]
    for log in damaged:
        say(f"damaged log: {display_name(log.path)}: {log.damage}; the lines before it were read")
    return EXIT_DAMAGED if damaged else EXIT_OK
