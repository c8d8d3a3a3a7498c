"""Metrics for the backtest: classification, calibration, lift and gains, regression, thresholds.

Deciles are by rank: customers are sorted by score, highest first, ties kept in input order
(a stable sort), and the customer at 0-based position i is in decile ``floor(10 i / n) + 1``.
Decile 1 holds the highest scores.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from custlens.config import ModelsConfig
from custlens.errors import DataError


def _arrays(y: object, score: object) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype="float64")
    s_arr = np.asarray(score, dtype="float64")
    if y_arr.shape != s_arr.shape or y_arr.ndim != 1 or y_arr.size == 0:
        raise DataError(
            f"Labels and scores must be two 1-D arrays of one length, got {y_arr.shape} and "
            f"{s_arr.shape}",
            where="custlens.models.evaluation",
        )
    if not np.all(np.isfinite(s_arr)) or not np.all(np.isfinite(y_arr)):
        raise DataError("Labels and scores must be finite", where="custlens.models.evaluation")
    return y_arr, s_arr


def deciles(score: object, n_bins: int = 10) -> np.ndarray:
    """Decile (1 = highest score) of every element, by rank with a stable tie-break."""
    s = np.asarray(score, dtype="float64")
    order = np.argsort(-s, kind="mergesort")
    bins = np.empty(len(s), dtype="int64")
    bins[order] = np.arange(len(s)) * n_bins // len(s) + 1
    return bins


def binary_metrics(y: object, p: object, *, probability: bool = True) -> dict[str, float | None]:
    """ROC-AUC, PR-AUC (average precision) and the Brier score (None for non-probabilities)."""
    y_arr, p_arr = _arrays(y, p)
    if len(np.unique(y_arr)) < 2:
        raise DataError("ROC-AUC needs both classes", where="custlens.models.evaluation")
    return {
        "roc_auc": float(roc_auc_score(y_arr, p_arr)),
        "pr_auc": float(average_precision_score(y_arr, p_arr)),
        "brier": float(brier_score_loss(y_arr, np.clip(p_arr, 0, 1))) if probability else None,
        "positive_rate": float(y_arr.mean()),
        "n": len(y_arr),
    }


def calibration_table(y: object, p: object, n_bins: int = 10) -> pd.DataFrame:
    """Deciles of the predicted probability: n, mean predicted, observed rate (decile 1 highest)."""
    y_arr, p_arr = _arrays(y, p)
    frame = pd.DataFrame({"decile": deciles(p_arr, n_bins), "p": p_arr, "y": y_arr})
    out = frame.groupby("decile").agg(
        n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    return out.reset_index()


def expected_calibration_error(y: object, p: object, n_bins: int = 10) -> float:
    """Expected calibration error over the deciles of ``calibration_table``.

    ``sum over deciles of n_d / n * |mean predicted_d - observed rate_d|``: the share-weighted
    gap between what the probabilities say and what happened (0 = perfectly calibrated). The
    bins are the rank deciles of the calibration table (equal counts), so the number can be
    read off that table.
    """
    table = calibration_table(y, p, n_bins)
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((gap * table["n"]).sum() / table["n"].sum())


def lift_table(actual: object, score: object, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by score decile (decile 1 = highest scores).

    ``actual`` is a 0/1 outcome or a value (e.g. future revenue). Per decile: n, total,
    rate = total / n, lift = rate / overall rate, cumulative_gain = share of the overall total
    in deciles 1..d, cumulative_share = share of customers in deciles 1..d.
    """
    a, s = _arrays(actual, score)
    frame = pd.DataFrame({"decile": deciles(s, n_bins), "a": a})
    out = frame.groupby("decile").agg(n=("a", "size"), total=("a", "sum")).reset_index()
    overall_total = float(a.sum())
    overall_rate = overall_total / len(a)
    out["rate"] = out["total"] / out["n"]
    out["lift"] = out["rate"] / overall_rate if overall_rate else np.nan
    out["cumulative_gain"] = out["total"].cumsum() / overall_total if overall_total else np.nan
    out["cumulative_share"] = out["n"].cumsum() / len(a)
    return out


def top_decile_capture(actual: object, predicted: object) -> float:
    """Share of the total actual value held by the top decile (decile 1) of the prediction."""
    a, p = _arrays(actual, predicted)
    total = float(a.sum())
    if total == 0:
        return float("nan")
    return float(a[deciles(p) == 1].sum() / total)


def regression_metrics(actual: object, predicted: object) -> dict[str, float]:
    """Spearman correlation, MAE, RMSE and top-decile capture."""
    a, p = _arrays(actual, predicted)
    rho = spearmanr(a, p).statistic if np.ptp(a) > 0 and np.ptp(p) > 0 else float("nan")
    return {
        "spearman": float(rho),
        "mae": float(np.mean(np.abs(a - p))),
        "rmse": float(np.sqrt(np.mean((a - p) ** 2))),
        "top_decile_capture": top_decile_capture(a, p),
        "n": len(a),
    }


@dataclass(frozen=True)
class Threshold:
    """A churn-score threshold: contact customers with score >= ``value``.

    ``value`` is infinite ("contact nobody") when no threshold has a positive expected profit;
    ``to_dict`` writes it as ``None`` (JSON has no infinity) and ``None`` reads back as infinity
    (likewise the undefined precision of contacting nobody: ``None`` <-> NaN).
    """

    goal: str
    value: float
    precision: float
    recall: float
    contacted: int
    profit: float

    def __post_init__(self) -> None:
        if self.value is None:
            object.__setattr__(self, "value", math.inf)
        if self.precision is None:  # nobody contacted: precision is undefined
            object.__setattr__(self, "precision", math.nan)

    @property
    def contact_nobody(self) -> bool:
        return math.isinf(self.value)

    @property
    def decision(self) -> str:
        """The rule in words: "contact nobody" or "contact churn probability >= t"."""
        if self.contact_nobody:
            return "contact nobody"
        return f"contact churn probability >= {self.value:.3f}"

    def to_dict(self) -> dict[str, float | int | str | None]:
        out: dict[str, float | int | str | None] = dict(asdict(self))
        if self.contact_nobody:
            out["value"] = None
        if math.isnan(self.precision):
            out["precision"] = None
        return out


def _sweep(y: np.ndarray, p: np.ndarray, benefit: np.ndarray, cost: float) -> pd.DataFrame:
    """For every distinct score t (highest first): contacted, tp, profit of contacting p >= t."""
    order = np.argsort(-p, kind="mergesort")
    ps, ys, bs = p[order], y[order], benefit[order]
    tp = np.cumsum(ys)
    gain = np.cumsum(ys * bs) - cost * np.arange(1, len(ps) + 1)
    last = np.r_[ps[1:] != ps[:-1], True]  # the last position of each distinct score
    n = np.arange(1, len(ps) + 1)[last]
    return pd.DataFrame({"value": ps[last], "contacted": n, "tp": tp[last], "profit": gain[last]})


def choose_threshold(
    y: object, p: object, value: object, config: ModelsConfig | None = None
) -> Threshold:
    """The threshold for ``config.threshold_goal``.

    ``profit``: contacting a customer costs ``contact_cost``; a contacted churner is kept with
    probability ``retention_uplift`` and is worth ``margin * value`` (``value`` = e.g. the
    customer's revenue in the last period), so expected profit = sum over contacted of
    ``churned * retention_uplift * margin * value - contact_cost``; the threshold maximises it.
    Contacting nobody (profit 0) is one of the choices: when no threshold has a positive
    expected profit the threshold is infinite and nobody is contacted.
    ``recall_at_precision``: the lowest threshold whose precision is at least
    ``min_precision`` (the most recall); if none reaches it, the most precise threshold.
    """
    config = config or ModelsConfig()
    y_arr, p_arr = _arrays(y, p)
    _, v = _arrays(y, value)
    benefit = config.retention_uplift * config.margin * v
    sweep = _sweep(y_arr, p_arr, benefit, config.contact_cost)
    positives = max(float(y_arr.sum()), 1.0)
    sweep["precision"] = sweep["tp"] / sweep["contacted"]
    sweep["recall"] = sweep["tp"] / positives
    if config.threshold_goal == "profit":
        row = sweep.loc[sweep["profit"].idxmax()]
        if not row["profit"] > 0:
            return Threshold(
                goal="profit",
                value=math.inf,
                precision=math.nan,
                recall=0.0,
                contacted=0,
                profit=0.0,
            )
    else:
        ok = sweep[sweep["precision"] >= config.min_precision]
        row = ok.iloc[-1] if len(ok) else sweep.loc[sweep["precision"].idxmax()]
    return Threshold(
        goal=config.threshold_goal,
        value=float(row["value"]),
        precision=float(row["precision"]),
        recall=float(row["recall"]),
        contacted=int(row["contacted"]),
        profit=float(row["profit"]),
    )


def apply_threshold(
    y: object, p: object, value: object, threshold: float, config: ModelsConfig | None = None
) -> dict[str, float | int | str | None]:
    """Precision, recall, contacted and expected profit of contacting ``p >= threshold``
    (an infinite threshold is "contact nobody")."""
    config = config or ModelsConfig()
    y_arr, p_arr = _arrays(y, p)
    _, v = _arrays(y, value)
    hit = p_arr >= threshold
    tp = float(y_arr[hit].sum())
    profit = float(
        np.sum(y_arr[hit] * config.retention_uplift * config.margin * v[hit])
        - config.contact_cost * hit.sum()
    )
    return {
        "threshold": float(threshold) if math.isfinite(threshold) else None,
        "decision": "contact nobody"
        if math.isinf(threshold)
        else f"contact churn probability >= {threshold:.3f}",
        "share_contacted": float(hit.mean()),
        "precision": tp / hit.sum() if hit.any() else float("nan"),
        "recall": tp / y_arr.sum() if y_arr.sum() else float("nan"),
        "contacted": int(hit.sum()),
        "profit": profit,
    }
