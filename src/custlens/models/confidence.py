"""How far a score can be trusted: confidence tiers, and predictions the data cannot check,
withheld or replaced instead of looking precise.

``confidence_tiers`` names each customer's tier by the rules of ``ModelsConfig.tiers`` (by
default new and one-order customers are low-confidence). Two more rules keep every score
honest about how far it reaches beyond the data:

- **An as-of date more than one horizon after the data end** (``as_of > last purchase + 1 +
  horizon``): every customer's inputs count more than a whole horizon of days the data do not
  hold as days without orders, and the horizon to predict starts later still. No backtest can
  check a prediction there (the models were checked one day after their features end), and the
  premise itself (nobody bought in the gap) is unverifiable: an old export looks the same.
  ``withheld_reason`` says so, and ``withheld_scores`` gives every customer empty model columns
  with the source ``"withheld"`` (the confidence tiers, which describe the history, stay).
- **A customer whose recency is beyond the training range** (``recency_days`` above the largest
  one the LightGBM models learned from, ``TrainedModels.train_recency_max``): trees cannot
  extrapolate (such a customer is scored like the most lapsed training customers), so these
  customers get no next-purchase window, their LightGBM churn probability and CLV are replaced
  by the BTYD model's (which is defined for any recency; the recency rule for churn and no CLV
  when BTYD was not fitted), and they are flagged ``low_confidence`` with the tier
  ``OUT_OF_RANGE_TIER`` and a reason that says why (``beyond_training``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from custlens.config import ModelsConfig, TierRule

WITHHELD = "withheld"  # churn_source / clv_source of a score left empty
OUT_OF_RANGE_TIER = "out of range"  # confidence_tier of a customer beyond the training range


def confidence_tiers(frame: pd.DataFrame, tiers: list[TierRule]) -> tuple[np.ndarray, np.ndarray]:
    """Tier name and low-confidence flag per row: the first rule whose limits all hold."""
    orders = frame["frequency"].to_numpy("float64")
    tenure = frame["tenure_days"].to_numpy("float64")
    names = np.full(len(frame), tiers[-1].name, dtype=object)
    low = np.full(len(frame), tiers[-1].low_confidence)
    done = np.zeros(len(frame), dtype=bool)
    for rule in tiers:
        hit = ~done
        if rule.max_orders is not None:
            hit &= orders <= rule.max_orders
        if rule.max_tenure_days is not None:
            hit &= tenure <= rule.max_tenure_days
        names[hit], low[hit] = rule.name, rule.low_confidence
        done |= hit
    return names, low


def withheld_reason(as_of: date, last_purchase: date, horizon_days: int) -> str | None:
    """Why no customer is scored as of ``as_of`` (more than ``horizon_days`` after the day
    after ``last_purchase``), or None when the scores are computed.

    >>> withheld_reason(date(2024, 4, 1), date(2024, 1, 1), 90) is None  # 90 days after the end
    True
    >>> withheld_reason(date(2024, 4, 2), date(2024, 1, 1), 90)[:58]
    'predictions: customer scores skipped: the as-of date 2024-'
    """
    after = (as_of - last_purchase).days
    gap = after - 1  # the days between the last purchase and the as-of date, both excluded
    if gap <= horizon_days:
        return None
    return (
        f"predictions: customer scores skipped: the as-of date {as_of} comes {after} days after "
        f"the last purchase ({last_purchase}), more than the {horizon_days}-day horizon beyond "
        f"the data; every customer's inputs would count the {gap} days in between as days "
        f"without orders and the {horizon_days} days to predict lie further still, where no "
        "backtest can check a prediction (and an export that ends early looks the same), so "
        "churn probability, p_alive, expected purchases, CLV and the next-purchase window are "
        f"left empty (source '{WITHHELD}'). For scores, leave --as-of unset (or at most "
        f"{horizon_days + 1} days after the last purchase) or use data up to the as-of date"
    )


def withheld_scores(frame: pd.DataFrame, config: ModelsConfig, reason: str) -> pd.DataFrame:
    """The score columns of ``frame``'s customers (``customer_id``, ``frequency``,
    ``tenure_days``) when ``reason`` (``withheld_reason``) withholds them: empty model columns,
    source ``"withheld"``, the confidence tiers of the rules and a one-line reason."""
    n = len(frame)
    tier, low = confidence_tiers(frame, config.tiers)
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy()})
    out["churn_probability"] = np.full(n, np.nan)
    out["churn_source"] = WITHHELD
    out["p_alive"] = np.full(n, np.nan)
    out["expected_purchases"] = np.full(n, np.nan)
    out["clv"] = np.full(n, np.nan)
    out["clv_source"] = WITHHELD
    out["next_purchase_window"] = pd.Series([None] * n, dtype=object)
    out["confidence_tier"] = tier
    out["low_confidence"] = low
    short = reason.split(";")[0].removeprefix("predictions: customer ")
    for k in range(config.top_reasons):
        out[f"reason_{k + 1}"] = short if k == 0 else ""
    return out


def beyond_training(recency_days: object, train_recency_max: float | None) -> np.ndarray:
    """Per customer: is the recency above every recency the LightGBM models learned from?
    (All False when the maximum is unknown, e.g. models saved before it was recorded.)"""
    recency = np.asarray(recency_days, dtype="float64")
    if train_recency_max is None:
        return np.zeros(len(recency), dtype=bool)
    return recency > train_recency_max


def clv_beyond_training(
    beyond: np.ndarray, btyd_clv: np.ndarray | None, lgbm_clv: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The CLV and its source per customer when LightGBM's CLV is the default: LightGBM's, but
    for customers ``beyond`` the training range the BTYD CLV when it is finite, else none
    (source ``withheld``).

    >>> clv, source = clv_beyond_training(
    ...     np.array([False, True, True]), np.array([1.0, 2.0, np.nan]), np.array([5.0, 6.0, 7.0]))
    >>> clv.tolist(), source.tolist()
    ([5.0, 2.0, nan], ['lightgbm', 'btyd', 'withheld'])
    """
    other = np.full(len(beyond), np.nan) if btyd_clv is None else np.asarray(btyd_clv, "float64")
    swap = beyond & np.isfinite(other)
    clv = np.where(swap, other, np.where(beyond, np.nan, lgbm_clv))
    source = np.where(swap, "btyd", np.where(beyond, WITHHELD, "lightgbm"))
    return clv, source


def replaced_words(defaults: dict[str, str], fallback: str, has_btyd: bool) -> str:
    """What the churn and CLV of a customer beyond the training range are, in words
    (``defaults``: the default scorer per task; ``fallback``: the churn fallback)."""
    churn = defaults.get("churn", "lightgbm")
    clv = defaults.get("clv", "lightgbm")
    parts = [
        f"churn from the {fallback} baseline" if churn == "lightgbm" else f"churn from {churn}"
    ]
    if clv in ("lightgbm", "btyd"):
        parts.append("CLV from the btyd baseline" if has_btyd else "no CLV")
    else:
        parts.append(f"CLV from {clv}")
    return ", ".join(parts)


def sources_words(churn_source: str, clv_source: str, defaults: dict[str, str]) -> str:
    """Where one customer's churn and CLV come from, in words, from the sources the scoring
    gave them (``churn_source``, ``clv_source``): a source other than the default scorer is a
    baseline standing in for it.

    >>> sources_words("btyd", "last_period", {"churn": "recency", "clv": "last_period"})
    'churn from the btyd baseline, CLV from last_period'
    >>> sources_words("btyd", "withheld", {"churn": "lightgbm", "clv": "lightgbm"})
    'churn from the btyd baseline, no CLV'
    """
    churn = (
        f"churn from {churn_source}"
        if churn_source == defaults.get("churn", "lightgbm")
        else f"churn from the {churn_source} baseline"
    )
    if clv_source == WITHHELD:
        clv = "no CLV"
    elif clv_source == defaults.get("clv", "lightgbm"):
        clv = f"CLV from {clv_source}"
    else:
        clv = f"CLV from the {clv_source} baseline"
    return f"{churn}, {clv}"


def beyond_training_note(recency: float, train_recency_max: float, replaced: str) -> str:
    """The first reason of a customer beyond the training range (``replaced``: what their
    scores are instead, e.g. 'churn and CLV from the btyd baseline')."""
    return (
        f"recency {recency:,.0f} days, beyond the {train_recency_max:,.0f} days the models "
        f"learned from: {replaced}, no next-purchase window"
    )


def beyond_training_summary(
    scores: pd.DataFrame,
    train_recency_max: float | None,
    replaced: str,
    defaults: dict[str, str] | None = None,
) -> str | None:
    """The run note when some scored customers (``confidence_tier`` ``OUT_OF_RANGE_TIER``) are
    beyond the training range, else None (``replaced``: what their scores are instead, from
    ``replaced_words``; with ``defaults`` and the scores' sources, what each group of them got,
    counted: low-confidence customers among them may have another source)."""
    if train_recency_max is None or "confidence_tier" not in scores:
        return None
    beyond = scores["confidence_tier"] == OUT_OF_RANGE_TIER
    n = int(beyond.sum())
    if n == 0:
        return None
    if defaults is not None and {"churn_source", "clv_source"} <= set(scores.columns):
        groups = scores[beyond].groupby(["churn_source", "clv_source"]).size()
        groups = groups.sort_index().sort_values(ascending=False, kind="stable")
        if len(groups) > 1:
            replaced = "; ".join(
                f"{sources_words(str(a), str(b), defaults)} ({int(k):,})"
                for (a, b), k in groups.items()
            )
    return (
        f"predictions: {n:,} of {len(scores):,} customers have a recency beyond the "
        f"{train_recency_max:,.0f} days the LightGBM models learned from (trees cannot "
        f"extrapolate): they get no next-purchase window, {replaced}, and they are "
        f"low-confidence with the tier '{OUT_OF_RANGE_TIER}'"
    )


def p_alive_note(scores: pd.DataFrame, btyd: str) -> str | None:
    """The run note when every scored customer's ``p_alive`` is 1 (the ``btyd`` model, e.g.
    ``"pareto_nbd"``, found no dropout and reduced to the NBD model: the column then says
    nothing about a customer), else None (also when no customer has a ``p_alive``).

    >>> p_alive_note(pd.DataFrame({"p_alive": [1.0, 1.0]}), "pareto_nbd")[:58]
    'predictions: p_alive is 1 for all 2 scored customers: the '
    >>> p_alive_note(pd.DataFrame({"p_alive": [1.0, 0.4]}), "bgnbd") is None
    True
    """
    from custlens.models.baselines import BTYD_NAMES

    if "p_alive" not in scores:
        return None
    p = scores["p_alive"].to_numpy("float64")
    p = p[np.isfinite(p)]
    if len(p) == 0 or not np.all(p >= 1.0 - 1e-9):
        return None
    name = BTYD_NAMES.get(btyd, btyd)
    return (
        f"predictions: p_alive is 1 for all {len(p):,} scored customers: the {name} model "
        "found no dropout in the training data (it reduces to the NBD model, see the model "
        "card), so p_alive says nothing about a customer here; churn_probability, which "
        "counts the time without orders, does"
    )
