"""Regenerate the real captures in ``captures/`` by running the lab scenarios.

Usage (as root)::

    python -m tests.lab.make_captures [--out captures/] [--only NAME ...] [-j N] [--list]

Each scenario writes ``<name>.pcap`` and ``<name>.events.json``; ``-j`` runs scenarios in
parallel (each has its own namespaces). Exit code 0 when all scenarios succeeded, 1 when
some failed, 2 when the lab cannot run here. ``captures/README.md`` is written by hand
(it records what was verified on the wire) and is not touched.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.lab.netlab import Lab, LabTimeout, Unsupported, abort_all, cleanup_stale
from tests.lab.scenarios import SCENARIOS, ScenarioResult

#: Largest capture we want to commit.
MAX_BYTES = 100_000


def run_one(name: str, out: Path, logs: Path | None = None) -> ScenarioResult | str | None:
    """Run scenario ``name`` into ``out``; print a one-line summary or the error.

    Returns the result, ``"skipped"`` when the kernel lacks a feature, ``None`` on failure.

    With ``logs``, the daemons' logs are saved there as ``<name>.<router>.log``.
    """
    try:
        res = SCENARIOS[name](out)
    except Unsupported as exc:
        print(f"skip {name}: {exc}", flush=True)
        return "skipped"
    except LabTimeout as exc:
        print(f"FAIL {name}: {exc}", file=sys.stderr, flush=True)
        return None
    except Exception:
        print(f"FAIL {name}\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        return None
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        for who, text in res.logs.items():
            (logs / f"{name}.{who}.log").write_text(text)
    sizes = ", ".join(f"{p.name} {p.stat().st_size} B" for p in res.pcaps)
    pk = ", ".join(f"{k}: {v}" for k, v in res.packets.items())
    print(f"ok   {name:20} {res.duration_s:5.1f} s  {sizes}  ({pk} packets)", flush=True)
    for p in res.pcaps:
        if p.stat().st_size > MAX_BYTES:
            print(f"warn {p.name} is larger than {MAX_BYTES} bytes", file=sys.stderr)
    return res


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m tests.lab.make_captures", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("captures"), help="output directory")
    ap.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="scenarios to run")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="scenarios run in parallel")
    ap.add_argument("--logs", type=Path, help="also save daemon logs into this directory")
    ap.add_argument("--list", action="store_true", help="list scenarios and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name, fn in SCENARIOS.items():
            print(f"{name:20} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    ok, why = Lab.available()
    if not ok:
        print(f"lab unavailable: {why}", file=sys.stderr)
        return 2
    cleanup_stale()
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started in the background
        signal.signal(sig, _interrupt)
    names = args.only or list(SCENARIOS)
    pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        results = list(pool.map(lambda n: run_one(n, args.out, args.logs), names))
    except KeyboardInterrupt:
        print("interrupted: stopping labs", file=sys.stderr)
        abort_all()
        pool.shutdown(wait=True, cancel_futures=True)
        return 130
    pool.shutdown()
    failed = [n for n, r in zip(names, results, strict=True) if r is None]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
