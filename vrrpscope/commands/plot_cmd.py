"""`vrrpscope plot`: timelines of one or more captures as PNG, SVG or PDF."""

from __future__ import annotations

import argparse

from vrrpscope.commands.analyze_cmd import (
    add_threshold_options,
    check_selection,
    report_problems,
    thresholds_from,
)
from vrrpscope.commands.options import add_filter_options
from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK
from vrrpscope.filters import view_from
from vrrpscope.report.stderr import say

PLOT_EPILOG = """output naming:
  one virtual router: OUT is its timeline
  several: OUT is the overview (one row per virtual router) and each router's timeline
  goes beside it as OUT-vrid51-eth0.png (IPv6: -vrid51-ipv6-eth0, CARP: -vhid5-eth0)
"""


def add_plot_parser(sub: argparse._SubParsersAction, epilog: str = "") -> None:
    """The `plot` subcommand (cli.py wires it with this function)."""
    plot = sub.add_parser(
        "plot",
        help="timelines: who was master when, priorities, advert gaps, findings",
        epilog=PLOT_EPILOG + ("\n" + epilog if epilog else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plot.add_argument(
        "files", nargs="+", metavar="FILE", help="pcap/pcapng (optionally gz/bz2/xz), - = stdin"
    )
    plot.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output file: .png, .svg or .pdf"
    )
    plot.add_argument("--local", action="store_true", help="local time instead of UTC")
    add_filter_options(plot)
    add_threshold_options(plot)
    plot.set_defaults(handler="vrrpscope.commands.plot_cmd:run_plot")


def run_plot(args: argparse.Namespace) -> int:
    """Analyse, pick the virtual routers asked for, write their figures (see report.plot)."""
    from vrrpscope.analysis import analyze_files
    from vrrpscope.report.plot.figures import check_output, save_plots

    out = check_output(args.output)  # a bad name fails before the capture is read
    thresholds = thresholds_from(args)
    view = view_from(args)
    analysis = analyze_files(args.files, thresholds, keep_adverts=True, view=view)
    check_selection(analysis)
    report_problems(analysis)
    for path in save_plots(analysis, out, local=args.local):
        say(f"wrote {path}")
    return EXIT_DAMAGED if analysis.damage else EXIT_OK
