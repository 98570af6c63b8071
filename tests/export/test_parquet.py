"""`vrrpscope export --parquet`: the bundled captures read back by DuckDB with the counts
`analyze --json` prints, in a hive layout, secrets masked, bad inputs told apart."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.cli import REPO, assert_clean_error, run
from vrrpscope import cli

duckdb = pytest.importorskip("duckdb", reason="duckdb is a test dependency ('.[test]')")
pytest.importorskip("pyarrow", reason="pyarrow is a test dependency ('.[test]')")

CAPTURES = sorted((REPO / "captures").glob("*.pcap"))


def _scan(out: Path, table: str) -> str:
    return f"read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = true)"


def _analyze(path: Path) -> list[dict]:
    """`vrrpscope analyze --json PATH`'s records (the CLI run in this process: the export
    itself is checked as a real process)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["analyze", "--json", str(path)])
    assert code in (0, 1, 4), code
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive")
    result = run("export", *map(str, CAPTURES), "--parquet", str(out), "--jobs", "2")
    assert result.returncode == 0, result.stderr.decode()
    assert f"exported {len(CAPTURES)} of {len(CAPTURES)} capture(s)" in result.stdout.decode()
    return out


def test_duckdb_reads_the_counts_analyze_prints(exported: Path) -> None:
    db = duckdb.connect()
    adverts = dict(
        db.execute(f"select file, count(*) from {_scan(exported, 'adverts')} group by 1").fetchall()
    )
    kinds = db.execute(
        f"select capture, kind, count(*) from {_scan(exported, 'findings')} group by all"
    )
    found: dict[str, Counter] = {}
    for capture, kind, n in kinds.fetchall():
        found.setdefault(capture, Counter())[kind] = n
    incidents = dict(
        db.execute(
            f"select capture, count(*) from {_scan(exported, 'incidents')} group by 1"
        ).fetchall()
    )
    for path in CAPTURES:
        records = _analyze(path)
        summary = next(r for r in records if r["type"] == "summary")
        assert adverts.get(str(path), 0) == summary["adverts"], path.name
        kinds_json = Counter(r["kind"] for r in records if r["type"] == "finding")
        assert found.get(str(path), Counter()) == kinds_json, path.name
        assert incidents.get(str(path), 0) == sum(r["type"] == "incident" for r in records)


def test_the_layout_is_hive_by_day_and_segment(exported: Path) -> None:
    db = duckdb.connect()
    rows = db.execute(
        f"select distinct typeof(date), segment, strftime(time, '%Y-%m-%d') = date::varchar "
        f"from {_scan(exported, 'adverts')}"
    ).fetchall()
    assert {r[0] for r in rows} == {"DATE"} and all(r[2] for r in rows)
    assert {"default", "ifindex2"} <= {r[1] for r in rows}
    files = list((exported / "adverts").glob("date=*/segment=*/*.parquet"))
    assert files and all(f.name.endswith("-0.parquet") for f in files)
    (row,) = db.execute(
        f"select vrid, priority, addresses, proto from {_scan(exported, 'adverts')} "
        "where file like '%failover.pcap' order by time limit 1"
    ).fetchall()
    assert row == (51, 150, ["198.18.1.100"], "vrrp")  # as `vrrpscope decode` prints it


def test_no_password_reaches_the_archive(exported: Path) -> None:
    for name in ("clusterA", "clusterB", "alpha", "bravo"):
        for path in exported.rglob("*.parquet"):
            assert name.encode() not in path.read_bytes(), (name, path)
    db = duckdb.connect()
    (n,) = db.execute(
        f"select count(*) from {_scan(exported, 'findings')} where kind = 'plaintext-auth'"
    ).fetchone()
    assert n > 0


def test_exporting_again_replaces_that_capture_only(exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    shutil.copytree(exported, out)
    one = next(p for p in CAPTURES if p.name == "failover.pcap")
    assert run("export", str(one), "--parquet", str(out)).returncode == 0
    db = duckdb.connect()
    before = db.execute(f"select count(*) from {_scan(exported, 'adverts')}").fetchone()
    after = db.execute(f"select count(*) from {_scan(out, 'adverts')}").fetchone()
    assert before == after


def test_an_unreadable_capture_is_named_and_the_others_exported(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.pcap"
    bogus.write_text("not a capture\n")
    out = tmp_path / "out"
    result = run("export", str(CAPTURES[0]), str(bogus), "--parquet", str(out))
    assert_clean_error(result, 3, "notes.pcap")
    assert "exported 1 of 2 capture(s)" in result.stdout.decode()
    assert list((out / "adverts").rglob("*.parquet"))


def test_an_output_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("export", str(CAPTURES[0]), "--parquet", str(blocker / "sub"))
    assert_clean_error(result, 2, "--parquet", "cannot create it")


def test_a_damaged_capture_exports_what_was_readable(tmp_path: Path) -> None:
    whole = next(p for p in CAPTURES if p.name == "failover.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[: len(whole) // 2 + 7])  # part way into a record
    out = tmp_path / "out"
    result = run("export", str(cut), "--parquet", str(out))
    assert result.returncode == 4 and "cut.pcap" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    (n,) = duckdb.connect().execute(f"select count(*) from {_scan(out, 'adverts')}").fetchone()
    expected = next(r for r in _analyze(cut) if r["type"] == "summary")["adverts"]
    assert n == expected > 0


def test_log_events_are_exported_beside_the_capture(tmp_path: Path) -> None:
    """`export --log`: every event the daemons logged, on the capture's clock, and the
    verdicts capture + logs give (ingress-dropped on r2) among the findings."""
    with_logs = REPO / "captures" / "with-logs"
    pcap = with_logs / "split-brain.pcap"
    logs = [f"r{n}:{with_logs / f'split-brain.r{n}.log'}" for n in (1, 2)]
    out = tmp_path / "archive"
    result = run("export", str(pcap), *(a for log in logs for a in ("--log", log)),
                 "--parquet", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert "log_events" in result.stdout.decode()
    from vrrpscope.analysis import analyze_files
    from vrrpscope.logs.attach import load_logs

    analysis = analyze_files([str(pcap)])
    read = load_logs(logs, analysis)
    db = duckdb.connect()
    rows = db.execute(
        f"select node, kind, count(*), bool_and(aligned) from {_scan(out, 'log_events')} "
        "group by all"
    ).fetchall()
    expected = Counter((log.node, e.kind) for log in read for e in log.events)
    assert {(node, kind): n for node, kind, n, _ in rows} == dict(expected)
    assert all(aligned for *_, aligned in rows)  # both logs lined up with the wire
    (first,) = db.execute(
        f"select epoch_ns(time) from {_scan(out, 'log_events')} "
        "where node = 'r2' and kind = 'advert-timeout'"
    ).fetchall()
    (event,) = [e for log in read if log.node == "r2" for e in log.events
                if e.kind == "advert-timeout"]  # fmt: skip
    assert first[0] == event.aligned_ns
    kinds = {k for (k,) in db.execute(f"select kind from {_scan(out, 'findings')}").fetchall()}
    assert "ingress-dropped" in kinds


def test_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    result = run("export", str(CAPTURES[0]), "--log", str(tmp_path / "gone.log"),
                 "--parquet", str(tmp_path / "out"))  # fmt: skip
    assert_clean_error(result, 3, "gone.log")
