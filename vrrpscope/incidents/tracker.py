"""Live incidents: re-correlate as findings change, emit what opened, changed or closed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vrrpscope.findings import Finding
from vrrpscope.incidents.correlate import correlate
from vrrpscope.incidents.records import Incident


@dataclass(slots=True)
class IncidentEvent:
    """An incident opened, changed materially, or closed (live)."""

    action: Literal["open", "update", "close"]
    incident: Incident


class IncidentTracker:
    """Turns the finding book's state into incident events with stable ids.

    An incident is known by its kind and its earliest finding (finding ids count up in
    opening order live), so it keeps its id while it grows; ``i1``, ``i2``, ... in the
    order incidents opened.
    """

    def __init__(self, on_event: Callable[[IncidentEvent], None]) -> None:
        self._on_event = on_event
        self._ids: dict[tuple[str, int], str] = {}
        self._seen: dict[str, tuple[object, ...]] = {}  # id -> what an update compares
        self._last: dict[str, Incident] = {}  # id -> its latest form
        self.incidents: list[Incident] = []

    def _name(self, incident: Incident, _n: int) -> str:
        anchor = (str(incident.kind), min(f.id for f in incident.findings))
        stable = self._ids.get(anchor)
        if stable is None:
            stable = self._ids[anchor] = f"i{len(self._ids) + 1}"
        return stable

    def feed(self, findings: list[Finding], ts_ns: int) -> None:
        """Re-correlate after a finding event (``ts_ns``: the time it happened); emit
        what opened, changed or closed."""
        del ts_ns  # the findings carry their own times
        incidents = correlate(findings, self._name)
        for incident in incidents:
            state = (
                incident.open,
                incident.severity,
                len(incident.findings),
                incident.message,
            )
            before = self._seen.get(incident.id)
            self._seen[incident.id] = state
            if before is None:
                self._on_event(IncidentEvent("open", incident))
                if not incident.open:
                    self._on_event(IncidentEvent("close", incident))
            elif before != state:
                closed = before[0] and not incident.open
                self._on_event(IncidentEvent("close" if closed else "update", incident))
        current = {incident.id for incident in incidents}
        for gone in [i for i in self._last if i not in current]:
            # merged into another incident (a later finding showed the common cause)
            merged = self._last.pop(gone)
            del self._seen[gone]
            into = next((f.incident for f in merged.findings if f.incident), None)
            if into is not None:
                merged.details["merged_into"] = into
            if merged.open or into is not None:
                merged.open = False
                self._on_event(IncidentEvent("close", merged))
        self._last.update((incident.id, incident) for incident in incidents)
        self.incidents = incidents
