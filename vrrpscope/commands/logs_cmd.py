"""`vrrpscope logs`: what the daemons logged, as one timeline, without a capture."""

from __future__ import annotations

import argparse
import sys

from vrrpscope.errors import EXIT_OK
from vrrpscope.logs.attach import check_logs, load_logs
from vrrpscope.report.jsonl import write_line


def run_logs(args: argparse.Namespace) -> int:
    check_logs(args.logs)
    logs = load_logs(args.logs, None, args.log_tz, args.config, args.year)
    if args.json:
        for log in logs:
            write_line({"type": "log", **log.to_dict()}, sys.stdout)
        for log in logs:
            for event in log.events:
                write_line(event.to_dict(), sys.stdout)
        return EXIT_OK
    from rich.console import Console
    from rich.text import Text

    from vrrpscope.commands.analyze_cmd import report_width
    from vrrpscope.report.logs import logs_lines
    from vrrpscope.report.text import MIN_WIDTH, _plain

    console = Console(highlight=False, width=report_width())
    lines = logs_lines(logs, max(console.width, MIN_WIDTH), args.local, args.details)
    if console.color_system is None:
        console.file.write("".join(_plain(line).rstrip() + "\n" for line in lines))
        return EXIT_OK
    text = Text()
    for line in lines:
        for piece, style in line:
            text.append(piece, style or None)
        text.append("\n")
    console.print(text, end="", soft_wrap=True)
    return EXIT_OK
