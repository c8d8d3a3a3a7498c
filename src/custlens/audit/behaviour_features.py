"""Which behaviour columns a customer table has, and the audit features derived from them.

Columns are recognised by their *normalised* name (lowercase, every non-alphanumeric removed, so
``Avg Transactions / Month`` and ``avg_transactions_per_month`` are the same). The first column
matching a role wins; the recognised names per role are in ``ROLES`` (family, names):

- stability: transactions per month, transaction consistency, value volatility (coefficient of
  variation of order value);
- volume: transaction count, average transaction value, order value standard deviation;
- seasonality: quarter shares ``q1_share`` .. ``q4_share`` (also ``q1_pct``, ``share_q1``,
  ``quarter_1_share``, ``q1`` ...) or, when there are no shares, quarter counts
  ``q1_transactions`` .. ``q4_transactions`` (also ``q1_orders``, ``transactions_q1``,
  ``quarter_1_orders``, ``q1_count`` ...); a note says which columns were used;
- lifecycle: customer age / tenure in days or months;
- value realisation: total revenue (also ``monetary``, ``total_spend``), a customer score
  (``comprehensive_customer_score``, ``customer_score``, ``score``).

Derived when the ingredients exist and the column itself does not; every derived feature's name
starts with ``derived_`` (e.g. ``derived_transaction_consistency``) so that it never shadows an
input column (a table may hold a categorical ``transaction_consistency``); when the table has a
column of that name too (an audit's own ``rows.csv`` audited again), the derived one gets a
suffix (``derived_season_std_2``) and a note lists the renames:

- ``transaction_consistency`` = transaction_count / (transactions_per_month x age in months),
  age in months = age_days / 30.4375: actual versus expected transactions (1 = as expected);
- ``consistency_error`` = |transaction_count - expected| / expected, expected =
  transactions_per_month x age in months (the benchmark's consistency error);
- ``value_volatility`` = value std / average value (a note counts the rows with a CV above 1);
- seasonality (always, from the four shares normalised to sum 1): ``season_std`` (population
  std), ``season_imbalance`` (max - min), ``season_entropy`` (Shannon entropy / log 4; 1 = even),
  ``season_cv`` (std / mean of the raw shares), ``quarter_coverage_gap`` (share of the four
  quarters without transactions: the coverage gap);
- ``revenue_per_score_point`` = revenue / score (score > 0), and ``value_score_mismatch`` =
  z(revenue) - z(score) (z over the audited rows): negative = scores high but little revenue yet;
  ``abs_value_score_mismatch`` = its absolute value (the size of the mismatch either way).

Infinite values and values beyond float32's range (which scikit-learn's trees cannot read) in
numeric columns, and in derived features, become ``NaN`` with a note.

Every other numeric column is compared too (family "other"). Text, category and boolean
columns with 2 .. ``max_category_levels`` levels become the categorical columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custlens.audit.prepare import blank_unusable, norm_name
from custlens.features.limits import FLOAT32_MAX

DAYS_PER_MONTH = 30.4375

ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "transaction_count": (
        "volume",
        (
            "transactioncount",
            "transactions",
            "ntransactions",
            "numtransactions",
            "txncount",
            "ordercount",
            "orders",
            "norders",
            "numorders",
            "purchasecount",
            "frequency",
        ),
    ),
    "transactions_per_month": (
        "stability",
        (
            "avgtransactionspermonth",
            "transactionspermonth",
            "avgmonthlytransactions",
            "monthlytransactions",
            "txnpermonth",
            "orderspermonth",
            "avgorderspermonth",
        ),
    ),
    "transaction_consistency": (
        "stability",
        ("transactionconsistency", "purchaseconsistency", "consistency"),
    ),
    "value_std": (
        "volume",
        (
            "transactionvaluestd",
            "transactionvaluestddev",
            "ordervaluestd",
            "stdtransactionvalue",
            "valuestd",
        ),
    ),
    "value_volatility": (
        "stability",
        (
            "transactionvaluevolatility",
            "valuevolatility",
            "transactionvaluecv",
            "valuecv",
            "volatility",
        ),
    ),
    "age_days": (
        "lifecycle",
        (
            "customeragedays",
            "agedays",
            "tenuredays",
            "customertenuredays",
            "daysascustomer",
            "customerage",
            "tenure",
        ),
    ),
    "age_months": ("lifecycle", ("customeragemonths", "agemonths", "tenuremonths")),
    "total_revenue": (
        "value realisation",
        ("totalrevenue", "revenue", "monetary", "totalspend", "totalsales", "sales", "totalvalue"),
    ),
    "score": (
        "value realisation",
        ("comprehensivecustomerscore", "customerscore", "compositescore", "score"),
    ),
    "avg_value": (
        "volume",
        (
            "avgtransactionvalue",
            "averagetransactionvalue",
            "avgordervalue",
            "averageordervalue",
            "aov",
        ),
    ),
}
for _q in range(1, 5):
    ROLES[f"q{_q}_share"] = (
        "seasonality",
        (
            f"q{_q}share",
            f"q{_q}pct",
            f"q{_q}percent",
            f"q{_q}proportion",
            f"shareq{_q}",
            f"quarter{_q}share",
            f"q{_q}transactionshare",
            f"q{_q}ratio",
            f"q{_q}",
        ),
    )

    ROLES[f"q{_q}_count"] = (  # counts also measure volume; the derived shares are seasonal
        "volume",
        (
            f"q{_q}transactions",
            f"q{_q}orders",
            f"q{_q}count",
            f"q{_q}txns",
            f"q{_q}purchases",
            f"transactionsq{_q}",
            f"ordersq{_q}",
            f"quarter{_q}transactions",
            f"quarter{_q}orders",
            f"q{_q}transactioncount",
            f"q{_q}ordercount",
        ),
    )

DERIVED_PREFIX = "derived_"  # derived features never shadow an input column


@dataclass(frozen=True)
class FeatureSet:
    values: pd.DataFrame  # numeric features, aligned with the audited rows
    catalog: pd.DataFrame  # feature, role, family, source, ingredients, uses_metric
    categoricals: tuple[str, ...]
    notes: tuple[str, ...]


def build_features(
    frame: pd.DataFrame,
    *,
    metric: str,
    exclude: set[str],
    max_category_levels: int,
) -> FeatureSet:
    """Detect role columns, derive the audit features and list the categorical columns."""
    notes: list[str] = []
    numeric = {
        str(c): c
        for c in frame.columns
        if c not in exclude
        and c != metric
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    }
    frame = blank_unusable(frame, list(numeric.values()), notes)
    roles: dict[str, str] = {}  # role -> column
    by_norm: dict[str, str] = {}
    for c in [*numeric, metric]:
        by_norm.setdefault(norm_name(c), c)
    for role, (_family, names) in ROLES.items():
        for name in names:
            col = by_norm.get(name)
            if col is not None and col not in roles.values():
                roles[role] = col
                break

    cols: dict[str, pd.Series] = {}
    rows: list[dict] = []

    taken = {str(c) for c in frame.columns}  # input names: a derived feature never reuses one
    renamed: list[str] = []

    def add(name: str, series: pd.Series, role: str, family: str, source: str, ingr: list[str]):
        if source == "derived":
            name = wanted = DERIVED_PREFIX + name
            n = 1
            while name in taken or name in cols:
                n += 1
                name = f"{wanted}_{n}"
            if name != wanted:
                renamed.append(f"{wanted} -> {name}")
        cols[name] = series.astype("float64")
        rows.append(
            {
                "feature": name,
                "role": role,
                "family": family,
                "source": source,
                "ingredients": ", ".join(ingr),
                "uses_metric": metric in ingr,
            }
        )

    for role, col in roles.items():
        if col != metric:  # the metric is never a feature; the with-metric model adds it
            add(str(col), frame[col], role, ROLES[role][0], "column", [col])
    for col in numeric.values():
        if col not in roles.values():
            add(str(col), frame[col], "", "other", "column", [col])

    _derive(frame, roles, add, notes)
    if renamed:
        notes.append(
            "The table already has columns named like derived features (e.g. the rows.csv of "
            "an earlier audit); they are analysed as input columns and the features derived "
            "now are renamed: " + ", ".join(renamed) + "."
        )

    values = pd.DataFrame(cols, index=frame.index)
    catalog = pd.DataFrame(
        rows, columns=["feature", "role", "family", "source", "ingredients", "uses_metric"]
    )
    catalog["uses_metric"] = catalog["uses_metric"].astype(bool)  # also when empty
    # the inputs were cleaned above; a derived ratio can still overflow from finite ingredients
    unusable = np.isinf(values) | values.abs().gt(FLOAT32_MAX)
    counts = unusable.sum()
    if counts.any():
        notes.append(
            "Derived values that are infinite or beyond float32's range were treated as empty: "
            + ", ".join(f"{c} ({int(n)} rows)" for c, n in counts[counts > 0].items())
            + "."
        )
        values = values.mask(unusable)
    empty = [c for c in values.columns if values[c].notna().sum() == 0]
    if empty:
        notes.append("All-null features skipped: " + ", ".join(empty) + ".")
        values = values.drop(columns=empty)
        catalog = catalog[~catalog["feature"].isin(empty)].reset_index(drop=True)
    cats = _categoricals(frame, exclude | {metric}, max_category_levels, notes)
    return FeatureSet(values=values, catalog=catalog, categoricals=cats, notes=tuple(notes))


def _derive(frame: pd.DataFrame, roles: dict[str, str], add, notes: list[str]) -> None:
    def col(role: str) -> pd.Series:
        return frame[roles[role]].astype("float64")

    age_months: pd.Series | None = None
    age_src: list[str] = []
    if "age_months" in roles:
        age_months, age_src = col("age_months"), [roles["age_months"]]
    elif "age_days" in roles:
        age_months, age_src = col("age_days") / DAYS_PER_MONTH, [roles["age_days"]]

    if {"transaction_count", "transactions_per_month"} <= roles.keys() and age_months is not None:
        expected = col("transactions_per_month") * age_months
        err = (col("transaction_count") - expected).abs() / expected.where(expected > 0)
        ingr = [roles["transaction_count"], roles["transactions_per_month"], *age_src]
        add("consistency_error", err, "consistency_error", "stability", "derived", ingr)
    if "transaction_consistency" not in roles:
        if {
            "transaction_count",
            "transactions_per_month",
        } <= roles.keys() and age_months is not None:
            expected = col("transactions_per_month") * age_months
            ratio = col("transaction_count") / expected.where(expected > 0)
            ingr = [roles["transaction_count"], roles["transactions_per_month"], *age_src]
            add(
                "transaction_consistency",
                ratio,
                "transaction_consistency",
                "stability",
                "derived",
                ingr,
            )
        else:
            notes.append(
                "transaction_consistency not derived: needs a transaction count, transactions "
                "per month and customer age."
            )
    if "value_volatility" not in roles and {"value_std", "avg_value"} <= roles.keys():
        avg = col("avg_value")
        add(
            "value_volatility",
            col("value_std") / avg.where(avg > 0),
            "value_volatility",
            "stability",
            "derived",
            [roles["value_std"], roles["avg_value"]],
        )

    cv_src: tuple[pd.Series, list[str]] | None = None
    if "value_volatility" in roles:
        cv_src = col("value_volatility"), [roles["value_volatility"]]
    elif {"value_std", "avg_value"} <= roles.keys():
        avg = col("avg_value")
        cv_src = col("value_std") / avg.where(avg > 0), [roles["value_std"], roles["avg_value"]]
    if cv_src is not None:
        cv, src = cv_src
        n_high, n_known = int((cv > 1).sum()), int(cv.notna().sum())
        notes.append(
            f"Order-value CV above 1 (from {', '.join(src)}): {n_high} of {n_known} rows "
            f"({n_high / max(n_known, 1):.0%})."
        )

    quarters = [f"q{i}_share" for i in range(1, 5)]
    counts = [f"q{i}_count" for i in range(1, 5)]
    if not all(q in roles for q in quarters) and all(q in roles for q in counts):
        quarters = counts  # counts give the same shares once normalised to sum 1
    if all(q in roles for q in quarters):
        kind = "shares" if quarters[0].endswith("share") else "counts"
        notes.append(
            f"Seasonality from the quarter {kind} " + ", ".join(roles[q] for q in quarters) + "."
        )
        raw = pd.concat([col(q) for q in quarters], axis=1).to_numpy()
        total = raw.sum(axis=1)
        ok = np.isfinite(total) & (total > 0) & (raw >= 0).all(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = raw / np.where(ok, total, np.nan)[:, None]
            std = p.std(axis=1)
            plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
            entropy = -plogp.sum(axis=1) / np.log(4.0)
            cv = raw.std(axis=1) / raw.mean(axis=1)
        ingr = [roles[q] for q in quarters]
        idx = frame.index
        covered = np.where(ok, (raw > 0).sum(axis=1) / 4.0, np.nan)
        for name, arr in (
            ("quarter_coverage_gap", 1.0 - covered),
            ("season_std", std),
            ("season_imbalance", p.max(axis=1) - p.min(axis=1)),
            ("season_entropy", entropy),
            ("season_cv", cv),
        ):
            add(
                name,
                pd.Series(np.where(ok, arr, np.nan), index=idx),
                name,
                "seasonality",
                "derived",
                ingr,
            )
    else:
        found = [roles[q] for q in [*quarters, *counts] if q in roles]
        notes.append(
            "Seasonality not derived: needs four quarter-share columns (q1_share .. q4_share) "
            "or four quarter counts (q1_transactions .. q4_transactions)"
            + (f"; found only {', '.join(found)}." if found else ".")
        )

    if {"total_revenue", "score"} <= roles.keys():
        rev, score = col("total_revenue"), col("score")
        ingr = [roles["total_revenue"], roles["score"]]
        add(
            "revenue_per_score_point",
            rev / score.where(score > 0),
            "revenue_per_score_point",
            "value realisation",
            "derived",
            ingr,
        )
        mismatch = _z(rev) - _z(score)
        add(
            "value_score_mismatch",
            mismatch,
            "value_score_mismatch",
            "value realisation",
            "derived",
            ingr,
        )
        add(
            "abs_value_score_mismatch",
            mismatch.abs(),
            "abs_value_score_mismatch",
            "value realisation",
            "derived",
            ingr,
        )
    else:
        notes.append("Value realisation not derived: needs a revenue column and a score column.")


def _z(s: pd.Series) -> pd.Series:
    sd = s.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return pd.Series(np.nan, index=s.index)
    return (s - s.mean()) / sd


def _categoricals(
    frame: pd.DataFrame, exclude: set, max_levels: int, notes: list[str]
) -> tuple[str, ...]:
    out: list[str] = []
    skipped: list[str] = []
    for c in frame.columns:
        if c in exclude or pd.api.types.is_datetime64_any_dtype(frame[c]):
            continue
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            continue
        k = s.nunique(dropna=True)
        if 2 <= k <= max_levels:
            out.append(c)
        elif k > max_levels:
            skipped.append(f"{c} ({k} levels)")
    if skipped:
        notes.append(
            f"Text columns with more than {max_levels} levels were not cross-tabulated: "
            + ", ".join(skipped)
            + "."
        )
    return tuple(out)
