"""Command-line parsing for `vrrpscope`; the work is done in vrrpscope.commands."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import traceback
from collections.abc import Sequence
from typing import NoReturn

from vrrpscope import __version__
from vrrpscope.commands.analyze_cmd import add_threshold_options
from vrrpscope.commands.options import (
    add_filter_options,
    add_log_options,
    host_port,
    integer,
    seconds,
)
from vrrpscope.commands.plot_cmd import add_plot_parser
from vrrpscope.errors import (
    EXIT_DAMAGED,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LIVE,
    EXIT_OK,
    EXIT_UNREADABLE,
    EXIT_USAGE,
    VrrpscopeError,
)
from vrrpscope.report.stderr import say

_CODES = {
    EXIT_OK: "success (no finding at or above --fail-on)",
    EXIT_FINDINGS: "findings at or above the --fail-on severity",
    EXIT_USAGE: "bad command line or option value, a missing tool (tshark), "
    "an output file that cannot be written",
    EXIT_UNREADABLE: "an input could not be read at all (missing, not a capture, no permission)",
    EXIT_DAMAGED: "an input is damaged part way; everything before the damage was reported",
    EXIT_LIVE: "live capture failed (missing interface, no permission, bad --filter, "
    "not Linux) or its interface was deleted (summary printed)",
    EXIT_INTERNAL: "internal error (a bug): one line on stderr, the traceback in a file",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
#: The exit codes each command can return (its help lists only those).
COMMAND_CODES: dict[str | None, dict[int, str]] = {
    None: _CODES,
    "decode": {
        **{c: _CODES[c] for c in (EXIT_OK, EXIT_USAGE, EXIT_UNREADABLE, EXIT_DAMAGED)},
        EXIT_FINDINGS: "--crosscheck: unexplained differences from Wireshark",
        EXIT_INTERNAL: _CODES[EXIT_INTERNAL],
        EXIT_INTERRUPTED: _CODES[EXIT_INTERRUPTED],
    },
    "analyze": _CODES.copy(),
    "logs": {
        EXIT_OK: "success",
        **{c: _CODES[c] for c in (EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED)},
        EXIT_UNREADABLE: "a log (or --config) could not be read at all (missing, no "
        "permission, not a log)",
        EXIT_DAMAGED: "a compressed log is cut short or corrupt; its lines before were read",
    },
    "export": {
        EXIT_OK: "success: every capture exported",
        **{c: _CODES[c] for c in (EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED)},
        EXIT_UNREADABLE: "a capture could not be read at all (the others were exported)",
        EXIT_DAMAGED: "a capture is damaged part way; what was readable was exported",
    },
    "plot": {
        EXIT_OK: "success",
        **{
            c: _CODES[c]
            for c in (EXIT_USAGE, EXIT_UNREADABLE, EXIT_DAMAGED, EXIT_INTERNAL, EXIT_INTERRUPTED)
        },
    },
    "live": {
        EXIT_OK: "stopped (Ctrl-C, SIGTERM, --duration, --count); summary printed",
        EXIT_FINDINGS: "findings at or above the --fail-on severity were seen",
        EXIT_USAGE: "bad command line or option value, -w or --metrics unusable",
        EXIT_LIVE: _CODES[EXIT_LIVE],
        EXIT_INTERNAL: _CODES[EXIT_INTERNAL],
    },
}
del COMMAND_CODES["analyze"][EXIT_LIVE]


def exit_codes_help(command: str | None = None) -> str:
    """The "exit codes:" epilog of ``command`` (None: every code, for the top level)."""
    codes = COMMAND_CODES[command]
    lines = [
        textwrap.fill(text, 78, initial_indent=f"  {code:<4}", subsequent_indent=" " * 6)
        for code, text in sorted(codes.items())
    ]
    return "exit codes:\n" + "\n".join(lines) + "\n"


EXIT_CODES_HELP = exit_codes_help()


class _Parser(argparse.ArgumentParser):
    """A usage error is one line naming the command and where to read its help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class _SubcommandParser(_Parser):
    """A subcommand's parser: --debug is its own option too (default left to the top)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="on an internal error, print the traceback instead of saving it to a file",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vrrpscope",
        description="Find out what is wrong with VRRP / VRRPv3 / CARP on a network segment.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vrrpscope {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an internal error, print the traceback instead of saving it to a file",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubcommandParser)
    sub.required = True
    SUBCOMMANDS[id(parser)] = sub.choices

    decode = sub.add_parser(
        "decode",
        epilog=exit_codes_help("decode"),
        help="print every VRRP/CARP advert, tcpdump-style or as JSON lines",
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
    add_filter_options(decode)
    decode.set_defaults(handler="vrrpscope.commands.decode_cmd:run_decode")

    analyze = sub.add_parser(
        "analyze",
        epilog=exit_codes_help("analyze"),
        help="inventory of VRIDs and speakers per segment, and what is wrong (findings)",
    )
    analyze.add_argument(
        "files", nargs="+", metavar="FILE", help="pcap/pcapng (optionally gz/bz2/xz), - = stdin"
    )
    analyze.add_argument(
        "--json", action="store_true", help="JSON lines: summary, routers, incidents, findings"
    )
    analyze.add_argument(
        "--fail-on",
        choices=["info", "warning", "critical"],
        help="exit 1 when a finding of this severity or worse is present",
    )
    analyze.add_argument("--plot", metavar="OUT", help="also draw timelines (.png/.svg/.pdf)")
    analyze.add_argument("--local", action="store_true", help="local time instead of UTC")
    analyze.add_argument(
        "--details",
        action="store_true",
        help="show every incident, virtual router and finding (long reports are cut)",
    )
    add_log_options(analyze, on_capture=True)
    add_filter_options(analyze)
    add_threshold_options(analyze)
    analyze.set_defaults(handler="vrrpscope.commands.analyze_cmd:run_analyze")

    export = sub.add_parser(
        "export",
        epilog=exit_codes_help("export"),
        help="adverts, findings and incidents as Parquet (hive layout) for DuckDB/Spark",
    )
    export.add_argument("files", nargs="+", metavar="FILE", help="pcap/pcapng (gz/bz2/xz)")
    export.add_argument(
        "--parquet",
        required=True,
        metavar="DIR",
        help="write DIR/{adverts,findings,incidents}/date=YYYY-MM-DD/segment=S/*.parquet",
    )
    export.add_argument(
        "--jobs",
        type=integer(1),
        metavar="N",
        help="captures analysed at once (default: one per CPU)",
    )
    add_log_options(export, on_capture=True)
    add_threshold_options(export)
    export.set_defaults(handler="vrrpscope.commands.export_cmd:run_export")

    logs = sub.add_parser(
        "logs",
        epilog=exit_codes_help("logs"),
        help="what keepalived / FRR vrrpd / ucarp logged, as one timeline (no capture)",
    )
    logs.add_argument(
        "logs",
        nargs="+",
        metavar="[NODE:]FILE",
        help="syslog, journalctl (short*, json, cat) or keepalived console logs; gz/bz2/xz",
    )
    logs.add_argument("--json", action="store_true", help="JSON lines: one per log, per event")
    logs.add_argument("--local", action="store_true", help="local time instead of UTC")
    logs.add_argument("--details", action="store_true", help="show every timeline row")
    add_log_options(logs, on_capture=False)
    logs.set_defaults(handler="vrrpscope.commands.logs_cmd:run_logs")

    add_plot_parser(sub, exit_codes_help("plot"))

    live = sub.add_parser(
        "live",
        epilog=exit_codes_help("live"),
        help="watch a segment as it happens (AF_PACKET, Linux)",
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
    live.add_argument("--duration", type=seconds(), metavar="S", help="stop after S seconds")
    live.add_argument("--count", type=integer(1), metavar="N", help="stop after N frames")
    live.add_argument("--json", action="store_true", help="JSON lines even on a terminal")
    live.add_argument(
        "--snapshot-interval",
        type=seconds(),
        default=10.0,
        metavar="S",
        help="JSON mode: router snapshot every S seconds [10]",
    )
    live.add_argument(
        "--metrics", type=host_port, metavar="HOST:PORT", help="serve Prometheus metrics here"
    )
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


# the subcommand parsers of each top-level parser built here (argparse keeps them private)
SUBCOMMANDS: dict[int, dict[str, argparse.ArgumentParser]] = {}


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Like ``parser.parse_args``, but an unknown option is reported with the usage of
    the subcommand it was given to, not the top-level usage."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        choices = SUBCOMMANDS.get(id(parser), {})
        chosen = choices.get(getattr(args, "command", None), parser)
        chosen.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        return _handler(args.handler)(args)
    except VrrpscopeError as exc:
        say(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # reader went away (e.g. `| head`): not an error
        return EXIT_OK
    except Exception as exc:  # a bug: one line for the user, the traceback kept
        return internal_error(exc, debug=getattr(args, "debug", False))


def internal_error(exc: BaseException, debug: bool = False) -> int:
    """Report a bug in one line (traceback on stderr with --debug, else in a file)."""
    text = "".join(traceback.format_exception(exc))
    what = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    if debug:
        sys.stderr.write(text)
        say(f"internal error (a bug): {what}")
        return EXIT_INTERNAL
    try:
        fd, path = tempfile.mkstemp(prefix="vrrpscope-traceback-", suffix=".txt")
        with os.fdopen(fd, "w") as handle:
            handle.write(f"vrrpscope {__version__}, argv {sys.argv!r}\n{text}")
    except OSError:
        sys.stderr.write(text)
        where = "traceback above"
    else:
        where = f"traceback saved in {path}"
    say(f"internal error (a bug): {what}; {where}; please report it (--debug prints the traceback)")
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
