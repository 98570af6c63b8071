"""Exports of analysed captures for other tools (Parquet for DuckDB, Spark, Trino)."""
