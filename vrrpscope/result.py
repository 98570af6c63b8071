"""The result of an analysis: what the report layer, the commands and the API read.

The orchestrator (:mod:`vrrpscope.analysis`) builds it; the report modules import this
type only, never the orchestrator or the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vrrpscope import reprs
from vrrpscope.errors import Damage

if TYPE_CHECKING:
    from vrrpscope.capture.coverage import Uncovered
    from vrrpscope.columnar.adverts import AdvertTable
    from vrrpscope.engine.core import Engine
    from vrrpscope.filters import Selection
    from vrrpscope.findings import Finding
    from vrrpscope.incidents import Incident
    from vrrpscope.logs.reader import LogFile
    from vrrpscope.nodes import Node
    from vrrpscope.proto.decode import DecodeStats


@dataclass
class Analysis:
    """The result of analysing one or more captures."""

    __repr__ = reprs.analysis

    files: list[str]
    stats: DecodeStats
    engine: Engine
    damage: list[Damage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    backwards_ts: int = 0
    adverts: AdvertTable | None = None
    selection: Selection | None = None  # --vrid/--segment/--since/--until: what was kept
    _incidents: list[Incident] | None = field(default=None, repr=False)
    logs: list[LogFile] = field(default_factory=list)  # daemon logs read beside it

    @property
    def findings(self) -> list[Finding]:
        return self.engine.findings

    @property
    def routers(self):
        return self.engine.routers

    @property
    def inventory(self):
        return self.engine.inventory()

    @property
    def incidents(self) -> list[Incident]:
        """The findings grouped by cause, worst first (computed once; sets each
        finding's ``incident``)."""
        if self._incidents is None:
            from vrrpscope.incidents import correlate

            self._incidents = correlate(self.findings, uncovered=self.uncovered)
        return self._incidents

    def forget_incidents(self) -> None:
        """Correlate again on next use (findings were added: the logs' verdicts)."""
        self._incidents = None

    @property
    def uncovered(self) -> list[Uncovered]:
        """The spans between the files with no frame in any (several files only)."""
        from vrrpscope.capture.coverage import uncovered

        return uncovered(self.stats.file_spans) if len(self.stats.file_spans) > 1 else []

    @property
    def nodes(self) -> dict[str, list[Node]]:
        """Segment -> the nodes seen on it (see :mod:`vrrpscope.nodes`)."""
        from vrrpscope.nodes import node_view

        return node_view(self.inventory, self.incidents)
