"""The canonical transaction schema every stage after ``io.load`` relies on."""

from __future__ import annotations

import ibis.expr.datatypes as dt

# canonical name -> ibis type. Only customer_id, order_ts and one money column are required.
CANONICAL_TYPES: dict[str, dt.DataType] = {
    "customer_id": dt.string,
    "order_id": dt.string,
    "order_ts": dt.timestamp,
    "product_id": dt.string,
    "description": dt.string,
    "category": dt.string,
    "quantity": dt.float64,
    "unit_price": dt.float64,
    "amount": dt.float64,
    "country": dt.string,
    "channel": dt.string,
    "discount": dt.float64,
    "campaign": dt.string,
}
CANONICAL_COLUMNS = tuple(CANONICAL_TYPES)
REQUIRED_COLUMNS = ("customer_id", "order_ts")
MONEY_COLUMNS = ("amount", "unit_price")  # amount, or unit_price (with quantity, default 1)
# After load the table always has these (derived when the source lacks them):
ALWAYS_PRESENT = ("customer_id", "order_id", "order_ts", "quantity", "unit_price", "amount")
