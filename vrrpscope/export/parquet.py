"""Adverts, findings and incidents of captures as Parquet, in a hive layout.

``DIR/<table>/date=YYYY-MM-DD/segment=<segment>/<capture>-<digest>-<n>.parquet`` for the
tables ``adverts``, ``findings`` and ``incidents`` (``date``: UTC day of the advert, or of
the finding's / incident's start; ``segment`` URI-encoded as pyarrow does). Each capture
writes files of its own name (the digest is of its absolute path): exporting it again
replaces its files and leaves the other captures' in place. DuckDB, Spark and Trino read
the tree with hive partitioning (README, "Archives"). Secrets never reach it: adverts keep
the auth type, not the key; messages are the masked ones the report prints.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from vrrpscope.result import Analysis

TABLES = ("adverts", "findings", "incidents")
PARTITIONS = ("date", "segment")
NO_SEGMENT = "-"  # the partition of capture-wide findings (no segment)


@dataclass(slots=True)
class Exported:
    """What one capture wrote: rows per table."""

    path: str
    rows: dict[str, int]


def schemas() -> dict[str, pa.Schema]:
    """The columns of each table (partition columns last; documented in README)."""
    import pyarrow as pa

    utc = pa.timestamp("ns", tz="UTC")
    strings = pa.list_(pa.string())
    part = [pa.field("date", pa.string()), pa.field("segment", pa.string())]
    adverts = pa.schema(
        [
            ("time", utc),
            ("file", pa.string()),
            ("frame", pa.int64()),
            ("family", pa.uint8()),
            ("proto", pa.string()),
            ("version", pa.uint8()),
            ("type", pa.uint8()),
            ("vrid", pa.uint8()),
            ("priority", pa.int16()),
            ("interval_cs", pa.int32()),
            ("count", pa.int16()),
            ("src", pa.string()),
            ("src_mac", pa.string()),
            ("ttl", pa.uint8()),
            ("addresses", strings),
            ("auth_type", pa.int16()),
            ("checksum_ok", pa.bool_()),
            ("valid", pa.bool_()),
            ("advskew", pa.int16()),
            ("advbase", pa.int16()),
            ("hmac_key", pa.int16()),
            *part,
        ]
    )
    common = [
        ("capture", pa.string()),
        ("id", pa.int64()),
        ("kind", pa.string()),
        ("severity", pa.string()),
    ]
    findings = pa.schema(
        [
            *common,
            ("incident", pa.string()),
            ("family", pa.uint8()),
            ("proto", pa.string()),
            ("vrid", pa.uint8()),
            ("speakers", strings),
            ("first_time", utc),
            ("last_time", utc),
            ("open", pa.bool_()),
            ("frames", pa.list_(pa.int64())),
            ("message", pa.string()),
            ("details", pa.string()),  # JSON
            *part,
        ]
    )
    incidents = pa.schema(
        [
            *[c for c in common if c[0] != "id"],
            ("id", pa.string()),
            ("nodes", strings),
            ("vrids", pa.list_(pa.int64())),
            ("first_time", utc),
            ("last_time", utc),
            ("open", pa.bool_()),
            ("findings", pa.list_(pa.int64())),
            ("message", pa.string()),
            ("details", pa.string()),  # JSON
            *part,
        ]
    )
    log_events = pa.schema(
        [
            ("capture", pa.string()),
            ("node", pa.string()),
            ("log", pa.string()),  # the log file
            ("line", pa.int64()),
            ("time", utc),  # on the capture's clock (the log's when it could not be aligned)
            ("log_time", utc),  # as the node's clock wrote it
            ("aligned", pa.bool_()),
            ("daemon", pa.string()),
            ("kind", pa.string()),
            ("instance", pa.string()),
            ("vrid", pa.int64()),
            ("family", pa.uint8()),
            ("message", pa.string()),  # the line as logged
            ("details", pa.string()),  # JSON
            *part,
        ]
    )
    return {
        "adverts": adverts,
        "findings": findings,
        "incidents": incidents,
        "log_events": log_events,
    }


def export_analysis(analysis: Analysis, path: str, out: Path) -> Exported:
    """Write one analysed capture's tables under ``out``."""
    tables = {
        "adverts": _adverts(analysis),
        "findings": _findings(analysis, path),
        "incidents": _incidents(analysis, path),
    }
    if analysis.logs:  # (export --log: the daemons' logs read beside the capture)
        tables["log_events"] = _log_events(analysis, path)
    rows = {}
    for name, table in tables.items():
        rows[name] = table.num_rows
        _write(table, out / name, _basename(path))
    return Exported(path, rows)


def _basename(path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(path).name)[:60] or "capture"
    digest = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:10]
    return f"{stem}-{digest}-{{i}}.parquet"


def _write(table: pa.Table, where: Path, basename: str) -> None:
    import pyarrow.dataset as ds

    if table.num_rows == 0:
        return
    ds.write_dataset(
        table,
        where,
        format="parquet",
        partitioning=ds.partitioning(table.select(list(PARTITIONS)).schema, flavor="hive"),
        basename_template=basename,
        existing_data_behavior="overwrite_or_ignore",
    )


def _days(ts_ns: np.ndarray) -> list[str]:
    return np.datetime_as_string(ts_ns.astype("datetime64[ns]"), unit="D").tolist()


def _adverts(analysis: Analysis) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = schemas()["adverts"]
    table = analysis.adverts
    if table is None or len(table) == 0:
        return schema.empty_table()
    rows = table.rows

    def strings(name: str, values: list) -> pa.Array:
        index = rows[name]
        looked = pa.array(values, pa.string()).take(pa.array(np.maximum(index, 0)))
        return pc.if_else(pa.array(index >= 0), looked, pa.nulls(len(index), pa.string()))

    def maybe(name: str) -> pa.Array:
        values = rows[name]
        return pa.array(values, schema.field(name).type, mask=values < 0)

    address_sets = pa.array([list(a) for a in table.address_sets], pa.list_(pa.string()))
    columns = {
        "time": pa.array(rows["ts_ns"], pa.int64()).cast(schema.field("time").type),
        "file": strings("file", table.files),
        "frame": pa.array(rows["frame"], pa.int64()),
        "family": pa.array(rows["family"], pa.uint8()),
        "proto": pa.array(np.where(rows["carp"], "carp", "vrrp"), pa.string()),
        "version": pa.array(rows["version"], pa.uint8()),
        "type": pa.array(rows["type"], pa.uint8()),
        "vrid": pa.array(rows["vrid"], pa.uint8()),
        "priority": maybe("priority"),
        "interval_cs": pa.array(rows["interval_cs"], pa.int32()),
        "count": maybe("count"),
        "src": strings("src", table.sources),
        "src_mac": strings("src_mac", table.macs),
        "ttl": pa.array(rows["ttl"], pa.uint8()),
        "addresses": address_sets.take(pa.array(rows["addresses"])),
        "auth_type": maybe("auth_type"),
        "checksum_ok": pa.array(rows["checksum_ok"], pa.bool_()),
        "valid": pa.array(rows["valid"], pa.bool_()),
        "advskew": maybe("advskew"),
        "advbase": maybe("advbase"),
        "hmac_key": maybe("hmac_key"),
        "date": pa.array(_days(rows["ts_ns"]), pa.string()),
        "segment": strings("segment", table.segments),
    }
    return pa.table(columns, schema=schema)


def _findings(analysis: Analysis, path: str) -> pa.Table:
    import pyarrow as pa

    records = []
    for f in analysis.findings:
        d = f.to_dict()
        records.append(
            {
                "capture": path,
                "id": d["id"],
                "kind": d["kind"],
                "severity": d["severity"],
                "incident": d["incident"],
                "family": d["family"],
                "proto": d["proto"],
                "vrid": d["vrid"],
                "speakers": d["speakers"],
                "first_time": f.first_ts_ns,
                "last_time": f.last_ts_ns,
                "open": d["open"],
                "frames": d["frames"],
                "message": d["message"],
                "details": _json(d["details"]),
                "date": _day(f.first_ts_ns),
                "segment": d["segment"] or NO_SEGMENT,
            }
        )
    return pa.Table.from_pylist(records, schema=schemas()["findings"])


def _incidents(analysis: Analysis, path: str) -> pa.Table:
    import pyarrow as pa

    records = []
    for i in analysis.incidents:
        d = i.to_dict()
        records.append(
            {
                "capture": path,
                "id": d["id"],
                "kind": d["kind"],
                "severity": d["severity"],
                "nodes": d["nodes"],
                "vrids": d["vrids"],
                "first_time": i.first_ts_ns,
                "last_time": i.last_ts_ns,
                "open": d["open"],
                "findings": d["findings"],
                "message": d["message"],
                "details": _json(d["details"]),
                "date": _day(i.first_ts_ns),
                "segment": d["segment"] or NO_SEGMENT,
            }
        )
    return pa.Table.from_pylist(records, schema=schemas()["incidents"])


def _log_events(analysis: Analysis, path: str) -> pa.Table:
    import pyarrow as pa

    records = []
    for log in analysis.logs:
        for e in log.events:
            when = e.when_ns
            records.append(
                {
                    "capture": path,
                    "node": e.node,
                    "log": e.path,
                    "line": e.line,
                    "time": when,
                    "log_time": e.ts_ns,
                    "aligned": e.aligned_ns is not None,
                    "daemon": e.daemon,
                    "kind": e.kind,
                    "instance": e.instance,
                    "vrid": e.vrid,
                    "family": e.family,
                    "message": e.text,
                    "details": _json(e.details),
                    "date": "unknown" if when is None else _day(when),
                    "segment": NO_SEGMENT,
                }
            )
    return pa.Table.from_pylist(records, schema=schemas()["log_events"])


def _day(ts_ns: int) -> str:
    return _days(np.array([ts_ns], np.int64))[0]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
