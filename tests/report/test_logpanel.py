"""The daemons' logs drawn on a router's timeline."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from vrrpscope.analysis import analyze_files
from vrrpscope.logs.attach import load_logs
from vrrpscope.report.plot.figures import timeline_figure
from vrrpscope.report.plot.timeaxis import to_num

matplotlib.use("Agg")
WITH_LOGS = Path(__file__).parent.parent.parent / "captures" / "with-logs"


def test_each_node_gets_a_lane_with_its_state_changes_and_send_errors() -> None:
    analysis = analyze_files([str(WITH_LOGS / "master-blocked.pcap")], keep_adverts=True)
    load_logs([f"r{n}:{WITH_LOGS / f'master-blocked.r{n}.log'}" for n in (1, 2)], analysis)
    [router] = analysis.routers.values()
    fig = timeline_figure(analysis, router)
    [panel] = [ax for ax in fig.axes if ax.get_label() == "daemon logs"]
    assert [t.get_text() for t in panel.get_yticklabels()] == ["r2", "r1"]
    gids = {c.get_gid() for c in panel.collections}
    assert {"log:r1:send error", "log:r1:MASTER", "log:r2:MASTER", "log:r2:BACKUP"} <= gids
    [errors] = [c for c in panel.collections if c.get_gid() == "log:r1:send error"]
    [r1] = [log for log in analysis.logs if log.node == "r1"]
    sent = [e.aligned_ns for e in r1.events if e.kind == "send-error"]
    assert len(errors.get_offsets()) == len(sent)
    assert abs(errors.get_offsets()[0][0] - to_num(sent[0])) < 1e-9
    left, _ = panel.get_xlim()
    master = next(e for e in r1.events if e.details.get("state") == "MASTER")
    assert left <= to_num(master.aligned_ns)  # drawn though before the first advert


def test_without_logs_the_figure_has_four_panels() -> None:
    analysis = analyze_files([str(WITH_LOGS / "master-blocked.pcap")])
    [router] = analysis.routers.values()
    assert len(timeline_figure(analysis, router).axes) == 4
