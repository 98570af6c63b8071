"""A progress bar on stderr for long reads: only on a terminal, only after one second."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

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
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            progress = Progress(
                TextColumn("reading " + _names(paths)),
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


def _names(paths: Sequence[str]) -> str:
    """The files' names (not their folders), shortened to fit beside the bar."""
    names = ", ".join(os.path.basename(p) or p for p in paths)
    return names if len(names) <= 40 else names[:39] + "…"
