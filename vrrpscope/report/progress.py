"""A progress bar on stderr for long reads: only on a terminal, only after one second."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

SHOW_AFTER_S = 1.0


@contextmanager
def progress_for(
    paths: Sequence[str], enabled: bool = True
) -> Iterator[Callable[[object], None] | None]:
    """Yield a callback for analyze_files(on_progress=...), or None when there is no bar."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    started = time.monotonic()
    progress: Progress | None = None
    task = None

    def update(run: object) -> None:
        nonlocal progress, task
        reader = getattr(run, "reader", None)
        total = getattr(reader, "total_bytes", None)
        if not total or time.monotonic() - started < SHOW_AFTER_S:
            return
        if progress is None:
            progress = Progress(
                TextColumn("reading " + ", ".join(paths)[:40]),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            progress.start()
            task = progress.add_task("read", total=total)
        progress.update(task, completed=reader.bytes_read)

    try:
        yield update
    finally:
        if progress is not None:
            progress.stop()
