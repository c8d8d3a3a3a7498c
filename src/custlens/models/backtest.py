"""Backtest by time: features as of a cutoff, labels only from the period after it.

``cutoff`` is the **last day of the feature window**: features are the customer table (and the
behavioural features) as of ``as_of = cutoff + 1 day``, computed by the same engine code that
builds the customer table, so nothing dated after the cutoff can reach them. Labels come only
from order dates in ``(cutoff, cutoff + horizon_days]`` (see :mod:`custlens.models.labels`).
The BTYD summary uses ``calibration_end = cutoff`` (inclusive), the same window.

Every customer with a purchase on or before the cutoff is in the backtest; a customer without
a future order has ``future_orders = 0`` (``churned = True``), ``future_revenue = 0`` and
``next_window = 2`` (later or never).
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custlens._validation import as_date
from custlens.config import ModelsConfig
from custlens.errors import DataError
from custlens.features.sampling import sample_rows
from custlens.io.frames import round_floats
from custlens.io.materialize import materialize
from custlens.models.labels import future_labels
from custlens.models.model_rows import customer_features

log = logging.getLogger(__name__)

LABEL_COLUMNS = ("future_orders", "future_revenue", "days_to_next", "churned", "next_window")


@dataclass(frozen=True)
class BacktestData:
    """One row per customer (``frame``): model features, BTYD summary (``btyd_*``, days),
    last-period values and labels."""

    cutoff: date
    horizon_days: int
    frame: pd.DataFrame
    feature_names: tuple[str, ...]
    # customers of the whole backtest when ``frame`` holds a seeded sample of them (0: all)
    population: int = 0
    # positions (ascending) of the frame's rows among the whole backtest's customers, sorted by
    # customer_id, when ``frame`` holds some of them (None: the rows are not known)
    rows: np.ndarray | None = None

    @property
    def customers(self) -> int:
        """Customers of the whole backtest (``frame`` may hold a sample of them)."""
        return self.population or len(self.frame)

    def sample(self, cap: int | None, seed: int) -> pd.DataFrame:
        """The frame of ``sample_rows(customers, cap, seed)``: a seeded sample of ``cap`` of the
        whole backtest's customers (every customer when ``cap`` is None or not below their
        number), in the backtest's order, whether ``frame`` holds every customer or only some
        (``rows``); DataError when ``frame`` lacks one of them."""
        pick = sample_rows(self.customers, cap, seed)
        rows = self.rows
        if rows is None and len(self.frame) == self.customers:
            return self.frame if pick is None else self.frame.iloc[pick]
        held = np.arange(self.customers) if pick is None else pick
        at = np.zeros(0, dtype="int64")
        if rows is not None and len(rows):
            at = np.searchsorted(rows, held).clip(max=len(rows) - 1)
        if rows is None or len(at) == 0 or not np.array_equal(rows[at], held):
            raise DataError(
                f"The backtest holds {len(self.frame):,} of its {self.customers:,} customers, "
                f"not the seeded sample of {len(held):,} asked for",
                where=f"backtest with cutoff {self.cutoff.isoformat()}",
                fix="report this as a bug",
            )
        return self.frame if len(at) == len(self.frame) else self.frame.iloc[at]

    @property
    def as_of(self) -> date:
        return self.cutoff + timedelta(days=1)

    @property
    def features(self) -> pd.DataFrame:
        return self.frame.loc[:, list(self.feature_names)]

    @property
    def labels(self) -> pd.DataFrame:
        return self.frame.loc[:, ["customer_id", *LABEL_COLUMNS]]


_RANGES: weakref.WeakKeyDictionary[object, tuple[date, date]] = weakref.WeakKeyDictionary()


def data_range(purchases: ir.Table) -> tuple[date, date]:
    """First and last purchase dates (DataError when there are none), remembered for the
    expression (a run asks for them about ten times, each a pass over every line)."""
    node = purchases.op()
    found = _RANGES.get(node)
    if found is None:
        found = _RANGES[node] = _data_range(purchases)
    return found


def _data_range(purchases: ir.Table) -> tuple[date, date]:
    row = (
        purchases.filter(purchases.customer_id.notnull())
        .aggregate(first=purchases.order_ts.min(), last=purchases.order_ts.max())
        .to_pyarrow()
        .to_pylist()[0]
    )
    if row["first"] is None:
        raise DataError(
            "There are no purchases with a customer and a date to model",
            where="purchases",
            fix="check the cleaning report: a rule or filter may have removed every line",
        )
    return row["first"].date(), row["last"].date()


def resolve_cutoff(
    purchases: ir.Table, cutoff: date | datetime | str | None, horizon_days: int
) -> date:
    """The cutoff to use (default: last purchase date - horizon), checked against the data."""
    if horizon_days < 1:
        raise DataError(
            f"horizon must be at least 1 day, got {horizon_days}",
            where="--horizon",
            fix="use e.g. 90 days",
        )
    first, last = data_range(purchases)
    span = f"the purchases run from {first.isoformat()} to {last.isoformat()}"
    if cutoff is None:
        day = last - timedelta(days=horizon_days)
        if day < first:
            raise DataError(
                f"A {horizon_days}-day horizon is longer than the data ({(last - first).days} days)",
                where=span,
                fix="use a shorter --horizon or more history",
            )
        return day
    day = as_date(cutoff, "cutoff", fix="give it as YYYY-MM-DD", error=DataError)
    if day < first or day >= last:
        raise DataError(
            f"cutoff {day.isoformat()} is outside the data: features need purchases on or "
            "before it and labels need purchases after it",
            where=span,
            fix=f"choose a --cutoff from {first.isoformat()} to "
            f"{(last - timedelta(days=horizon_days)).isoformat()}, or leave it unset",
        )
    if day + timedelta(days=horizon_days) > last:
        raise DataError(
            f"The {horizon_days}-day horizon after cutoff {day.isoformat()} ends on "
            f"{(day + timedelta(days=horizon_days)).isoformat()}, after the last purchase, so "
            "the labels would miss orders that were never recorded",
            where=span,
            fix=f"use a cutoff on or before {(last - timedelta(days=horizon_days)).isoformat()}"
            f" or a horizon of at most {(last - day).days} days",
        )
    return day


def next_window(days_to_next: pd.Series, edges: tuple[int, int]) -> np.ndarray:
    """0: first order within edges[0] days, 1: within edges[1], 2: later or never."""
    d = days_to_next.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(d <= edges[0], 0, np.where(d <= edges[1], 1, 2)).astype("int64")


History = Callable[[date], "tuple[ir.Table, ir.Table | None]"]


def backtest_customer_ids(
    purchases: ir.Table, cutoff: date, history: History | None = None
) -> pa.Array:
    """The customers of the backtest with this cutoff (those with a purchase on or before it,
    in the lines knowable the day after it), sorted as the backtest's rows."""
    past = _known_lines(purchases, cutoff, history)
    ids = past.select("customer_id").distinct()
    return ids.order_by("customer_id").to_pyarrow()["customer_id"].combine_chunks()


def backtest_population(
    purchases: ir.Table, cutoff: date, history: History | None = None
) -> tuple[pa.Array, datetime]:
    """``backtest_customer_ids`` and the earliest ``first_order`` of the backtest (its first
    purchase line's timestamp), from one query."""
    past = _known_lines(purchases, cutoff, history)
    per = past.group_by("customer_id").aggregate(_first=past.order_ts.min())
    table = per.order_by("customer_id").to_pyarrow()
    ids = table["customer_id"].combine_chunks()
    if len(ids) == 0:
        raise DataError(
            f"No customer bought on or before the cutoff {cutoff.isoformat()}",
            where="backtest",
            fix="choose a later --cutoff or use more data",
        )
    return ids, pc.min(table["_first"]).as_py()


def _known_lines(purchases: ir.Table, cutoff: date, history: History | None) -> ir.Table:
    """The purchase lines of known customers on or before ``cutoff``, as knowable the day after
    it."""
    as_of = cutoff + timedelta(days=1)
    past = history(as_of)[0] if history else purchases.filter(purchases.order_ts < as_of)
    return past.filter(past.customer_id.notnull())


def _only(table: ir.Table, name: str) -> ir.Table:
    """The lines of ``table`` whose customer is in the engine table ``name``."""
    con = table._find_backend(use_default=True)
    keep = con.table(name)
    return table.filter(table.customer_id.isin(keep.customer_id))


def make_backtest(
    purchases: ir.Table,
    returns: ir.Table | None = None,
    *,
    cutoff: date | datetime | str | None = None,
    horizon_days: int = 90,
    config: ModelsConfig | None = None,
    check_classes: bool = True,
    history: History | None = None,
    customers: pa.Array | None = None,
) -> BacktestData:
    """Features as of the cutoff and labels from ``(cutoff, cutoff + horizon_days]``.

    ``history(as_of)`` returns the (purchases, returns) that were knowable at ``as_of``, i.e. the
    raw lines before it, cleaned on their own. Without it, features come from ``purchases``
    cleaned on the whole period, where a cleaning rule that pairs a purchase with a *later*
    cancellation could let a line after the cutoff change a feature.

    ``customers`` (some of ``backtest_customer_ids``, sorted; DuckDB only): the backtest's rows
    of these customers alone, computed from their lines alone (every feature, label and BTYD
    value of a customer comes from that customer's lines, so the rows are those of the whole
    backtest).
    """
    config = (config or ModelsConfig()).model_copy(update={"horizon_days": horizon_days})
    day = resolve_cutoff(purchases, cutoff, horizon_days)
    as_of = day + timedelta(days=1)
    past_purchases, past_returns = history(as_of) if history else (purchases, returns)
    if customers is not None:
        con = purchases._find_backend(use_default=True)
        name = f"custlens_backtest_customers_{uuid.uuid4().hex[:12]}"
        con.create_table(name, pa.table({"customer_id": customers}), temp=True)
        try:
            # their lines stored once: the queries that follow read them instead of deriving
            # every line knowable at ``as_of`` again (half the work for a quarter of the
            # customers at scale)
            past_purchases = materialize(_only(past_purchases, name), "backtest_purchases")
            if past_returns is not None:
                past_returns = materialize(_only(past_returns, name), "backtest_returns")
        finally:
            con.drop_table(name, force=True)
        frame, names = customer_features(past_purchases, past_returns, as_of, config)
        del past_purchases, past_returns  # their files go with them
        if frame["customer_id"].tolist() != customers.to_pylist():
            raise DataError(
                "The backtest of some customers does not hold exactly those customers",
                where=f"backtest with cutoff {day.isoformat()}",
                fix="report this as a bug",
            )
    else:
        frame, names = customer_features(past_purchases, past_returns, as_of, config)
    labels = round_floats(future_labels(purchases, day, horizon_days).to_pandas())
    frame = frame.merge(labels, on="customer_id", how="left", validate="one_to_one")
    frame["future_orders"] = frame["future_orders"].fillna(0).astype("int64")
    frame["future_revenue"] = frame["future_revenue"].fillna(0.0).astype("float64")
    frame["days_to_next"] = frame["days_to_next"].astype("Float64")
    frame["churned"] = frame["future_orders"] == 0
    frame["next_window"] = next_window(frame["days_to_next"], config.next_purchase_edges)
    where = f"backtest with cutoff {day.isoformat()}, horizon {horizon_days} days"
    if len(frame) < config.min_customers:
        raise DataError(
            f"Only {len(frame)} customers bought on or before the cutoff; at least "
            f"{config.min_customers} are needed to train and evaluate",
            where=where,
            fix="choose a later --cutoff, use more data, or lower models.min_customers",
        )
    churners = int(frame["churned"].sum())
    stayers = len(frame) - churners
    if check_classes and min(churners, stayers) < config.min_class:
        raise DataError(
            f"Too few customers in one class: {churners} placed no order in the horizon and "
            f"{stayers} did; each needs at least {config.min_class}",
            where=where,
            fix="choose another --cutoff or --horizon, use more data, or lower models.min_class",
        )
    log.info("%s: %d customers, %d churners", where, len(frame), churners)
    return BacktestData(
        cutoff=day,
        horizon_days=horizon_days,
        frame=frame,
        feature_names=names,
    )
