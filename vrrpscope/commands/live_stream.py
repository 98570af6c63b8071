"""What `live` streams: finding events as they happen, incident events after each tick."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vrrpscope.findings import Finding, FindingEvent
from vrrpscope.incidents import Incident
from vrrpscope.incidents.tracker import IncidentEvent, IncidentTracker


@dataclass(slots=True)
class EventLines:
    """Finding events as JSON lines. Once ``finishing`` (the engine's end-of-capture run
    after Ctrl-C, SIGTERM, --duration, --count), a close means the capture stopped while
    the finding was still open: ``"event": "end"`` with ``"open": true``, never "close"
    (which means resolved). A close right after its finding's own open is an event judged
    at the end (a failover decided by the final settling) and stays a "close".
    """

    finishing: bool = False
    _last: tuple[str, int] | None = None

    def line(self, event: FindingEvent) -> dict:
        obj = {**event.finding.to_dict(), "event": event.action}
        if not self.finishing:
            return obj
        instant = self._last == ("open", id(event.finding))  # both while finishing
        self._last = (event.action, id(event.finding))
        if event.action == "close" and not instant:
            obj.update(event="end", open=True)
        return obj


# Correlating again takes at most about 1 / this of the time (it runs once per tick
# while it is cheap: ~8 ms for 1,300 findings; the cap guards a flood of findings).
CORRELATE_SHARE = 10


@dataclass(slots=True)
class LiveIncidents:
    """Follows the findings of a live run as incidents.

    Finding events are held until :meth:`flush` (once per tick): then the findings are
    correlated again, each held finding line gets the id of its incident, and what
    opened, changed or closed among the incidents follows as one line each
    (``{"type": "incident", ..., "event": "open" | "update" | "close" | "end"}``).
    ``emit`` None (the dashboard) keeps the incidents without writing lines.
    """

    emit: Callable[[dict], None] | None = None
    lines: EventLines = field(default_factory=EventLines)
    finishing: bool = False
    _held: list[tuple[dict, Finding]] = field(default_factory=list)
    _dirty: bool = False
    _opened_finishing: set[str] = field(default_factory=set)
    _events: list[IncidentEvent] = field(default_factory=list)
    tick_s: float = 0.2  # how often flush is called
    _skip: int = 0  # ticks to let pass before correlating again
    tracker: IncidentTracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = IncidentTracker(self._events.append)

    @property
    def incidents(self) -> list[Incident]:
        """Every incident so far, worst first; ``open`` ones are going on now."""
        return self.tracker.incidents

    def finish(self) -> None:
        """From now on a close means the capture stopped during the incident: "end"."""
        self.finishing = self.lines.finishing = True

    def on_finding(self, event: FindingEvent) -> None:
        self._dirty = True
        if self.emit is not None:
            self._held.append((self.lines.line(event), event.finding))

    def flush(self, findings: list[Finding]) -> None:
        """Correlate again if a finding changed since the last flush; write the lines.

        Under a flood of findings (thousands kept, each tick changing some) correlating
        may cost more than a tick: then ticks are skipped so that it takes about
        1 / CORRELATE_SHARE of the time, the lines held meanwhile (once finishing, none)."""
        if not self._dirty:
            return
        if self._skip and not self.finishing:
            self._skip -= 1
            return
        self._dirty = False
        started = time.perf_counter()
        self.tracker.feed(findings, 0)
        cost = time.perf_counter() - started
        self._skip = int(cost * CORRELATE_SHARE / self.tick_s)
        events, self._events[:] = list(self._events), []
        if self.emit is None:
            return
        held, self._held = self._held, []
        for obj, finding in held:
            obj["incident"] = finding.incident
            obj["severity"] = finding.severity.value  # (a drift a capture gap explains: info)
            self.emit(obj)
        for event in events:
            self.emit(self._line(event))

    def _line(self, event: IncidentEvent) -> dict:
        obj = {**event.incident.to_dict(), "event": event.action}
        if not self.finishing:
            return obj
        if event.action == "open":
            self._opened_finishing.add(event.incident.id)
        elif event.action == "close" and event.incident.id not in self._opened_finishing:
            obj.update(event="end", open=True)  # still going on when the capture stopped
        return obj
