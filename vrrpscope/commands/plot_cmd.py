"""`vrrpscope plot`: timelines of one or more captures as PNG, SVG or PDF."""

from __future__ import annotations

import argparse

from vrrpscope.commands.analyze_cmd import add_threshold_options, report_problems, thresholds_from
from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK
from vrrpscope.report.stderr import say

PLOT_EPILOG = """output naming:
  one virtual router: OUT is its timeline
  several: OUT is the overview (one row per virtual router) and each router's timeline
  goes beside it as OUT-vrid51-eth0.png (IPv6: -vrid51-ipv6-eth0, CARP: -vhid5-eth0)
"""


def vrid_arg(text: str) -> int:
    """argparse type for --vrid: 1-255."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= 255:
        raise argparse.ArgumentTypeError(f"VRIDs are 1-255, not {value}")
    return value


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
    plot.add_argument("--vrid", type=vrid_arg, metavar="N", help="only this VRID (CARP: vhid)")
    plot.add_argument("--segment", metavar="S", help="only this segment (interface/VLAN)")
    plot.add_argument("--local", action="store_true", help="local time instead of UTC")
    add_threshold_options(plot)
    plot.set_defaults(handler="vrrpscope.commands.plot_cmd:run_plot")


def run_plot(args: argparse.Namespace) -> int:
    """Analyse, pick the virtual routers asked for, write their figures (see report.plot)."""
    from vrrpscope.analysis import analyze_files
    from vrrpscope.report.plot.figures import check_output, save_plots, select_routers

    out = check_output(args.output)  # a bad name fails before the capture is read
    thresholds = thresholds_from(args)
    analysis = analyze_files(args.files, thresholds, keep_adverts=True)
    report_problems(analysis)
    routers = None
    if args.vrid is not None or args.segment is not None:
        routers = select_routers(analysis, vrid=args.vrid, segment=args.segment)
    for path in save_plots(analysis, out, routers, local=args.local):
        say(f"wrote {path}")
    return EXIT_DAMAGED if analysis.damage else EXIT_OK
