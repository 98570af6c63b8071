"""Command-line parsing for `vrrpscope`; the work is done in vrrpscope.commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vrrpscope import __version__
from vrrpscope.commands.analyze_cmd import add_threshold_options
from vrrpscope.commands.plot_cmd import add_plot_parser
from vrrpscope.errors import (
    EXIT_DAMAGED,
    EXIT_FINDINGS,
    EXIT_LIVE,
    EXIT_OK,
    EXIT_UNREADABLE,
    EXIT_USAGE,
    VrrpscopeError,
)

EXIT_CODES_HELP = f"""exit codes:
  {EXIT_OK}  success (no finding at or above --fail-on)
  {EXIT_FINDINGS}  findings at or above the --fail-on severity
  {EXIT_USAGE}  bad command line, a missing tool (tshark), an output file that cannot be written
  {EXIT_UNREADABLE}  an input could not be read at all (missing, not a capture, no permission)
  {EXIT_DAMAGED}  an input is damaged part way; everything before the damage was reported
  {EXIT_LIVE}  live capture failed (missing interface, no permission, bad --filter, not Linux)
  130  interrupted
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vrrpscope",
        description="Find out what is wrong with VRRP / VRRPv3 / CARP on a network segment.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vrrpscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    decode = sub.add_parser(
        "decode",
        help="print every VRRP/CARP advert, tcpdump-style or as JSON lines",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    decode.add_argument(
        "files", nargs="+", metavar="FILE", help="pcap/pcapng (optionally gz/bz2/xz), - = stdin"
    )
    decode.add_argument("--json", action="store_true", help="JSON lines, one object per advert")
    decode.add_argument(
        "--show-secrets", action="store_true", help="print VRRPv2 passwords and HMACs unmasked"
    )
    decode.add_argument("--local", action="store_true", help="local time instead of UTC")
    decode.add_argument(
        "--crosscheck",
        action="store_true",
        help="compare our decode with Wireshark's (tshark via pyshark) and list differences",
    )
    decode.set_defaults(handler="vrrpscope.commands.decode_cmd:run_decode")

    analyze = sub.add_parser(
        "analyze",
        help="inventory of VRIDs and speakers per segment, and what is wrong (findings)",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument(
        "files", nargs="+", metavar="FILE", help="pcap/pcapng (optionally gz/bz2/xz), - = stdin"
    )
    analyze.add_argument(
        "--json", action="store_true", help="JSON lines: summary, routers, findings"
    )
    analyze.add_argument(
        "--fail-on",
        choices=["info", "warning", "critical"],
        help="exit 1 when a finding of this severity or worse is present",
    )
    analyze.add_argument("--plot", metavar="OUT", help="also draw timelines (.png/.svg/.pdf)")
    analyze.add_argument("--local", action="store_true", help="local time instead of UTC")
    add_threshold_options(analyze)
    analyze.set_defaults(handler="vrrpscope.commands.analyze_cmd:run_analyze")

    add_plot_parser(sub, EXIT_CODES_HELP)

    live = sub.add_parser(
        "live",
        help="watch a segment as it happens (AF_PACKET, Linux)",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    live.add_argument("interface", metavar="IFACE", help="network interface, or `any`")
    live.add_argument(
        "--filter",
        metavar="BPF",
        help="capture filter (default: VRRP, CARP, 224.0.0.0/8, ff02::/16, ARP)",
    )
    live.add_argument(
        "-w", "--write", metavar="OUT", help="also write every frame here (pcapng, flushed)"
    )
    live.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    live.add_argument("--count", type=int, metavar="N", help="stop after N frames")
    live.add_argument("--json", action="store_true", help="JSON lines even on a terminal")
    live.add_argument(
        "--snapshot-interval",
        type=float,
        default=10.0,
        metavar="S",
        help="JSON mode: router snapshot every S seconds [10]",
    )
    live.add_argument("--metrics", metavar="HOST:PORT", help="serve Prometheus metrics here")
    live.add_argument(
        "--no-promisc", action="store_true", help="do not put the interface in promiscuous mode"
    )
    live.add_argument(
        "--user", default="nobody", help="drop root to this user once capturing [nobody]"
    )
    live.add_argument("--keep-root", action="store_true", help="do not drop root privileges")
    live.add_argument(
        "--fail-on",
        choices=["info", "warning", "critical"],
        help="exit 1 when a finding of this severity or worse was seen",
    )
    add_threshold_options(live)
    live.set_defaults(handler="vrrpscope.commands.live_cmd:run_live")
    return parser


def _handler(spec: str):
    module_name, func_name = spec.split(":")
    module = __import__(module_name, fromlist=[func_name])
    return getattr(module, func_name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _handler(args.handler)(args)
    except VrrpscopeError as exc:
        print(f"vrrpscope: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vrrpscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # reader went away (e.g. `| head`): not an error
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
