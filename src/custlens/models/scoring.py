"""Score every customer: refit on everything up to the as-of date, then predict the horizon.

``fit_final`` trains on the latest labelled period (features as of ``as_of - 1 - h``, labels
up to the day before ``as_of``; when ``as_of`` is later than the day after the last purchase,
the latest period the data hold, see ``final_cutoff``) and fits BG/NBD + Gamma-Gamma on all
data before ``as_of``.
``score_customers`` adds per customer: churn_probability (and which method gave it),
p_alive, expected_purchases (purchase days in the horizon, BG/NBD), clv (horizon, discounted),
next_purchase_window, confidence_tier / low_confidence (rules in ``ModelsConfig.tiers``) and the
top reasons of the LightGBM churn score from exact TreeSHAP values, in plain words (for at most
``ModelsConfig.reason_rows`` customers: those with the largest churn probability x spend).

Low-confidence customers (by default new or one-order customers) never get a LightGBM churn
score: theirs comes from BG/NBD (or, when it could not be fitted, the recency rule). Neither do
customers whose recency is beyond every recency the models learned from (tier "out of range":
no next-purchase window, churn and CLV from BTYD); an as-of date more than one horizon after
the data end gets no scores at all (see ``custlens.models.confidence``).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens._validation import require_columns
from custlens.config import ModelsConfig
from custlens.errors import DataError, ModelError
from custlens.features.catalog import FEATURES
from custlens.features.labels import FEATURE_LABELS, value_text
from custlens.features.rfm import resolve_as_of
from custlens.models.backtest import BacktestData, History, data_range
from custlens.models.baselines import BtydBaseline, raw_churn_scores
from custlens.models.confidence import (
    OUT_OF_RANGE_TIER,
    beyond_training,
    beyond_training_note,
    clv_beyond_training,
    confidence_tiers,
    replaced_words,
    sources_words,
    withheld_reason,
)
from custlens.models.model_rows import BTYD_COLUMNS, FeatureRows, feature_rows
from custlens.models.next_purchase import window_labels
from custlens.models.trainer import TrainedModels, stacked_backtests, train

log = logging.getLogger(__name__)

_UNITS = {f.name: f.unit for f in FEATURES}
_LABELS = {
    "recency_days": "recency",
    "tenure_days": "tenure",
    "frequency": "orders so far",
    "monetary": "total spend",
    "days_overdue": "days overdue",
    "lifecycle_stage": "lifecycle stage",
}
_STAGES = ("new", "growing", "mature", "at_risk", "lapsed")  # model_rows.LIFECYCLE_CODES order
REASON_BLOCK = 100_000  # customers per block of SHAP contributions (about 60 MB)
_LGBM_CLV = "_lightgbm_clv"  # a block's LightGBM CLV, kept until the BTYD CLV is checked
_BEYOND = "_beyond_training"  # a block's customers beyond the training range (confidence.py)
SCORE_BLOCK = 250_000  # customers scored at a time (bounds LightGBM's and BTYD's temporaries)


def _format(feature: str, value: float) -> str:
    label = _LABELS.get(feature, feature.replace("_", " "))
    if value is None or not np.isfinite(value):
        return f"{label} unknown"
    if feature in FEATURE_LABELS:  # the phrase anomaly reasons use: "returned 50% of items"
        return value_text(feature, value)
    if feature == "lifecycle_stage":
        return f"{label} '{_STAGES[int(value)].replace('_', ' ')}'"
    unit = _UNITS.get(feature, "")
    if unit == "days":
        return f"{label} {value:,.0f} days"
    if unit == "currency":
        return f"{label} {value:,.2f}"
    if unit in ("ratio", "nats") or unit.startswith("score"):
        return f"{label} {value:.2f}"
    if unit == "flag":
        return f"{label} {'yes' if value else 'no'}"
    return f"{label} {value:,.0f}" if float(value).is_integer() else f"{label} {value:,.1f}"


def reasons(models: TrainedModels, X: pd.DataFrame, k: int = 3) -> list[list[str]]:
    """The ``k`` features with the largest |SHAP| for each customer's churn score, in words,
    e.g. 'recency 210 days raises churn risk' (TreeSHAP in blocks of ``REASON_BLOCK`` rows, so
    the contributions of many customers are never held at once). ``X`` holds at least the
    model's features (other columns are ignored)."""
    names = list(models.churn.feature_names_)
    out: list[list[str]] = []
    for start in range(0, len(X), REASON_BLOCK):
        part = X.iloc[start : start + REASON_BLOCK]
        contrib = models.churn.contributions(part).to_numpy()
        values = part[names].to_numpy("float64")
        top = np.argsort(-np.abs(contrib), axis=1, kind="mergesort")[:, :k]
        rows = np.arange(len(part))[:, None]
        c, v = contrib[rows, top], values[rows, top]
        words = np.full(top.shape, "", dtype=object)
        for j in np.unique(top):  # one feature at a time: its label and unit looked up once
            hit = top == j
            effect = np.where(c[hit] > 0, " raises churn risk", " lowers churn risk")
            words[hit] = [_format(names[j], x) + e for x, e in zip(v[hit], effect, strict=True)]
        words[c == 0] = ""
        out.extend([w for w in row if w] for row in words.tolist())
    return out


def reason_customers(churn: np.ndarray, frame: pd.DataFrame, limit: int | None) -> np.ndarray:
    """Row positions (ascending) of the customers who get TreeSHAP reasons: everyone when there
    are at most ``limit``, else the ``limit`` with the largest churn probability x spend
    (``monetary``, negative or missing counted as 0); ties keep the frame's order."""
    n = len(frame)
    if limit is None or n <= limit:
        return np.arange(n)
    spend = np.nan_to_num(frame["monetary"].to_numpy("float64"), nan=0.0).clip(min=0.0)
    key = np.nan_to_num(np.asarray(churn, dtype="float64"), nan=0.0) * spend
    return np.sort(np.argsort(-key, kind="stable")[:limit])


def reasons_note(customers: int, config: ModelsConfig) -> str | None:
    """The run note when only some customers get reasons (``reason_rows``), else None."""
    limit = config.reason_rows
    if limit is None or customers <= limit:
        return None
    return (
        f"churn reasons (TreeSHAP) computed for the {limit:,} of {customers:,} customers with "
        "the largest churn probability x spend; the other customers' reason cells are empty, "
        "except the low-confidence note ([models] reason_rows)"
    )


def check_schema(models: TrainedModels, frame: pd.DataFrame) -> None:
    """MappingError unless ``frame`` has every model feature (and the columns scoring reads);
    ModelError unless the features are numbers."""
    needed = [
        "customer_id",
        "frequency",
        "monetary",
        "tenure_days",
        "recency_days",
        "last_period_orders",
    ]
    require_columns(
        frame,
        dict.fromkeys([*models.feature_names, *needed]),
        what="the new data",
        fix="build the input with custlens.models.backtest.customer_features from data with "
        "the same optional columns (product_id, category, returns) as the training data",
    )
    bad = [c for c in models.feature_names if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ModelError(
            f"Feature(s) {bad[:10]} are not numeric in the new data",
            where=str({c: str(frame[c].dtype) for c in bad[:10]}),
            fix="build the input with custlens.models.backtest.customer_features",
        )


_SCORER_WORDS = {"recency": "the recency rule", "btyd": "BTYD", "last_period": "last period"}


def score_customers(models: TrainedModels, frame: pd.DataFrame | FeatureRows) -> pd.DataFrame:
    """One row per customer of ``frame`` (from ``customer_features``, or its ``FeatureRows``)
    with the scores.

    The scores are computed in blocks of ``SCORE_BLOCK`` customers (each customer's scores
    depend only on their own row, so the blocks change no value and bound the temporary
    arrays; with ``FeatureRows`` no block's features are held beside another's); then the
    reasons, for the customers ``reason_customers`` picks."""
    rows = frame if isinstance(frame, FeatureRows) else FeatureRows.whole(frame)
    cfg = models.config
    # the BTYD quantities once for every customer: they are computed per distinct (x, t_x, T)
    btyd = (
        models.btyd.predict(
            rows.select(["customer_id", *BTYD_COLUMNS]), models.horizon_days, cfg.discount_rate
        )
        if models.btyd
        else None
    )
    blocks = [
        _score_block(models, rows.select(rows=part), None if btyd is None else btyd.iloc[part])
        for part in rows.blocks(SCORE_BLOCK)
    ]
    del btyd
    out = blocks[0] if len(blocks) == 1 else pd.concat(blocks, ignore_index=True)
    del blocks
    beyond = out.pop(_BEYOND).to_numpy(dtype=bool)
    if _LGBM_CLV in out.columns:
        btyd_clv = out["clv"].to_numpy("float64")
        if not np.all(np.isfinite(btyd_clv)):
            # the LightGBM CLV for everyone but those beyond the training range, who keep a
            # finite BTYD CLV (else none)
            out["clv"], out["clv_source"] = clv_beyond_training(
                beyond, btyd_clv, out[_LGBM_CLV].to_numpy("float64")
            )
        out = out.drop(columns=_LGBM_CLV)
    fallback = "btyd" if models.btyd is not None else "recency"
    out_of_range = np.flatnonzero(beyond)
    low = np.flatnonzero(out["low_confidence"].to_numpy(dtype=bool) & ~beyond)
    spend = rows.select(["monetary"])
    pick = reason_customers(out["churn_probability"].to_numpy(), spend, cfg.reason_rows)
    if len(pick) < len(rows):
        log.info(reasons_note(len(rows), cfg))
    # one column per reason: a customer's reasons fill the first ones, "" after them
    words = np.full((cfg.top_reasons, len(rows)), "", dtype=object)
    names = list(models.churn.feature_names_)
    for start in range(0, len(pick), REASON_BLOCK):
        at = pick[start : start + REASON_BLOCK]
        for i, w in zip(at, reasons(models, rows.select(names, at), cfg.top_reasons), strict=True):
            words[: len(w), i] = w
    if len(low):  # the low-confidence note first, the customer's other reasons after it
        few = rows.select(["frequency", "tenure_days"], low)
        words[1:, low] = words[:-1, low]
        words[0, low] = [
            f"few orders so far ({orders:.0f}, tenure {tenure:.0f} days): low-confidence "
            f"score from the {fallback} baseline"
            for orders, tenure in zip(few["frequency"], few["tenure_days"], strict=True)
        ]
    default = models.defaults.get("churn", "lightgbm")
    scored_elsewhere = np.flatnonzero(
        (out["churn_source"].to_numpy() != "lightgbm") & ~out["low_confidence"].to_numpy(bool)
    )
    if default != "lightgbm" and len(scored_elsewhere):
        # the SHAP reasons explain LightGBM's score, not the one these customers were given
        words[1:, scored_elsewhere] = words[:-1, scored_elsewhere]
        scorer = _SCORER_WORDS.get(default, default)
        words[0, scored_elsewhere] = (
            f"churn probability from {scorer}, the scorer that won the backtest; the reasons "
            "after this one are the LightGBM model's"
        )
    if len(out_of_range):  # likewise: why these customers' scores are not LightGBM's
        recency = rows.select(["recency_days"], out_of_range)["recency_days"]
        words[1:, out_of_range] = words[:-1, out_of_range]
        assert models.train_recency_max is not None  # beyond_training is all False without it
        # each customer's own sources: a low-confidence one may have the fallback where the
        # others have the default scorer
        churn_src = out["churn_source"].to_numpy()[out_of_range]
        clv_src = out["clv_source"].to_numpy()[out_of_range]
        words[0, out_of_range] = [
            beyond_training_note(
                r, models.train_recency_max, sources_words(str(a), str(b), models.defaults)
            )
            for r, a, b in zip(recency, churn_src, clv_src, strict=True)
        ]
    for k in range(cfg.top_reasons):
        out[f"reason_{k + 1}"] = words[k]
    return out


def out_of_range_words(models: TrainedModels) -> str:
    """Where the churn and CLV of a customer beyond the training range come from, in words
    (e.g. 'churn from btyd, CLV from last_period'; ``confidence.replaced_words``)."""
    has_btyd = models.btyd is not None
    return replaced_words(models.defaults, "btyd" if has_btyd else "recency", has_btyd)


def _score_block(
    models: TrainedModels, frame: pd.DataFrame, btyd_pred: pd.DataFrame | None
) -> pd.DataFrame:
    """The scores (all but the reasons) of the customers of ``frame`` (``btyd_pred``: their
    BTYD predictions, when there is a BTYD model)."""
    cfg = models.config
    X = frame[list(models.feature_names)]
    h = models.horizon_days
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy()})
    tier, low = confidence_tiers(frame, cfg.tiers)
    beyond = beyond_training(frame["recency_days"], models.train_recency_max)
    lgbm_churn = models.churn.predict_proba(X)
    raw = raw_churn_scores(frame)
    mapped = {name: models.score_maps[name].predict(s) for name, s in raw.items()}
    fallback = "btyd" if btyd_pred is not None else "recency"
    fallback_p = btyd_pred["churn_probability"].to_numpy() if btyd_pred is not None else None
    if fallback_p is None:
        fallback_p = mapped["recency"]
    default = models.defaults.get("churn", "lightgbm")
    if default == "lightgbm":
        main = lgbm_churn
    elif default == "btyd" and btyd_pred is not None:
        main = btyd_pred["churn_probability"].to_numpy()
    else:
        default = default if default in mapped else "recency"
        main = mapped[default]
    # low-confidence customers, and those beyond the training range when LightGBM is the
    # default, get the fallback (BTYD, else the recency rule): trees cannot extrapolate
    backup = low | (beyond & (default == "lightgbm"))
    out["churn_probability"] = np.where(backup, fallback_p, main)
    out["churn_source"] = np.where(backup, fallback, default)
    out["p_alive"] = btyd_pred["p_alive"].to_numpy() if btyd_pred is not None else np.nan
    out["expected_purchases"] = (
        btyd_pred["expected_purchases"].to_numpy() if btyd_pred is not None else np.nan
    )
    lgbm_clv = models.clv.discounted(X, h, cfg.discount_rate)
    clv_default = models.defaults.get("clv", "lightgbm")
    btyd_clv = btyd_pred["clv"].to_numpy() if btyd_pred is not None else None
    if clv_default == "btyd" and btyd_clv is not None:
        # BTYD only when finite for every customer (decided in score_customers over all blocks)
        out["clv"], out["clv_source"] = btyd_clv, "btyd"
    elif clv_default == "last_period":
        factor = (1.0 + cfg.discount_rate) ** (-(h / 2.0) / 365.25)
        out["clv"] = frame["last_period_revenue"].to_numpy() * factor
        out["clv_source"] = "last_period"
    else:
        # beyond the training range: the BTYD CLV when finite, else none
        out["clv"], out["clv_source"] = clv_beyond_training(beyond, btyd_clv, lgbm_clv)
    if models.next_purchase is not None:
        labels = np.array(window_labels(cfg.next_purchase_edges), dtype=object)
        window = labels[models.next_purchase.predict(X)]
        window[beyond] = None  # no window beyond the training range
        out["next_purchase_window"] = window
    out["confidence_tier"] = np.where(beyond, OUT_OF_RANGE_TIER, tier)
    out["low_confidence"] = low | beyond
    if clv_default == "btyd" and btyd_clv is not None:
        out[_LGBM_CLV] = np.where(beyond, np.nan, lgbm_clv)
    out[_BEYOND] = beyond
    return out


def score_new(models: TrainedModels, customers_df: pd.DataFrame) -> pd.DataFrame:
    """Score a new feature frame with saved models (schema checked first)."""
    check_schema(models, customers_df)
    return score_customers(models, customers_df)


def fit_final(
    purchases: ir.Table,
    returns: ir.Table | None = None,
    *,
    as_of: date | datetime | str | None = None,
    config: ModelsConfig | None = None,
    seed: int = 42,
    defaults: dict[str, str] | None = None,
    metrics: dict | None = None,
    history: History | None = None,
    known: tuple[BacktestData, ...] = (),
    table: pd.DataFrame | None = None,
) -> tuple[TrainedModels, pd.DataFrame]:
    """Refit on everything before ``as_of`` (default: the day after the last purchase) and
    score every customer; returns the models (for ``persist.save_models``) and the scores.

    An ``as_of`` more than ``horizon_days`` after the day after the last purchase is refused
    with a ``DataError`` (``confidence.withheld_reason``: nothing there can be checked; the
    pipeline withholds the scores with a note instead).

    The refit uses the same stacked training cutoffs as the evaluation (see
    ``trainer.training_cutoffs``), the latest one ``horizon`` before ``as_of`` (or before the
    last purchase, when that is earlier: ``final_cutoff``). ``known``:
    backtests already built from the same purchases, history and config (by default the
    evaluation backtest's cutoff is the refit's latest one), used instead of building them.
    ``table``: the customer table as of ``as_of`` (see ``customer_features``' ``known``).

    The BTYD model (``defaults['btyd']``, BG/NBD by default) needs no engine: it is fitted on
    every customer's features as of ``as_of`` on a thread of its own while the LightGBM models
    train (each fit is seeded: the same models either way)."""
    config = config or ModelsConfig()
    day = resolve_as_of(purchases, as_of)
    last_purchase = data_range(purchases)[1]
    why = withheld_reason(day, last_purchase, config.horizon_days)
    if why is not None:
        raise DataError(
            f"No customer can be scored as of {day}: it is more than the "
            f"{config.horizon_days}-day horizon after the day after the last purchase",
            where=f"last purchase {last_purchase}, as-of date {day}",
            fix=f"use an as-of date on or before {last_purchase + timedelta(days=1 + config.horizon_days)} "
            "or data up to the as-of date (custlens run withholds the scores with a note; see "
            "custlens.models.confidence)",
        )
    rows = feature_rows(purchases, returns, day, config, known=table)
    kind = (defaults or {}).get("btyd", "bgnbd")
    with ThreadPoolExecutor(1, thread_name_prefix="custlens-btyd") as side:
        btyd = side.submit(fit_btyd, rows.select(BTYD_COLUMNS), kind, config)
        models = refit(
            purchases,
            returns,
            as_of=day,
            config=config,
            seed=seed,
            defaults=defaults,
            metrics=metrics,
            history=history,
            known=known,
        )
        models.btyd = btyd.result()
    return models, score_customers(models, rows)


def fit_btyd(frame: pd.DataFrame, kind: str, config: ModelsConfig) -> BtydBaseline | None:
    """The BTYD model ``kind`` fitted on the customers of ``frame`` (from
    ``customer_features``; a seeded sample of ``config.btyd_fit_rows`` when there are more), or
    None with a warning when it cannot be fitted."""
    try:
        return BtydBaseline.fit(frame, kind=kind, max_rows=config.btyd_fit_rows)
    except DataError as exc:
        log.warning("BTYD not fitted for scoring: %s", exc.what)
        return None


def final_cutoff(purchases: ir.Table, as_of: date, horizon_days: int) -> date:
    """The final refit's latest training cutoff: ``as_of - 1 - horizon`` (labels up to the day
    before ``as_of``), or ``last purchase - horizon`` when that is earlier: an ``as_of`` after
    the day after the last purchase leaves no fully recorded labelled period that ends before
    it, so the models learn from the latest one the data hold (see ``final_cutoff_note``)."""
    wanted = as_of - timedelta(days=1 + horizon_days)
    _, last_purchase = data_range(purchases)
    return min(wanted, last_purchase - timedelta(days=horizon_days))


def final_cutoff_note(models: TrainedModels, last_purchase: date) -> str | None:
    """The run note when the final models learned from a period that ends before the day
    before their as-of date (``final_cutoff``), else None."""
    if models.as_of is None:
        return None
    h = models.horizon_days
    if models.train_cutoff >= models.as_of - timedelta(days=1 + h):
        return None
    after = (models.as_of - last_purchase).days
    return (
        f"predictions: the as-of date {models.as_of} comes {after} days after the last "
        f"purchase ({last_purchase}), so no recorded {h}-day labelled period ends the day "
        f"before it: the models learned from the latest one the data hold (features up to "
        f"{models.train_cutoff}, labels to {models.train_cutoff + timedelta(days=h)}) and score "
        f"every customer as of {models.as_of}, counting the {after - 1} days in between as "
        f"days without orders; if orders after {last_purchase} exist but are missing from the "
        "data, churn is overstated and CLV understated (use data up to the as-of date, or "
        "leave --as-of unset)"
    )


def refit(
    purchases: ir.Table,
    returns: ir.Table | None = None,
    *,
    as_of: date | datetime | str | None = None,
    config: ModelsConfig | None = None,
    seed: int = 42,
    defaults: dict[str, str] | None = None,
    metrics: dict | None = None,
    history: History | None = None,
    known: tuple[BacktestData, ...] = (),
) -> TrainedModels:
    """The LightGBM models and score maps of ``fit_final`` (no BTYD model, no scores yet)."""
    config = config or ModelsConfig()
    day = resolve_as_of(purchases, as_of)
    last = final_cutoff(purchases, day, config.horizon_days)
    bts = stacked_backtests(purchases, returns, last, config, history, known, seed=seed)
    models = train(bts, config, seed)
    models.as_of = day
    if defaults:
        models.defaults = dict(defaults)
    if metrics:
        models.metrics = metrics
    return models
