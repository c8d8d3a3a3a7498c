"""Scores per customer: loyalty, churn risk and discount sensitivity, as documented formulas.

Each score is a :class:`custlens.config.profile.ScoreSpec` (data, overridable in
``[[profile.scores]]``): the mean of the percentile ranks (0-100, ties averaged) of its
components that the table has; a component that should lower the score enters as the
percentile rank of its negated values (so the lowest value ranks highest). A customer missing a component is scored on the others; a score with no
available component is skipped with a note. The defaults:

* ``loyalty_score``: tenure_days, total_purchases, total_spend (higher) and recency_days (lower);
* ``churn_risk``: recency_days (higher), total_purchases (lower), complained (higher);
* ``discount_sensitivity``: deal_share (higher).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from custlens.config.profile import ScoreSpec

__all__ = ["CustomerScores", "score_customers"]


@dataclass(frozen=True)
class CustomerScores:
    """Score columns and, per score, the components used and those missing."""

    scores: pd.DataFrame  # one column per computed score, aligned with the frame
    definitions: pd.DataFrame  # score, description, used, missing, formula
    notes: list[str] = field(default_factory=list)


def percentile(values: pd.Series) -> pd.Series:
    """Percentile rank 0-100 with average ties; missing stays missing.

    >>> percentile(pd.Series([10.0, 20.0, 20.0, None])).tolist()
    [33.33333333333333, 83.33333333333334, 83.33333333333334, nan]
    """
    return values.rank(method="average", pct=True) * 100


def score_customers(frame: pd.DataFrame, specs: list[ScoreSpec]) -> CustomerScores:
    """Compute every score of ``specs`` from the columns of ``frame``.

    Examples
    --------
    >>> from custlens.config.profile import ScoreComponent, ScoreSpec
    >>> spec = ScoreSpec(name="s", description="", components=[
    ...     ScoreComponent(feature="a"), ScoreComponent(feature="b", higher_is="lower")])
    >>> frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]})
    >>> score_customers(frame, [spec]).scores["s"].round(1).tolist()
    [33.3, 66.7, 100.0]
    """
    out = pd.DataFrame(index=frame.index)
    rows, notes = [], []
    for spec in specs:
        used = [c for c in spec.components if c.feature in frame.columns]
        missing = [c.feature for c in spec.components if c.feature not in frame.columns]
        formula = ", ".join(
            f"pct({c.feature})" if c.higher_is == "higher" else f"pct(-{c.feature})" for c in used
        )
        rows.append(
            {
                "score": spec.name,
                "description": spec.description,
                "used": ", ".join(c.feature for c in used),
                "missing": ", ".join(missing),
                "formula": f"mean({formula})" if used else "",
            }
        )
        if not used:
            notes.append(f"{spec.name} skipped: none of {', '.join(missing)} is available")
            continue
        parts = []
        for c in used:
            values = pd.to_numeric(frame[c.feature], errors="coerce")
            parts.append(percentile(values if c.higher_is == "higher" else -values))
        out[spec.name] = pd.concat(parts, axis=1).mean(axis=1)
        if missing:
            notes.append(f"{spec.name} computed without {', '.join(missing)} (absent)")
    return CustomerScores(out, pd.DataFrame(rows), notes)
