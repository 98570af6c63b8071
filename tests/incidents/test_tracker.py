"""Live incidents: they open, grow, close and keep their ids."""

from __future__ import annotations

from tests.helpers.findings import failover, finding
from vrrpscope.findings import Kind
from vrrpscope.incidents import IncidentEvent, IncidentTracker

A, B = "198.18.1.1", "198.18.1.2"


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
