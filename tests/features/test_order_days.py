"""The lines summed per order, customer, day and country equal plain pandas sums of the lines,
and one purchases table is summed and stored once."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from custlens.features.order_days import order_day_rows, order_days


def _lines() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 2000
    orders = rng.integers(0, 600, n)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(orders % 200, unit="D")
    late = rng.random(n) < 0.15  # some orders run into later days
    ts = start + pd.to_timedelta(np.where(late, rng.integers(1, 5, n), 0), unit="D")
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{o % 150}" for o in orders],
            "order_id": [f"o{o}" for o in orders],
            "order_ts": (ts + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")).astype(
                "datetime64[us]"
            ),
            "amount": np.round(rng.lognormal(2.0, 1.0, n), 2),
            "country": [("UK", "FR")[int(k)] for k in rng.random(n) < 0.1],
        }
    )
    frame.loc[rng.random(n) < 0.02, "order_id"] = None
    frame.loc[rng.random(n) < 0.02, "customer_id"] = None
    return frame


def test_rows_are_the_pandas_sums_per_order_customer_day_and_country():
    frame = _lines()
    got = order_days(ibis.memtable(frame)).to_pandas()
    got["revenue"] = got["_exact"].astype("float64") + got["_rest"].fillna(0.0)
    lines = frame.assign(day=frame["order_ts"].dt.date)
    keys = ["order_id", "customer_id", "day", "country"]
    want = (
        lines.groupby(keys, dropna=False)
        .agg(
            first_ts=("order_ts", "min"),
            last_ts=("order_ts", "max"),
            lines=("amount", "size"),
            revenue=("amount", "sum"),
        )
        .reset_index()
    )

    def keyed(table: pd.DataFrame) -> pd.DataFrame:
        text = {k: table[k].astype("string").fillna("(none)") for k in keys}
        return table.assign(**text).sort_values(keys).reset_index(drop=True)

    got, want = keyed(got), keyed(want)
    assert len(got) == len(want)
    assert got[keys].equals(want[keys])
    assert (got["first_ts"].to_numpy() == want["first_ts"].to_numpy()).all()
    assert (got["last_ts"].to_numpy() == want["last_ts"].to_numpy()).all()
    assert (got["lines"].to_numpy() == want["lines"].to_numpy()).all()
    assert np.allclose(got["revenue"], want["revenue"], rtol=1e-12)


def test_one_purchases_table_is_stored_once():
    table = ibis.memtable(_lines().drop(columns="country"))
    first = order_days(table)
    assert order_days(table) is first
    assert "country" not in first.columns
    assert first.count().to_pyarrow().as_py() == order_day_rows(table).count().to_pyarrow().as_py()
