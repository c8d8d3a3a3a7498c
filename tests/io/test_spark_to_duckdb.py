"""The cleaned lines copied from a local Spark session to DuckDB: written by Spark's own Parquet
writer (no collect through the driver's heap), with the same rows and column types as the lines
collected as Arrow (the way a cluster's lines come to the driver)."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from custlens.io.readers import default_engine
from custlens.io.spark_session import _to_arrow, to_duckdb


@pytest.mark.spark
def test_local_copy_has_the_rows_and_types_of_the_arrow_copy(spark, tmp_path):
    import ibis

    # typed by Spark SQL (timestamps read in the session's zone, UTC), not converted from Python
    rows = [
        ("'a'", "2024-01-05 09:30:00", "2.0D", "true", 1),
        ("'b'", "2024-03-31 23:59:59", "-1.0D", "false", 2),
        ("CAST(NULL AS STRING)", "1999-12-31 00:00:00", "3.5D", "true", 3),
        ("'c'", "2024-07-01 12:00:00.25", "0.0D", "false", 4),
    ]
    values = ", ".join(
        f"({c}, TIMESTAMP '{t}', {q}, {f}, CAST({n} AS BIGINT))" for c, t, q, f, n in rows
    )
    name = "custlens_test_lines"
    spark.sql(
        f"SELECT * FROM VALUES {values} AS t(customer_id, order_ts, quantity, _cl_flag, n)"
    ).createOrReplaceTempView(name)
    con = ibis.pyspark.connect(spark)
    table = con.table(name)
    engine = default_engine()
    # whatever timestamp type the session writes (INT96 by default, here the instants a user's
    # setting may ask for), the copy's timestamps have no zone
    key = "spark.sql.parquet.outputTimestampType"
    before = spark.conf.get(key)
    spark.conf.set(key, "TIMESTAMP_MICROS")
    try:
        copied = to_duckdb(table, engine, "lines")
    finally:
        spark.conf.set(key, before)
    # the other way, by hand: collected as Arrow and written with pyarrow
    pq.write_table(_to_arrow(table), tmp_path / "arrow.parquet")
    arrow = engine.read_parquet(tmp_path / "arrow.parquet")
    assert copied.schema() == arrow.schema()
    got = copied.to_pandas().sort_values("n", ignore_index=True)
    expected = arrow.to_pandas().sort_values("n", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)
    # and the values are the ones given (the session's UTC leaves the wall clock alone)
    assert got["order_ts"].tolist() == [
        pd.Timestamp("2024-01-05 09:30:00"),
        pd.Timestamp("2024-03-31 23:59:59"),
        pd.Timestamp("1999-12-31 00:00:00"),
        pd.Timestamp("2024-07-01 12:00:00.25"),
    ]
    assert got["customer_id"].tolist()[:2] == ["a", "b"] and got["customer_id"].isna()[2]
    assert got["quantity"].tolist() == [2.0, -1.0, 3.5, 0.0]


@pytest.mark.spark
def test_a_failed_copy_is_one_clear_error(spark, monkeypatch):
    import ibis

    import custlens.io.spark_session as spark_session
    from custlens.errors import ResourceError

    class Py4JJavaError(Exception):  # the name PySpark's Java errors carry
        pass

    def fail(table, path):
        raise Py4JJavaError("An error occurred while calling o173.getResult.\n: TaskResultLost")

    monkeypatch.setattr(spark_session, "_write_parquet", fail)
    spark.sql("SELECT 1 AS n").createOrReplaceTempView("custlens_test_one")
    table = ibis.pyspark.connect(spark).table("custlens_test_one")
    with pytest.raises(ResourceError) as caught:
        to_duckdb(table, default_engine(), "purchases")
    error = caught.value
    assert error.what == (
        "Cannot copy the cleaned lines from Spark to the driver: "
        "An error occurred while calling o173.getResult."
    )
    assert error.where == "stage 'lines to DuckDB' (purchases)"
    assert "spark.driver.memory" in error.fix and 'line_analyses = "spark"' in error.fix
