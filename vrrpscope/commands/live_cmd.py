"""`vrrpscope live IFACE`: the analyze engine fed from the wire."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.live import Live

from vrrpscope.analysis import Analysis
from vrrpscope.capture.live import LiveCapture, drop_privileges
from vrrpscope.capture.writer import PcapngWriter
from vrrpscope.columnar.feed import BatchDecoder
from vrrpscope.commands.analyze_cmd import exit_code, thresholds_from
from vrrpscope.commands.live_stream import LiveIncidents
from vrrpscope.engine.core import REORDER_TOLERANCE_NS, Engine
from vrrpscope.errors import EXIT_LIVE, UsageError, VrrpscopeError
from vrrpscope.findings import FindingEvent
from vrrpscope.model import Frame
from vrrpscope.report.jsonl import write_json, write_line
from vrrpscope.report.stderr import say

TICK_S = 0.2  # engine timer and dashboard cadence


@dataclass(slots=True)
class InOrder:
    """Feeds frames in time order despite small reorderings (see REORDER_TOLERANCE_NS).

    A frame at most the tolerance earlier than the latest one fed gets the latest time
    (for the engine only: -w keeps the kernel's timestamps) and is counted in
    ``reordered``; a bigger step back is left as it is, for the engine to report
    (timestamps-backwards: a clock step).
    """

    tolerance_ns: int = REORDER_TOLERANCE_NS
    latest_ns: int | None = None
    reordered: int = 0

    def feed(self, frames: list[Frame]) -> list[Frame]:
        latest = self.latest_ns
        out = frames
        for i, frame in enumerate(frames):
            ts = frame.ts_ns
            if latest is None or ts >= latest:
                latest = ts
            elif latest - ts <= self.tolerance_ns:
                if out is frames:
                    out = list(frames)
                out[i] = replace(frame, ts_ns=latest)
                self.reordered += 1
        self.latest_ns = latest
        return out


class LiveSession:
    """Capture loop: read, write (-w), decode, feed, advance the engine's clock."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stop_reason: str | None = None
        self.order = InOrder()
        self._downs_reported = 0
        self.lock = threading.Lock()
        self.json_mode = args.json or not sys.stdout.isatty()
        self.incidents = LiveIncidents(self._emit if self.json_mode else None, tick_s=TICK_S)
        self.dashboard = None
        self.engine = Engine(thresholds_from(args), on_event=self._on_event)
        self.decoder = BatchDecoder()  # columnar for big batches
        self.capture = LiveCapture(args.interface, bpf=args.filter, promisc=not args.no_promisc)
        self.writer = None
        self.write_error: str | None = None
        self.metrics_server = None
        try:
            self.writer = PcapngWriter(args.write) if args.write else None
            if args.metrics:
                self._start_metrics(args.metrics)
        except BaseException:  # do not leave the socket open or an empty -w file behind
            self.capture.close()
            if self.writer is not None:
                self.writer.close()
                Path(args.write).unlink(missing_ok=True)
            raise
        # Import now what the end of the run needs: it may run without root.
        from vrrpscope.report import dashboard, text  # noqa: F401

        self.privileges = (
            "kept root (--keep-root)" if args.keep_root else drop_privileges(args.user)
        )
        self.started_ns = time.time_ns()

    def _start_metrics(self, address: str) -> None:
        from vrrpscope.report.metrics import EngineCollector, serve_metrics

        if ":" not in address:
            raise UsageError(f"--metrics {address!r}: give HOST:PORT, e.g. 127.0.0.1:9788")
        collector = EngineCollector(
            self.engine, self.lock, self.capture_stats, lambda: self.incidents.incidents
        )
        try:
            self.metrics_server = serve_metrics(address, collector)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--metrics {address}: cannot listen there: {exc}") from exc

    def capture_stats(self) -> dict[str, int]:
        stats = self.capture.stats
        return {
            "up": int(self.capture.link == "up"),
            "frames": stats.received,
            "kernel_packets": stats.kernel_packets,
            "kernel_drops": stats.kernel_drops,
            "adverts": self.decoder.stats.adverts,
            "link_downs": stats.link_downs,
        }

    def capture_summary(self) -> dict:
        """What the kernel passed, dropped and what was left unread (for the summary)."""
        stats = self.capture.stats
        out = {
            "interface": self.args.interface,
            "frames": stats.received,
            "kernel_packets": stats.kernel_packets,
            "kernel_drops": stats.kernel_drops,
            "unread": stats.unread,
            "skipped_non_ethernet": stats.skipped_non_ethernet,
            "reordered": self.order.reordered,
            "link_downs": stats.link_downs,
            "link_down_s": round(stats.link_down_s, 3),
            "stopped_by": self.stop_reason,
        }
        if self.writer is not None:
            out.update(written=self.writer.frames, write_error=self.write_error)
        return out

    def _on_event(self, event: FindingEvent) -> None:
        self.incidents.on_finding(event)  # written at the end of the tick, with incidents

    def _emit(self, obj: dict) -> None:
        write_line(obj, sys.stdout, flush=True)

    def request_stop(self, reason: str) -> None:
        self.stop_reason = reason

    def run(self) -> None:
        args = self.args
        deadline = None if args.duration is None else time.monotonic() + args.duration
        next_snapshot = time.monotonic() + args.snapshot_interval
        next_stats = time.monotonic()
        live = None
        if not self.json_mode:
            from vrrpscope.report.dashboard import Dashboard

            self.dashboard = Dashboard(args.interface)
            live = Live(console=Console(), refresh_per_second=4, transient=False)
            live.start()
        try:
            while self.stop_reason is None:
                timeout = TICK_S
                if deadline is not None:
                    timeout = min(timeout, max(deadline - time.monotonic(), 0))
                frames = self.capture.read(timeout)
                if args.count is not None:  # --count N: exactly N frames, not a whole batch
                    extra = self.capture.stats.received - args.count
                    if extra > 0:  # read but not analysed: counted as unread
                        del frames[len(frames) - extra :]
                        self.capture.stats.received = args.count
                if self.writer is not None and self.write_error is None and frames:
                    self._write(frames)
                with self.lock:
                    for item in self.decoder.decode_frames(self.order.feed(frames)):
                        self.engine.feed_item(item)
                    self.engine.advance(time.time_ns())
                    self.incidents.flush(self.engine.findings)
                now = time.monotonic()
                if now >= next_stats:
                    self.capture.kernel_stats()
                    next_stats = now + 1.0
                if args.count is not None and self.capture.stats.received >= args.count:
                    self.stop_reason = "count"
                if deadline is not None and now >= deadline:
                    self.stop_reason = "duration"
                self._link_changed()  # gone: stop_reason "interface-gone"
                if self.json_mode and now >= next_snapshot:
                    self._snapshot()
                    next_snapshot = now + args.snapshot_interval
                if live is not None:
                    stats = self.capture.stats
                    with self.lock:
                        screen = self.dashboard.render(
                            self.engine,
                            time.time_ns(),
                            stats.received,
                            stats.kernel_drops,
                            live.console.width,
                            self.incidents.incidents,
                        )
                    live.update(screen)
        finally:
            if live is not None:
                live.stop()
            self.capture.kernel_stats()
            if self.writer is not None and self.write_error is None:
                try:
                    stats = self.capture.stats
                    self.writer.write_statistics(
                        stats.kernel_packets,
                        stats.kernel_drops,
                        self.decoder.stats.first_ts_ns,
                        self.decoder.stats.last_ts_ns,
                    )
                    self.writer.close()
                except VrrpscopeError as exc:
                    self.write_error = str(exc)
            if self.metrics_server is not None:
                self.metrics_server.shutdown()
            self.capture.close()

    def _link_changed(self) -> None:
        """Follow the interface: warn once per outage; stop when it is gone for good."""
        link = self.capture.check_link()
        stats = self.capture.stats
        if stats.link_downs > self._downs_reported:
            self._downs_reported = stats.link_downs
            say(
                f"warning: {self.args.interface} went down; capturing on when it "
                "comes back (frames meanwhile are lost: silence findings may follow)"
            )
        if self.dashboard is not None:
            self.dashboard.status = "" if link == "up" else f"interface {link.upper()}"
        if link == "gone":
            self.stop_reason = "interface-gone"

    def _write(self, frames: list) -> None:
        """-w: on a write error (disk full, ...) warn once and go on analysing."""
        try:
            self.writer.write(frames)
        except VrrpscopeError as exc:
            self.write_error = f"stopped writing after {self.writer.frames} frames: {exc}"
            say(f"warning: {self.write_error}")

    def _snapshot(self) -> None:
        ts = time.time()
        with self.lock:
            for segment in self.engine.inventory():
                for router in segment.routers:
                    self._emit({**router.to_dict(), "ts": ts})

    def analysis(self) -> Analysis:
        self.incidents.finish()  # closes now mean "still open when it stopped"
        with self.lock:
            self.engine.finish(time.time_ns())
            self.incidents.flush(self.engine.findings)
        stats = self.capture.stats
        notes = [
            f"live capture on {self.args.interface}: {stats.received} frames, "
            f"kernel dropped {stats.kernel_drops} (stopped by {self.stop_reason})"
        ]
        if stats.unread:
            notes.append(f"{stats.unread} frames were still queued (unread) at the stop")
        if stats.link_downs:
            notes.append(
                f"{self.args.interface} went down {stats.link_downs} time(s), "
                f"{stats.link_down_s:.1f} s in all: frames of those times are missing"
            )
        if self.stop_reason == "interface-gone":
            notes.append(f"{self.args.interface} was deleted: the capture ends there")
        analysis = Analysis(
            files=[self.args.interface],
            stats=self.decoder.stats,
            engine=self.engine,
            notes=notes,
            first_ts_ns=self.decoder.stats.first_ts_ns,
            last_ts_ns=self.decoder.stats.last_ts_ns,
            backwards_ts=self.decoder.stats.backwards_ts,
        )
        analysis._incidents = self.incidents.incidents  # with the ids the stream used
        return analysis


def run_live(args: argparse.Namespace) -> int:
    # Signals are caught from the start to the last line of the summary: a SIGTERM while
    # the socket opens or the summary prints must still end in the summary, not a kill.
    holder: list[LiveSession] = []
    pending: list[str] = []

    def stop(*_: object) -> None:
        if holder:
            holder[0].request_stop("signal")
        else:
            pending.append("signal")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args, holder, pending)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, holder: list[LiveSession], pending: list[str]) -> int:
    session = LiveSession(args)
    holder.append(session)
    if pending:
        session.request_stop("signal")
    session.run()
    analysis = session.analysis()
    if session.json_mode:
        write_json(analysis, sys.stdout, {"capture": session.capture_summary()})
        sys.stdout.flush()
    else:
        from vrrpscope.report.text import render

        render(analysis, Console(highlight=False))
    for note in [session.privileges, *analysis.notes]:
        say(f"{note}")
    if session.write_error is not None:
        say(f"warning: {session.write_error}")
    elif session.writer is not None:
        say(f"wrote {session.writer.frames} frames to {args.write}")
    if session.stop_reason == "interface-gone":
        say(
            f"error: {args.interface}: the interface was deleted during the "
            "capture; the summary covers the capture up to then"
        )
        return EXIT_LIVE
    return exit_code(analysis, args.fail_on)
