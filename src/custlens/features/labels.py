"""Customer features in words: how a feature's value reads in a sentence (anomaly reasons).

:data:`FEATURE_LABELS` is data, one entry per feature: a phrase with a ``{value}`` slot, whether
the value is a share (shown as a percentage) and the *group* of features that measure the same
fact (a customer's reasons name one feature per group: returning 100 % of the items and 100 % of
the value bought is one fact). It covers the default anomaly features
(:data:`custlens.config.analyses.DEFAULT_ANOMALY_FEATURES`, which include the two pre-cleaning
order signals of :func:`custlens.anomalies.orders.customer_order_signals`) and other catalogue
features; a feature without an entry reads as its name in words, a catalogue ratio called
``*_share`` as a percentage.

A return (or cancellation) share can exceed 100 %: the returns before the as-of date include
goods bought before the data start (see ``docs/features.md``). The value is kept as it is (a
capped share would hide it) and its phrase then says so: ``"returned 155% of items: more than
bought in the data (typical 0%)"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from custlens.features.catalog import FEATURES, MONTHS
from custlens.features.formatting import format_number

__all__ = [
    "FEATURE_LABELS",
    "FeatureLabel",
    "compared_text",
    "format_share",
    "label",
    "reason_text",
]

MORE_THAN_BOUGHT = ": more than bought in the data"


@dataclass(frozen=True)
class FeatureLabel:
    """How one feature reads: ``text`` with a ``{value}`` slot, e.g. ``"returned {value} of
    items"``; ``share``: the value is a share shown as a percentage; ``group``: features of one
    group say one fact (at most one of them per reason list); ``above_full``: added after the
    phrase when a share exceeds 1."""

    text: str
    share: bool = False
    group: str | None = None
    above_full: str = ""
    one: str = ""  # the text when the value reads "1" ("1 order", not "1 orders")
    negative: str = ""  # the text for a value below 0, with its absolute value in {value}


_RETURNS = "returns"  # returns and cancellations: custlens keeps negative lines as returns
_QUANTITY = "quantity in an order"
_ORDER_VALUE = "order value"

FEATURE_LABELS: dict[str, FeatureLabel] = {
    "recency_days": FeatureLabel("last order {value} days ago", one="last order 1 day ago"),
    "tenure_days": FeatureLabel("first order {value} days ago", one="first order 1 day ago"),
    "frequency": FeatureLabel("{value} orders", one="1 order"),
    "monetary": FeatureLabel("spent {value}"),
    "avg_order_value": FeatureLabel("average order worth {value}", group=_ORDER_VALUE),
    "median_order_value": FeatureLabel("median order worth {value}", group=_ORDER_VALUE),
    "max_order_value": FeatureLabel("largest order worth {value}", group=_ORDER_VALUE),
    "min_order_value": FeatureLabel("smallest order worth {value}", group=_ORDER_VALUE),
    "distinct_products": FeatureLabel("{value} different products", one="1 product"),
    "total_items": FeatureLabel("bought {value} items", one="bought 1 item"),
    "avg_items_per_order": FeatureLabel(
        "{value} items per order on average", group=_QUANTITY, one="1 item per order on average"
    ),
    "median_items_per_order": FeatureLabel("median of {value} items per order", group=_QUANTITY),
    "max_items_per_order": FeatureLabel("up to {value} items in an order", group=_QUANTITY),
    "max_line_units": FeatureLabel("up to {value} units of one product on a line", group=_QUANTITY),
    "avg_unit_price": FeatureLabel("paid {value} per item on average"),
    "max_unit_price": FeatureLabel("paid up to {value} for one item"),
    "min_unit_price": FeatureLabel("paid as little as {value} for one item"),
    "return_rate": FeatureLabel(
        "returned {value} of the value bought",
        share=True,
        group=_RETURNS,
        above_full=MORE_THAN_BOUGHT,
    ),
    "returned_items_share": FeatureLabel(
        "returned {value} of items", share=True, group=_RETURNS, above_full=MORE_THAN_BOUGHT
    ),
    "return_orders": FeatureLabel("{value} return orders", group=_RETURNS, one="1 return order"),
    "cancelled_units_share": FeatureLabel(
        "cancelled or returned {value} of units",
        share=True,
        group=_RETURNS,
        above_full=MORE_THAN_BOUGHT,
    ),
    "orders_per_active_month": FeatureLabel(
        "{value} orders per active month", one="1 order per active month"
    ),
    "orders_last_90d": FeatureLabel(
        "{value} orders in the last 90 days", one="1 order in the last 90 days"
    ),
    "revenue_last_90d": FeatureLabel("spent {value} in the last 90 days"),
    "active_months": FeatureLabel("ordered in {value} different months", one="ordered in 1 month"),
    "interval_mean_days": FeatureLabel(
        "{value} days between orders on average", one="1 day between orders on average"
    ),
    "weekend_share": FeatureLabel("placed {value} of orders at weekends", share=True),
    "active_month_ratio": FeatureLabel(
        "ordered in {value} of the months since the first order", share=True
    ),
    "spend_cv": FeatureLabel("order values vary by {value} of their average", share=True),
    "days_overdue": FeatureLabel(
        "{value} days later than the usual gap between orders",
        one="1 day later than the usual gap between orders",
        negative="{value} days before the usual gap between orders is over",
    ),
    **{
        f"q{q}_share": FeatureLabel(f"placed {{value}} of orders in Q{q}", share=True)
        for q in range(1, 5)
    },
    **{
        f"month_{m:02d}_share": FeatureLabel(
            f"placed {{value}} of orders in {MONTHS[m - 1]}", share=True
        )
        for m in range(1, 13)
    },
}

_UNITS = {spec.name: spec.unit for spec in FEATURES}


def label(name: str) -> FeatureLabel:
    """The label of feature ``name``; without an entry: its name in words (``"spend cv
    {value}"``), a shared percentage for a catalogue ratio called ``*_share``."""
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    share = _UNITS.get(name) == "ratio" and name.endswith("_share")
    return FeatureLabel(name.replace("_", " ") + " {value}", share=share)


def format_share(x: float | None) -> str:
    """A share as a whole percentage (``0.5`` -> ``"50%"``, ``1.55`` -> ``"155%"``); below 1 %
    but not 0, one significant digit (``"0.4%"``); a missing value reads ``"missing"``."""
    if x is None or math.isnan(x):
        return "missing"
    pct = 100.0 * x
    if 0 < abs(pct) < 1:
        return f"{pct:.1g}%"
    return f"{pct:,.0f}%"


def reason_text(name: str, value: float, typical: float) -> str:
    """One reason in words: the feature's phrase with the customer's value, then the typical
    (median) value, e.g. ``"up to 8 items in an order (typical 1)"``."""
    return compared_text(name, value, typical, "typical")


def compared_text(name: str, value: float, other: float, other_words: str) -> str:
    """The feature's phrase with ``value``, then ``other`` named by ``other_words``, e.g.
    ``"270 items per order on average (all customers 180)"``."""
    spec = label(name)
    fmt = format_share if spec.share else format_number
    return f"{value_text(name, value)} ({other_words} {fmt(other)})"


def value_text(name: str, value: float) -> str:
    """The feature's phrase with ``value``, e.g. ``"returned 50% of items"``, ``"1 order"``."""
    spec = label(name)
    fmt = format_share if spec.share else format_number
    if spec.negative and value < 0:
        return spec.negative.format(value=fmt(-value))
    shown = fmt(value)
    phrase = spec.one if spec.one and shown == "1" else spec.text.format(value=shown)
    if spec.share and spec.above_full and round(100.0 * value) > 100:  # reads above 100%
        phrase += spec.above_full
    return phrase
