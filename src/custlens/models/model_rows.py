"""Every customer's model row as of a date: the features, the BTYD summary and the last period.

``customer_features`` returns the rows as one frame (the backtests' rows, ``custlens score``).
``feature_rows`` returns them as ``FeatureRows``, which the final scoring reads a block of rows
at a time: when the pipeline's customer table already holds the features, the rows are built
from its columns when they are asked for, so that a run never holds a second copy of every
customer's ~100 features (3 GB at 3.3M customers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custlens.config import ModelsConfig
from custlens.errors import DataError
from custlens.features.query import feature_query
from custlens.features.rfm import resolve_as_of
from custlens.io.frames import fetch_released, positions_of, round_floats, taken
from custlens.io.materialize import compiled_view
from custlens.models.btyd import summary_from_transactions
from custlens.models.labels import last_period

LIFECYCLE_CODES = {"new": 0.0, "growing": 1.0, "mature": 2.0, "at_risk": 3.0, "lapsed": 4.0}
NOT_FEATURES = ("customer_id", "first_order", "last_order")
BTYD_COLUMNS = ("btyd_frequency", "btyd_recency", "btyd_T", "btyd_monetary")
PERIOD_COLUMNS = ("last_period_orders", "last_period_revenue")
_BTYD_NAMES = {
    "frequency": "btyd_frequency",
    "recency": "btyd_recency",
    "T": "btyd_T",
    "monetary_value": "btyd_monetary",
}

Rows = slice | np.ndarray  # which rows: a range of positions, or positions (ascending)


@dataclass(frozen=True)
class FeatureRows:
    """One model row per customer (sorted by customer_id), built when asked for.

    ``base``: a frame whose ``base_columns`` are the rows' first columns. ``added`` (same row
    order): the columns the engine adds beside them (last period, BTYD summary), or None when
    ``base`` is the finished frame already. Asked-for rows are finished as ``customer_features``
    finishes its frame (codes, float64, zero for a missing last period, rounding), so any block
    of rows equals the same rows of the whole frame."""

    base: pd.DataFrame
    base_columns: tuple[str, ...]
    added: pd.DataFrame | None = None
    cutoff_month: float | None = None

    @classmethod
    def whole(cls, frame: pd.DataFrame) -> FeatureRows:
        """The rows of a finished frame (from ``customer_features``)."""
        return cls(frame, tuple(frame.columns))

    def __len__(self) -> int:
        return len(self.base)

    @property
    def columns(self) -> tuple[str, ...]:
        """The rows' columns, in ``customer_features``' order."""
        if self.added is None:
            return self.base_columns
        added = tuple(self.added.columns)
        month = ("cutoff_month",) if self.cutoff_month is not None else ()
        return (
            *self.base_columns,
            *(c for c in PERIOD_COLUMNS if c in added),
            *month,
            *(c for c in BTYD_COLUMNS if c in added),
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The model feature names (every column but the id, dates, period and BTYD ones)."""
        skip = {*NOT_FEATURES, *PERIOD_COLUMNS, *BTYD_COLUMNS}
        return tuple(c for c in self.columns if c not in skip)

    def select(
        self, columns: Sequence[str] | None = None, rows: Rows | None = None
    ) -> pd.DataFrame:
        """``columns`` (default: all) of ``rows`` (default: all), index 0..n-1."""
        wanted = list(self.columns if columns is None else columns)
        which = slice(None) if rows is None else rows
        if self.added is None:
            return self._base(which, wanted)
        part = self._base(which, [c for c in wanted if c in self.base_columns])
        extra = self.added.iloc[which][[c for c in wanted if c in self.added.columns]]
        month = self.cutoff_month if "cutoff_month" in wanted else None
        return finish(part, extra.reset_index(drop=True), month)[wanted]

    def _base(self, rows: Rows, columns: list[str]) -> pd.DataFrame:
        # rows and columns in one ``iloc``: only the cells asked for are copied
        at = self.base.columns.get_indexer(columns)
        return self.base.iloc[rows, at].reset_index(drop=True)

    def blocks(self, size: int) -> list[slice]:
        """The row ranges of ``size`` rows that cover every row."""
        return [slice(i, min(i + size, len(self))) for i in range(0, len(self), size)]


def finish(frame: pd.DataFrame, added: pd.DataFrame, month: float | None) -> pd.DataFrame:
    """``frame`` with ``added``'s columns (same rows) and the cutoff's month beside its own, the
    lifecycle stage coded, every feature float64, a missing last period 0 and floats rounded
    (in place; returned)."""
    for c in PERIOD_COLUMNS:
        if c in added.columns:
            frame[c] = added[c].to_numpy()
    if month is not None:  # the cutoff's season
        frame["cutoff_month"] = month
    if "lifecycle_stage" in frame.columns:
        frame["lifecycle_stage"] = frame["lifecycle_stage"].map(LIFECYCLE_CODES)
    for c in frame.columns:
        if c not in NOT_FEATURES and c not in PERIOD_COLUMNS:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in PERIOD_COLUMNS:
        if c in frame.columns:
            frame[c] = frame[c].fillna(0).astype("float64")
    for c in BTYD_COLUMNS:
        if c in added.columns:
            frame[c] = added[c].to_numpy()
    return round_floats(frame)


def customer_features(
    purchases: ir.Table,
    returns: ir.Table | None,
    as_of: date,
    config: ModelsConfig | None = None,
    known: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Model features, BTYD summary and last-period values as of ``as_of`` (exclusive).

    Returns the frame (one row per customer, sorted by customer_id) and the model feature
    names. Every feature is float64; ``lifecycle_stage`` is coded by ``LIFECYCLE_CODES``.
    ``known``: see ``feature_rows``.
    """
    rows = feature_rows(purchases, returns, as_of, config, known)
    return (rows.base if rows.added is None else rows.select()), rows.names


def feature_rows(
    purchases: ir.Table,
    returns: ir.Table | None,
    as_of: date,
    config: ModelsConfig | None = None,
    known: pd.DataFrame | None = None,
) -> FeatureRows:
    """The rows of ``customer_features`` as ``FeatureRows``.

    ``known``: the customer table with its behavioural features (default feature settings)
    already fetched from the same lines as of the same date (the pipeline's, rounded as
    ``round_floats`` rounds). When it holds every column of the feature query, one row per
    customer of the query, sorted by customer_id (checked), the rows are built from its columns
    and only the last period and the BTYD summary come from the engine.
    """
    config = config or ModelsConfig()
    cutoff = as_of - timedelta(days=1)
    # compiled once: the queries below read the lines through views (a backtest date's cleaned
    # lines are a large expression, which would otherwise be compiled by every query)
    purchases = compiled_view(purchases, "purchases")
    if returns is not None:
        returns = compiled_view(returns, "returns")
    day = resolve_as_of(purchases, as_of)  # checked: some purchase comes before it
    # the customer table and the behavioural features (default settings) in one query that is
    # compiled once for every date and set of lines of these columns
    table = feature_query(purchases, returns, day, behavioral=config.behavioral).table
    period = last_period(purchases, cutoff, config.horizon_days).rename(_cid="customer_id")
    month = float(cutoff.month) if config.stack_cutoffs > 1 and config.stack_month_feature else None
    if known is not None and _holds_rows(known, table):
        ids = pa.array(known["customer_id"])  # found by Arrow's hash lookup (``positions_of``)
        got = period.to_pyarrow()
        at = positions_of(ids, got["_cid"])
        added = pd.DataFrame({c: taken(got[c].to_numpy(), at) for c in PERIOD_COLUMNS})
        del got, at
        for c, values in _btyd_summary(purchases, cutoff, ids, as_of).items():
            added[c] = values
        return FeatureRows(known, tuple(table.columns), added, month)
    joined = table.left_join(period, table.customer_id == period._cid)
    frame = fetch_released(joined.select(*table.columns, *PERIOD_COLUMNS).order_by("customer_id"))
    summary = _btyd_summary(purchases, cutoff, frame["customer_id"], as_of)
    frame = finish(frame, pd.DataFrame(summary), month)
    return FeatureRows.whole(frame)


def _btyd_summary(
    purchases: ir.Table, cutoff: date, ids: Any, as_of: date
) -> dict[str, np.ndarray]:
    """The BTYD summary's columns (``BTYD_COLUMNS``) of the customers ``ids``, in their order
    (what a left merge on customer_id gives, without copying the customers' other columns)."""
    summary = summary_from_transactions(purchases, calibration_end=cutoff, time_unit="D")
    try:
        at = positions_of(ids, summary["customer_id"])
    except RuntimeError:  # cannot happen: one row per customer
        raise DataError(
            "The BTYD summary has a customer twice",
            where=f"as_of {as_of.isoformat()}",
            fix="report this as a bug",
        ) from None
    if (at < 0).any():  # cannot happen: both use order dates <= cutoff
        raise DataError(
            "The BTYD summary misses customers of the customer table",
            where=f"as_of {as_of.isoformat()}",
            fix="report this as a bug",
        )
    named = summary.rename(columns=_BTYD_NAMES)
    return {c: named[c].to_numpy()[at] for c in BTYD_COLUMNS}


def _holds_rows(known: pd.DataFrame, table: ir.Table) -> bool:
    """Whether ``known`` holds every column of ``table`` (the feature query) and one row per
    customer of it, in customer_id order."""
    if any(c not in known.columns for c in table.columns):
        return False
    ids = pa.array(known["customer_id"])
    # strictly increasing: one row per customer, in order (Arrow compares without a Python
    # string per customer; a null id compares null, and so is not in order)
    if len(ids) > 1 and not pc.all(pc.greater(ids[1:], ids[:-1]), skip_nulls=False).as_py():
        return False
    return bool(len(known) == table.count().to_pyarrow().as_py())
