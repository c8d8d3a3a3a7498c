"""The daily and monthly totals read from the stored per-order parts equal plain pandas sums of
the lines (and the totals read from the lines)."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.insights.series import (
    daily_totals,
    monthly_by,
    shared_order_parts,
    stored_order_parts,
)

# the parts stored for the insights, and the rows per order and day shared with other analyses
PARTS = pytest.mark.parametrize("parts_of", [stored_order_parts, shared_order_parts])

AS_OF = date(2023, 12, 1)


def _lines() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 3000
    orders = rng.integers(0, 900, n)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(orders % 360, unit="D")
    late = rng.random(n) < 0.1  # some orders run into a later day or month
    ts = start + pd.to_timedelta(np.where(late, rng.integers(1, 35, n), 0), unit="D")
    return pd.DataFrame(
        {
            "customer_id": [f"c{o % 200}" for o in orders],
            "order_id": [f"o{o}" for o in orders],
            "order_ts": (ts + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")).astype(
                "datetime64[us]"
            ),
            "amount": np.round(rng.lognormal(2.0, 1.0, n), 2),
            "country": [("UK", "FR", "DE")[o % 3] for o in orders],
        }
    )


@PARTS
def test_daily_totals_from_parts_are_the_pandas_sums(parts_of):
    frame = _lines()
    table = ibis.memtable(frame)
    parts = parts_of(table, AS_OF, ("country",))
    got = daily_totals(table, AS_OF, parts)
    before = frame[frame["order_ts"] < pd.Timestamp(AS_OF)]
    per_order = before.groupby("order_id").agg(day=("order_ts", "min"), revenue=("amount", "sum"))
    per_order["day"] = per_order["day"].dt.normalize()
    want = per_order.groupby("day").agg(orders=("revenue", "size"), revenue=("revenue", "sum"))
    got = got.set_index("day")
    assert (got.loc[want.index, "orders"] == want["orders"]).all()
    assert np.allclose(got.loc[want.index, "revenue"], want["revenue"], rtol=1e-12)
    assert (got.drop(want.index)["orders"] == 0).all()  # days without orders
    pd.testing.assert_frame_equal(daily_totals(table, AS_OF).set_index("day"), got)


@PARTS
def test_monthly_country_totals_from_parts_are_the_pandas_sums(parts_of):
    frame = _lines()
    table = ibis.memtable(frame)
    parts = parts_of(table, AS_OF, ("country",))
    got = monthly_by(table, AS_OF, "country", parts=parts)
    before = frame[frame["order_ts"] < pd.Timestamp(AS_OF)].copy()
    before["month"] = before["order_ts"].dt.to_period("M").dt.to_timestamp()
    want = before.groupby(["month", "country", "order_id"])["amount"].sum().reset_index()
    want = want.groupby(["month", "country"]).agg(
        orders=("amount", "size"), revenue=("amount", "sum")
    )
    got = got.set_index(["month", "key"])
    # months from the first complete one (the data start on January 1st)
    assert (got.loc[want.index, "orders"].to_numpy() == want["orders"].to_numpy()).all()
    assert np.allclose(got.loc[want.index, "revenue"], want["revenue"], rtol=1e-12)
    from_lines = monthly_by(table, AS_OF, "country").set_index(["month", "key"])
    pd.testing.assert_frame_equal(from_lines, got)


@PARTS
def test_first_day_from_parts_is_the_first_purchase(parts_of):
    from custlens.insights.series import first_day

    frame = _lines()
    table = ibis.memtable(frame)
    first = frame["order_ts"].min().date()
    assert first_day(table, parts_of(table, AS_OF)) == first
    # no line before as_of: no parts, the lines are read
    assert first_day(table, parts_of(table, date(2022, 1, 1))) == first
