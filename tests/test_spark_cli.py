"""``custlens run --engine spark``: the whole default pipeline through the CLI on Spark gives the
same output tables as on DuckDB (the independent oracle); bad engine combinations are clear
errors with exit code 2 (those tests need neither PySpark nor Java).

The Spark run reuses the session of the ``spark`` fixture (``getOrCreate`` returns the running
session, as on a Databricks cluster), so the JVM starts once per test run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import custlens
from custlens.cli import app
from custlens.config import Settings

MONEY_TOLERANCE = 1e-9


def _invoke(args: list[str]):
    return CliRunner().invoke(app, [str(a) for a in args])


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table of a results folder: the Parquet files (customers and each stage's tables)
    and the per-segment CSV lists."""
    found = {str(p.relative_to(folder)): pd.read_parquet(p) for p in folder.rglob("*.parquet")}
    for path in (folder / "segments").glob("*.csv"):
        found[str(path.relative_to(folder))] = pd.read_csv(path, dtype=str)
    return found


def _same_values(name: str, column: str, a: pd.Series, b: pd.Series) -> None:
    where = f"{name}:{column}"
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        for i, (x, y) in enumerate(zip(a.astype(float), b.astype(float), strict=True)):
            if math.isnan(x) or math.isnan(y):
                assert math.isnan(x) and math.isnan(y), f"{where} row {i}: {x} vs {y}"
            else:
                scale = max(1.0, abs(x), abs(y))
                assert abs(x - y) <= MONEY_TOLERANCE * scale, f"{where} row {i}: {x} vs {y}"
    else:  # counts, ids, dates, scores, segments, personas: identical
        assert a.astype(str).tolist() == b.astype(str).tolist(), where


def _compare_folders(duck: Path, spark: Path) -> int:
    a, b = _tables(duck), _tables(spark)
    assert sorted(a) == sorted(b)
    for name in a:
        left, right = a[name], b[name]
        assert list(left.columns) == list(right.columns), name
        assert len(left) == len(right), name
        for column in left.columns:
            _same_values(name, column, left[column], right[column])
    qa = json.loads((duck / "quality.json").read_text())
    qb = json.loads((spark / "quality.json").read_text())
    for key in ("rows_in", "customers_in", "rows_out", "orders_out", "customers_out"):
        assert qa[key] == qb[key], key
    assert abs(qa["revenue_out"] - qb["revenue_out"]) <= MONEY_TOLERANCE * qa["revenue_out"]
    return len(a)


@pytest.mark.spark
@pytest.mark.slow
def test_default_run_on_spark_matches_duckdb(spark, tmp_path):
    data = tmp_path / "orders.parquet"
    custlens.datasets.write_synthetic(data, 300, seed=5)
    common = ["--figures", "none", "--quiet", "--seed", "3"]
    duck = _invoke(["run", data, "--out", tmp_path / "duck", *common])
    assert duck.exit_code == 0, duck.output
    on_spark = _invoke(["run", data, "--out", tmp_path / "spark", "--engine", "spark", *common])
    assert on_spark.exit_code == 0, on_spark.output

    run_a = json.loads((tmp_path / "duck" / "run.json").read_text())
    run_b = json.loads((tmp_path / "spark" / "run.json").read_text())
    # every default analysis ran on both engines
    assert run_a["skipped"] == run_b["skipped"] == {}
    assert sorted(run_a["stages"]) == sorted(run_b["stages"])
    assert len(run_b["stages"]) >= 6
    assert any(n.startswith("engine: Spark") for n in run_b["notes"])
    # the running session's own setting (the fixture's), not custlens's local default
    assert any(n.endswith(", 2 shuffle partitions") for n in run_b["notes"])
    assert {"spark session", "lines to DuckDB"} <= set(run_b["seconds"])
    assert run_a["rows"] == run_b["rows"]
    tables = _compare_folders(tmp_path / "duck", tmp_path / "spark")
    assert tables > 15  # customers, segment lists and the stages' tables

    customers = pd.read_parquet(tmp_path / "spark" / "customers.parquet")
    quality = json.loads((tmp_path / "spark" / "quality.json").read_text())
    assert customers["customer_id"].is_unique and len(customers) == quality["customers_out"]
    raw_lines = duckdb.sql(f"SELECT count(*) FROM read_parquet('{data}')").fetchone()[0]
    assert quality["rows_in"] == raw_lines


@pytest.mark.spark
@pytest.mark.slow
def test_csv_path_and_spark_table(spark, tmp_path):
    """A CSV path (text columns typed by load) and --table db.table give the same customers."""
    orders = custlens.datasets.synthetic(120, seed=2).orders
    csv = tmp_path / "orders.csv"
    orders.to_csv(csv, index=False)
    spark.sql("CREATE DATABASE IF NOT EXISTS custlens_cli")
    frame = orders.assign(InvoiceDate=orders["InvoiceDate"].astype("datetime64[us]"))
    spark.createDataFrame(frame).write.mode("overwrite").saveAsTable("custlens_cli.orders")
    common = ["--analyses", "rfm", "--figures", "none", "--quiet"]
    duck = _invoke(["run", csv, "--out", tmp_path / "duck", *common])
    assert duck.exit_code == 0, duck.output
    from_csv = _invoke(["run", csv, "--out", tmp_path / "csv", "--engine", "spark", *common])
    assert from_csv.exit_code == 0, from_csv.output
    table = ["run", "--table", "custlens_cli.orders", "--engine", "spark"]
    from_table = _invoke([*table, "--out", tmp_path / "table", *common])
    assert from_table.exit_code == 0, from_table.output
    _compare_folders(tmp_path / "duck", tmp_path / "csv")
    _compare_folders(tmp_path / "duck", tmp_path / "table")
    missing = _invoke(["run", "--table", "custlens_cli.nope", "--engine", "spark", "-o", "x"])
    assert missing.exit_code == 2 and "Spark cannot read the table" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "dask"], "Unknown engine 'dask'"),
        (["--spark-master", "local[2]"], "--spark-master is set but the engine is not Spark"),
        (["--engine", "spark", "--delimiter", ";"], "do not apply to this source on Spark"),
    ],
)
def test_bad_engine_flags_exit_2(tmp_path, args, message):
    data = tmp_path / "orders.parquet"
    data.write_bytes(b"PAR1")  # never read: the flags are refused first
    result = _invoke(["run", data, "--out", tmp_path / "out", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_sources_spark_cannot_read_exit_2(tmp_path):
    db = tmp_path / "orders.duckdb"
    duckdb.connect(str(db)).close()
    cases = [
        (["run", db, "--table", "orders", "--engine", "spark"], "cannot read a DuckDB database"),
        (["run", "postgres://u:pw@host/db", "--table", "o", "--engine", "spark"], "postgres://"),
        (["run", "--engine", "spark"], "Missing argument SOURCE"),
        (["run", "--table", "orders"], "Missing argument SOURCE"),  # a table needs Spark
    ]
    for args, message in cases:
        result = _invoke([*args, "--out", tmp_path / "out"])
        assert result.exit_code == 2, args
        assert message in result.output, result.output
        assert "pw" not in result.output  # the password of a URL is never printed


def test_spark_section_of_the_config(tmp_path):
    config = tmp_path / "custlens.toml"
    config.write_text(
        '[spark]\nmaster = "local[3]"\n[spark.conf]\n"spark.sql.shuffle.partitions" = 8\n'
        '"spark.hadoop.fs.s3a.secret.key" = "hunter2"\n'
    )
    settings = custlens.load_settings(config)
    assert settings.spark.master == "local[3]"
    assert settings.spark.conf["spark.sql.shuffle.partitions"] == "8"
    # kept for the session, never written to run.json
    assert settings.with_overrides(seed=1).spark.conf["spark.hadoop.fs.s3a.secret.key"] == "hunter2"
    dumped = settings.model_dump(mode="json")["spark"]["conf"]
    assert dumped["spark.hadoop.fs.s3a.secret.key"] == "***"
    assert Settings().spark.line_analyses == "duckdb"
    bad = tmp_path / "bad.toml"
    bad.write_text('[spark]\nline_analyses = "gpu"\n')
    result = _invoke(["run", "x.parquet", "--config", bad, "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "spark.line_analyses" in result.output


def test_spark_paths_are_checked_before_a_session_starts(tmp_path):
    from custlens.errors import InputError
    from custlens.io.options import ReadOptions
    from custlens.io.spark_session import check_spark_source

    parts = tmp_path / "orders"  # Spark's own output: part files and a _SUCCESS marker
    parts.mkdir()
    (parts / "part-00000.snappy.parquet").write_bytes(b"")
    (parts / "_SUCCESS").write_bytes(b"")
    checked = check_spark_source(str(parts), ReadOptions())
    assert (checked.kind, checked.path) == ("parquet", str(parts.resolve()))
    csv = tmp_path / "orders.tsv.gz"
    csv.write_bytes(b"")
    assert check_spark_source(f"file://{csv}", ReadOptions()).kind == "csv"
    remote = check_spark_source("s3a://lake/orders.parquet", ReadOptions())
    assert (remote.kind, remote.local) == ("parquet", None)
    assert check_spark_source(None, ReadOptions(table="db.orders")).table == "db.orders"
    (parts / "extra.csv").write_bytes(b"")
    with pytest.raises(InputError, match="several kinds"):
        check_spark_source(str(parts), ReadOptions())
    with pytest.raises(InputError, match="cannot read a .xlsx file"):
        (tmp_path / "o.xlsx").write_bytes(b"")
        check_spark_source(str(tmp_path / "o.xlsx"), ReadOptions())
