"""BTYD models on the future period: BG/NBD against Pareto/NBD, and the diagnostics users of
``lifetimes`` expect.

Both models (each with Gamma-Gamma) are fitted on the BTYD summary of the feature window (days,
``calibration_end = cutoff``) and compared on the period after the cutoff by the mean absolute
error of each customer's predicted repeat purchase days against the days they actually bought
(the quantity both models predict); the better one is the BTYD baseline, as every other
default is chosen on the future period. Two diagnostics follow, as tables:

- ``btyd_by_frequency``: customers, actual and predicted holdout purchase days per number of
  repeat purchases in the calibration period (0 .. 6, 7+), means and totals (Fader, Hardie &
  Lee 2005, figure 3).
- ``btyd_tracking``: actual and expected repeat purchase days of the calibration cohort per
  week (per day when the data span fewer than 10 weeks), incremental and cumulative, over the
  calibration and holdout periods (the tracking plot, figures 1-2). The expectation sums
  E[X(t)] of each customer from their first purchase; ``phase`` says which side of the cutoff.

Purchases are counted as distinct purchase days, as in the BTYD summary; everything heavy runs
in the engine and only one row per customer or per period is fetched.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.config import ModelsConfig
from custlens.errors import DataError
from custlens.io.materialize import materialize
from custlens.models.backtest import BacktestData
from custlens.models.baselines import (
    BTYD_NAMES,
    BtydBaseline,
    btyd_inputs,
    clv_forecasts,
    raw_churn_scores,
)
from custlens.models.evaluation import (
    binary_metrics,
    calibration_table,
    lift_table,
    regression_metrics,
)

if TYPE_CHECKING:
    from custlens.models.trainer import ModelEvaluation

log = logging.getLogger(__name__)

FREQUENCY_CAP = 7  # calibration repeat purchases 7 and more share one row, as in the paper
WEEKLY_FROM_DAYS = 70  # tracking by week when the data span at least 10 weeks


@dataclass
class BtydSelection:
    """The fitted candidates, the chosen one and what the choice was based on."""

    chosen: BtydBaseline | None
    candidates: dict[str, BtydBaseline] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _days(table: ir.Table, start: date) -> ir.IntegerValue:
    return table.day.delta(ibis.literal(start, type="date"), unit="day").cast("int64")


def purchase_days(purchases: ir.Table, last_day: date) -> ir.Table:
    """Distinct (customer_id, day) of the purchases on or before ``last_day``, with the
    customer's first purchase day (``first_day``)."""
    p = purchases.filter(purchases.customer_id.notnull())
    p = p.mutate(day=p.order_ts.date())
    p = p.filter(p.day <= ibis.literal(last_day, type="date"))
    days = p.select("customer_id", "day").distinct()
    first = days.group_by("customer_id").aggregate(first_day=days.day.min())
    joined = days.join(first, "customer_id")
    return joined.select("customer_id", "day", "first_day")


def holdout_days(days: ir.Table, cutoff: date) -> pd.DataFrame:
    """customer_id, holdout_days: purchase days after ``cutoff`` of customers who first bought
    on or before it (customers without any are absent)."""
    c = ibis.literal(cutoff, type="date")
    late = days.filter(days.first_day <= c, days.day > c)
    agg = late.group_by("customer_id").aggregate(holdout_days=late.count())
    return agg.to_pandas()


def _holdout_actual(frame: pd.DataFrame, holdout: pd.DataFrame) -> np.ndarray:
    merged = frame[["customer_id"]].merge(holdout, on="customer_id", how="left")
    return merged["holdout_days"].fillna(0).to_numpy("float64")


def select_btyd(
    frame: pd.DataFrame,
    actual: np.ndarray,
    horizon_days: int,
    fit_rows: int | None = None,
    scored: pd.DataFrame | None = None,
) -> BtydSelection:
    """Fit BG/NBD and Pareto/NBD on ``frame`` (a backtest frame; on a seeded sample of
    ``fit_rows`` customers when there are more) and choose on ``actual``, the future purchase
    days of the customers of ``scored`` (default: every customer of ``frame``)."""
    x, tx, big_t, _ = btyd_inputs(frame if scored is None else scored)
    selection = BtydSelection(chosen=None)
    errors: dict[str, float] = {}
    for kind in ("bgnbd", "pareto_nbd"):
        try:
            fitted = BtydBaseline.fit(frame, kind=kind, max_rows=fit_rows)
            predicted = fitted.bg.conditional_expected_purchases(float(horizon_days), x, tx, big_t)
        except DataError as exc:
            note = f"{BTYD_NAMES[kind]} not fitted: {exc.what}"
            log.warning(note)
            selection.notes.append(note)
            continue
        selection.candidates[kind] = fitted
        model = fitted.bg
        mae = float(np.mean(np.abs(predicted - actual)))
        errors[kind] = mae
        block: dict[str, Any] = {
            "params": dict(model.params_),
            "standard_errors": dict(model.standard_errors_),
            "log_likelihood": float(model.log_likelihood_),
            "holdout_predicted": float(predicted.sum()),
            "holdout_actual": float(actual.sum()),
            "holdout_mae": mae,
            "fit_customers": fitted.fit_rows,
        }
        limit = getattr(model, "dropout_limit_", None)
        if limit:
            block["limit"] = dict(limit)
            block["limit_words"] = model.describe_limit()
        if fitted.note:
            block["note"] = fitted.note
        selection.metrics[kind] = block
    if errors:
        best = min(errors, key=lambda k: (errors[k], k != "bgnbd"))
        selection.chosen = selection.candidates[best]
        selection.metrics["chosen"] = best
        selection.metrics["chosen_by"] = (
            "mean absolute error of each customer's predicted vs actual purchase days in the "
            "future period"
        )
        selection.metrics["units"] = "days"
    return selection


def by_frequency(frame: pd.DataFrame, actual: np.ndarray, model: BtydBaseline, h: int):
    """Actual vs predicted holdout purchase days per calibration repeat purchases (0 .. 7+)."""
    x, tx, big_t, _ = btyd_inputs(frame)
    predicted = model.bg.conditional_expected_purchases(float(h), x, tx, big_t)
    bucket = np.minimum(x, FREQUENCY_CAP).astype("int64")
    table = (
        pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": predicted})
        .groupby("bucket")
        .agg(
            customers=("actual", "size"),
            actual_mean=("actual", "mean"),
            predicted_mean=("predicted", "mean"),
            actual_total=("actual", "sum"),
            predicted_total=("predicted", "sum"),
        )
        .reindex(range(FREQUENCY_CAP + 1))
        .reset_index()
    )
    table["customers"] = table["customers"].fillna(0).astype("int64")
    label = [str(b) if b < FREQUENCY_CAP else f"{FREQUENCY_CAP}+" for b in table["bucket"]]
    table.insert(0, "calibration_repeats", label)
    return table.drop(columns="bucket")


def tracking(days: ir.Table, cutoff: date, horizon_days: int, model: BtydBaseline) -> pd.DataFrame:
    """Repeat purchase days of the calibration cohort per period, actual and expected."""
    c = ibis.literal(cutoff, type="date")
    cohort = days.filter(days.first_day <= c)
    start_row = cohort.aggregate(start=cohort.first_day.min()).to_pyarrow().to_pylist()[0]
    start = start_row["start"]
    end = cutoff + timedelta(days=horizon_days)
    span = (end - start).days + 1
    step = 7 if span >= WEEKLY_FROM_DAYS else 1
    repeats = cohort.filter(cohort.day > cohort.first_day)
    repeats = repeats.mutate(period=_days(repeats, start) // step)
    actual = repeats.group_by("period").aggregate(actual=repeats.count()).to_pandas()
    firsts = cohort.select("customer_id", "first_day").distinct()
    firsts = firsts.mutate(
        offset=firsts.first_day.delta(ibis.literal(start, type="date"), unit="day")
    )
    births = firsts.group_by("offset").aggregate(customers=firsts.count())
    births = births.order_by("offset").to_pandas()  # a fixed order: the sum below is the same
    n_periods = -(-span // step)
    period = np.arange(n_periods)
    last_index = np.minimum((period + 1) * step - 1, span - 1)  # last day index of each period
    ages = np.arange(span, dtype="float64")
    expected = model.bg.expected_purchases(ages)  # E[X(t)], t days after the first purchase
    offsets = births["offset"].to_numpy("int64")
    counts = births["customers"].to_numpy("float64")
    age = last_index[:, None] - offsets[None, :]
    cumulative = np.where(age >= 0, expected[np.clip(age, 0, span - 1)], 0.0) @ counts
    out = pd.DataFrame({"period": period})
    out["period_start"] = [start + timedelta(days=int(p * step)) for p in period]
    out["period_end"] = [start + timedelta(days=int(i)) for i in last_index]
    out["unit"] = "week" if step == 7 else "day"
    out["phase"] = np.where(out["period_end"] <= cutoff, "calibration", "holdout")
    out = out.merge(actual, on="period", how="left")
    out["actual"] = out["actual"].fillna(0).astype("float64")
    out["predicted"] = np.diff(cumulative, prepend=0.0)
    out["actual_cumulative"] = out["actual"].cumsum()
    out["predicted_cumulative"] = cumulative
    return out


def level_note(
    btyd: dict[str, Any], tolerance: float, cutoff: date, horizon_days: int
) -> str | None:
    """A run note when the chosen BTYD model's predicted purchase days of the backtest's
    customers over its future period (``metrics["btyd"]``) miss the actual ones by more than
    ``tolerance`` of the prediction; None when they do not, or when no model was chosen."""
    block = btyd.get(btyd.get("chosen") or "", {})
    expected, actual = block.get("holdout_predicted"), block.get("holdout_actual")
    if expected is None or actual is None or not expected > 0:
        return None
    ratio = float(actual) / float(expected) - 1
    if abs(ratio) <= tolerance:
        return None
    name = BTYD_NAMES.get(btyd["chosen"], btyd["chosen"])
    return (
        f"predictions: the {name} model predicted {expected:,.0f} purchase days of the "
        f"backtest's customers in the {horizon_days} days after {cutoff}; they bought on "
        f"{actual:,.0f} ({abs(ratio):.0%} {'more' if ratio > 0 else 'fewer'}), so its purchase "
        f"counts and CLV run {'low' if ratio > 0 else 'high'} on these data (BTYD assumes "
        "each customer's rate stays the same: a seasonal peak or a trend in that period is "
        "outside it); the rankings in the tables are measured on that period as they are"
    )


@dataclass(frozen=True)
class BtydHoldout:
    """What the future period holds for the BTYD choice: every customer's purchase days up to
    its end (stored: the holdout counts and the tracking table read it) and the future
    purchase days of the customers scored."""

    days: ir.Table
    actual: np.ndarray


def btyd_holdout(
    purchases: ir.Table, scored: pd.DataFrame, cutoff: date, horizon_days: int
) -> BtydHoldout:
    """The purchase days up to ``cutoff + horizon_days`` and the future purchase days of the
    customers of ``scored`` (a backtest frame): the engine's part of the BTYD choice, before
    :func:`select_btyd` (which needs no engine) and :func:`btyd_tables`."""
    days = materialize(purchase_days(purchases, cutoff + timedelta(days=horizon_days)), "days")
    return BtydHoldout(days, _holdout_actual(scored, holdout_days(days, cutoff)))


def btyd_tables(
    holdout: BtydHoldout,
    scored: pd.DataFrame,
    selection: BtydSelection,
    cutoff: date,
    horizon_days: int,
) -> dict[str, pd.DataFrame]:
    """The diagnostics of the chosen model (none when neither could be fitted)."""
    chosen = selection.chosen
    if chosen is None:
        return {}
    return {
        "btyd_by_frequency": by_frequency(scored, holdout.actual, chosen, horizon_days),
        "btyd_tracking": tracking(holdout.days, cutoff, horizon_days, chosen),
    }


def btyd_only_evaluation(
    ev: BacktestData,
    selection: BtydSelection,
    btyd_tables: dict[str, pd.DataFrame],
    config: ModelsConfig,
    why: str,
    start: float,
    scored: BacktestData | None = None,
) -> ModelEvaluation:
    """The evaluation when the data leave no labelled period for LightGBM: the BTYD models and
    the baselines on the future period (the classic CDNOW calibration / holdout split), on the
    customers of ``scored`` (default: all of ``ev``; see ``trainer.evaluation_sample``).

    The baselines whose scores are not probabilities get no Brier score (their isotonic maps
    would need a training period).
    """
    from custlens.models.trainer import ModelEvaluation, choose_default, sample_note

    f, h = (ev if scored is None else scored).frame, ev.horizon_days
    y = f["churned"].to_numpy("int64")
    actual_revenue = f["future_revenue"].to_numpy("float64")
    churn: dict[str, Any] = {}
    clv: dict[str, Any] = {}
    tables = dict(btyd_tables)
    btyd = selection.chosen
    if btyd is not None:
        pred = btyd.predict(f, h)
        pb = pred["churn_probability"].to_numpy()
        churn["btyd"] = binary_metrics(y, pb)
        tables["churn_calibration"] = calibration_table(y, pb)
        tables["btyd_calibration"] = tables["churn_calibration"]
        tables["churn_lift"] = lift_table(y, pb)
        clv_pred = pred["clv"].to_numpy()
        if np.all(np.isfinite(clv_pred)):
            clv["btyd"] = regression_metrics(actual_revenue, clv_pred)
            tables["clv_lift"] = lift_table(f["future_revenue"], clv_pred)
    for name, raw in raw_churn_scores(f).items():
        m = binary_metrics(y, raw, probability=False)
        m["brier"] = None
        churn[name] = m
    for name, forecast in clv_forecasts(f).items():
        clv[name] = regression_metrics(actual_revenue, forecast)
        tables.setdefault("clv_lift", lift_table(f["future_revenue"], forecast))
    if "churn_lift" not in tables:  # no BTYD model: the recency rule's tables
        recency = raw_churn_scores(f)["recency"]
        tables["churn_lift"] = lift_table(y, recency)
    metrics: dict[str, Any] = {
        "churn": churn,
        "clv": clv,
        "btyd": selection.metrics,
        "lightgbm_skipped": why,
        "notes": [why, *selection.notes],
    }
    defaults = choose_default(metrics, config.choose_margin)
    if "chosen" in selection.metrics:
        defaults["btyd"] = selection.metrics["chosen"]
    metrics["defaults"] = defaults
    metrics["periods"] = {
        "train_cutoff": None,
        "eval_cutoff": ev.cutoff.isoformat(),
        "horizon_days": h,
        "train_customers": 0,
        "lightgbm_train_rows": 0,
        "eval_customers": ev.customers,
    }
    if len(f) < ev.customers:
        metrics["periods"]["eval_sample"] = len(f)
        metrics["notes"].insert(0, sample_note(metrics))
    return ModelEvaluation(
        metrics=metrics,
        tables=tables,
        models=None,  # type: ignore[arg-type]  # nothing was trained on a labelled period
        defaults=defaults,
        train_cutoff=None,
        eval_cutoff=ev.cutoff,
        horizon_days=h,
        importance={},
        seconds=time.perf_counter() - start,
        backtest=ev,
    )
