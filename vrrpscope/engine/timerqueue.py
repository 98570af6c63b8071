"""A min-heap of event-time timers with lazy cancellation and periodic sweeping.

Timers are never removed when they become moot (a speaker advertised again, a finding
closed): the handler checks whether its timer still matters. `sweep()` drops the moot
ones now and then, so the heap stays bounded under hostile traffic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Any

Timer = tuple[int, tuple, int, Any, Any]  # (due_ns, (kind, tie, sequence), kind, a, b)
EXPIRE, SILENCE, QUIET = 0, 1, 2  # the engine's kinds: a speaker's silence, after a
# resignation (did anyone take over?), a finding's quiet close


class TimerQueue:
    """Timers `(due_ns, kind, a, b)` popped in due order (ties in push order)."""

    def __init__(self, sweep_every: int = 1 << 16) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._pushes = 0
        self._sweep_every = sweep_every
        self.is_live: Callable[[Timer], bool] = lambda timer: True
        # Timers due at once fire by kind, then by tie(kind, a, b), then as pushed.
        self.tie: Callable[[int, Any, Any], tuple] = lambda kind, a, b: ()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, due_ns: int, kind: int, a: Any, b: Any = None) -> None:
        order = (kind, self.tie(kind, a, b), next(self._seq))
        heapq.heappush(self._heap, (due_ns, order, kind, a, b))
        self._pushes += 1
        if self._pushes % self._sweep_every == 0:
            self.sweep()

    def next_due(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_before(self, until_ns: int) -> Iterator[Timer]:
        """Pop timers due strictly before `until_ns`, including ones pushed meanwhile."""
        heap = self._heap  # swept in place, so this stays the queue's heap
        while heap and heap[0][0] < until_ns:
            yield heapq.heappop(heap)

    def sweep(self) -> None:
        """Drop timers that `is_live` says no longer matter."""
        self._heap[:] = [t for t in self._heap if self.is_live(t)]
        heapq.heapify(self._heap)
