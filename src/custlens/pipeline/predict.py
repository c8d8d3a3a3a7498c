"""Issue 4's stage: backtest on a true future period, then refit on everything and score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd

from custlens.config import Settings
from custlens.io.clean import clean
from custlens.models.backtest import customer_features
from custlens.models.persist import load_models
from custlens.models.scoring import fit_final, score_new
from custlens.models.trainer import ModelEvaluation, TrainedModels, backtest_and_evaluate

SCORE_COLUMNS = (
    "churn_probability",
    "churn_source",
    "p_alive",
    "expected_purchases",
    "clv",
    "clv_source",
    "next_purchase_window",
    "confidence_tier",
    "low_confidence",
    "reason_1",
    "reason_2",
    "reason_3",
)


@dataclass(frozen=True)
class Predictions:
    """The backtest's evaluation (metrics vs baselines) and the models refitted on everything."""

    evaluation: ModelEvaluation
    models: TrainedModels


def predictions(
    customers: pd.DataFrame,
    purchases: ibis.Table,
    returns: ibis.Table | None,
    as_of: date,
    settings: Settings,
    transactions: ibis.Table | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Evaluate on the future period after the cutoff, then score every customer as of ``as_of``.

    ``transactions`` are the raw canonical lines: backtest features are computed from the lines
    before each cutoff, cleaned on their own, so nothing after a cutoff can reach a feature.
    """
    cfg = settings.models
    evaluation = backtest_and_evaluate(
        purchases,
        returns,
        cutoff=cfg.cutoff,
        config=cfg,
        seed=settings.seed,
        history=history_of(transactions, settings) if transactions is not None else None,
    )
    models, scores = fit_final(
        purchases,
        returns,
        as_of=as_of,
        config=cfg,
        seed=settings.seed,
        defaults=evaluation.defaults,
        metrics=evaluation.metrics,
    )
    models.importance = dict(evaluation.importance)
    return _align(customers, scores), {
        "predictions": Predictions(evaluation=evaluation, models=models)
    }


def history_of(transactions: ibis.Table, settings: Settings):
    """``as_of -> (purchases, returns)`` knowable at ``as_of``: earlier raw lines, cleaned alone."""

    def history(as_of: date):
        past = clean(transactions.filter(transactions.order_ts < as_of), settings.cleaning)
        return past.purchases, past.returns

    return history


def _align(customers: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    cols = ["customer_id", *[c for c in SCORE_COLUMNS if c in scores.columns]]
    merged = customers[["customer_id"]].merge(scores[cols], on="customer_id", how="left")
    out = merged.drop(columns="customer_id")
    out.index = customers.index
    return out


def score_with_saved(
    models_dir: str, customers: pd.DataFrame, purchases, returns, as_of: date
) -> pd.DataFrame:
    """Score customers of new data with models saved by an earlier run (schema checked)."""
    models = load_models(models_dir)
    frame, _ = customer_features(purchases, returns, as_of, models.config)
    scores = score_new(models, frame)
    return _align(customers, scores)
