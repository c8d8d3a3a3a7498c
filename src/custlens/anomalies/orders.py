"""Order-level anomalies, computed in the engine on canonical transactions (Ibis).

* :func:`extreme_orders`: orders whose total value is beyond a robust threshold. The default rule
  (``log_mad``) flags orders with ``ln(value) > median + k * 1.4826 * MAD`` of ``ln(value)`` over
  all purchase orders of known customers; ``quantile`` flags orders above a high quantile of the order values.
* :func:`cancellation_pairs`: a purchase line and a later cancellation line (order id starting with
  the cancellation prefix, or a negative quantity) of the same customer and product with exactly
  the opposite quantity, within ``pair_window_days`` days (e.g. Online Retail 581483 / C581484,
  80,995 units).

Pass the canonical transactions from ``io.load`` (before cleaning: cleaning removes offsetting
pairs, so their purchase would no longer be visible). Only the listed rows (at most
``max_listed``, largest value first) are materialised, as pandas DataFrames.

Lines without a customer id (null or blank, cleaning's rule 1) are nobody's orders and take no
part (as in :func:`cancellation_pairs`). Some of cleaning's other rules apply to the order values
too, since no value can be computed or compared otherwise: an order with a line whose quantity,
price or amount is missing, NaN, infinite or beyond 1e15 in size (cleaning's rule 10,
``invalid_numbers``) has no known value, and an order whose value is 0 at the 6 decimals money is
summed at (lines of less than 0.0000005 each) has none on a log scale; both are left out of the
rule, with a note saying how many.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from custlens._validation import require_columns
from custlens.config import AnomalyConfig
from custlens.errors import DataError
from custlens.io.clean import invalid_numbers
from custlens.io.materialize import materialize
from custlens.io.strings import strip
from custlens.io.sums import exact_sum

_MAD_TO_SIGMA = 1.4826

EXTREME_COLUMNS = [
    "order_id",
    "customer_id",
    "order_ts",
    "value",
    "n_lines",
    "units",
    "times_median",
]


@dataclass(frozen=True)
class ExtremeOrders:
    """Orders beyond the threshold (largest first, at most ``max_listed``) and the rule's numbers."""

    orders: pd.DataFrame
    threshold: float  # order value above which an order is extreme
    median_value: float  # median purchase-order value
    n_orders: int  # purchase orders considered (those with a known, positive value)
    n_extreme: int  # orders beyond the threshold (may exceed len(orders))
    rule: str  # the rule in words
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CancellationPairs:
    """Purchase/cancellation line pairs (largest value first, at most ``max_listed``);
    ``cancelled_value``: for each order asked about, the value of its purchase lines that were
    cancelled later (orders without such a line are absent)."""

    pairs: pd.DataFrame
    n_pairs: int  # pairs found (may exceed len(pairs))
    window_days: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    cancelled_value: Mapping[str, float] = field(default_factory=dict)


def _rows(column: ir.Column) -> ir.IntegerColumn:
    """The number of rows of ``column``'s table on every row (a window; null values count)."""
    return column.isnull().count().over(ibis.window())


def _require(table: ir.Table, columns: tuple[str, ...], stage: str) -> None:
    if not isinstance(table, ir.Table):
        raise DataError(
            f"{stage} expects an Ibis table of canonical transactions, got {type(table).__name__}",
            where=stage,
            fix="pass Source.table from custlens.io.load (or ibis.memtable(dataframe))",
        )
    require_columns(table, columns, what=f"the transactions given to {stage}")


def _is_cancelled(t: ir.Table, prefix: str) -> ir.BooleanValue:
    return t.order_id.startswith(prefix).fill_null(False) if prefix else ibis.literal(False)


def _known_customer(t: ir.Table) -> ir.BooleanValue:
    """A customer id that is neither null nor blank (cleaning's rule 1, ``missing_customer``)."""
    cid = t.customer_id
    return (cid.notnull() & (strip(cid) != "")).fill_null(False)


def _bought(t: ir.Table) -> ir.BooleanValue:
    return (t.quantity > 0) & (t.amount > 0)


def _purchase_lines(t: ir.Table, prefix: str) -> ir.Table:
    return t.filter(_bought(t), ~_is_cancelled(t, prefix))


def _order_values(t: ir.Table, prefix: str) -> ir.Table:
    """One row per order with a purchase line or a line with invalid numbers: its id, value (the
    purchase lines' sum) and ``invalid`` (a line of it has invalid numbers); all the threshold
    needs. Every line of a not-cancelled order is read, so that an order with an invalid
    line that is not a purchase line (NaN, missing or negative quantity) is known too."""
    lines = t.filter(~_is_cancelled(t, prefix))
    orders = lines.group_by("order_id").aggregate(
        value=exact_sum(lines.amount, where=_bought(lines).fill_null(False)),
        invalid=invalid_numbers(lines).any(),
    )
    return orders.filter(orders.value.notnull() | orders.invalid)


def _order_details(lines: ir.Table, ids: ir.Table) -> ir.Table:
    """Customer, time, lines and units of the orders in ``ids`` (only those lines are read)."""
    lines = lines.semi_join(ids, lines.order_id == ids.order_id)
    return lines.group_by("order_id").aggregate(
        customer_id=lines.customer_id.min(),
        order_ts=lines.order_ts.min(),
        n_lines=lines.count(),
        units=exact_sum(lines.quantity),
    )


def extreme_orders(transactions: ir.Table, config: AnomalyConfig | None = None) -> ExtremeOrders:
    """Orders whose total value is beyond the robust threshold of ``config.order_value_rule``.

    Purchase orders are built from lines of known customers (id not null or blank) with positive
    quantity and amount whose order id does not carry the cancellation prefix; ``value`` is the sum of their amounts, ``n_lines`` the number of
    lines, ``units`` the total quantity and ``times_median`` the value over the median order value.
    Orders with a line whose numbers are invalid (missing, NaN, infinite or beyond 1e15, as in
    cleaning) and orders whose value is 0 at 6 decimals are left out of the rule (``notes`` says
    how many); the statistics, the count and the listing read the other orders only.
    """
    config = config or AnomalyConfig()
    _require(
        transactions,
        ("order_id", "customer_id", "order_ts", "quantity", "amount"),
        "extreme_orders",
    )
    # the order values, computed once: the statistics, the count and the listing read them;
    # the other columns are added for the listed orders only
    # the orders of known customers (as cleaning's rule 1 and the cancellation pairs)
    owned = transactions.filter(_known_customer(transactions))
    lines = _purchase_lines(owned, config.cancellation_prefix)
    stored = materialize(_order_values(owned, config.cancellation_prefix), "orders")
    # an order with invalid numbers has no known value, one worth 0 at 6 decimals (io.sums) none
    # on a log scale (ln(0)): the rule reads the others only
    orders = stored.filter(~stored.invalid, stored.value > 0)
    lv = orders.value.ln()
    # the high quantile only for the quantile rule (each quantile is a pass over the orders)
    quantile_rule = config.order_value_rule == "quantile"
    stats = (
        orders.aggregate(
            n=orders.count(),
            med_value=orders.value.median(),
            med_log=lv.median(),
            **({"q_value": _high_quantile(orders, config)} if quantile_rule else {}),
        )
        .to_pandas()
        .iloc[0]
    )
    n_orders = int(stats["n"])
    notes = _left_out_notes(stored)
    if n_orders == 0:
        raise DataError(
            "No purchase orders to check: no line has a positive quantity and amount"
            + "".join(f"; {note}" for note in notes),
            where="extreme_orders",
            fix="check the quantity and amount columns (and the cancellation prefix)",
        )
    rule_name = config.order_value_rule
    if rule_name == "log_mad":
        med_log = float(stats["med_log"])
        mad = float(orders.aggregate(mad=(lv - med_log).abs().median()).to_pandas()["mad"].iloc[0])
        if mad > 0:
            threshold = math.exp(med_log + config.order_value_mad_k * _MAD_TO_SIGMA * mad)
            rule = (
                f"ln(order value) above median + {config.order_value_mad_k:g} x 1.4826 x MAD "
                f"(value above {threshold:,.2f})"
            )
        else:
            notes.append(
                "half or more of the orders share one value (MAD = 0); used the quantile rule"
            )
            rule_name = "quantile"
    if rule_name == "quantile":
        if quantile_rule:
            threshold = float(stats["q_value"])
        else:  # the log-MAD rule fell back
            q = orders.aggregate(q_value=_high_quantile(orders, config)).to_pandas()
            threshold = float(q["q_value"].iloc[0])
        rule = f"order value above the {config.order_value_quantile:g} quantile ({threshold:,.2f})"
    med_value = float(stats["med_value"])
    extreme = orders.filter(orders.value > threshold)
    # the count of every extreme order rides along the listed ones as a window
    top = (
        extreme.mutate(
            times_median=extreme.value / ibis.literal(med_value, type="float64"),
            _n=_rows(extreme.order_id),
        )
        .order_by([ibis.desc("value"), "order_id"])
        .limit(config.max_listed)
    )
    details = _order_details(lines, top.select("order_id"))
    joined = top.join(details, "order_id")
    listed = (
        joined.select(*EXTREME_COLUMNS, "_n").order_by([ibis.desc("value"), "order_id"]).to_pandas()
    )
    n_extreme = int(listed["_n"].iloc[0]) if len(listed) else 0
    listed = listed.drop(columns="_n")
    return ExtremeOrders(
        orders=listed.reset_index(drop=True),
        threshold=threshold,
        median_value=med_value,
        n_orders=n_orders,
        n_extreme=n_extreme,
        rule=rule,
        notes=tuple(notes),
    )


def _high_quantile(orders: ir.Table, config: AnomalyConfig) -> ir.FloatingScalar:
    return orders.value.quantile(config.order_value_quantile)


def _left_out_notes(stored: ir.Table) -> list[str]:
    """Notes on the orders the rule leaves out (none when it leaves none out)."""
    counts = (
        stored.aggregate(
            invalid=stored.count(where=stored.invalid),
            zero=stored.count(where=~stored.invalid & (stored.value <= 0)),
        )
        .to_pandas()
        .iloc[0]
    )
    notes = []
    if invalid := int(counts["invalid"]):
        notes.append(
            f"{invalid:,} {_orders(invalid)} with invalid numbers (a quantity, price or amount "
            "that is missing, NaN, infinite or beyond 1e15) left out of the extreme-order rule"
        )
    if zero := int(counts["zero"]):
        notes.append(
            f"{zero:,} {_orders(zero)} worth 0 at 6 decimals left out of the extreme-order rule "
            "(no value on a log scale)"
        )
    return notes


def _orders(n: int) -> str:
    return "order" if n == 1 else "orders"


def cancellation_pairs(
    transactions: ir.Table,
    config: AnomalyConfig | None = None,
    *,
    orders: Sequence[str] = (),
) -> CancellationPairs:
    """Purchase lines cancelled later by a line with exactly the opposite quantity.

    A cancellation line is matched to the latest earlier purchase line of the same customer and
    product (``product_id``, else ``description``) with ``cancel_qty == -purchase_qty`` and
    ``purchase_ts <= cancel_ts <= purchase_ts + pair_window_days``; each purchase line is then kept
    with its earliest cancellation only. Lines without a customer id are not paired.
    ``orders``: purchase order ids whose cancelled value to sum over every pair (e.g. the listed
    extreme orders), in ``cancelled_value``.
    """
    config = config or AnomalyConfig()
    t = transactions
    _require(t, ("order_id", "customer_id", "order_ts", "quantity", "amount"), "cancellation_pairs")
    key = next((c for c in ("product_id", "description") if c in t.columns), None)
    if key is None:
        note = "order/cancellation pairs skipped: the data have no product_id or description column"
        return CancellationPairs(_empty_pairs(), 0, config.pair_window_days, (note,))
    with_desc = key == "product_id" and "description" in t.columns
    cancelled = _is_cancelled(t, config.cancellation_prefix)
    known = t.customer_id.notnull() & t[key].notnull()

    # a C-prefixed line or any negative line; the opposite quantity must be negative either way
    cancels = t.filter(known, t.quantity < 0)
    cancels = cancels.select(
        c_customer=cancels.customer_id,
        c_key=cancels[key],
        cancel_order_id=cancels.order_id,
        cancel_ts=cancels.order_ts,
        c_qty=cancels.quantity,
    ).distinct()
    # read by the semi-join and the join below: stored once instead of scanning the lines twice
    cancels = materialize(cancels, "cancels")
    buys = t.filter(known, t.quantity > 0, ~cancelled)
    # only purchase lines that some cancellation could match (same customer, key and opposite
    # quantity) take part: a semi-join keeps the distinct and the join small on large logs
    buys = buys.semi_join(
        cancels,
        [
            buys.customer_id == cancels.c_customer,
            buys[key] == cancels.c_key,
            buys.quantity == -cancels.c_qty,
        ],
    )
    buys = buys.select(
        customer_id=buys.customer_id,
        key=buys[key],
        purchase_order_id=buys.order_id,
        purchase_ts=buys.order_ts,
        quantity=buys.quantity,
        value=buys.amount,
        **({"description": buys.description} if with_desc else {}),
    ).distinct()

    window = ibis.interval(days=config.pair_window_days)
    joined = buys.join(
        cancels,
        [
            buys.customer_id == cancels.c_customer,
            buys.key == cancels.c_key,
            cancels.c_qty == -buys.quantity,
            cancels.cancel_ts >= buys.purchase_ts,
            cancels.cancel_ts <= buys.purchase_ts + window,
        ],
    )
    # each cancellation line -> its latest earlier purchase (unique tie-breaker: order id)
    per_cancel = ibis.window(
        group_by=["c_customer", "c_key", "cancel_order_id", "cancel_ts", "c_qty"],
        order_by=[ibis.desc("purchase_ts"), ibis.desc("purchase_order_id"), ibis.desc("value")],
    )
    joined = joined.mutate(_rc=ibis.row_number().over(per_cancel)).filter(lambda s: s._rc == 0)
    # each purchase line -> its earliest cancellation
    per_buy = ibis.window(
        group_by=["customer_id", "key", "purchase_order_id", "purchase_ts", "quantity", "value"],
        order_by=["cancel_ts", "cancel_order_id"],
    )
    joined = joined.mutate(_rb=ibis.row_number().over(per_buy)).filter(lambda s: s._rb == 0)
    pairs = joined.select(
        customer_id=joined.customer_id,
        **{key: joined.key},
        **({"description": joined.description} if with_desc else {}),
        purchase_order_id=joined.purchase_order_id,
        cancel_order_id=joined.cancel_order_id,
        purchase_ts=joined.purchase_ts,
        cancel_ts=joined.cancel_ts,
        quantity=joined.quantity,
        value=joined.value,
        minutes_between=joined.cancel_ts.delta(joined.purchase_ts, unit="minute"),
    )
    by_order: dict[str, float] = {}
    if len(orders):
        # read twice (the listing and these orders' sums): stored once
        pairs = materialize(pairs, "pairs")
        asked = pairs.filter(pairs.purchase_order_id.isin(sorted({str(o) for o in orders})))
        sums = asked.group_by("purchase_order_id").aggregate(value=exact_sum(asked.value))
        sums = sums.to_pandas()
        by_order = {
            str(o): float(v) for o, v in zip(sums.purchase_order_id, sums.value, strict=True)
        }
    # one query: the count of every pair rides along the listed ones as a window
    listed = (
        pairs.mutate(_n=_rows(pairs.cancel_order_id))
        .order_by(  # every column: tied rows are listed in the same order on every run
            [ibis.desc("value"), "purchase_order_id", "cancel_order_id", key, "customer_id"]
            + ["purchase_ts", "cancel_ts", "quantity"]
            + (["description"] if with_desc and key != "description" else [])
        )
        .limit(config.max_listed)
        .to_pandas()
        .reset_index(drop=True)
    )
    n_pairs = int(listed["_n"].iloc[0]) if len(listed) else 0
    listed = listed.drop(columns="_n")
    notes = () if key == "product_id" else ("pairs matched on description (no product_id column)",)
    return CancellationPairs(listed, n_pairs, config.pair_window_days, notes, by_order)


def customer_order_signals(
    transactions: ir.Table, config: AnomalyConfig | None = None, *, as_of=None
) -> ir.Table:
    """Per customer (Ibis, one row per customer), signals that cleaning hides from the features.

    Computed on the canonical transactions *before* cleaning, on lines with ``order_ts < as_of``
    (all lines when ``as_of`` is None): ``max_line_units`` (largest quantity on one purchase line,
    including lines cancelled later, such as 80,995 units) and ``cancelled_units_share`` (units on
    negative lines over units on purchase lines). Join them to the customer feature table on
    ``customer_id`` before :class:`~custlens.anomalies.isolation.CustomerAnomalyDetector`.
    """
    config = config or AnomalyConfig()
    t = transactions
    _require(t, ("order_id", "customer_id", "order_ts", "quantity"), "customer_order_signals")
    t = t.filter(t.customer_id.notnull())
    if as_of is not None:
        t = t.filter(
            t.order_ts < ibis.literal(pd.Timestamp(as_of).to_pydatetime(), type="timestamp")
        )
    bought = (t.quantity > 0) & ~_is_cancelled(t, config.cancellation_prefix)
    zero = ibis.literal(0.0, type="float64")
    agg = t.group_by("customer_id").aggregate(
        max_line_units=t.quantity.max(where=bought),
        _bought=exact_sum(ibis.ifelse(bought, t.quantity, zero)),
        _cancelled=exact_sum(ibis.ifelse(t.quantity < 0, -t.quantity, zero)),
    )
    agg = agg.filter(agg._bought > 0)
    return agg.select(
        "customer_id",
        max_line_units=agg.max_line_units.cast("float64"),
        cancelled_units_share=agg._cancelled / agg._bought,
    )


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "customer_id",
            "product_id",
            "purchase_order_id",
            "cancel_order_id",
            "purchase_ts",
            "cancel_ts",
            "quantity",
            "value",
            "minutes_between",
        ]
    )
