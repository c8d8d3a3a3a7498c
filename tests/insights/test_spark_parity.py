"""The migration, cohort and insight-series queries give the same answer on DuckDB and PySpark.
Skipped when PySpark or Java is missing."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest
from tests.insights.planted import orders

from custlens.config import RFMConfig
from custlens.insights.series import daily_totals, monthly_by, segment_sizes
from custlens.segment.cohorts import cohort_table
from custlens.segment.migration import segments_at

pytestmark = [pytest.mark.spark, pytest.mark.slow]
AS_OF, THEN = date(2024, 1, 1), date(2023, 10, 3)


def _queries(table: ibis.Table) -> dict[str, pd.DataFrame]:
    rfm = RFMConfig()
    out = {
        "cohorts": cohort_table(table, AS_OF),
        "daily": daily_totals(table, AS_OF),
        "category": monthly_by(table, AS_OF, "category"),
        "sizes": segment_sizes(table, None, [date(2023, 11, 1), date(2023, 12, 1)], rfm),
    }
    for method in ("recut", "fixed"):
        then, now, _ = segments_at(table, None, (THEN, AS_OF), rfm, method=method)
        out[f"then_{method}"], out[f"now_{method}"] = then, now
    return out


def test_duckdb_and_spark_agree(spark):
    data = orders(5, customers=120)
    data["order_ts"] = data["order_ts"].astype("datetime64[us]")
    duck = _queries(ibis.memtable(data))
    spark.createDataFrame(data).createOrReplaceTempView("insight_parity")
    sp = _queries(ibis.pyspark.connect(spark).table("insight_parity"))
    for name, frame in duck.items():
        other = sp[name]
        keys = [c for c in ("cohort", "months_since", "day", "month", "key", "date",
                            "customer_id") if c in frame.columns]  # fmt: skip
        a = frame.sort_values(keys).reset_index(drop=True)
        b = other.sort_values(keys).reset_index(drop=True)[a.columns]
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, obj=name)
