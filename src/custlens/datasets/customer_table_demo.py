"""A seeded, realistic NetSuite-style customer table for tests and the ``custlens audit`` demo.

One row per customer and snapshot with a profitability segment, a retention probability, a
composite score, transaction cadence, value, volatility, quarter shares and two categoricals.

Most customers behave like their segment: their ``retention_probability`` sits close to the
segment's level. A planted minority (about 9 %) are *misfits*: their retention is 0.20-0.35 away
from their segment's level, and their behaviour explains why:

``erratic_cadence``     (High/Medium/Low Profit, retention lower): few active months
                        (``transaction_count`` far below ``avg_transactions_per_month`` x age)
                        and a high coefficient of variation of order value.
``q4_seasonal``         (High/Medium/Low Profit, retention lower): about 60 % of transactions in
                        Q4; more often in Retail.
``new_high_potential``  (Low Profit/Break-Even/Loss, retention higher): young accounts with a high
                        ``comprehensive_customer_score`` but little revenue realised so far.

The ground truth is in ``_planted_misfit`` (bool) and ``_planted_persona`` (str, empty for
ordinary customers). Their names start with an underscore because ``custlens audit`` drops every
underscore-prefixed column before it analyses a table: the audit never sees the answer.
``region`` is independent of everything (a true null for the chi-square tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.errors import ConfigError

SEGMENTS = ("High Profit", "Medium Profit", "Low Profit", "Break-Even", "Loss")
_SEGMENT_P = (0.15, 0.25, 0.25, 0.15, 0.20)
_RETENTION = (0.85, 0.72, 0.58, 0.45, 0.30)
_SCORE = (82.0, 68.0, 55.0, 42.0, 30.0)
_RATE = (5.0, 3.5, 2.5, 1.8, 1.2)  # transactions per active month
_VALUE = (220.0, 140.0, 90.0, 60.0, 45.0)  # average transaction value
INDUSTRIES = ("Retail", "Manufacturing", "Technology", "Healthcare", "Professional Services")
REGIONS = ("North", "South", "East", "West")
PERSONAS = ("erratic_cadence", "q4_seasonal", "new_high_potential")
_PERSONA_P = (0.035, 0.030, 0.025)
_LATEST = pd.Timestamp("2024-12-31")
_DAYS_PER_MONTH = 30.4375


def customer_table_demo(n: int = 1000, seed: int = 0, snapshots: int = 1) -> pd.DataFrame:
    """A customer table with ``n`` customers and ``snapshots`` monthly snapshots each.

    Snapshots are month ends going back from 2024-12-31; a customer younger than a snapshot has
    no row for it. Rows are ordered by ``snapshot_date`` then ``customer_id``.
    """
    if not isinstance(n, int | np.integer) or n < 10:
        raise ConfigError(
            f"customer_table_demo needs n >= 10 customers, got {n!r}",
            where="customer_table_demo(n=...)",
            fix="pass an integer n of at least 10",
        )
    if not isinstance(snapshots, int | np.integer) or snapshots < 1:
        raise ConfigError(
            f"customer_table_demo needs snapshots >= 1, got {snapshots!r}",
            where="customer_table_demo(snapshots=...)",
            fix="pass a positive integer number of snapshots",
        )
    rng = np.random.default_rng(seed)
    base = _latest_snapshot(int(n), rng)
    frames = [base]
    for k in range(1, int(snapshots)):
        frames.append(_earlier_snapshot(base, k, rng))
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["snapshot_date", "customer_id"], kind="mergesort")
    return out.reset_index(drop=True)


def _latest_snapshot(n: int, rng: np.random.Generator) -> pd.DataFrame:
    seg = rng.choice(len(SEGMENTS), size=n, p=_SEGMENT_P)
    persona = _assign_personas(seg, rng)
    erratic = persona == 0
    seasonal = persona == 1
    newbie = persona == 2
    misfit = persona >= 0

    age_days = rng.integers(120, 1800, size=n).astype(float)
    age_days[newbie] = rng.integers(30, 200, size=int(newbie.sum()))
    active_share = rng.beta(18.0, 2.0, size=n)
    active_share[erratic] = rng.beta(3.0, 5.0, size=int(erratic.sum()))

    rate = np.asarray(_RATE)[seg] * rng.lognormal(0.0, 0.25, size=n)
    expected = rate * (age_days / _DAYS_PER_MONTH)
    count = np.maximum(1, rng.poisson(expected * active_share))
    value = np.asarray(_VALUE)[seg] * rng.lognormal(0.0, 0.3, size=n)
    cv = rng.lognormal(np.log(0.35), 0.25, size=n)
    cv[erratic] = rng.lognormal(np.log(1.1), 0.2, size=int(erratic.sum()))
    value_std = np.where(count >= 2, value * cv, np.nan)

    shares = rng.dirichlet([30.0, 30.0, 30.0, 30.0], size=n)
    shares[seasonal] = rng.dirichlet([3.0, 3.0, 3.0, 14.0], size=int(seasonal.sum()))

    score = np.asarray(_SCORE)[seg] + rng.normal(0.0, 8.0, size=n)
    score[newbie] += 25.0
    retention = np.asarray(_RETENTION)[seg] + rng.normal(0.0, 0.05, size=n)
    shift = rng.uniform(0.20, 0.35, size=n)
    retention = np.where(erratic | seasonal, np.asarray(_RETENTION)[seg] - shift, retention)
    retention = np.where(newbie, np.asarray(_RETENTION)[seg] + shift, retention)

    industry_p = np.full(len(INDUSTRIES), 1.0 / len(INDUSTRIES))
    retail_heavy = np.array([0.6, 0.1, 0.1, 0.1, 0.1])
    industry = np.where(
        seasonal,
        rng.choice(INDUSTRIES, size=n, p=retail_heavy),
        rng.choice(INDUSTRIES, size=n, p=industry_p),
    ).astype(object)
    industry[rng.random(n) < 0.01] = None  # a few records without an industry

    return pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:05d}" for i in range(1, n + 1)],
            "snapshot_date": _LATEST,
            "profitability_segment": np.asarray(SEGMENTS, dtype=object)[seg],
            "retention_probability": np.clip(retention, 0.01, 0.99).round(4),
            "comprehensive_customer_score": np.clip(score, 0.0, 100.0).round(1),
            "transaction_count": count.astype(np.int64),
            "avg_transactions_per_month": rate.round(3),
            "customer_age_days": age_days.astype(np.int64),
            "total_revenue": (count * value).round(2),
            "avg_transaction_value": value.round(2),
            "transaction_value_std": np.round(value_std, 2),
            "q1_share": shares[:, 0].round(4),
            "q2_share": shares[:, 1].round(4),
            "q3_share": shares[:, 2].round(4),
            "q4_share": shares[:, 3].round(4),
            "industry": industry,
            "region": rng.choice(REGIONS, size=n).astype(object),
            "_planted_misfit": misfit,
            "_planted_persona": np.where(
                misfit, np.asarray(PERSONAS, dtype=object)[np.maximum(persona, 0)], ""
            ).astype(object),
        }
    )


def _assign_personas(seg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """-1 for ordinary customers, else the index into PERSONAS (respecting eligible segments)."""
    n = len(seg)
    persona = np.full(n, -1)
    draw = rng.random(n)
    cut = np.cumsum(_PERSONA_P)
    upper = seg <= 2  # High, Medium, Low Profit
    lower = seg >= 2  # Low Profit, Break-Even, Loss
    # scale each persona's rate so its overall share stays near _PERSONA_P
    p_upper = upper.mean() or 1.0
    p_lower = lower.mean() or 1.0
    a_hi = cut[0] / p_upper
    b_hi = a_hi + (cut[1] - cut[0]) / p_upper
    c_hi = (cut[2] - cut[1]) / p_lower
    persona[upper & (draw < a_hi)] = 0
    persona[upper & (draw >= a_hi) & (draw < b_hi)] = 1
    persona[lower & (persona < 0) & (draw >= 1.0 - c_hi)] = 2
    return persona


def _earlier_snapshot(base: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """The snapshot ``k`` month ends before the latest: younger accounts, fewer transactions."""
    date = (_LATEST - pd.offsets.MonthEnd(k)).normalize()
    back = float((_LATEST - date).days)
    old = base[base["customer_age_days"] > back].copy()
    ratio = (old["customer_age_days"] - back) / old["customer_age_days"]
    old["snapshot_date"] = date
    old["customer_age_days"] = (old["customer_age_days"] - back).astype(np.int64)
    count = np.maximum(1, np.round(old["transaction_count"] * ratio)).astype(np.int64)
    old["transaction_count"] = count
    old["total_revenue"] = (count * old["avg_transaction_value"]).round(2)
    old.loc[count < 2, "transaction_value_std"] = np.nan
    jitter = rng.normal(0.0, 0.02, size=len(old))
    old["retention_probability"] = np.clip(old["retention_probability"] + jitter, 0.01, 0.99).round(
        4
    )
    return old
