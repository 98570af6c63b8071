"""Benchmark vrrpscope against tcpdump, tshark, dpkt and scapy on generated captures.

    python -m bench.run [--packets 2000000 200000] [--dir /tmp/vrrpscope-bench]
                        [--skip tshark,scapy] [--results bench/RESULTS.md] [--memory 10000000]

Generates the captures (bench/generate.py, seed 1) unless present, runs every tool as its
own process under ``/usr/bin/time -v`` (peak RSS of its largest process) while sampling
the proportional set size (PSS) of the whole process tree every 10 ms (vrrpscope may
decode in a second process); tools quicker than 5 s are then timed three more times with
nothing watching, and their median wall time counts (slower ones: that first run). Prints
a table with packets/s and each tool's time as a ratio of ``vrrpscope analyze --json``
(full findings, end to end) plus how many times faster than plain and TZ=UTC tcpdump it
is, and writes it all to RESULTS.md. Output of every tool goes to /dev/null. On the
smallest file, analyze also reads the file together with a copy of it (a segment
captured on two nodes). ``--memory N`` also runs analyze alone on an N-packet file
(memory must not grow with the file). ``--intervals N`` times analyze on one master
sending N identical adverts at 1, 5 and 10 s (VRRPv2) and 100 and 10 cs (VRRPv3), and 2N
at 5 s: the cost must follow the adverts, not the capture's duration, so every line
stays near 1.0x of the 1 s one (and the 2N line near 2x).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import generate

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent

# `analyze --json` runs decode and engine end to end: the reference line. "one process"
# keeps the decode in the engine's process (VRRPSCOPE_PARALLEL=0); VRRPSCOPE_GENERAL=1
# forces the general per-frame route. "fast path decode" is the columnar decode alone.
FAST = (  # streamed, as the engine consumes it: memory does not grow with the file
    "import sys; from vrrpscope.columnar.decoder import ColumnarDecoder; "
    "r = ColumnarDecoder([sys.argv[1]]); "
    "n = sum(len(c.table) for c in r.chunks()); print(n, r.stats.frames, file=sys.stderr)"
)
GENERAL = (
    "import sys; from vrrpscope.pipeline import DecodeSession; from vrrpscope.model import Advert; "
    "from vrrpscope.columnar.adverts import AdvertTable; r = DecodeSession([sys.argv[1]]); "
    "t = AdvertTable.from_adverts(i for i in r.items() if isinstance(i, Advert)); "
    "print(len(t), file=sys.stderr)"
)
# Floors of this design: what any run pays before it decodes a frame. The record walk
# finds the frames of a pcap file (the compiled walk, vrrpscope/_core.c) and stops there.
STARTUP = "import numpy"
WALK = (
    "import sys; from vrrpscope.columnar.decoder import ColumnarDecoder; "
    "from vrrpscope.columnar.records import BLOCK, PcapBlocks; p = sys.argv[1]; "
    "n = sum(len(b.start) for b in PcapBlocks(p, ColumnarDecoder._fast_info(p), BLOCK, False)); "
    "print(n, file=sys.stderr)"
)
STARTUP_NAME = "floor: python + numpy start-up"
WALK_NAME = "floor: start-up + pcap record walk"
DPKT = """
import sys, dpkt
n = 0
with open(sys.argv[1], "rb") as f:
    for ts, buf in dpkt.pcap.Reader(f):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        if isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)) and ip.p == 112:
            n += 1
print(n, file=sys.stderr)
"""
SCAPY = """
import sys
from scapy.all import IP, IPv6, PcapReader
n = 0
for pkt in PcapReader(sys.argv[1]):
    if (IP in pkt and pkt[IP].proto == 112) or (IPv6 in pkt and pkt[IPv6].nh == 112):
        n += 1
print(n, file=sys.stderr)
"""


@dataclass
class Tool:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    small_only: bool = False  # too slow for the big file
    needs: str | None = None  # executable or module that must exist


REFERENCE = "vrrpscope analyze --json"
# The file and a copy of it (the segment captured on two nodes: every advert twice,
# counted once): twice the frames of the line's packet count.
TWO_NODES = "vrrpscope analyze --json F F-copy (2x the frames)"


def tools(path: str) -> list[Tool]:
    analyze = [PY, "-m", "vrrpscope", "analyze", "--json", path]
    return [
        Tool(REFERENCE, analyze, env={"VRRPSCOPE_GENERAL": "0"}),
        Tool(
            "vrrpscope analyze --json, one process",
            analyze,
            env={"VRRPSCOPE_GENERAL": "0", "VRRPSCOPE_PARALLEL": "0"},
        ),
        Tool(
            "vrrpscope analyze --json, without the compiled walk",
            analyze,
            env={"VRRPSCOPE_GENERAL": "0", "VRRPSCOPE_COMPILED": "0"},
        ),
        Tool(
            "vrrpscope analyze --json, general path",
            analyze,
            env={"VRRPSCOPE_GENERAL": "1"},
        ),
        Tool("vrrpscope fast path decode", [PY, "-c", FAST, path]),
        Tool(STARTUP_NAME, [PY, "-c", STARTUP]),
        Tool(WALK_NAME, [PY, "-c", WALK, path]),
        Tool("vrrpscope general path decode", [PY, "-c", GENERAL, path]),
        Tool("tcpdump -nn -r F vrrp", ["tcpdump", "-nn", "-r", path, "vrrp"], needs="tcpdump"),
        Tool(
            "TZ=UTC tcpdump -nn -r F vrrp",
            ["tcpdump", "-nn", "-r", path, "vrrp"],
            env={"TZ": "UTC"},
            needs="tcpdump",
        ),
        Tool(
            "tshark -Y vrrp -T fields",
            ["tshark", "-r", path, "-Y", "vrrp", "-T", "fields", "-e", "vrrp.virt_rtr_id"],
            needs="tshark",
        ),
        Tool("dpkt loop", [PY, "-c", DPKT, path], needs="dpkt"),
        Tool("scapy PcapReader", [PY, "-c", SCAPY, path], small_only=True, needs="scapy"),
    ]


@dataclass
class Result:
    tool: str
    packets: int
    seconds: float
    rss_mib: float  # peak RSS of the largest process (/usr/bin/time -v)
    pss_mib: float  # peak PSS summed over the process tree (sampled)
    ok: bool


def _available(tool: Tool) -> bool:
    if tool.needs is None:
        return True
    if shutil.which(tool.needs):
        return True
    code = f"import {tool.needs}"
    return subprocess.run([PY, "-c", code], capture_output=True).returncode == 0


def measure(tool: Tool, packets: int, repeat: int = 3) -> Result:
    """Wall time and memory of ``tool``: one run under ``/usr/bin/time -v`` with the PSS
    of its process tree sampled; a tool that took less than ``QUICK_S`` there is timed
    again ``repeat`` times with nothing watching (sampling takes CPU from a tool that uses
    both CPUs) and the median of those is its time."""
    env = dict(os.environ, **(tool.env or {}))
    env.setdefault("PYTHONPATH", str(ROOT))
    argv = ["/usr/bin/time", "-v", *tool.argv]
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    peak_kib = 0
    while proc.poll() is None:
        peak_kib = max(peak_kib, tree_pss_kib(proc.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else ""
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    ok = proc.returncode in (0, 1)  # analyze exits 1 when findings reach --fail-on
    rss_mib = int(rss.group(1)) / 1024 if rss else 0.0
    if seconds < QUICK_S and repeat > 0:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run = subprocess.run(
                tool.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
            )
            times.append(time.perf_counter() - started)
            ok = ok and run.returncode in (0, 1)
        seconds = statistics.median(times)
    return Result(tool.name, packets, seconds, rss_mib, peak_kib / 1024, ok)


QUICK_S = 5.0  # tools faster than this are timed by the median of unobserved runs


def tree_pss_kib(pid: int) -> int:
    """PSS (KiB) of ``pid``'s descendants (``/usr/bin/time`` itself left out)."""
    total = 0
    todo = _children(pid)
    while todo:
        child = todo.pop()
        try:
            with open(f"/proc/{child}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
        todo.extend(_children(child))
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def ensure(path: Path, packets: int) -> None:
    if not path.exists():
        started = time.perf_counter()
        generate.write(str(path), packets, seed=1, fmt=path.suffix.lstrip("."))
        took = time.perf_counter() - started
        print(f"generated {path} ({packets} packets) in {took:.1f} s", file=sys.stderr)


def table(results: list[Result]) -> str:
    lines = [
        "| file (packets) | tool | seconds | packets/s | peak RSS MiB (largest process) "
        "| peak PSS MiB (all processes) | time vs analyze --json |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    base = {r.packets: r.seconds for r in results if r.tool == REFERENCE}
    for r in results:
        ratio = r.seconds / base[r.packets] if base.get(r.packets) else float("nan")
        note = "" if r.ok else " (failed)"
        lines.append(
            f"| {r.packets:,} | {r.tool}{note} | {r.seconds:.2f} | {r.packets / r.seconds:,.0f} "
            f"| {r.rss_mib:.0f} | {r.pss_mib:.0f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def verdicts(results: list[Result]) -> str:
    """The issue's targets, per file: analyze --json against 3 M packets/s and tcpdump."""
    out = []
    for packets in sorted({r.packets for r in results}, reverse=True):
        of = {r.tool: r for r in results if r.packets == packets}
        ours = of.get(REFERENCE)
        if ours is None:
            continue
        line = (
            f"- {packets:,} packets: analyze --json {packets / ours.seconds / 1e6:.2f} M packets/s "
            f"(target 3), peak PSS {ours.pss_mib:.0f} MiB (target 200)"
        )
        budgets = [packets / 3e6]
        for name, want in (("TZ=UTC tcpdump -nn -r F vrrp", 2), ("tcpdump -nn -r F vrrp", 6)):
            if name in of:
                line += (
                    f"; {of[name].seconds / ours.seconds:.2f}x faster than {name} (target {want}x)"
                )
                budgets.append(of[name].seconds / want)
        out.append(line)
        if WALK_NAME in of:
            budget = min(budgets)
            floor = of[WALK_NAME].seconds
            out.append(
                f"  - the targets leave {budget:.2f} s for the whole run; start-up and the "
                f"record walk alone take {floor:.2f} s ({floor / budget:.0%} of it)"
            )
    return "\n".join(out)


# (label, interval in centiseconds, VRRP version, adverts as a multiple of N)
INTERVAL_SHAPES = (
    ("VRRPv2 1 s", 100, 2, 1),
    ("VRRPv2 5 s", 500, 2, 1),
    ("VRRPv2 10 s", 1000, 2, 1),
    ("VRRPv3 100 cs", 100, 3, 1),
    ("VRRPv3 10 cs", 10, 3, 1),
    ("VRRPv2 5 s, twice the adverts", 500, 2, 2),
)


def interval_shapes(folder: Path, adverts: int) -> str:
    """analyze --json on one steady master per interval shape, as ratios of the 1 s case."""
    rows = []
    for label, interval_cs, version, times in INTERVAL_SHAPES:
        count = adverts * times
        path = folder / f"steady-v{version}-{interval_cs}cs-{count}.pcap"
        if not path.exists():
            generate.write_scenario(str(path), generate.steady(count, interval_cs, version))
        tool = Tool(
            f"analyze --json, {label}", [PY, "-m", "vrrpscope", "analyze", "--json", str(path)]
        )
        result = measure(tool, count)
        _progress(result)
        rows.append((label, count, count * interval_cs / 100 / 3600, result))
    base = rows[0][3].seconds
    lines = [
        "| one master | adverts | capture hours | seconds | time vs the 1 s line |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, count, hours, result in rows:
        note = "" if result.ok else " (failed)"
        lines.append(
            f"| {label}{note} | {count:,} | {hours:.1f} | {result.seconds:.2f} "
            f"| {result.seconds / base:.2f}x |"
        )
    return "\n".join(lines)


def report_shapes(folder: Path, packets: int) -> str:
    """The text report against ``--json`` on one file each (rendering must not cost
    more than the analysis): the generated capture, and 50 masters each behind a
    50-tag VLAN stack (long segment names in every table)."""
    deep = folder / f"deep-vlans-{packets}.pcap"
    if not deep.exists():
        generate.write_scenario(str(deep), generate.deep_vlans(50, 50, packets))
    plain = folder / f"gen-{packets}.pcap"
    ensure(plain, packets)
    lines = [
        "| capture | packets | --json seconds | text seconds | text vs --json |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, path in (("generated", plain), ("50 VLAN tags deep", deep)):
        base = [PY, "-m", "vrrpscope", "analyze"]
        json_run = measure(Tool(f"analyze --json, {label}", [*base, "--json", str(path)]), packets)
        text_run = measure(
            Tool(f"analyze (text), {label}", [*base, str(path)], env={"COLUMNS": "120"}), packets
        )
        _progress(json_run)
        _progress(text_run)
        lines.append(
            f"| {label} | {packets:,} | {json_run.seconds:.2f} | {text_run.seconds:.2f} "
            f"| {text_run.seconds / json_run.seconds:.2f}x |"
        )
    return "\n".join(lines)


def memory_shapes(folder: Path, adverts: int) -> str:
    """Peak memory of analyze --json on adverts from random sources and VRIDs, at N and
    at 4N: the caps (speakers per router, routers, findings) must hold it level."""
    lines = [
        "| random sources | adverts | seconds | peak RSS MiB | peak PSS MiB | PSS vs the first |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    first = None
    for count in (adverts, 4 * adverts):
        path = folder / f"random-sources-{count}.pcap"
        if not path.exists():
            generate.write_scenario(str(path), generate.random_sources(count))
        tool = Tool(
            f"analyze --json, {count:,} random sources",
            [PY, "-m", "vrrpscope", "analyze", "--json", str(path)],
        )
        result = measure(tool, count, repeat=1)
        _progress(result)
        first = first or result.pss_mib
        lines.append(
            f"| analyze --json | {count:,} | {result.seconds:.2f} | {result.rss_mib:.0f} "
            f"| {result.pss_mib:.0f} | {result.pss_mib / first:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, nargs="+", default=[2_000_000, 200_000])
    parser.add_argument("--dir", default="/tmp/vrrpscope-bench")
    parser.add_argument("--skip", default="", help="comma-separated tool name fragments")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--memory", type=int, default=0, help="also analyze an N-packet file")
    parser.add_argument(
        "--intervals", type=int, default=0, help="also time one master at several intervals"
    )
    parser.add_argument(
        "--reports", type=int, default=0, help="also time the text report against --json"
    )
    parser.add_argument(
        "--random-sources", type=int, default=0, help="also the memory of N and 4N random adverts"
    )
    args = parser.parse_args(argv)
    skip = [s for s in args.skip.split(",") if s]
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    smallest = min(args.packets)
    results: list[Result] = []
    for packets in args.packets:
        path = folder / f"gen-{packets}.pcap"
        ensure(path, packets)
        ng = folder / f"gen-{packets}.pcapng"
        ensure(ng, packets)
        copy = folder / f"gen-{packets}-node2.pcap"  # the segment captured on a second node
        if not copy.exists():
            shutil.copyfile(path, copy)
        two = [PY, "-m", "vrrpscope", "analyze", "--json", str(path), str(copy)]
        pcapng_tools = [
            Tool(TWO_NODES, two, env={"VRRPSCOPE_GENERAL": "0"}, small_only=True),
            Tool(f"{TWO_NODES}, general path", two, {"VRRPSCOPE_GENERAL": "1"}, small_only=True),
            Tool(
                "vrrpscope analyze --json, pcapng",
                [PY, "-m", "vrrpscope", "analyze", "--json", str(ng)],
                env={"VRRPSCOPE_GENERAL": "0"},
            ),
            Tool("vrrpscope fast path decode, pcapng", [PY, "-c", FAST, str(ng)]),
        ]
        for tool in [*tools(str(path)), *pcapng_tools]:
            if any(s in tool.name for s in skip) or not _available(tool):
                continue
            if tool.small_only and packets != smallest:
                continue
            result = measure(tool, packets)
            results.append(result)
            _progress(result)
    if args.memory:
        path = folder / f"gen-{args.memory}.pcap"
        ensure(path, args.memory)
        result = measure(tools(str(path))[0], args.memory)
        results.append(result)
        _progress(result)
    text = table(results) + "\n\n" + verdicts(results)
    if args.intervals:
        text += "\n\n" + interval_shapes(folder, args.intervals)
    if args.reports:
        text += "\n\n" + report_shapes(folder, args.reports)
    if args.random_sources:
        text += "\n\n" + memory_shapes(folder, args.random_sources)
    print(text)
    header = (
        "# Benchmark results\n\n"
        f"`python -m bench.run` on {platform.machine()} with {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
        "\nEach tool runs as its own process. Wall time: the median of three runs with "
        "nothing watching; peak RSS from `/usr/bin/time -v` and PSS sampled every 10 ms "
        "in a run of its own (tools that take 5 s or more: that one run gives all three).\n"
        "Captures from `python -m bench.generate --packets N --seed 1`.\n\n"
    )
    Path(args.results).write_text(header + text + "\n")
    return 0 if all(r.ok for r in results) else 1


def _progress(result: Result) -> None:
    print(
        f"{result.packets:>9} {result.tool:40} {result.seconds:7.2f} s "
        f"{result.packets / result.seconds:>12,.0f} pkt/s {result.rss_mib:6.0f} MiB RSS "
        f"{result.pss_mib:6.0f} MiB PSS",
        file=sys.stderr,
    )


if __name__ == "__main__":
    raise SystemExit(main())
