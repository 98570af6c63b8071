"""TimerQueue: due order, timers pushed while popping, sweeping."""

from __future__ import annotations

from vrrpscope.engine.timerqueue import TimerQueue


def test_pops_in_due_then_push_order_including_timers_pushed_meanwhile() -> None:
    q = TimerQueue()
    q.push(30, 0, "c")
    q.push(10, 0, "a")
    q.push(10, 0, "b")
    seen = []
    for due, _, _, name, _ in q.pop_before(40):
        seen.append((due, name))
        if name == "a":
            q.push(20, 0, "pushed")
            q.push(50, 0, "later")
    assert seen == [(10, "a"), (10, "b"), (20, "pushed"), (30, "c")]
    assert len(q) == 1 and q.next_due() == 50


def test_sweep_during_popping_keeps_the_queue_consistent() -> None:
    q = TimerQueue(sweep_every=2)
    q.is_live = lambda t: t[3] != "dead"
    q.push(1, 0, "dead")
    q.push(2, 0, "x")  # second push: sweeps "dead"
    popped = []
    for _, _, _, name, _ in q.pop_before(100):
        popped.append(name)
        if name == "x":
            q.push(5, 0, "dead")
            q.push(6, 0, "y")  # sweeps again while popping
    assert popped == ["x", "y"] and len(q) == 0
