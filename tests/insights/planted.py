"""Order logs with known effects (or none) for the insight engine's honesty tests.

``orders(seed)`` is stationary: a fixed population of customers, each buying at a constant
personal rate over the whole span, categories and countries in constant proportions, order
values from one log-normal. Planted effects (all off by default):

- ``decline``: lines of this category are kept with a probability falling linearly from 1 at
  the start to ``0.25`` at the end (a steady decline of its sales);
- ``spike``: in this month (``"YYYY-MM"``) every customer buys at twice their rate;
- ``shrink``: in the last ``90`` days before ``end`` most of the highest-rate customers stop
  buying (Champions shrink between the two migration dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = ("Garden", "Kitchen", "Toys", "Lighting", "Paper", "Textiles")
COUNTRIES = ("UK", "France", "Germany", "Spain")
START, END = "2022-01-01", "2023-12-31"  # END inclusive; as_of = 2024-01-01


def orders(
    seed: int,
    *,
    customers: int = 500,
    decline: str | None = None,
    spike: str | None = None,
    shrink: bool = False,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp(START), pd.Timestamp(END)
    days = (end - start).days + 1
    rate = rng.gamma(2.0, 1 / 60.0, customers)  # orders per day, mean 1/30
    country = rng.choice(len(COUNTRIES), customers, p=[0.6, 0.15, 0.15, 0.1])
    rows = []
    day_index = np.arange(days)
    dates = start + pd.to_timedelta(day_index, unit="D")
    boost = np.ones(days)
    if spike is not None:
        boost[(dates.strftime("%Y-%m") == spike)] = 2.0
    stop_day = days
    if shrink:
        stop_day = days - 90
        top = rate >= np.quantile(rate, 0.8)
        stoppers = top & (rng.random(customers) < 0.8)
    else:
        stoppers = np.zeros(customers, dtype=bool)
    for c in range(customers):
        n_day = rng.poisson(rate[c] * boost)
        if stoppers[c]:
            n_day[stop_day:] = 0
        for d in np.flatnonzero(n_day):
            for _ in range(n_day[d]):
                rows.append((c, d))
    frame = pd.DataFrame(rows, columns=["c", "d"])
    n_orders = len(frame)
    frame["order_id"] = [f"o{seed}-{i}" for i in range(n_orders)]
    lines = rng.integers(1, 4, n_orders)
    frame = frame.loc[frame.index.repeat(lines)].reset_index(drop=True)
    frame["category"] = np.asarray(CATEGORIES)[
        rng.choice(len(CATEGORIES), len(frame), p=[0.25, 0.2, 0.2, 0.15, 0.1, 0.1])
    ]
    frame["amount"] = np.round(np.exp(rng.normal(3.0, 0.8, len(frame))), 2)
    if decline is not None:
        keep_p = 1 - 0.75 * frame["d"].to_numpy() / (days - 1)
        drop = (frame["category"] == decline).to_numpy() & (rng.random(len(frame)) > keep_p)
        frame = frame[~drop]
    minutes = rng.integers(8 * 60, 18 * 60, len(frame))
    frame["order_ts"] = (
        start
        + pd.to_timedelta(frame["d"].to_numpy(), unit="D")
        + pd.to_timedelta(minutes, unit="m")
    )
    # one timestamp per order (the first line's)
    frame["order_ts"] = frame.groupby("order_id")["order_ts"].transform("min")
    frame["customer_id"] = [f"c{c:05d}" for c in frame["c"]]
    frame["country"] = np.asarray(COUNTRIES)[country[frame["c"].to_numpy()]]
    frame["quantity"] = 1.0
    frame["unit_price"] = frame["amount"]
    frame["product_id"] = frame["category"].str[:3] + "-1"
    cols = ["customer_id", "order_id", "order_ts", "product_id", "category", "quantity"]
    return frame[[*cols, "unit_price", "amount", "country"]].reset_index(drop=True)
