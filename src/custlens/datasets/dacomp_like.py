"""A customer table shaped like the dacomp-076 benchmark table, for the audit's closing check.

The benchmark's table is not distributed here; this is built from its description: 149 snapshot
rows of 107 customers, five profitability segments, NetSuite-like columns with quarter
*counts* ``q1_transactions`` .. ``q4_transactions`` (not shares) and a categorical
``transaction_consistency`` (Consistent / Irregular / Sporadic), and every row dated the same
day (so ``--latest-by snapshot_date`` needs a tie-break). It starts from
:func:`custlens.datasets.customer_table_demo.customer_table_demo` (same planted misfits, ground
truth in underscore columns); 42 customers get a second row on the same date with a slightly
different retention probability and transaction count (a re-scored snapshot).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.datasets.customer_table_demo import customer_table_demo

ROWS, CUSTOMERS = 149, 107


def dacomp_like_table(seed: int = 0) -> pd.DataFrame:
    """149 rows of 107 customers with quarter counts and a categorical consistency column."""
    rng = np.random.default_rng(seed)
    base = customer_table_demo(CUSTOMERS, seed=seed)
    shares = base[["q1_share", "q2_share", "q3_share", "q4_share"]].to_numpy()
    counts = np.floor(shares * base["transaction_count"].to_numpy()[:, None]).astype(np.int64)
    counts[:, 3] += base["transaction_count"].to_numpy() - counts.sum(axis=1)  # sum = count
    base = base.drop(columns=["q1_share", "q2_share", "q3_share", "q4_share"])
    for q in range(4):
        base[f"q{q + 1}_transactions"] = counts[:, q]
    months = base["customer_age_days"] / 30.4375
    ratio = base["transaction_count"] / (base["avg_transactions_per_month"] * months)
    base["transaction_consistency"] = np.select(
        [ratio >= 0.8, ratio >= 0.5], ["Consistent", "Irregular"], "Sporadic"
    ).astype(object)
    extra = base.iloc[np.sort(rng.choice(CUSTOMERS, size=ROWS - CUSTOMERS, replace=False))].copy()
    extra["retention_probability"] = np.clip(
        extra["retention_probability"] + rng.normal(0, 0.03, len(extra)), 0.01, 0.99
    ).round(4)
    out = pd.concat([base, extra], ignore_index=True)
    return out.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
