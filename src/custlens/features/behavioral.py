"""Behavioural customer features as Ibis expressions: one row per customer, as of a date.

The work runs in the engine in a few passes: purchase lines are aggregated once to orders
(and, when the columns exist, once per customer and product / category for the diversity
features); orders are aggregated once to customers, plus two small order-level passes for the
gaps between order dates and the preferred hour; the pieces are joined on ``customer_id``.
The columns and their definitions are listed in :mod:`custlens.features.catalog`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from custlens._validation import as_date, require_columns
from custlens.config import FeaturesConfig
from custlens.errors import InputError
from custlens.features import temporal
from custlens.features.catalog import FEATURES, RETURNS, FeatureSpec
from custlens.io.sums import exact_entropy, exact_mean, exact_std, exact_sum, with_exact_std_terms

log = logging.getLogger(__name__)

PURCHASE_COLUMNS = ("customer_id", "order_id", "order_ts", "quantity", "unit_price", "amount")
RETURN_COLUMNS = ("customer_id", "order_id", "order_ts", "quantity")
_NUMERIC = ("quantity", "unit_price", "amount")
_VALUE_SD = "_value_sd"  # prefix of the helper columns of the order-value standard deviation


@dataclass(frozen=True)
class FeatureResult:
    """The feature table (one row per customer) and notes on features left out."""

    table: ir.Table
    skipped: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.table.columns)


def behavioral_features(
    purchases: ir.Table,
    returns: ir.Table | None = None,
    *,
    as_of: date | datetime | str,
    config: FeaturesConfig | None = None,
) -> FeatureResult:
    """Behavioural features per customer from purchase lines with ``order_ts < as_of``.

    ``purchases`` is the cleaned canonical purchases table (``customer_id, order_id, order_ts,
    quantity, unit_price, amount`` and optionally ``product_id``, ``category``); ``returns`` the
    matching return lines (``customer_id, order_id, order_ts, quantity``; negative quantities).
    ``as_of`` is a date (a datetime counts as its date). Features whose inputs are missing are
    left out and explained in ``FeatureResult.skipped``. Customers without a purchase before
    ``as_of`` have no row (an empty table when nobody has). Join with ``customer_table`` on
    ``customer_id``.
    """
    config = config or FeaturesConfig()
    as_of = as_date(
        as_of,
        "as_of",
        where="behavioral_features(as_of=...)",
        fix="pass a datetime.date or YYYY-MM-DD text; only lines before that day are used",
    )
    table, skipped = behavioral_table(purchases, returns, ibis.literal(as_of, type="date"), config)
    for note in skipped:
        log.info("feature skipped: %s", note)
    return FeatureResult(table=table, skipped=skipped)


def behavioral_table(
    purchases: ir.Table,
    returns: ir.Table | None,
    as_of: ir.DateValue,
    config: FeaturesConfig,
) -> tuple[ir.Table, list[str]]:
    """``behavioral_features`` with ``as_of`` an Ibis date (a literal, or a placeholder that
    ``custlens.features.query`` replaces): every date the features use is derived from it in
    the engine. Returns the table and the notes on the features left out."""
    _check_columns(purchases, PURCHASE_COLUMNS, "purchases", numeric=_NUMERIC)
    if returns is not None:
        _check_columns(returns, RETURN_COLUMNS, "returns", numeric=("quantity",))

    available = set(purchases.columns) | ({RETURNS} if returns is not None else set())
    wanted, skipped = _plan(available)
    cutoff = as_of.cast("timestamp")
    lines = purchases.filter(purchases.order_ts < cutoff, purchases.customer_id.notnull())

    orders = _orders(lines)
    with_std = with_exact_std_terms(orders, "value", "customer_id", _VALUE_SD)
    customers = with_std.group_by("customer_id").aggregate(
        **_order_aggregates(with_std), **temporal.calendar_aggregates(with_std, as_of)
    )
    parts = [
        temporal.day_and_month_counts(orders),
        temporal.interval_stats(orders),
        temporal.preferred_hour(orders),
    ]
    if "product_id" in available:
        parts.append(_spend_diversity(lines, "product_id", {"product_entropy": "entropy"}))
    if "category" in available:
        parts.append(
            _spend_diversity(
                lines,
                "category",
                {
                    "category_entropy": "entropy",
                    "distinct_categories": "n",
                    "top_category_share": "top",
                },
            )
        )
    if returns is not None:
        parts.append(_returns(returns, cutoff))
    t = customers
    for part in parts:
        t = _left_join(t, part)

    t = t.mutate(**_monetary_basket_columns(t, config))
    t = t.mutate(**temporal.timing_columns(t, as_of))
    t = t.mutate(**temporal.seasonality_columns(t))
    t = t.mutate(lifecycle_stage=temporal.lifecycle_stage(t, config.lifecycle))
    if returns is not None:
        t = t.mutate(
            returned_items_share=t._returned_items.fill_null(0.0) / _f(t.total_items).nullif(0.0),
            return_orders=t.return_orders.fill_null(0),
        )
    return t.select("customer_id", *[s.name for s in wanted]), skipped


def _plan(available: set[str]) -> tuple[list[FeatureSpec], list[str]]:
    """Catalog entries this function produces given the inputs, and notes on the others."""
    wanted, skipped = [], []
    for spec in FEATURES:
        if spec.produced_by != "behavioral_features":
            continue
        missing = [r for r in spec.requires if r not in available]
        if not missing:
            wanted.append(spec)
            continue
        needs = [
            "a returns table (pass returns=...)" if r == RETURNS else f"column {r!r}"
            for r in missing
        ]
        skipped.append(f"{spec.name}: needs {' and '.join(needs)}, which the input lacks")
    return wanted, skipped


def _f(x: ir.Value) -> ir.FloatingValue:
    return x.cast("float64")


def _orders(lines: ir.Table) -> ir.Table:
    """One row per (customer, order): first timestamp and its calendar parts
    (``temporal.calendar_parts``), value, items, lines, price extremes.

    The calendar parts come from the aggregation itself, not from a projection of its result:
    the later parts of the query then read fewer shared tables, which DuckDB stores until the
    query ends (five instead of six; at 9.8M lines the feature query's memory high-water mark
    rose by 1.12 instead of 1.49 GB, see docs/benchmarks.md).
    """
    first = lines.order_ts.min()
    return lines.group_by("customer_id", "order_id").aggregate(
        ts=first,
        **temporal.calendar_parts(first),
        value=exact_sum(lines.amount),
        items=exact_sum(lines.quantity),
        n_lines=lines.count(),
        pmax=lines.unit_price.max(),
        pmin=lines.unit_price.min(),
    )


def _order_aggregates(o: ir.Table) -> dict[str, ir.Value]:
    """Per-customer aggregations over orders for the monetary and basket features (sums, means
    and the standard deviation exact, so the same on every run whatever the engine's threads)."""
    return {
        "_n_orders": o.count(),
        "_value": exact_sum(o.value),
        "max_order_value": o.value.max(),
        "min_order_value": o.value.min(),
        "median_order_value": o.value.median(),
        "order_value_std": exact_std(o, "value", _VALUE_SD),
        "_mean_value": exact_mean(o.value),
        "total_items": exact_sum(o.items),
        "avg_items_per_order": exact_mean(o.items),
        "median_items_per_order": o.items.median(),
        "max_items_per_order": o.items.max(),
        "avg_lines_per_order": o.n_lines.cast("float64").mean(),
        "max_unit_price": o.pmax.max(),
        "min_unit_price": o.pmin.min(),
    }


def _monetary_basket_columns(t: ir.Table, config: FeaturesConfig) -> dict[str, ir.Value]:
    last, prev = t.revenue_last_90d, t.revenue_prev_90d
    both = last + prev
    return {
        "spend_cv": t.order_value_std / t._mean_value.nullif(0.0),
        "avg_unit_price": t._value / t.total_items.cast("float64").nullif(0.0),
        "price_range": t.max_unit_price - t.min_unit_price,
        "revenue_growth_90d": (last - prev) / prev.nullif(0.0),
        "revenue_trend_90d": (both == 0.0).ifelse(0.0, (last - prev) / both.nullif(0.0)),
        "bulk_buyer": (t.median_items_per_order > config.bulk_min_median_items).ifelse(1, 0),
    }


def _spend_diversity(lines: ir.Table, column: str, outputs: dict[str, str]) -> ir.Table:
    """Entropy / count / top share of the spend shares over ``column`` per customer.

    Shannon entropy ``-sum(p_i ln p_i)`` of the shares p_i = s_i / S, summed exactly (the same
    on every run whatever the engine's threads).
    """
    keep = lines.filter(lines[column].notnull(), lines.amount > 0)
    spend = keep.group_by("customer_id", keep[column]).aggregate(s=exact_sum(keep.amount))
    # the customer's total joined back, not a window: DuckDB turns such a window into a join of
    # two copies of ``spend``, each grouping every line again; read twice here, ``spend`` is
    # one shared (materialised) part of the query
    totals = spend.group_by(_cid=spend.customer_id).aggregate(_S=exact_sum(spend.s))
    spend = spend.join(totals, spend.customer_id == totals._cid).select(
        "customer_id", column, "s", "_S"
    )
    agg = spend.group_by("customer_id").aggregate(
        _S=spend._S.max(),
        _H=exact_entropy(spend.s / spend._S),
        _n=spend.count(),
        _top=spend.s.max(),
    )
    exprs = {
        "entropy": ibis.greatest(agg._H, 0.0),
        "n": agg._n,
        "top": agg._top / agg._S,
    }
    return agg.select("customer_id", **{name: exprs[kind] for name, kind in outputs.items()})


def _returns(returns: ir.Table, cutoff: ir.Value) -> ir.Table:
    r = returns.filter(returns.order_ts < cutoff, returns.customer_id.notnull())
    return r.group_by("customer_id").aggregate(
        _returned_items=exact_sum(r.quantity.abs()), return_orders=r.order_id.nunique()
    )


def _left_join(left: ir.Table, right: ir.Table) -> ir.Table:
    joined = left.left_join(right, left.customer_id == right.customer_id)
    return joined.select(*left.columns, *[c for c in right.columns if c != "customer_id"])


def _check_columns(
    table: ir.Table, required: tuple[str, ...], name: str, *, numeric: tuple[str, ...]
) -> None:
    require_columns(
        table,
        required,
        what=f"the {name}",
        fix="load it with custlens.io.load (which maps source columns to canonical names) "
        "or rename the columns",
    )
    schema = table.schema()
    if not schema["order_ts"].is_timestamp():
        raise InputError(
            f"Column order_ts of the {name} table has type {schema['order_ts']}, not timestamp",
            where=f"{name}.order_ts",
            fix="parse it as a timestamp (custlens.io.load does this)",
        )
    bad = [c for c in numeric if not schema[c].is_numeric()]
    if bad:
        raise InputError(
            f"Column(s) {bad} of the {name} table are not numeric "
            f"({[str(schema[c]) for c in bad]})",
            where=f"{name} table",
            fix="cast them to numbers (custlens.io.load does this)",
        )
