"""The buy-till-you-die summary (frequency, recency, T, monetary value) from raw transactions.

Computed inside the engine with Ibis: only the one-row-per-customer result is materialised.

Definitions (the ones of Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"):

* Purchases are counted by **day**: several orders on one calendar day are one purchase whose
  value is the sum of that day's amounts.
* ``calibration_end`` is **inclusive**: purchases made on that date belong to the calibration
  period. Customers whose first purchase is after it are left out.
* ``frequency`` = number of distinct purchase days after the first one, up to ``calibration_end``.
* ``recency`` = time from the first to the last purchase day in the calibration period
  (0 when ``frequency`` is 0).
* ``T`` = time from the first purchase day to ``calibration_end``.
* ``monetary_value`` = mean of the day totals over the repeat purchase days (the first day is
  excluded); 0 when ``frequency`` is 0. This is the definition that reproduces the published
  CDNOW Gamma-Gamma estimates (p=6.25, q=3.74, gamma=15.44).
* With ``observation_end`` (also inclusive): ``frequency_holdout`` = purchase days in
  (calibration_end, observation_end], ``monetary_value_holdout`` = mean day total over those
  days (0 when none), ``duration_holdout`` = observation_end - calibration_end.

Times are day differences between dates divided by the unit length: ``"D"`` = 1 day,
``"W"`` = 7 days (weeks are fractional, e.g. 272 days = 38.857 weeks).
"""

from __future__ import annotations

import logging

import ibis
import ibis.expr.types as ir
import pandas as pd

from custlens._validation import as_date, require_columns
from custlens.errors import ConfigError, DataError
from custlens.io.sums import exact_sum

logger = logging.getLogger(__name__)

UNIT_DAYS = {"D": 1.0, "W": 7.0}

_BASE_COLUMNS = ("frequency", "recency", "T", "monetary_value")
_HOLDOUT_COLUMNS = ("frequency_holdout", "monetary_value_holdout", "duration_holdout")


def unit_days(time_unit: str) -> float:
    """Length of ``time_unit`` ("D" or "W") in days; ConfigError otherwise."""
    try:
        return UNIT_DAYS[time_unit]
    except (KeyError, TypeError):
        raise ConfigError(
            f"Unknown time unit {time_unit!r}",
            where="time_unit",
            fix=f"use one of {sorted(UNIT_DAYS)} (D = days, W = weeks of 7 days)",
        ) from None


def _day_column(table: ir.Table, ts_col: str) -> ir.DateValue:
    col = table[ts_col]
    dtype = col.type()
    if dtype.is_timestamp():
        return col.date()
    if dtype.is_date():
        return col
    raise DataError(
        f"Column {ts_col!r} has type {dtype}, not a date or timestamp",
        where=f"column {ts_col}",
        fix="load the data with custlens.io (which parses order_ts) or cast the column first",
    )


def _check_columns(table: ir.Table, needed: list[str]) -> None:
    require_columns(
        table,
        needed,
        what="the transactions",
        fix="map the columns with customer_col=, ts_col=, amount_col= or load through custlens.io",
    )
    amount_type = table[needed[2]].type()
    if not amount_type.is_numeric():
        raise DataError(
            f"Column {needed[2]!r} has type {amount_type}, not a number",
            where=f"column {needed[2]}",
            fix="cast the money column to a number before summarising",
        )


def summary_from_transactions(
    table: ir.Table,
    *,
    calibration_end: object,
    observation_end: object | None = None,
    time_unit: str = "W",
    customer_col: str = "customer_id",
    ts_col: str = "order_ts",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """The BTYD summary: one row per customer with a first purchase on or before
    ``calibration_end``.

    Computed in the engine; only the one-row-per-customer result is fetched. See the module
    docstring for the exact definitions (purchases are counted by day, both end dates are
    inclusive). Rows with a null customer or timestamp are ignored; null amounts count as 0.

    Parameters
    ----------
    table : ibis.Table
        Transactions with a customer, a timestamp (or date) and a numeric amount column.
    calibration_end : date, datetime or str
        Last day (inclusive) of the calibration period, e.g. ``"1997-09-30"``.
    observation_end : date, datetime or str, optional
        Last day (inclusive) of the holdout period; adds the holdout columns.
    time_unit : {"W", "D"}, default="W"
        Unit of recency, T and the holdout duration: weeks of 7 days or days.
    customer_col, ts_col, amount_col : str
        Names of the customer, timestamp and amount columns.

    Returns
    -------
    pandas.DataFrame
        Sorted by customer, with the columns ``customer_col, frequency, recency, T,
        monetary_value`` (+ ``frequency_holdout, monetary_value_holdout, duration_holdout``
        when ``observation_end`` is given).

    Raises
    ------
    ConfigError
        When ``time_unit`` is unknown, a date cannot be read or ``observation_end`` is not
        after ``calibration_end``.
    MappingError
        When ``table`` lacks one of the three columns.
    DataError
        When the amount is not numeric, the timestamp is not a date or timestamp, or no
        customer bought on or before ``calibration_end``.

    Examples
    --------
    A bought twice on Jan 1 (one purchase day worth 15), then on Jan 8 (20) and Jan 15 (40);
    B bought once, on Jan 20:

    >>> import datetime as dt
    >>> import ibis
    >>> from custlens.models import summary_from_transactions
    >>> orders = ibis.memtable(
    ...     {
    ...         "customer_id": ["A", "A", "A", "A", "B"],
    ...         "order_ts": [
    ...             dt.datetime(2024, 1, 1, 10),
    ...             dt.datetime(2024, 1, 1, 15),
    ...             dt.datetime(2024, 1, 8, 12),
    ...             dt.datetime(2024, 1, 15, 9),
    ...             dt.datetime(2024, 1, 20, 18),
    ...         ],
    ...         "amount": [10.0, 5.0, 20.0, 40.0, 7.0],
    ...     }
    ... )
    >>> summary_from_transactions(orders, calibration_end="2024-01-31", time_unit="D")
      customer_id  frequency  recency     T  monetary_value
    0           A          2     14.0  30.0            30.0
    1           B          0      0.0  11.0             0.0
    """
    unit = unit_days(time_unit)
    cal_end = as_date(
        calibration_end,
        "calibration_end",
        fix="pass a datetime.date or an ISO date string such as '1997-09-30'",
    )
    obs_end = (
        None
        if observation_end is None
        else as_date(
            observation_end,
            "observation_end",
            fix="pass a datetime.date or an ISO date string such as '1997-09-30'",
        )
    )
    if obs_end is not None and obs_end <= cal_end:
        raise ConfigError(
            f"observation_end {obs_end} is not after calibration_end {cal_end}",
            where="observation_end",
            fix="choose an observation_end later than calibration_end, or leave it out",
        )
    _check_columns(table, [customer_col, ts_col, amount_col])

    cal_lit = ibis.date(cal_end)
    last_lit = ibis.date(obs_end if obs_end is not None else cal_end)
    lines = table.select(
        cust=table[customer_col],
        day=_day_column(table, ts_col),
        amt=table[amount_col].cast("float64").fill_null(0.0),
    )
    lines = lines.filter(lines.cust.notnull(), lines.day.notnull(), lines.day <= last_lit)
    days = lines.group_by(["cust", "day"]).aggregate(day_amount=exact_sum(lines.amt))
    cal_days = days.filter(days.day <= cal_lit)
    first = cal_days.group_by("cust").aggregate(first_day=cal_days.day.min())
    joined = days.inner_join(first, "cust")

    in_cal = joined.day <= cal_lit
    repeat = in_cal & (joined.day > joined.first_day)
    metrics = {
        "frequency": repeat.cast("int64").sum(),
        "last_day": joined.day.max(where=in_cal),
        "first": joined.first_day.min(),
        "repeat_amount": exact_sum(joined.day_amount, where=repeat),
    }
    if obs_end is not None:
        holdout = joined.day > cal_lit
        metrics["frequency_holdout"] = holdout.cast("int64").sum()
        metrics["holdout_amount"] = exact_sum(joined.day_amount, where=holdout)
    per = joined.group_by("cust").aggregate(**metrics)

    unit_lit = ibis.literal(unit, type="float64")
    out = {
        customer_col: per.cust,
        "frequency": per.frequency,
        "recency": per.last_day.delta(per.first, unit="day").cast("float64") / unit_lit,
        "T": cal_lit.delta(per.first, unit="day").cast("float64") / unit_lit,
        "monetary_value": ibis.ifelse(
            per.frequency > 0,
            per.repeat_amount.fill_null(0.0) / per.frequency.cast("float64"),
            ibis.literal(0.0, type="float64"),
        ),
    }
    if obs_end is not None:
        out["frequency_holdout"] = per.frequency_holdout
        out["monetary_value_holdout"] = ibis.ifelse(
            per.frequency_holdout > 0,
            per.holdout_amount.fill_null(0.0) / per.frequency_holdout.cast("float64"),
            ibis.literal(0.0, type="float64"),
        )
        out["duration_holdout"] = ibis.literal((obs_end - cal_end).days / unit, type="float64")
    result = per.select(**out).order_by(customer_col).to_pandas()
    if result.empty:
        raise DataError(
            f"No customer made a first purchase on or before calibration_end {cal_end}",
            where="calibration_end",
            fix="choose a later calibration_end, or check the order dates",
        )
    result = result.reset_index(drop=True)
    result["frequency"] = result["frequency"].astype("int64")
    if obs_end is not None:
        result["frequency_holdout"] = result["frequency_holdout"].astype("int64")
    logger.info(
        "BTYD summary: %d customers, %d repeat customers (calibration end %s, unit %s)",
        len(result),
        int((result["frequency"] > 0).sum()),
        cal_end,
        time_unit,
    )
    return result
