"""Decode in a second process while this one runs the engine (two CPUs, one capture).

:class:`ForkedPlans` forks a child that reads, decodes (the columnar decode, one
general decode per distinct frame) and plans each block (:class:`vrrpscope.engine.bulk.planner.
Planner`: which adverts are regular, the runs they form, as arrays) and streams it back
through a pipe; the parent makes the runs' specs (:meth:`BlockPlan.build`) and feeds its
engine meanwhile, a split that keeps both processes about as busy on the benchmark's
capture.
The child ends with the decode counts and damage, or with the exception it met (in
reading, decoding or planning), which the parent raises as its own (its message and
exit code; the traceback stays behind; one that does not pickle comes as a
RuntimeError naming it), so errors, exit codes and output are those of the one-process
route. The child never outlives the parent's read: it is killed and reaped
when the parent stops early, and the kernel kills it when the parent dies
(``PR_SET_PDEATHSIG``), e.g. of a SIGTERM.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import signal
from collections.abc import Iterator
from typing import Any

from vrrpscope.columnar.feed import FeedDecoder
from vrrpscope.errors import InputError
from vrrpscope.thresholds import Thresholds

MIN_BYTES = 16 << 20  # smaller captures are done before a child pays off


def can_fork(run: FeedDecoder) -> bool:
    """A single plain file big enough, on a machine with a second CPU."""
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and len(run.paths) == 1
        and (run.total_bytes or 0) >= MIN_BYTES
    )


class ForkedPlans:
    """``run.plans(thresholds)`` computed in a child process; progress and counts mirrored."""

    def __init__(self, run: FeedDecoder, thresholds: Thresholds) -> None:
        self.run = run
        self.reader = self  # progress callbacks read total_bytes / bytes_read
        self.total_bytes = run.total_bytes
        self.bytes_read = 0
        self._thresholds = thresholds

    def __iter__(self) -> Iterator[Any]:
        read_fd, write_fd = os.pipe()
        _widen(write_fd)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            die_with(parent)
            os.close(read_fd)
            _child(self.run, write_fd, self._thresholds)
        os.close(write_fd)
        done = False
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                while True:
                    try:
                        kind, *rest = pickle.load(pipe)
                    except EOFError:
                        raise InputError(
                            self.run.paths[0],
                            "the decoding process ended without a result (out of memory or "
                            "killed?); run again with VRRPSCOPE_PARALLEL=0 to decode in one",
                        ) from None
                    if kind == "plan":
                        block, self.bytes_read = rest
                        yield block
                    elif kind == "end":
                        run = self.run
                        run.stats, run.damage, run.fast_frames, run.fallback_frames = rest[:4]
                        if run.decoder.selection is not None:  # its counts, from the child
                            run.decoder.selection.__dict__.update(rest[4].__getstate__())
                        done = True
                        return
                    else:
                        raise rest[0]
        finally:
            if not done:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


PR_SET_PDEATHSIG = 1  # prctl(2): signal sent to this process when its parent dies


def die_with(parent: int) -> None:
    """Have the kernel SIGKILL this (child) process when ``parent`` dies (Linux), so a
    SIGTERM or SIGKILL of the parent leaves no decoder running orphaned."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe's EOF ends the child later
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _child(run: FeedDecoder, write_fd: int, thresholds: Thresholds) -> None:
    """Decode and plan, sending each block; then the counts, or the exception."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides about Ctrl-C
        run.prefetch = False  # both CPUs are busy already: no reader thread
        with os.fdopen(write_fd, "wb") as pipe:
            try:
                for block in run.plans(thresholds):
                    pickle.dump(("plan", block, run.bytes_read), pipe, pickle.HIGHEST_PROTOCOL)
                message: tuple = (
                    "end",
                    run.stats,
                    run.damage,
                    run.fast_frames,
                    run.fallback_frames,
                    run.decoder.selection,
                )
            except BrokenPipeError:
                raise
            except BaseException as exc:  # sent to the parent, which raises it
                message = ("error", _picklable(exc))
            pickle.dump(message, pipe, pickle.HIGHEST_PROTOCOL)
    except BaseException:
        code = 1  # the parent went away (broken pipe) or the pipe failed
    finally:
        os._exit(code)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


F_SETPIPE_SZ = 1031  # fcntl: set a pipe's capacity (Linux)


def pipe_size_wanted() -> int | None:
    """The largest power of two an unprivileged process may ask a pipe for, up to
    16 MiB (the kernel's ``pipe-max-size``, 1 MiB by default); None: not Linux."""
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            limit = min(int(f.read()), 16 << 20)
    except (OSError, ValueError):
        return None
    return 1 << (limit.bit_length() - 1) if limit > 0 else None


def _widen(fd: int) -> None:
    """A pipe buffer of :func:`pipe_size_wanted`, so the child decodes on while the
    parent is busy with the block before."""
    size = pipe_size_wanted()
    if size is not None:
        with contextlib.suppress(OSError):  # not allowed: the default works, a little slower
            fcntl.fcntl(fd, F_SETPIPE_SZ, size)
