"""The same cleaning, customer table and RFM scoring on DuckDB and on PySpark give the same answer.

One test uses transactions generated here with numpy (canonical columns) that include every kind
of dirt the cleaning rules handle: missing customers, cancellations and returns, offsetting pairs,
zero prices, non-product codes, exact duplicates, lines outside the date range and other
countries; the other loads the synthetic generator's raw orders with ``custlens.load`` on each
engine. Skipped when PySpark or Java is missing.
"""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import custlens
from custlens.config import CleaningConfig, RFMConfig
from custlens.features.rfm import customer_table
from custlens.io.clean import clean
from custlens.segment.rfm_segments import score_rfm

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CONFIG = CleaningConfig(date_from=date(2021, 1, 15), countries=["United Kingdom", "france"])


def _transactions(n_customers: int = 300, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2021-01-01")
    order_no = 1000
    products = [f"P{i:03d}" for i in range(60)] + ["POST", "M", "DCGS0001"]
    prices = np.round(rng.uniform(0.5, 30.0, len(products)), 2)
    for c in range(n_customers):
        cid = f"{12000 + c}"
        country = rng.choice(["United Kingdom", "France", "Germany"], p=[0.8, 0.1, 0.1])
        for _ in range(rng.integers(1, 8)):
            ts = start + pd.Timedelta(minutes=int(rng.integers(0, 364 * 24 * 60)))
            order_no += 1
            for _ in range(rng.integers(1, 5)):
                p = int(rng.integers(0, len(products)))
                qty = int(rng.integers(1, 13))
                price = 0.0 if rng.random() < 0.02 else float(prices[p])
                rows.append([cid, str(order_no), ts, products[p], qty, price, country])
    lines = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "order_id",
            "order_ts",
            "product_id",
            "quantity",
            "unit_price",
            "country",
        ],
    )
    # cancellations: some exactly offsetting (0-40 days later), some partial
    picked = lines.sample(n=len(lines) // 12, random_state=seed)
    cancels = picked.copy()
    later = rng.integers(0, 40 * 24 * 60, len(picked))
    cancels["order_ts"] = cancels["order_ts"] + pd.to_timedelta(later, unit="min")
    partial = rng.random(len(picked)) < 0.3
    cancels["quantity"] = np.where(partial, -1, -cancels["quantity"])
    cancels["order_id"] = ["C" + str(9000 + i) for i in range(len(cancels))]
    # returns without the C prefix, missing customers, exact duplicates
    returns = lines.sample(n=40, random_state=seed + 1).assign(quantity=-1)
    anonymous = lines.sample(n=150, random_state=seed + 2).assign(customer_id=None)
    duplicates = lines.sample(n=80, random_state=seed + 3)
    out = pd.concat([lines, cancels, returns, anonymous, duplicates], ignore_index=True)
    out["customer_id"] = out["customer_id"].astype(object)
    out["quantity"] = out["quantity"].astype("float64")
    out["amount"] = out["quantity"] * out["unit_price"]
    out["order_ts"] = out["order_ts"].astype("datetime64[us]")
    return pa.Table.from_pandas(out, preserve_index=False)


def _run(table: ibis.Table):
    cleaned = clean(table, CONFIG)
    scored = score_rfm(customer_table(cleaned.purchases, cleaned.returns), RFMConfig())
    frame = scored.to_pandas().sort_values("customer_id").reset_index(drop=True)
    return cleaned.report, frame


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _assert_same(duck_report, duck, spark_report, sp) -> None:
    """Counts exactly equal, money within 1e-9, dates, scores and segments identical."""
    a, b = duck_report.to_dict(), spark_report.to_dict()
    for key in ("rows_in", "customers_in", "rows_out", "orders_out", "customers_out"):
        assert a[key] == b[key], key
    assert a["returns_rows"] == b["returns_rows"]
    assert _close(a["revenue_in"], b["revenue_in"])
    assert _close(a["revenue_out"], b["revenue_out"])
    for ra, rb in zip(a["rules"], b["rules"], strict=True):
        assert (ra["rule"], ra["rows"], ra["customers"], ra["note"]) == (
            rb["rule"],
            rb["rows"],
            rb["customers"],
            rb["note"],
        )
        assert _close(ra["revenue"], rb["revenue"]), ra["rule"]

    assert len(duck) == len(sp) == a["customers_out"]
    assert list(duck["customer_id"]) == list(sp["customer_id"])
    exact = [
        "tenure_days",
        "recency_days",
        "frequency",
        "distinct_products",
        "r_score",
        "f_score",
        "m_score",
        "fm_score",
        "rfm_cell",
        "segment",
    ]
    for col in exact:
        assert list(duck[col]) == list(sp[col]), col
    for col in ("first_order", "last_order"):
        assert list(pd.to_datetime(duck[col])) == list(pd.to_datetime(sp[col])), col
    for col in ("monetary", "avg_order_value", "return_rate"):
        pairs = zip(duck[col].astype(float), sp[col].astype(float), strict=True)
        assert all(_close(x, y) for x, y in pairs), col


def test_duckdb_and_spark_agree(spark):
    data = _transactions()
    duck_report, duck = _run(ibis.memtable(data))

    spark.createDataFrame(data).createOrReplaceTempView("parity_transactions")
    con = ibis.pyspark.connect(spark)
    spark_report, sp = _run(con.table("parity_transactions"))

    # the data exercise every rule
    for entry in duck_report.rules:
        if entry.rule in ("implausible_date", "invalid_numbers"):  # valid data: nothing to remove
            assert entry.enabled, entry.rule
            continue
        assert entry.enabled and entry.rows > 0, entry.rule
    _assert_same(duck_report, duck, spark_report, sp)


def test_synthetic_orders_loaded_on_each_engine_agree(spark):
    """Raw synthetic orders (Online Retail layout) mapped by ``custlens.load`` on each engine."""
    orders = custlens.datasets.synthetic(400, seed=8).orders
    orders["InvoiceDate"] = orders["InvoiceDate"].astype("datetime64[us]")
    duck_src = custlens.load(orders)
    spark.createDataFrame(orders).createOrReplaceTempView("parity_synthetic")
    spark_src = custlens.load(ibis.pyspark.connect(spark).table("parity_synthetic"))
    assert spark_src.mapping == duck_src.mapping and spark_src.rows == duck_src.rows
    duck_report, duck = _run(duck_src.table)
    spark_report, sp = _run(spark_src.table)
    assert duck_report.rows_out > 5000 and len(duck) > 300
    _assert_same(duck_report, duck, spark_report, sp)
