"""How the personas differ: tests with effect sizes, campaign response, high-value drivers.

* **Numeric features**: Kruskal-Wallis H across personas (missing values dropped) with the effect
  size epsilon squared, ``E2 = H (n + 1) / (n^2 - 1) = H / (n - 1)`` (Tomczak & Tomczak 2014),
  labelled by Rea & Parker's bands (< 0.01 negligible, < 0.04 weak, < 0.16 moderate, < 0.36
  relatively strong, < 0.64 strong, else very strong).
* **Categorical features and flags**: Pearson chi-square of persona x level (no continuity
  correction) with Cramer's V, ``sqrt(chi2 / (n (min(r, c) - 1)))``.
* Every p-value of both families is adjusted together by Benjamini-Hochberg
  (:func:`scipy.stats.false_discovery_control`); ``significant`` is ``p_adjusted < alpha``.
* **Campaigns**: per persona and campaign flag, the response rate with its Wilson score interval
  (Wilson 1927), the base rate of all customers and the lift (rate / base rate). A persona
  *responds best* when its rate is the highest; the result says whether the interval's lower
  bound clears the base rate.
* **High-value customers** (top ``1 - high_value_quantile`` by total spend): a shallow surrogate
  tree (:func:`custlens.segment.explain.explain_personas`) tells them apart from the rest using
  features that are not spend themselves, with its rules, held-out accuracy (fidelity) and the
  accuracy of always answering "other" for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from custlens.errors import DataError
from custlens.segment.explain import PersonaExplanation, explain_personas

__all__ = [
    "HighValueDrivers",
    "campaign_response",
    "categorical_tests",
    "epsilon_squared",
    "high_value_drivers",
    "numeric_tests",
    "wilson_interval",
]

_BANDS = (
    (0.01, "negligible"),
    (0.04, "weak"),
    (0.16, "moderate"),
    (0.36, "relatively strong"),
    (0.64, "strong"),
)


def effect_label(value: float) -> str:
    """Rea & Parker's words for an epsilon squared or Cramer's V."""
    if not np.isfinite(value):
        return ""
    for limit, word in _BANDS:
        if value < limit:
            return word
    return "very strong"


def epsilon_squared(h: float, n: int) -> float:
    """Epsilon squared of a Kruskal-Wallis H on ``n`` observations.

    >>> round(epsilon_squared(12.0, 61), 4)
    0.2
    """
    return float(h * (n + 1) / (n**2 - 1)) if n > 1 else float("nan")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion.

    >>> [round(v, 4) for v in wilson_interval(5, 20)]
    [0.1119, 0.4687]
    """
    if n == 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def numeric_tests(frame: pd.DataFrame, persona: pd.Series, features: list[str]) -> pd.DataFrame:
    """Kruskal-Wallis and epsilon squared per numeric feature (p-values not yet adjusted)."""
    rows = []
    codes, names = pd.factorize(persona.to_numpy(), sort=True)
    for feature in features:
        values = pd.to_numeric(frame[feature], errors="coerce").to_numpy(dtype="float64")
        ok = np.isfinite(values)
        v, c = values[ok], codes[ok]
        groups = [v[c == i] for i in range(len(names))]
        present = [i for i, g in enumerate(groups) if len(g)]
        if len(present) < 2 or np.ptp(v) == 0:
            continue
        h, p = stats.kruskal(*(groups[i] for i in present))
        medians = {names[i]: float(np.median(groups[i])) for i in present}
        eps = epsilon_squared(float(h), int(ok.sum()))
        rows.append(
            {
                "feature": feature,
                "kind": "numeric",
                "test": "Kruskal-Wallis",
                "n": int(ok.sum()),
                "statistic": float(h),
                "p_value": float(p),
                "effect": "epsilon_squared",
                "effect_size": eps,
                "strength": effect_label(eps),
                "highest": str(max(medians, key=lambda k: medians[k])),
                "highest_median": max(medians.values()),
                "lowest": str(min(medians, key=lambda k: medians[k])),
                "lowest_median": min(medians.values()),
            }
        )
    return pd.DataFrame(rows)


def contingency(rows: np.ndarray, columns: np.ndarray) -> pd.DataFrame:
    """Counts of every (row, column) pair: ``pd.crosstab`` by integer codes (fast on 1M rows).

    >>> contingency(np.array(["a", "a", "b"]), np.array(["x", "y", "y"])).values.tolist()
    [[1, 1], [0, 1]]
    """
    r, r_names = pd.factorize(rows, sort=True)
    c, c_names = pd.factorize(columns, sort=True)
    counts = np.bincount(r * len(c_names) + c, minlength=len(r_names) * len(c_names))
    return pd.DataFrame(counts.reshape(len(r_names), len(c_names)), index=r_names, columns=c_names)


def categorical_tests(frame: pd.DataFrame, persona: pd.Series, features: list[str]) -> pd.DataFrame:
    """Chi-square and Cramer's V per categorical feature or flag (p-values not yet adjusted)."""
    rows = []
    for feature in features:
        values = frame[feature].astype("string").fillna("(missing)")
        table = contingency(persona.to_numpy(), values.to_numpy())
        table = table.loc[:, table.sum(axis=0) > 0]
        if table.shape[0] < 2 or table.shape[1] < 2:
            continue
        chi2, p, dof, _ = stats.chi2_contingency(table.to_numpy(), correction=False)
        n = int(table.to_numpy().sum())
        v = math.sqrt(chi2 / (n * (min(table.shape) - 1)))
        rates = table.div(table.sum(axis=1), axis=0)
        totals = table.sum(axis=0)
        # the rarer level of a yes/no column (e.g. "1"), else the most common level
        top_level = totals.idxmin() if table.shape[1] == 2 else totals.idxmax()
        rows.append(
            {
                "feature": feature,
                "kind": "categorical",
                "test": "chi-square",
                "n": n,
                "statistic": float(chi2),
                "dof": int(dof),
                "p_value": float(p),
                "effect": "cramers_v",
                "effect_size": v,
                "strength": effect_label(v),
                "highest": f"{rates[top_level].idxmax()} ({top_level})",
                "highest_median": float(rates[top_level].max()),
                "lowest": f"{rates[top_level].idxmin()} ({top_level})",
                "lowest_median": float(rates[top_level].min()),
            }
        )
    return pd.DataFrame(rows)


def adjust(tests: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Add Benjamini-Hochberg ``p_adjusted`` and ``significant``; strongest effects first."""
    if tests.empty:
        return tests.assign(p_adjusted=[], significant=[])
    out = tests.copy()
    out["p_adjusted"] = stats.false_discovery_control(out["p_value"].to_numpy(), method="bh")
    out["significant"] = out["p_adjusted"] < alpha
    return out.sort_values(["effect_size", "feature"], ascending=[False, True]).reset_index(
        drop=True
    )


def campaign_response(
    frame: pd.DataFrame, persona: pd.Series, campaigns: list[str], confidence: float = 0.95
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Response rate per persona and campaign (Wilson interval, lift) and the best persona each.

    Examples
    --------
    >>> frame = pd.DataFrame({"cmp": [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]})
    >>> persona = pd.Series(["A"] * 4 + ["B"] * 6)
    >>> rates, best = campaign_response(frame, persona, ["cmp"])
    >>> rates[["persona", "responders", "rate", "lift"]].round(2).values.tolist()
    [['A', 3, 0.75, 1.88], ['B', 1, 0.17, 0.42]]
    >>> best[["campaign", "persona", "clears_base_rate"]].values.tolist()
    [['cmp', 'A', False]]
    """
    rows = []
    for campaign in campaigns:
        values = pd.to_numeric(frame[campaign], errors="coerce")
        ok = values.notna().to_numpy()
        base = float(values[ok].mean()) if ok.any() else float("nan")
        for name, group in values[ok].groupby(persona.to_numpy()[ok], sort=True):
            n, k = len(group), int(group.sum())
            low, high = wilson_interval(k, n, confidence)
            rate = k / n if n else float("nan")
            rows.append(
                {
                    "campaign": campaign,
                    "persona": name,
                    "customers": n,
                    "responders": k,
                    "rate": rate,
                    "ci_low": low,
                    "ci_high": high,
                    "base_rate": base,
                    "lift": rate / base if base > 0 else float("nan"),
                }
            )
    rates = pd.DataFrame(rows)
    if rates.empty:
        return rates, pd.DataFrame(
            columns=[
                "campaign",
                "persona",
                "rate",
                "ci_low",
                "base_rate",
                "lift",
                "clears_base_rate",
            ]
        )
    best = (
        rates.sort_values(["campaign", "rate", "persona"], ascending=[True, False, True])
        .groupby("campaign", sort=True)
        .head(1)
        .reset_index(drop=True)
    )
    best["clears_base_rate"] = best["ci_low"] > best["base_rate"]
    best = best[
        [
            "campaign",
            "persona",
            "rate",
            "ci_low",
            "ci_high",
            "base_rate",
            "lift",
            "clears_base_rate",
        ]
    ]
    return rates, best


@dataclass(frozen=True)
class HighValueDrivers:
    """What tells high-value customers apart: a shallow tree's rules and importances."""

    threshold: float  # total spend at the quantile
    share: float  # share of customers above it
    explanation: PersonaExplanation
    majority_accuracy: float  # accuracy of always answering "other" on everyone


def high_value_drivers(
    frame: pd.DataFrame,
    value: str,
    features: list[str],
    *,
    quantile: float,
    max_depth: int,
    seed: int,
    max_rows: int = 50_000,
) -> HighValueDrivers:
    """Fit the surrogate tree of "high value" (``value`` above its ``quantile``) on ``features``.

    Above ``max_rows`` customers the tree learns from a seeded sample (noted).
    """
    values = pd.to_numeric(frame[value], errors="coerce")
    threshold = float(values.quantile(quantile))
    high = values > threshold
    if high.sum() < 2 or (~high).sum() < 2:
        raise DataError(
            f"Too few customers above the {quantile:.0%} quantile of {value}",
            where=f"column {value!r}",
            fix="profile a larger table",
        )
    labels = np.where(high, "high value", "other")
    # the tree is what is reported; the forest beside it is kept small, the sample moderate
    explanation = explain_personas(
        frame,
        labels,
        features,
        seed=seed,
        max_depth=max_depth,
        forest_trees=10,
        permutation_repeats=3,
        max_rows=max_rows,
    )
    return HighValueDrivers(threshold, float(high.mean()), explanation, float((~high).mean()))
