"""Small hand-made baskets shared by the basket tests."""

from __future__ import annotations

import random

import pandas as pd

# 12 orders of 5 customers; products "100A"... (plain letters would be non-product codes: D, B)
_LETTERS = {
    "o01": ("c1", ["A", "B", "C"]),
    "o02": ("c1", ["A", "B"]),
    "o03": ("c2", ["A", "B", "C", "D"]),
    "o04": ("c2", ["B", "C"]),
    "o05": ("c3", ["A", "C"]),
    "o06": ("c3", ["A", "B", "C"]),
    "o07": ("c4", ["D"]),
    "o08": ("c4", ["B", "D"]),
    "o09": ("c5", ["A", "B", "C", "D", "E"]),
    "o10": ("c5", ["E"]),
    "o11": ("c1", ["C", "E"]),
    "o12": ("c2", ["A", "B", "D"]),
}
ORDERS = {o: (c, [f"100{i}" for i in items]) for o, (c, items) in _LETTERS.items()}


def purchase_lines(orders: dict = ORDERS, extra_codes: bool = True) -> pd.DataFrame:
    """Canonical purchase lines; every product line twice in some orders (distinct counts)."""
    rows = []
    ts = pd.Timestamp("2021-03-01 10:00")
    for i, (order, (customer, items)) in enumerate(sorted(orders.items())):
        for item in items:
            rows.append((customer, order, ts + pd.Timedelta(days=i), item, f"name {item}"))
        if i % 3 == 0:
            rows.append((customer, order, ts + pd.Timedelta(days=i), items[0], f"name {items[0]}"))
        if extra_codes and i % 2 == 0:
            rows.append((customer, order, ts + pd.Timedelta(days=i), "POST", "postage"))
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_id", "order_ts", "product_id", "description"]
    )
    frame["quantity"] = 1.0
    frame["unit_price"] = 2.0
    frame["amount"] = 2.0
    frame["order_ts"] = frame["order_ts"].astype("datetime64[us]")
    return frame


def random_orders(n_orders: int = 400, n_items: int = 25, seed: int = 3) -> dict:
    """Random baskets with a few planted associations (for larger hand-count comparisons)."""
    rng = random.Random(seed)
    items = [f"P{i:02d}" for i in range(n_items)]
    weights = [1.0 / (1 + i) for i in range(n_items)]
    out = {}
    for o in range(n_orders):
        size = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8])
        basket = set(rng.choices(items, weights=weights, k=size))
        if "P01" in basket and rng.random() < 0.7:
            basket.add("P05")
        if {"P00", "P02"} <= basket and rng.random() < 0.6:
            basket.add("P07")
        out[f"o{o:04d}"] = (f"c{o % 60:02d}", sorted(basket))
    return out
