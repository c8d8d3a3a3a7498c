"""The feature catalog: every per-customer feature custlens computes, in plain words.

``docs/features.md`` is generated from :data:`FEATURES`::

    python -m custlens.features.catalog > docs/features.md

A test checks that the committed file equals the generated text and that every entry here is a
column of ``customer_table`` (family ``rfm``) or ``behavioral_features`` (all other families).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

Family = Literal["rfm", "monetary", "basket", "timing", "seasonality", "lifecycle"]
FAMILIES: tuple[Family, ...] = ("rfm", "monetary", "basket", "timing", "seasonality", "lifecycle")

RETURNS = "returns"  # pseudo-column in ``requires``: the returns table must be given


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its column name, family, definition, unit and optional inputs it needs."""

    name: str
    family: Family
    definition: str
    unit: str
    requires: tuple[str, ...] = ()  # optional canonical columns (or "returns") it needs

    @property
    def produced_by(self) -> str:
        """The function whose output table has this column."""
        return "customer_table" if self.family == "rfm" else "behavioral_features"


_F = FeatureSpec
MONTHS = (  # English names, whatever the locale
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # not calendar.month_name: locale-dependent

_RFM = [
    _F(
        "first_order",
        "rfm",
        "Timestamp of the customer's first purchase line before as_of.",
        "timestamp",
    ),
    _F(
        "last_order",
        "rfm",
        "Timestamp of the customer's last purchase line before as_of.",
        "timestamp",
    ),
    _F("tenure_days", "rfm", "Days from the first order date to as_of.", "days"),
    _F(
        "recency_days",
        "rfm",
        "Days from the last order date to as_of (1 for a purchase the day before as_of).",
        "days",
    ),
    _F("frequency", "rfm", "Number of distinct orders.", "orders"),
    _F("monetary", "rfm", "Total purchase value (sum of line amounts).", "currency"),
    _F("avg_order_value", "rfm", "Mean order value: monetary / frequency.", "currency"),
    _F(
        "distinct_products",
        "rfm",
        "Number of distinct products bought; null when the source has no product_id.",
        "products",
        ("product_id",),
    ),
    _F(
        "return_rate",
        "rfm",
        "Returned value (absolute amounts of return lines before as_of) / purchase value; 0 "
        "without returns; can exceed 1 for returns of goods bought before the data start.",
        "ratio",
    ),
]

_MONETARY = [
    _F("max_order_value", "monetary", "Largest order value.", "currency"),
    _F("min_order_value", "monetary", "Smallest order value.", "currency"),
    _F("median_order_value", "monetary", "Median order value.", "currency"),
    _F(
        "order_value_std",
        "monetary",
        "Sample standard deviation of order values; null with fewer than 2 orders.",
        "currency",
    ),
    _F(
        "spend_cv",
        "monetary",
        "Spend volatility: coefficient of variation of order values (order_value_std / mean "
        "order value); null with fewer than 2 orders.",
        "ratio",
    ),
    _F(
        "avg_unit_price",
        "monetary",
        "Quantity-weighted mean unit price: total value / total items.",
        "currency per item",
    ),
    _F("max_unit_price", "monetary", "Highest unit price on any purchase line.", "currency"),
    _F("min_unit_price", "monetary", "Lowest unit price on any purchase line.", "currency"),
    _F("price_range", "monetary", "max_unit_price - min_unit_price.", "currency"),
    _F(
        "revenue_last_90d",
        "monetary",
        "Purchase value of orders dated in the 90 days before as_of (as_of - 90 <= date < as_of).",
        "currency",
    ),
    _F(
        "revenue_prev_90d",
        "monetary",
        "Purchase value of orders dated in the 90 days before those "
        "(as_of - 180 <= date < as_of - 90).",
        "currency",
    ),
    _F(
        "revenue_growth_90d",
        "monetary",
        "(revenue_last_90d - revenue_prev_90d) / revenue_prev_90d; null when revenue_prev_90d is "
        "0 (growth from nothing is undefined; use revenue_trend_90d).",
        "ratio",
    ),
    _F(
        "revenue_trend_90d",
        "monetary",
        "Bounded growth: (revenue_last_90d - revenue_prev_90d) / (revenue_last_90d + "
        "revenue_prev_90d), from -1 (stopped) to +1 (started); 0 when both are 0.",
        "ratio",
    ),
]

_BASKET = [
    _F("total_items", "basket", "Total quantity bought.", "items"),
    _F("avg_items_per_order", "basket", "Mean quantity per order.", "items"),
    _F("median_items_per_order", "basket", "Median quantity per order.", "items"),
    _F("max_items_per_order", "basket", "Largest quantity in one order.", "items"),
    _F("avg_lines_per_order", "basket", "Mean number of purchase lines per order.", "lines"),
    _F(
        "bulk_buyer",
        "basket",
        "1 when median_items_per_order is above `features.bulk_min_median_items` "
        "(default 100), else 0.",
        "flag",
    ),
    _F(
        "product_entropy",
        "basket",
        "Product diversity: Shannon entropy -sum(p ln p) of the shares p of spend per product "
        "(lines with a product and a positive amount); 0 for a single product.",
        "nats",
        ("product_id",),
    ),
    _F(
        "distinct_categories",
        "basket",
        "Number of distinct categories bought.",
        "categories",
        ("category",),
    ),
    _F(
        "category_entropy",
        "basket",
        "Category diversity: Shannon entropy -sum(p ln p) of the shares p of spend per category; "
        "0 for a single category.",
        "nats",
        ("category",),
    ),
    _F(
        "top_category_share",
        "basket",
        "Share of spend in the customer's largest category.",
        "ratio",
        ("category",),
    ),
    _F(
        "returned_items_share",
        "basket",
        "Returned quantity (absolute quantity of return lines before as_of) / total_items; can "
        "exceed 1 for returns of goods bought before the data start.",
        "ratio",
        (RETURNS,),
    ),
    _F(
        "return_orders",
        "basket",
        "Number of distinct return orders (order_id of return lines) before as_of.",
        "orders",
        (RETURNS,),
    ),
]

_TIMING = [
    _F("distinct_order_days", "timing", "Number of distinct order dates.", "days"),
    _F(
        "interval_mean_days",
        "timing",
        "Mean days between consecutive distinct order dates = (last date - first date) / "
        "(distinct dates - 1); null with one order date.",
        "days",
    ),
    _F(
        "interval_std_days",
        "timing",
        "Sample standard deviation of the days between consecutive distinct order dates; null "
        "with fewer than 3 order dates.",
        "days",
    ),
    _F(
        "interval_max_days",
        "timing",
        "Longest gap between consecutive distinct order dates; null with one order date.",
        "days",
    ),
    _F(
        "interval_cv",
        "timing",
        "interval_std_days / interval_mean_days; null with fewer than 3 order dates.",
        "ratio",
    ),
    _F(
        "purchase_consistency",
        "timing",
        "1 / (1 + interval_cv): 1 for perfectly regular buying, towards 0 for erratic buying; "
        "null with fewer than 3 order dates.",
        "score 0-1",
    ),
    _F(
        "days_overdue",
        "timing",
        "Days since the last order date minus interval_mean_days (positive: later than the "
        "customer's own cadence); null with one order date.",
        "days",
    ),
    _F("orders_last_90d", "timing", "Orders dated in the 90 days before as_of.", "orders"),
    _F("active_months", "timing", "Number of distinct calendar months with an order.", "months"),
    _F(
        "tenure_months",
        "timing",
        "Calendar months from the first order's month to the month of the day before as_of, "
        "inclusive.",
        "months",
    ),
    _F("active_month_ratio", "timing", "active_months / tenure_months.", "ratio"),
    _F("orders_per_active_month", "timing", "Orders / active_months.", "orders per month"),
]

_SEASONALITY = [
    *[
        _F(
            f"q{q}_share",
            "seasonality",
            f"Share of the customer's orders placed in quarter {q}.",
            "ratio",
        )
        for q in range(1, 5)
    ],
    *[
        _F(
            f"month_{m:02d}_share",
            "seasonality",
            f"Share of the customer's orders placed in {MONTHS[m - 1]}.",
            "ratio",
        )
        for m in range(1, 13)
    ],
    _F(
        "quarter_share_std",
        "seasonality",
        "Seasonality strength: population standard deviation of the four quarter shares.",
        "ratio",
    ),
    _F("quarter_imbalance", "seasonality", "Largest minus smallest quarter share.", "ratio"),
    _F(
        "quarter_entropy",
        "seasonality",
        "Normalised entropy of the quarter shares, -sum(s ln s) / ln 4: 1 = evenly spread, "
        "0 = one quarter only.",
        "score 0-1",
    ),
    _F(
        "preferred_quarter",
        "seasonality",
        "Quarter with the most orders (1-4); ties go to the earliest quarter.",
        "quarter",
    ),
    _F(
        "preferred_hour",
        "seasonality",
        "Hour of day (0-23) with the most orders; ties go to the earliest hour.",
        "hour",
    ),
    _F(
        "preferred_weekday",
        "seasonality",
        "Weekday with the most orders (0 = Monday ... 6 = Sunday); ties go to the earliest.",
        "weekday",
    ),
    _F("weekend_share", "seasonality", "Share of orders placed on Saturday or Sunday.", "ratio"),
]

_LIFECYCLE = [
    _F(
        "lifecycle_stage",
        "lifecycle",
        "First matching rule (thresholds in `features.lifecycle`): `new` if days from the first "
        "order date to as_of < 90; `lapsed` if days since the last order date > max(180, 3 x "
        "interval_mean_days); `at_risk` if days since the last order date > 1.5 x "
        "interval_mean_days (> 90 days for one-date customers) or revenue_trend_90d < -0.5; "
        "`growing` if tenure < 365 days or revenue_trend_90d >= 0.5; else `mature`.",
        "category",
    ),
]

FEATURES: list[FeatureSpec] = [*_RFM, *_MONETARY, *_BASKET, *_TIMING, *_SEASONALITY, *_LIFECYCLE]

LIFECYCLE_STAGES = ("new", "growing", "mature", "at_risk", "lapsed")


def feature(name: str) -> FeatureSpec:
    """The catalog entry called ``name`` (KeyError if there is none)."""
    for spec in FEATURES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def render_markdown() -> str:
    """The text of ``docs/features.md``."""
    out = [
        "# Customer features",
        "",
        "*Generated from `src/custlens/features/catalog.py`; do not edit by hand. Regenerate "
        "with `python -m custlens.features.catalog > docs/features.md`.*",
        "",
        "One row per customer, computed **as of** a date: only purchase and return lines with "
        "`order_ts < as_of` are used. Family `rfm` comes from "
        "`custlens.features.rfm.customer_table`; every other family from "
        "`custlens.features.behavioral.behavioral_features`. Both are keyed by `customer_id`.",
        "",
        "`behavioral_features` leaves out a feature whose *requires* column is absent from the "
        "purchases (or, for `returns`, when no returns table is given) and lists it in the "
        "result's `skipped` notes; it never fills it with made-up values. `customer_table` "
        "keeps `distinct_products` as null when there is no `product_id`.",
        "",
        f"{len(FEATURES)} features.",
    ]
    for family in FAMILIES:
        specs = [s for s in FEATURES if s.family == family]
        out += ["", f"## {family} ({len(specs)})", ""]
        out += ["| feature | definition | unit | requires |", "|---|---|---|---|"]
        for s in specs:
            req = ", ".join(f"`{r}`" for r in s.requires) or "-"
            out.append(f"| `{s.name}` | {s.definition} | {s.unit} | {req} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
