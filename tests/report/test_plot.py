"""Timelines: what the figures show, checked through matplotlib objects, and real renders."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from vrrpscope import cli
from vrrpscope.analysis import Analysis, analyze_files
from vrrpscope.commands.plot_cmd import add_plot_parser
from vrrpscope.engine.state import MasterPeriod
from vrrpscope.findings import Kind
from vrrpscope.report.plot.data import (
    AdvertIndex,
    concurrent_spans,
    gap_series,
    no_master_spans,
    router_data,
    step_points,
)
from vrrpscope.report.plot.figures import overview, router_path, save_plots, timeline_figure
from vrrpscope.report.plot.timeaxis import to_num

ROOT = Path(__file__).parents[2]
VRRP_PCAP = ROOT / "tests" / "fixtures" / "peer" / "tcpdump" / "vrrp.pcap"
CAPTURES = sorted((ROOT / "captures").glob("*.pcap"))
NS = 1_000_000_000
T0 = 1_700_000_000 * NS
A, B, C, D = "198.18.1.1", "198.18.1.2", "198.18.2.1", "198.18.2.2"


def at(seconds: float) -> int:
    return T0 + round(seconds * NS)


def _advert(t: float, vrid: int, src: str, prio: int, vip: str) -> tuple[int, bytes]:
    mac = f"02:00:00:00:{vrid:02x}:{int(src.rsplit('.', 1)[1]):02x}"
    frame = P.ethernet(P.ipv4(P.vrrp_v2(vrid, prio, [vip]), src=src), src_mac=mac)
    return at(t), frame


def incident_frames() -> list[tuple[int, bytes]]:
    """VRID 51: A (prio 200) misses the advert at 5 s and goes silent after 10 s; B (prio
    100) takes over at 13.7 s; A returns at 20 s without hearing B: split brain to 40 s.
    VRID 52: C resigns (priority 0) at 5.5 s, D takes over at 6.1 s, drops to 80 at 20.1 s."""
    out = [_advert(t, 51, A, 200, "198.18.1.100") for t in range(11) if t != 5]
    out += [_advert(13.7 + i, 51, B, 100, "198.18.1.100") for i in range(28)]
    out += [_advert(20 + i, 51, A, 200, "198.18.1.100") for i in range(21)]
    out += [_advert(t, 52, C, 150, "198.18.2.100") for t in range(6)]
    out.append(_advert(5.5, 52, C, 0, "198.18.2.100"))
    out += [_advert(6.1 + i, 52, D, 100 if i < 14 else 80, "198.18.2.100") for i in range(35)]
    return sorted(out, key=lambda item: item[0])


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    path = tmp_path_factory.mktemp("cap") / "incident.pcap"
    path.write_bytes(pcap_bytes(incident_frames()))
    return analyze_files([str(path)], keep_adverts=True)


def router(analysis: Analysis, vrid: int):
    return next(r for r in analysis.routers.values() if r.vrid == vrid)


def panel(fig: Figure, name: str):
    return next(ax for ax in fig.axes if ax.get_label() == name)


def by_gid(ax, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def bar_spans(coll: PolyCollection) -> list[tuple[float, float]]:
    """(x0, x1) of each rectangle in a collection, as matplotlib date numbers."""
    return [
        (float(p.vertices[:, 0].min()), float(p.vertices[:, 0].max())) for p in coll.get_paths()
    ]


def approx_num(seconds: float):
    return pytest.approx(to_num(at(seconds)), abs=1e-9)  # about 0.1 ms


# ------------------------------------------------------------------ data reduction


def test_concurrent_and_no_master_spans_follow_the_master_periods():
    periods = [
        MasterPeriod("a", None, 0, 10, 200, 10, "silence"),
        MasterPeriod("b", None, 14, 40, 100, 27, None),
        MasterPeriod("a", None, 20, 35, 200, 15, "silence"),
    ]
    assert concurrent_spans(periods) == [(20, 35)]
    assert no_master_spans(periods, 50) == [(10, 14)]  # b still open at the end: no gap
    periods[1].end_reason = "resigned"
    assert no_master_spans(periods, 50) == [(10, 14), (40, 50)]


def test_step_points_keep_change_points_and_break_between_episodes():
    ts = np.array([0, 1, 2, 3, 10, 11, 12], dtype=np.int64)
    value = np.array([100, 100, 100, 90, 90, 90, 90])
    breaks = np.array([False, False, False, True, False, False])
    x, y = step_points(ts, value, breaks)
    # steps-post: 100 from 0 until the change to 90 at 3; a break; 90 from 10 to 12
    assert x[:2].tolist() == [0, 3] and np.isnan(x[2]) and x[3:].tolist() == [10, 12]
    assert y[:2].tolist() == [100, 90] and y[3:].tolist() == [90, 90]


def test_gap_decimation_keeps_extremes_and_every_missed_advert(incident: Analysis):
    data = router_data(router(incident, 51), AdvertIndex(incident.adverts), [], [])
    sp = data.speaker(A)
    full = gap_series(sp)
    assert full.total == len(full.t_ns)
    assert full.gap_s[full.missed].tolist() == pytest.approx([2.0])
    small = gap_series(sp, max_points=4)
    assert len(small.t_ns) < full.total
    assert small.gap_s.max() == pytest.approx(2.0) and small.missed.sum() == 1


# ------------------------------------------------------------------ router figure


def test_band_has_a_lane_per_speaker_with_master_periods_at_their_times(incident: Analysis):
    fig = timeline_figure(incident, router(incident, 51))
    band = panel(fig, "band")
    assert [t.get_text() for t in band.get_yticklabels()] == [A, B]
    (a_bars,) = by_gid(band, f"band:{A}")
    (b_bars,) = by_gid(band, f"band:{B}")
    assert bar_spans(a_bars) == [
        (approx_num(0), approx_num(10)),
        (approx_num(20), approx_num(40)),
    ]
    assert bar_spans(b_bars) == [(approx_num(13.7), approx_num(40.7))]
    (gap,) = by_gid(band, "no-master")
    assert bar_spans(gap) == [(approx_num(10), approx_num(13.7))]
    (overlap,) = by_gid(band, "concurrent")
    assert bar_spans(overlap) == [(approx_num(20), approx_num(40))]
    assert overlap.get_hatch() and tuple(overlap.get_edgecolor()[0][:3]) == pytest.approx(
        matplotlib.colors.to_rgb("#d62728")
    )
    # one colour per speaker, the same in the band, the priority lines and the legend
    (a_line,) = by_gid(panel(fig, "priority"), f"priority:{A}")
    assert matplotlib.colors.to_rgba(a_line.get_color()) == pytest.approx(
        tuple(a_bars.get_facecolor()[0])
    )
    legend_text = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(A in t and "02:00:00:00:33:01" in t for t in legend_text)
    assert "two or more masters" in legend_text and "no master" in legend_text


def test_priority_lines_step_at_changes_and_resignation_is_marked(incident: Analysis):
    fig = timeline_figure(incident, router(incident, 52))
    prio = panel(fig, "priority")
    (d_line,) = by_gid(prio, f"priority:{D}")
    x, y = d_line.get_xdata(), d_line.get_ydata()
    assert d_line.get_drawstyle() == "steps-post"
    assert y[0] == 100 and y[-1] == 80
    assert x[list(y).index(80)] == approx_num(20.1)
    assert len(x) == 3  # first, change to 80, last: not one point per advert
    (resigned,) = by_gid(prio, "resigned")
    assert resigned.get_offsets().tolist() == [[approx_num(5.5), 0.0]]
    (c_line,) = by_gid(prio, f"priority:{C}")
    assert c_line.get_ydata()[-1] == 0  # the step goes down to 0 at the resignation


def test_gap_panel_has_interval_and_master_down_lines_and_missed_adverts(incident: Analysis):
    fig = timeline_figure(incident, router(incident, 51))
    gaps = panel(fig, "gaps")
    assert gaps.get_yscale() == "log"
    (iv,) = by_gid(gaps, "interval:1")
    assert iv.get_ydata()[0] == 1.0
    mdi = [a for a in gaps.get_children() if str(a.get_gid()).startswith("master-down:")]
    # v2 Master_Down_Interval of the backup (priority 100): 3 x 1 s + (256 - 100) / 256 s
    assert mdi[0].get_ydata()[0] == pytest.approx(3 + 156 / 256)
    (missed,) = by_gid(gaps, "missed")
    assert missed.get_offsets().tolist() == [[approx_num(6), pytest.approx(2.0)]]
    (a_gaps,) = by_gid(gaps, f"gaps:{A}")
    assert isinstance(a_gaps, PathCollection)
    # within master periods only: 9 gaps up to 10 s, 20 after A's return
    assert len(a_gaps.get_offsets()) == 9 + 20


def test_findings_are_drawn_where_they_are(incident: Analysis):
    r51 = router(incident, 51)
    fig = timeline_figure(incident, r51)
    finds = panel(fig, "findings")
    lanes = [t.get_text() for t in finds.get_yticklabels()]
    assert lanes[0] == "split-brain" and "failover" in lanes
    split = next(f for f in incident.findings if f.kind == Kind.SPLIT_BRAIN and f.vrid == 51)
    (critical,) = by_gid(finds, "findings:critical")
    assert bar_spans(critical) == [
        (pytest.approx(to_num(split.first_ts_ns)), pytest.approx(to_num(split.last_ts_ns)))
    ]
    fo = next(f for f in incident.findings if f.kind == Kind.FAILOVER and f.vrid == 51)
    arrows = by_gid(finds, "failover")
    assert len(arrows) == 1
    assert arrows[0].xy[0] == pytest.approx(to_num(fo.last_ts_ns))
    assert arrows[0].xyann[0] == pytest.approx(to_num(fo.first_ts_ns))
    (label,) = by_gid(finds, "failover-label")
    assert f"{fo.details['takeover_s']:.2f} s (silence)" in label.get_text()
    assert fo.details["takeover_s"] == pytest.approx(3.7, abs=0.01)


def test_time_axis_is_utc_by_default_and_local_on_request(incident: Analysis):
    fig = timeline_figure(incident, router(incident, 51))
    assert panel(fig, "findings").get_xlabel() == "time (UTC)"
    assert "VRID 51" in fig.get_suptitle() and "198.18.1.100" in fig.get_suptitle()
    assert "incident.pcap" in fig.get_suptitle()
    local = timeline_figure(incident, router(incident, 51), local=True)
    assert panel(local, "findings").get_xlabel().startswith("time (local time")


def test_overview_has_one_row_per_router_and_critical_findings_in_red(incident: Analysis):
    fig = overview(incident)
    ax = panel(fig, "overview")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "default  VRID 51 v4",
        "default  VRID 52 v4",
    ]
    (masters,) = by_gid(ax, "masters")
    periods = sum(len(r.timeline()) for r in incident.routers.values())
    assert len(masters.get_paths()) == periods
    (critical,) = by_gid(ax, "critical")
    split = next(f for f in incident.findings if f.kind == Kind.SPLIT_BRAIN)
    ((x0, x1),) = bar_spans(critical)
    assert (x0, x1) == (
        pytest.approx(to_num(split.first_ts_ns)),
        pytest.approx(to_num(split.last_ts_ns)),
    )
    ys = critical.get_paths()[0].vertices[:, 1]
    assert ys.min() > 0.5  # on the VRID 51 row (top), not VRID 52's


def test_overview_of_hundreds_of_routers_stays_readable_and_light():
    frames = []
    for vrid in range(1, 241):
        src = f"10.1.{vrid}.1"
        frames += [_advert(t * 1.0, vrid, src, 100, f"10.9.{vrid}.1") for t in range(0, 30, 3)]
    data = pcap_bytes(sorted(frames, key=lambda f: f[0]))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.pcap"
        path.write_bytes(data)
        analysis = analyze_files([str(path)], keep_adverts=True)
    fig = overview(analysis)
    ax = panel(fig, "overview")
    assert len(ax.get_yticklabels()) == 240
    assert fig.get_figheight() < 80 and ax.get_yticklabels()[0].get_fontsize() <= 6
    assert len(ax.collections) <= 4  # collections, not one artist per period


def test_large_router_is_drawn_with_a_bounded_number_of_points():
    frames = [_advert(i * 0.01, 7, "10.7.0.1", 100, "10.7.0.100") for i in range(30_000)]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.pcap"
        path.write_bytes(pcap_bytes(frames))
        analysis = analyze_files([str(path)], keep_adverts=True)
    fig = timeline_figure(analysis, router(analysis, 7))
    (pts,) = by_gid(panel(fig, "gaps"), "gaps:10.7.0.1")
    assert len(pts.get_offsets()) <= 4000
    (line,) = by_gid(panel(fig, "priority"), "priority:10.7.0.1")
    assert len(line.get_xdata()) == 2


def test_carp_router_plots_advskew_and_its_own_timer(tmp_path: Path):
    frames = [(at(i), P.ethernet(P.ipv4(P.carp(5, advskew=0), src="10.5.0.1"))) for i in range(10)]
    frames += [
        (at(20 + i), P.ethernet(P.ipv4(P.carp(5, advskew=50), src="10.5.0.2"))) for i in range(5)
    ]
    path = tmp_path / "carp.pcap"
    path.write_bytes(pcap_bytes(frames))
    analysis = analyze_files([str(path)], keep_adverts=True)
    fig = timeline_figure(analysis, router(analysis, 5))
    assert fig.get_suptitle().startswith("CARP vhid 5 (IPv4)")
    prio = panel(fig, "priority")
    assert prio.get_ylabel().startswith("advskew")
    (line,) = by_gid(prio, "priority:10.5.0.2")
    assert set(line.get_ydata()) == {50}
    assert not by_gid(prio, "resigned")  # CARP has no priority 0: never a resignation
    gaps = panel(fig, "gaps")
    mdi = [a for a in gaps.get_children() if str(a.get_gid()).startswith("master-down:")]
    # the backup (advskew 50) times out after 3 x (1 s + 50/256 s)
    assert mdi[0].get_ydata()[0] == pytest.approx(3 * (1 + 50 / 256), abs=0.02)


def test_without_the_advert_table_priorities_come_from_the_engine():
    analysis = analyze_files([str(VRRP_PCAP)])  # keep_adverts=False
    fig = timeline_figure(analysis, router(analysis, 42))
    (line,) = by_gid(panel(fig, "priority"), "priority:10.0.0.91")
    assert line.get_ydata()[0] == 191
    assert not [
        a for a in panel(fig, "gaps").get_children() if str(a.get_gid()).startswith("gaps:")
    ]


def test_a_capture_without_adverts_still_gives_an_overview(tmp_path: Path):
    frame = P.ethernet(P.ipv4(b"\0" * 20, src="10.0.0.1", proto=89))
    path = tmp_path / "ospf.pcap"
    path.write_bytes(pcap_bytes([(at(0), frame), (at(5), frame)]))
    analysis = analyze_files([str(path)], keep_adverts=True)
    (written,) = save_plots(analysis, tmp_path / "o.png")
    assert written.stat().st_size > 0
    assert (
        "no VRRP/CARP adverts" in overview(analysis, [], note="no VRRP/CARP adverts").get_suptitle()
    )


# ------------------------------------------------------------------ files and commands


def test_save_plots_names_one_file_per_router_plus_the_overview(tmp_path: Path):
    analysis = analyze_files([str(VRRP_PCAP)], keep_adverts=True)
    written = save_plots(analysis, tmp_path / "out.png")
    names = sorted(p.name for p in written)
    assert names == [
        "out-vrid42-default.png",
        "out-vrid43-default.png",
        "out-vrid44-default.png",
        "out-vrid45-ipv6-default.png",
        "out-vrid46-ipv6-default.png",
        "out.png",
    ]
    for p in written:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_router_path_sanitises_the_segment():
    r = type("R", (), {"proto": "carp", "family": 4, "vrid": 5, "segment": "eth0/vlan30"})()
    assert router_path("/x/out.svg", r).name.startswith("out-vhid5-eth0_vlan30-")


@pytest.mark.parametrize("capture", [VRRP_PCAP, *CAPTURES], ids=lambda p: p.name)
def test_every_bundled_capture_renders(capture: Path, tmp_path: Path):
    analysis = analyze_files([str(capture)], keep_adverts=True)
    written = save_plots(analysis, tmp_path / "t.png")
    assert written and all(p.stat().st_size > 10_000 for p in written)


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch):
    """cli.main with the plot command (wired here when cli.py does not have it yet)."""
    build = cli.build_parser

    def with_plot() -> argparse.ArgumentParser:
        parser = build()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "plot" not in sub.choices:
            add_plot_parser(sub, cli.EXIT_CODES_HELP)
        return parser

    monkeypatch.setattr(cli, "build_parser", with_plot)
    return cli.main


def test_plot_command_writes_the_figure(main, tmp_path: Path, capsys):
    out = tmp_path / "v.svg"
    assert main(["plot", str(VRRP_PCAP), "-o", str(out), "--vrid", "42"]) == 0
    assert out.read_text().lstrip().startswith("<?xml")
    assert f"wrote {out}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--vrid", "99"], 2, "no advert matches VRID 99 (the input has VRIDs 42-46"),
        (["--segment", "eth9"], 2, "no advert matches segment eth9"),
        (["-o", "x.txt"], 2, ".png, .svg or .pdf"),
    ],
)
def test_plot_command_errors_are_one_line(main, tmp_path, capsys, args, code, needle):
    argv = ["plot", str(VRRP_PCAP), "-o", str(tmp_path / "v.png"), *args]
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vrrpscope: error:") and needle in err[0]
    assert not list(tmp_path.iterdir())


def test_plot_command_rejects_a_vrid_out_of_range(main, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plot", str(VRRP_PCAP), "-o", "x.png", "--vrid", "300"])
    assert exc.value.code == 2
    assert "VRIDs are 1-255" in capsys.readouterr().err


def test_plot_command_missing_file_is_unreadable(main, tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nope.pcap"), "-o", str(tmp_path / "v.png")]) == 3
