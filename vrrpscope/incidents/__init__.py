"""Incidents: findings that share one cause, told as one story (issue 13).

:func:`correlate` groups an analysis' findings by cause (a node that stopped or came
back, a split brain between a pair, a duplicate VRID, a flapping tracker, a capture gap,
a configuration disagreement, notes that repeat per VRID); :class:`IncidentTracker` does
it live.
"""

from vrrpscope.incidents.correlate import correlate
from vrrpscope.incidents.records import Incident, IncidentKind
from vrrpscope.incidents.tracker import IncidentEvent, IncidentTracker

__all__ = ["Incident", "IncidentEvent", "IncidentKind", "IncidentTracker", "correlate"]
