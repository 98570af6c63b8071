"""Live incidents: they open, grow, close and keep their ids."""

from __future__ import annotations

from tests.helpers.findings import drift, failover, finding
from vrrpscope.findings import Kind
from vrrpscope.incidents import IncidentEvent, IncidentTracker

A, B, C = "198.18.1.1", "198.18.1.2", "198.18.1.3"


def test_incidents_open_update_close_with_stable_ids():
    events: list[IncidentEvent] = []
    tracker = IncidentTracker(events.append)
    notes = [finding(Kind.PLAINTEXT_AUTH, 1, (A,), 0.0)]
    notes[0].open = True
    tracker.feed(notes, 0)
    assert [(e.action, e.incident.id, e.incident.kind) for e in events] == [
        ("open", "i1", "single")
    ]
    stop = [finding(Kind.RESIGNED, v, (A,), 50.0, was_master=True) for v in (1, 2)]
    for f in stop:
        f.open = True
    tracker.feed(notes + stop[:1], 50)
    assert (events[-1].action, events[-1].incident.id) == ("open", "i2")
    assert events[-1].incident.kind == "node-stopped"
    tracker.feed(notes + stop, 50)  # the second VRID joins the same incident
    assert (events[-1].action, events[-1].incident.id, events[-1].incident.vrids) == (
        "update",
        "i2",
        (1, 2),
    )
    for f in stop:
        f.open = False
    tracker.feed(notes + stop, 51)
    assert (events[-1].action, events[-1].incident.id) == ("close", "i2")
    n = len(events)
    tracker.feed(notes + stop, 52)  # nothing changed: nothing said
    assert len(events) == n
    assert {i.id for i in tracker.incidents} == {"i1", "i2"}
    assert {f.incident for f in notes + stop} == {"i1", "i2"}


def test_an_incident_merged_into_a_wider_one_closes():
    events: list[IncidentEvent] = []
    tracker = IncidentTracker(events.append)
    move = failover(51, A, B, 10.0, "preempted")
    move.open = True
    tracker.feed([move], 10)
    assert events[-1].incident.kind == "node-returned"
    split = finding(Kind.SPLIT_BRAIN, 51, (A, B), 5.0, 10.0, evidence="overlap")
    split.open = True
    tracker.feed([move, split], 11)  # the move ended a split brain: one cause
    actions = [(e.action, e.incident.kind) for e in events[1:]]
    assert ("open", "split-brain") in actions and ("close", "node-returned") in actions
    assert move.incident == split.incident
    (closed,) = [e.incident for e in events if e.incident.kind == "node-returned"][-1:]
    assert closed.details["merged_into"] == split.incident != closed.id


def test_drifts_a_capture_gap_explains_close_into_it_and_turn_info():
    """Live, the drifts of a capture gap open one by one (one node's VRIDs first: its own
    drift); once those of other nodes follow, the gap explains them all."""
    events: list[IncidentEvent] = []
    tracker = IncidentTracker(events.append)
    first = [drift(v, A, 600.0, 3.2) for v in (1, 2, 3)]
    tracker.feed(first, 1)
    assert [(e.action, e.incident.kind, e.incident.severity) for e in events] == [
        ("open", "rollup", "warning")
    ]
    more = [drift(v, (B, C)[v % 2], 600.1, 3.1) for v in (11, 12, 13, 14)]
    tracker.feed(first + more, 2)
    (gap,) = [i for i in tracker.incidents if i.kind == "capture-gap"]
    # the gap is over once it is seen (adverts resumed): it opens and closes at once
    assert [(e.action, e.incident.kind) for e in events[1:]] == [
        ("open", "capture-gap"),
        ("close", "capture-gap"),
        ("close", "rollup"),
    ]
    assert events[-1].incident.details["merged_into"] == gap.id
    assert gap.severity == "info" and all(f.severity == "info" for f in first + more)
