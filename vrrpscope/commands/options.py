"""argparse types for numeric options: finite, in range, or a one-line usage error (exit 2)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: Thresholds that count events and need at least two of them (see Thresholds).
AT_LEAST_TWO = frozenset({"flap_transitions", "priority_flap_changes", "drift_min_samples"})
#: Upper bound for integer options (counts, capacities): far beyond any real use.
MAX_INT = (1 << 31) - 1


def seconds(minimum: float = 0.0, *, allow_zero: bool = False) -> Callable[[str], float]:
    """A finite number of seconds > ``minimum`` (``>=`` with ``allow_zero``); no nan/inf."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"want a finite number, not {text!r}")
        if value < minimum or (value == minimum and not allow_zero):
            bound = f">= {minimum:g}" if allow_zero else f"> {minimum:g}"
            raise argparse.ArgumentTypeError(f"want a number {bound}, not {text!r}")
        return value

    return parse


def integer(minimum: int = 1, maximum: int = MAX_INT) -> Callable[[str], int]:
    """A whole number in ``minimum``..``maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"want {minimum}..{maximum}, not {value}")
        return value

    return parse


def host_port(text: str) -> str:
    """HOST:PORT (``[v6]:PORT``, ``:PORT`` = every address) with a port of 1-65535."""
    host, sep, port = text.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"give HOST:PORT, e.g. 127.0.0.1:9788, not {text!r}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, not {port!r}")
    if host.startswith("[") != host.endswith("]"):
        raise argparse.ArgumentTypeError(f"unbalanced brackets in {host!r}: use [::1]:PORT")
    if ":" in host and not host.startswith("["):
        raise argparse.ArgumentTypeError(f"put an IPv6 address in brackets: [{host}]:{port}")
    return text


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """--vrid, --segment, --since, --until: one meaning for analyze, decode and plot
    (vrrpscope.filters; README "Selecting what to look at")."""
    from vrrpscope.filters import NEGATIVE_VALUE, segments_arg, time_arg, vrids_arg

    group = parser.add_argument_group("selection (times in UTC unless --local; see README)")
    group.add_argument(
        "--vrid",
        action="append",
        type=vrids_arg,
        metavar="N[,M-K]",
        help="only these VRIDs (CARP: vhids), e.g. 51 or 1,5,10-20; repeatable",
    )
    group.add_argument(
        "--segment",
        action="append",
        type=segments_arg,
        metavar="S",
        help="only these segments: names (eth0.vlan30) or globs ('eth0.*'); repeatable",
    )
    group.add_argument(
        "--since",
        type=time_arg,
        metavar="T",
        help="from T: '2026-11-25 09:20:30', ISO 8601, @EPOCH, +30s (after the start), "
        "-10m (before the end; not on stdin)",
    )
    group.add_argument(
        "--until", type=time_arg, metavar="T", help="up to T (excluded), same forms as --since"
    )
    # `--until -10m` is a value, not an option (argparse takes -10 as a number only).
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = NEGATIVE_VALUE


def threshold_type(name: str, default: float | int) -> Callable[[str], float | int]:
    """The argparse type of one engine threshold (the rules of Thresholds.__post_init__)."""
    if isinstance(default, int):
        low = 2 if name in AT_LEAST_TWO else (1 if name.startswith("max_") else 0)
        return integer(low)
    return seconds(0.0, allow_zero=True)


def zone(text: str) -> object:
    """``--log-tz``: a time zone (argparse names the bad value)."""
    from vrrpscope.logs.formats import parse_zone

    try:
        return parse_zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_log_options(parser: argparse.ArgumentParser, on_capture: bool) -> None:
    """--log (analyze), --log-tz, --config, --year: the daemons' logs."""
    if on_capture:
        parser.add_argument(
            "--log",
            action="append",
            default=[],
            metavar="[NODE:]FILE",
            help="a daemon log to read beside the capture (repeat; NODE: names the node)",
        )
    parser.add_argument(
        "--log-tz",
        type=zone,
        metavar="TZ",
        help="time zone of log lines without one (UTC, +02:00, Europe/Berlin) [UTC]",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="keepalived.conf: instance names -> VRIDs for logs that name only the instance",
    )
    if not on_capture:
        parser.add_argument(
            "--year",
            type=integer(1970, 9999),
            metavar="YYYY",
            help="year of log lines without one [this year]",
        )
