"""Train on stacked backtests, evaluate on the true future period, compare with baselines.

``backtest_and_evaluate`` builds an evaluation backtest (features as of the cutoff, labels in
``(cutoff, cutoff + h]``, the period the models never see) and training backtests at the
cutoffs of ``training_cutoffs``: ``cutoff - h`` (whose labels end at the evaluation cutoff) and
up to ``stack_cutoffs - 1`` more, every ``stack_step_days`` back, so that the models learn from
several seasons (with ``stack_month_feature`` the cutoff's month is the feature
``cutoff_month``). Their rows are stacked;
calibration and the decision threshold use held-out *customers* (all their rows). BTYD
baselines are fitted on the evaluation period's feature window (they need no labels).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from custlens.config import ModelsConfig
from custlens.errors import DataError
from custlens.features.sampling import sample_rows
from custlens.models.backtest import (
    BacktestData,
    History,
    backtest_customer_ids,
    backtest_population,
    data_range,
    make_backtest,
    resolve_cutoff,
)
from custlens.models.baselines import (
    FIT_SEED,
    BtydBaseline,
    clv_forecasts,
    fit_score_maps,
    raw_churn_scores,
)
from custlens.models.btyd_evaluation import (
    btyd_holdout,
    btyd_only_evaluation,
    btyd_tables,
    select_btyd,
)
from custlens.models.churn import ChurnModel, calibration_note
from custlens.models.clv import ClvModel
from custlens.models.evaluation import (
    apply_threshold,
    binary_metrics,
    calibration_table,
    expected_calibration_error,
    lift_table,
    regression_metrics,
)
from custlens.models.next_purchase import NextPurchaseModel, missing_windows, single_window

log = logging.getLogger(__name__)


@dataclass
class TrainedModels:
    """Everything needed to score customers: the fitted models and how they were made."""

    churn: ChurnModel
    clv: ClvModel
    next_purchase: NextPurchaseModel | None
    score_maps: dict[str, Any]
    feature_names: tuple[str, ...]
    train_cutoff: date
    horizon_days: int
    config: ModelsConfig
    seed: int
    btyd: BtydBaseline | None = None
    as_of: date | None = None
    defaults: dict[str, str] = field(
        default_factory=lambda: {"churn": "lightgbm", "clv": "lightgbm"}
    )
    metrics: dict[str, Any] = field(default_factory=dict)
    importance: dict[str, float] = field(default_factory=dict)
    train_cutoffs: tuple[date, ...] = ()
    # the largest recency_days the LightGBM models learned from (None: unknown, e.g. models
    # saved before it was recorded); customers beyond it are scored as in models/confidence.py
    train_recency_max: float | None = None
    # the median average order value of the customers the LightGBM models learned from (None:
    # unknown): new data on another money scale are named in a note (models/score_notes.py)
    train_order_value_median: float | None = None
    # which line-cleaning rules the training data had (score_notes.feature_rules; None:
    # unknown): new data cleaned otherwise are named in a note
    cleaning_rules: dict[str, bool] | None = None


def training_cutoffs(last: date, first_purchase: date, config: ModelsConfig) -> list[date]:
    """The training cutoffs, latest first: ``last`` and then every ``stack_step_days`` back,
    at most ``stack_cutoffs`` of them, each with at least ``stack_min_history_days`` of
    purchases before it (``last`` is always kept)."""
    out = [last]
    step = timedelta(days=config.stack_step_days)
    earliest = first_purchase + timedelta(days=config.stack_min_history_days)
    while len(out) < config.stack_cutoffs and out[-1] - step >= earliest:
        out.append(out[-1] - step)
    return out


def stacked_backtests(
    purchases: ir.Table,
    returns: ir.Table | None,
    last: date,
    config: ModelsConfig,
    history: History | None = None,
    known: tuple[BacktestData, ...] = (),
    seed: int = 42,
    customers_at_most: int | None = None,
) -> list[BacktestData]:
    """Training backtests at ``training_cutoffs`` (latest first); an older cutoff whose
    backtest cannot be built (too few customers or churners) is skipped with a log line.

    ``known``: backtests already built from the same purchases, history and config (e.g. the
    evaluation's); one with the same cutoff and horizon is used instead of building it again.
    With a single cutoff, a backtest with more customers than ``max_train_rows`` is built for
    LightGBM's seeded sample of them alone (see ``lightgbm_customers``; ``customers_at_most``:
    an upper bound of any backtest's customers, or None).
    """
    first, _ = data_range(purchases)
    out = []
    cutoffs = training_cutoffs(last, first, config)
    if history is not None:  # asked twice per date (the sample's customers, the backtest)
        history = functools.lru_cache(maxsize=2)(history)
    for i, day in enumerate(cutoffs):
        same = [b for b in known if b.cutoff == day and b.horizon_days == config.horizon_days]
        if same:
            out.append(same[0])
            continue
        customers, population, rows = (
            lightgbm_customers(purchases, day, config, history, seed, customers_at_most)
            if len(cutoffs) == 1
            else (None, 0, None)
        )
        try:
            bt = make_backtest(
                purchases,
                returns,
                cutoff=day,
                horizon_days=config.horizon_days,
                config=config,
                history=history,
                customers=customers,
            )
            out.append(dataclasses.replace(bt, population=population, rows=rows))
        except DataError as exc:
            if i == 0:
                raise
            log.info("training cutoff %s skipped: %s", day, exc.what)
    return out


def lightgbm_customers(
    purchases: ir.Table,
    day: date,
    config: ModelsConfig,
    history: History | None,
    seed: int,
    customers_at_most: int | None = None,
) -> tuple[pa.Array | None, int, np.ndarray | None]:
    """The customers of LightGBM's seeded training sample in the backtest with cutoff ``day``
    (the rows ``_train_rows`` keeps of the whole backtest), how many customers the whole
    backtest has and the sample's positions among them; ``(None, 0, None)`` when the sample
    keeps everyone (or off DuckDB; no query runs when ``customers_at_most``, an upper bound of
    the backtest's customers, shows that it keeps everyone).

    Building the backtest for these customers alone gives LightGBM the same rows while the
    features are computed for a fraction of the customers; the baseline score maps and the
    class shares then learn from the same sample."""
    cap = config.max_train_rows
    if cap is None or _keep_all(customers_at_most, [cap]) or not _on_duckdb(purchases):
        return None, 0, None
    ids = backtest_customer_ids(purchases, day, history)
    pick = sample_rows(len(ids), cap, seed)
    if pick is None:
        return None, 0, None
    log.info(
        "training backtest %s built for a seeded sample of %d of %d customers", day, cap, len(ids)
    )
    return ids.take(pa.array(pick)), len(ids), pick


def _on_duckdb(purchases: ir.Table) -> bool:
    con = purchases._find_backend(use_default=True)
    return getattr(con, "name", None) == "duckdb"


def stack(bts: BacktestData | list[BacktestData]) -> BacktestData:
    """One backtest whose rows are those of ``bts`` (a customer once per cutoff), latest
    cutoff's metadata; the feature names must agree."""
    if isinstance(bts, BacktestData):
        return bts
    if len(bts) == 1:
        return bts[0]
    names = bts[0].feature_names
    if any(b.feature_names != names for b in bts):
        raise DataError(
            "The stacked backtests have different features",
            where="training cutoffs " + ", ".join(b.cutoff.isoformat() for b in bts),
            fix="report this as a bug",
        )
    frame = pd.concat([b.frame for b in bts], ignore_index=True)
    return BacktestData(
        cutoff=bts[0].cutoff, horizon_days=bts[0].horizon_days, frame=frame, feature_names=names
    )


def train(
    bt: BacktestData | list[BacktestData], config: ModelsConfig | None = None, seed: int = 42
) -> TrainedModels:
    """Fit churn, CLV and next-purchase LightGBM models and the baseline score maps on ``bt``
    (one backtest or several stacked; the churn model holds out whole customers), all on the
    rows ``_train_rows`` keeps (every row, or a seeded sample of ``max_train_rows``)."""
    config = config or ModelsConfig()
    cutoffs = (bt.cutoff,) if isinstance(bt, BacktestData) else tuple(b.cutoff for b in bt)
    bt = stack(bt)
    X, f = _train_rows(bt, config, seed)
    groups = f["customer_id"] if len(cutoffs) > 1 else None
    fits: dict[str, Callable[[], Any]] = {}
    edges = config.next_purchase_edges
    single = single_window(f["next_window"], edges)
    period = "training cutoff" + ("s " if len(cutoffs) > 1 else " ")
    period += ", ".join(c.isoformat() for c in cutoffs)
    if bt.horizon_days < edges[1]:
        log.info("next-purchase model skipped: horizon shorter than the last window edge")
    elif single is not None:  # a note: the scores have no next-purchase window
        log.warning("next-purchase model skipped (%s): %s", period, single)
    else:  # the longest fit first
        missing = missing_windows(f["next_window"], edges)
        if missing:
            log.warning(
                "next-purchase model (%s): no training customer's next order fell in %s, so "
                "the model never predicts it",
                period,
                " or ".join(f"'{m}'" for m in missing),
            )
        fits["next_purchase"] = lambda: NextPurchaseModel(config=config, seed=seed).fit(
            X, f["next_window"]
        )
    fits["churn"] = lambda: ChurnModel(config=config, seed=seed).fit(
        X, f["churned"], f["last_period_revenue"], groups=groups
    )
    fits["clv"] = lambda: ClvModel(config=config, seed=seed).fit(X, f["future_revenue"])
    fitted = fit_side_by_side(fits, threads=config.n_jobs)
    return TrainedModels(
        churn=fitted["churn"],
        clv=fitted["clv"],
        next_purchase=fitted.get("next_purchase"),
        score_maps=fit_score_maps(f),
        feature_names=bt.feature_names,
        train_cutoff=bt.cutoff,
        horizon_days=bt.horizon_days,
        config=config,
        seed=seed,
        train_cutoffs=cutoffs,
        train_recency_max=float(f["recency_days"].max()) if "recency_days" in f else None,
        train_order_value_median=(
            float(f["avg_order_value"].median()) if "avg_order_value" in f else None
        ),
    )


def fit_side_by_side(fits: dict[str, Callable[[], Any]], threads: int = 1) -> dict[str, Any]:
    """Run independent model fits at once, each on its own thread, as many at a time as the
    machine has cores for ``threads`` LightGBM threads per fit (one at a time when only one
    fits). LightGBM releases the GIL while it trains; every fit has its own seed and data, so
    the fitted models are the same as when they are fitted one after the other. Every LightGBM
    call inside a fit must use the same ``threads``: LightGBM holds one thread count for the
    process, and a call that sets another one while a fit trains can crash it."""
    workers = min(len(fits), max(1, (os.cpu_count() or 1) // max(1, threads)))
    if workers <= 1:
        return {name: fit() for name, fit in fits.items()}
    with ThreadPoolExecutor(workers, thread_name_prefix="custlens-fit") as pool:
        futures = {name: pool.submit(fit) for name, fit in fits.items()}
        return {name: future.result() for name, future in futures.items()}


def _train_rows(
    bt: BacktestData, config: ModelsConfig, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features and frame of the customers the models learn from: all, or a seeded sample of
    the whole backtest's customers (``bt.frame`` may hold only some of them, see
    ``BacktestData.sample``)."""
    frame = bt.sample(config.max_train_rows, seed)
    if frame is bt.frame and bt.rows is None:
        return bt.features, bt.frame
    if len(frame) < bt.customers:
        log.info(
            "models trained on a seeded sample of %d of %d customers", len(frame), bt.customers
        )
    return frame.loc[:, list(bt.feature_names)], frame  # the sample's features only


def mean_abs_shap(
    models: TrainedModels, X: pd.DataFrame, max_rows: int | None = None, seed: int = 0
) -> dict[str, float]:
    """Mean |SHAP| (log-odds) of the churn model per feature, largest first (on a seeded
    sample of ``max_rows`` rows when there are more); ``X`` holds at least the features."""
    if max_rows is not None and len(X) > max_rows:
        X = X.iloc[sample_rows(len(X), max_rows, seed)]
    imp = models.churn.contributions(X).abs().mean().sort_values(ascending=False)
    return {k: float(v) for k, v in imp.items()}


def evaluation_sample(ev: BacktestData, cap: int | None, seed: int) -> BacktestData:
    """The customers the backtest's metrics are computed on: every customer of ``ev``, or a
    seeded sample of ``cap`` of them (``ModelsConfig.eval_rows``) in the frame's order."""
    frame = ev.sample(cap, seed)
    if frame is ev.frame and ev.rows is None:
        return ev
    log.info("backtest metrics on a seeded sample of %d of %d customers", len(frame), ev.customers)
    return BacktestData(
        cutoff=ev.cutoff,
        horizon_days=ev.horizon_days,
        frame=frame.reset_index(drop=True),
        feature_names=ev.feature_names,
    )


def sample_note(metrics: dict[str, Any]) -> str | None:
    """The run note when the backtest's metrics use a sample of the evaluation period's
    customers (``periods.eval_sample`` in ``metrics``), else None."""
    periods = metrics.get("periods", {})
    if "eval_sample" not in periods:
        return None
    return (
        f"backtest metrics computed on a seeded sample of {periods['eval_sample']:,} of the "
        f"{periods['eval_customers']:,} customers of the evaluation period ([models] eval_rows)"
    )


@dataclass(frozen=True)
class _Predictions:
    """Each model's predictions on the evaluation backtest, computed once."""

    churn_raw: np.ndarray
    churn: np.ndarray
    clv: np.ndarray
    btyd: pd.DataFrame | None


def _churn_block(models: TrainedModels, ev: BacktestData, pred: _Predictions) -> dict:
    f = ev.frame
    y = f["churned"].to_numpy("int64")
    value = f["last_period_revenue"].to_numpy("float64")
    p = pred.churn
    scores: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
        "lightgbm": (p, p),
        "lightgbm_uncalibrated": (pred.churn_raw,) * 2,
    }
    if pred.btyd is not None:
        pb = pred.btyd["churn_probability"].to_numpy()
        scores["btyd"] = (pb, pb)
    for name, raw in raw_churn_scores(f).items():
        scores[name] = (raw, models.score_maps[name].predict(raw))
    out: dict[str, Any] = {}
    for name, (raw, prob) in scores.items():
        m = binary_metrics(y, raw, probability=False)
        m["brier"] = binary_metrics(y, prob)["brier"]
        m["ece"] = expected_calibration_error(y, prob)
        out[name] = m
    th = models.churn.threshold_
    cfg = models.config
    out["threshold"] = {
        "chosen_on": "held-out customers of the training periods",
        "goal": th.goal,
        "decision": th.decision,
        "settings": {
            "contact_cost": cfg.contact_cost,
            "margin": cfg.margin,
            "retention_uplift": cfg.retention_uplift,
        },
        "training_holdout": th.to_dict(),
        "evaluation": apply_threshold(y, p, value, th.value, cfg),
    }
    out["calibration"] = models.churn.calibration_report_
    return out


def _clv_block(ev: BacktestData, pred: _Predictions, btyd: BtydBaseline | None) -> dict:
    f = ev.frame
    actual = f["future_revenue"].to_numpy("float64")
    preds = {"lightgbm": pred.clv, **clv_forecasts(f)}
    if btyd is not None and btyd.gg is not None and pred.btyd is not None:
        clv = pred.btyd["clv"].to_numpy()
        if np.all(np.isfinite(clv)):
            preds["btyd"] = clv
    return {name: regression_metrics(actual, pred) for name, pred in preds.items()}


def _next_block(models: TrainedModels, ev: BacktestData, train_prior: np.ndarray) -> dict:
    y = ev.frame["next_window"].to_numpy("int64")
    assert models.next_purchase is not None  # called only when the model was trained
    proba = models.next_purchase.predict_proba(ev.frame)  # it reads its own features
    prior = np.tile(train_prior, (len(y), 1))
    out = {}
    for name, pr in (("lightgbm", proba), ("class_shares", prior)):
        present = np.unique(y)
        auc = (
            float(
                roc_auc_score(
                    y,
                    pr[:, present] / pr[:, present].sum(1, keepdims=True),
                    multi_class="ovr",
                    labels=present,
                )
            )
            if len(present) > 2 and name == "lightgbm"
            else None
        )
        out[name] = {
            "accuracy": float(accuracy_score(y, pr.argmax(1))),
            "log_loss": float(log_loss(y, np.clip(pr, 1e-12, 1), labels=[0, 1, 2])),
            "macro_roc_auc": auc,
        }
    return out


def choose_default(metrics: dict[str, Any], margin: float = 0.0) -> dict[str, str]:
    """The default scorer per task: LightGBM unless a baseline beats it by more than ``margin``
    (churn: ROC-AUC; CLV: Spearman correlation) on the evaluation period."""
    out = {}
    for task, key, candidates in (
        ("churn", "roc_auc", ("btyd", "last_period", "recency")),
        ("clv", "spearman", ("btyd", "last_period")),
    ):
        block = metrics.get(task, {})
        best, best_score = "lightgbm", block.get("lightgbm", {}).get(key, float("-inf"))
        for name in candidates:
            score = block.get(name, {}).get(key)
            if score is not None and np.isfinite(score) and score > best_score + margin:
                best, best_score = name, score
        out[task] = best
    return out


def evaluate(
    models: TrainedModels,
    ev: BacktestData,
    train_prior: np.ndarray | None = None,
    btyd: BtydBaseline | None = None,
):
    """Metrics (JSON-able dict) and tables of ``models`` on the evaluation backtest ``ev``
    (``btyd``: the BTYD baseline already fitted on ``ev``; fitted here as BG/NBD when None)."""
    note = ""
    if btyd is None:
        try:
            btyd = BtydBaseline.fit(ev.frame, max_rows=models.config.btyd_fit_rows)
            note = btyd.note
        except DataError as exc:
            note = f"BTYD baseline not fitted: {exc.what}"
            log.warning(note)
    # the models read their feature columns from the frame (``ev.features`` would copy them)
    raw = models.churn.predict_raw(ev.frame)
    pred = _Predictions(
        churn_raw=raw,
        churn=models.churn.calibrate(raw),
        clv=models.clv.predict(ev.frame),
        btyd=btyd.predict(ev.frame, ev.horizon_days) if btyd is not None else None,
    )
    metrics: dict[str, Any] = {
        "churn": _churn_block(models, ev, pred),
        "clv": _clv_block(ev, pred, btyd),
    }
    if btyd is not None:
        note = btyd.note
    metrics["notes"] = [note] if note else []
    if models.next_purchase is not None and train_prior is not None:
        metrics["next_purchase"] = _next_block(models, ev, train_prior)
    f = ev.frame
    y = f["churned"].to_numpy("int64")
    p = pred.churn
    tables = {
        "churn_calibration": calibration_table(y, p),
        "churn_lift": lift_table(y, p),
        "clv_lift": lift_table(f["future_revenue"], pred.clv),
    }
    if pred.btyd is not None:
        pb = pred.btyd["churn_probability"].to_numpy()
        tables["btyd_calibration"] = calibration_table(y, pb)
    return metrics, tables


@dataclass(frozen=True)
class ModelEvaluation:
    """The outcome of ``backtest_and_evaluate``."""

    metrics: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    models: TrainedModels
    defaults: dict[str, str]
    train_cutoff: date | None  # None: no labelled period for LightGBM (BTYD-only evaluation)
    eval_cutoff: date
    horizon_days: int
    importance: dict[str, float]
    seconds: float = 0.0
    backtest: BacktestData | None = None  # the evaluation backtest (reused by the final refit)


def evaluation_rows(n: int, config: ModelsConfig, seed: int) -> np.ndarray | None:
    """Positions (ascending) of the evaluation backtest's customers (``n`` of them) that its
    readers use when every sample is capped: the metrics' sample (``eval_rows``), the BTYD
    models' fitting sample (``btyd_fit_rows``), the SHAP sample (``shap_rows``) and the final
    refit's LightGBM sample (``max_train_rows``; the refit reuses this backtest when its
    cutoff is the refit's). None when they need every customer (a cap not reached, or several
    stacked training cutoffs: the refit then learns from the whole backtest's rows)."""
    if config.stack_cutoffs > 1:
        return None
    picks = [sample_rows(n, cap, s) for cap, s in _evaluation_caps(config, seed)]
    drawn = [p for p in picks if p is not None]
    if len(drawn) < len(picks):
        return None
    rows: np.ndarray = np.unique(np.concatenate(drawn))
    return None if len(rows) == n else rows


def _evaluation_caps(config: ModelsConfig, seed: int) -> list[tuple[int | None, int]]:
    """The caps and seeds of the samples ``evaluation_rows`` draws (see there)."""
    return [
        (config.eval_rows, seed),
        (config.btyd_fit_rows, FIT_SEED),
        (config.shap_rows, seed),
        (config.max_train_rows, seed),
    ]


def _keep_all(customers_at_most: int | None, caps: list[int | None]) -> bool:
    """Whether a sample of one of ``caps`` keeps every customer of a backtest of at most
    ``customers_at_most`` customers (None: unknown), as ``sample_rows`` draws it."""
    n = customers_at_most
    return n is not None and any(cap is None or n <= cap for cap in caps)


def evaluation_backtest(
    purchases: ir.Table,
    returns: ir.Table | None,
    cutoff: date,
    config: ModelsConfig,
    history: History | None,
    seed: int,
    customers_at_most: int | None = None,
) -> tuple[BacktestData, date]:
    """The evaluation backtest (cutoff ``cutoff``) and its first purchase date.

    On DuckDB, when ``evaluation_rows`` says its readers use only some customers, it is built
    for those customers alone (``BacktestData.rows``; each customer's row comes from their own
    lines, so the rows are those of the whole backtest) and the readers draw their samples
    with ``BacktestData.sample``. ``customers_at_most`` (an upper bound of the backtest's
    customers, or None): when a sample keeps them all, no query counts them."""
    h = config.horizon_days
    rows = None
    caps = [cap for cap, _ in _evaluation_caps(config, seed)]
    if _on_duckdb(purchases) and not (
        config.stack_cutoffs > 1 or _keep_all(customers_at_most, caps)
    ):
        ids, first_ts = backtest_population(purchases, cutoff, history)
        rows = evaluation_rows(len(ids), config, seed)
    if rows is None:
        ev = make_backtest(
            purchases, returns, cutoff=cutoff, horizon_days=h, config=config, history=history
        )
        return ev, min(ev.frame["first_order"]).date()
    log.info(
        "evaluation backtest %s built for the %d of %d customers its samples use",
        cutoff,
        len(rows),
        len(ids),
    )
    ev = make_backtest(
        purchases,
        returns,
        cutoff=cutoff,
        horizon_days=h,
        config=config,
        history=history,
        customers=ids.take(pa.array(rows)),
    )
    return dataclasses.replace(ev, population=len(ids), rows=rows), first_ts.date()


def backtest_and_evaluate(
    purchases: ir.Table,
    returns: ir.Table | None = None,
    *,
    cutoff: date | datetime | str | None = None,
    config: ModelsConfig | None = None,
    seed: int = 42,
    history: History | None = None,
    customers_at_most: int | None = None,
) -> ModelEvaluation:
    """Train on (cutoff - h, cutoff], evaluate on (cutoff, cutoff + h]; see the module docs.

    ``history`` (see ``make_backtest``) makes features use only what was knowable at each cutoff.
    ``customers_at_most``: an upper bound of the customers of any backtest (e.g.
    ``PastLines.customers_at_most``), or None; when every seeded sample keeps that many, the
    backtests are built without first counting their customers.
    """
    start = time.perf_counter()
    config = config or ModelsConfig()
    h = config.horizon_days
    eval_cutoff = resolve_cutoff(purchases, cutoff or config.cutoff, h)
    if history is not None:  # asked twice for the cutoff (its customers, the backtest)
        history = functools.lru_cache(maxsize=2)(history)
    ev, first = evaluation_backtest(
        purchases, returns, eval_cutoff, config, history, seed, customers_at_most
    )
    scored = evaluation_sample(ev, config.eval_rows, seed)
    # the BTYD models' fitting sample, drawn as ``BtydBaseline.fit`` draws it
    fit_frame = ev.sample(config.btyd_fit_rows, FIT_SEED)
    holdout = btyd_holdout(purchases, scored.frame, ev.cutoff, h)
    choose = functools.partial(select_btyd, fit_frame, holdout.actual, h, scored=scored.frame)
    if eval_cutoff - timedelta(days=h) < first:
        selection = choose()
        diagnostics = btyd_tables(holdout, scored.frame, selection, ev.cutoff, h)
        # BG/NBD, Pareto/NBD and Gamma-Gamma need no labelled period: evaluate them alone
        why = (
            f"LightGBM skipped: training needs a {h}-day labelled period before the cutoff "
            f"{eval_cutoff}, but the purchases start on {first} (a --cutoff on or after "
            f"{(first + timedelta(days=h)).isoformat()} or a shorter --horizon gives one); the "
            "BTYD models and the baselines are evaluated on the future period"
        )
        log.info(why)
        return btyd_only_evaluation(ev, selection, diagnostics, config, why, start, scored)
    # the BTYD fits need no engine: on a thread of their own while the engine builds the
    # training backtests and LightGBM trains (each fit is seeded: the same models either way)
    with ThreadPoolExecutor(1, thread_name_prefix="custlens-btyd") as side:
        choosing = side.submit(choose)
        trs = stacked_backtests(
            purchases,
            returns,
            eval_cutoff - timedelta(days=h),
            config,
            history,
            seed=seed,
            customers_at_most=customers_at_most,
        )
        models = train(trs, config, seed)
        selection = choosing.result()
    diagnostics = btyd_tables(holdout, scored.frame, selection, ev.cutoff, h)
    tr = stack(trs)
    prior = np.bincount(tr.frame["next_window"], minlength=3) / len(tr.frame)
    metrics, tables = evaluate(models, scored, prior, btyd=selection.chosen)
    metrics["notes"].extend(selection.notes)
    skipped = calibration_note(models.churn, "backtest churn model")
    if skipped:
        metrics["notes"].append(skipped)
    if models.next_purchase is None and h >= config.next_purchase_edges[1]:
        single = single_window(tr.frame["next_window"], config.next_purchase_edges)
        why = single or "the training customers' next orders all fell in one window"
        metrics["notes"].append(f"next-purchase model not trained or evaluated: {why}")
    metrics["btyd"] = selection.metrics
    tables.update(diagnostics)
    defaults = choose_default(metrics, config.choose_margin)
    importance = mean_abs_shap(models, ev.sample(config.shap_rows, seed))
    metrics["defaults"] = defaults
    cap = config.max_train_rows
    metrics["periods"] = {
        "train_cutoff": tr.cutoff.isoformat(),
        "train_cutoffs": [b.cutoff.isoformat() for b in trs],
        "eval_cutoff": ev.cutoff.isoformat(),
        "horizon_days": h,
        "train_customers": tr.population or int(tr.frame["customer_id"].nunique()),
        "train_rows": tr.customers,
        "lightgbm_train_rows": tr.customers if cap is None else min(cap, tr.customers),
        "eval_customers": ev.customers,
    }
    if len(scored.frame) < ev.customers:
        metrics["periods"]["eval_sample"] = len(scored.frame)
        metrics["notes"].insert(0, sample_note(metrics))
    for task, chosen in defaults.items():
        if chosen != "lightgbm":
            msg = f"{task}: the {chosen} baseline beats LightGBM on the future period"
            metrics["notes"].append(msg + f"; it is the default {task} scorer")
            log.warning(msg)
    if "chosen" in selection.metrics:
        defaults["btyd"] = selection.metrics["chosen"]
    return ModelEvaluation(
        metrics=metrics,
        tables=tables,
        models=models,
        defaults=defaults,
        train_cutoff=tr.cutoff,
        eval_cutoff=ev.cutoff,
        horizon_days=h,
        importance=importance,
        seconds=time.perf_counter() - start,
        backtest=ev,
    )
