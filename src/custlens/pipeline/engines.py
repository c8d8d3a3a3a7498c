"""Which engine runs the line-level part of a run: DuckDB in-process (default) or Spark.

On Spark, loading, cleaning and the one-row-per-customer table run in the Spark session; the
customer table then comes to the driver as pandas like on DuckDB. The analyses that read order
lines after it (``Stage.reads_lines``) run on a copy of the cleaned lines in the driver's
in-process DuckDB (``[spark] line_analyses = "duckdb"``, the default) or stay on Spark
(``"spark"``). See docs/scaling.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ibis

from custlens.config import Settings
from custlens.errors import ConfigError
from custlens.io.clean import Cleaned
from custlens.io.options import ReadOptions
from custlens.io.readers import RawTable

__all__ = ["ENGINES", "check_engine", "spark_source", "to_local_lines"]

ENGINES = ("duckdb", "spark")


def check_engine(engine: str, *, spark_master: str | None = None) -> None:
    """Refuse an unknown engine, and a Spark master URL without the Spark engine."""
    if engine not in ENGINES:
        raise ConfigError(
            f"Unknown engine {engine!r}",
            where="--engine",
            fix=f"choose one of {', '.join(ENGINES)} (default duckdb)",
        )
    if spark_master is not None and engine != "spark":
        raise ConfigError(
            "--spark-master is set but the engine is not Spark",
            where="--spark-master",
            fix="add --engine spark, or drop --spark-master",
        )


def spark_source(
    source: Any, read: ReadOptions | None, settings: Settings, master: str | None
) -> tuple[RawTable, str]:
    """The source read by a Spark session, and a note naming the session."""
    from custlens.io.spark_session import check_spark_source, read_spark, spark_engine

    if source is not None and not isinstance(source, str):
        from pathlib import Path

        if not isinstance(source, Path):
            raise ConfigError(
                f"engine='spark' reads paths and Spark tables, not a {type(source).__name__}",
                where="engine",
                fix="pass a Parquet/CSV path or read.table, or pass a Spark table "
                "(ibis.pyspark.connect(spark).table(...)) with the default engine",
            )
        source = str(source)
    options = read or ReadOptions()
    checked = check_spark_source(source, options)  # before a JVM starts
    con = spark_engine(settings.spark, master)
    raw = read_spark(checked, options, con)
    session = con._session
    context = session.sparkContext
    partitions = session.conf.get("spark.sql.shuffle.partitions")
    note = (
        f"engine: Spark {context.version}, master {context.master}, {partitions} shuffle partitions"
    )
    return raw, note


def to_local_lines(transactions: ibis.Table, cleaned: Cleaned) -> tuple[ibis.Table, Cleaned]:
    """The canonical and the cleaned lines copied from Spark into one in-process DuckDB."""
    from custlens.io.readers import default_engine
    from custlens.io.spark_session import to_duckdb

    engine = default_engine()
    local = dataclasses.replace(
        cleaned,
        purchases=to_duckdb(cleaned.purchases, engine, "purchases"),
        returns=to_duckdb(cleaned.returns, engine, "returns"),
    )
    return to_duckdb(transactions, engine, "transactions"), local
