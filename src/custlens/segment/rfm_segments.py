"""RFM scores (quintiles 1-5) and named segments from the configurable R x FM grid.

Scores are computed in the engine, tie-aware: a customer's quintile is the ``ntile(5)`` group of
the first position their *value* holds in the sorted order, so equal values always get equal
scores, and on values without ties the groups are exactly SQL ``ntile``'s (sizes differ by at
most one, the larger groups first). Only ``rank()``, a count and integer arithmetic are used, so
every engine (DuckDB, PySpark) gives the same answer without a tie-breaker:

- ``f_score``: the group over frequency ascending, plus 1 (most orders = 5).
- ``m_score``: the same over monetary.
- ``r_score``: 5 minus the 0-based group over recency_days ascending (most recent = 5).

A value shared by many customers keeps them together: when 60% of customers have one order,
they all get F = 1 and F = 2, 3 stay empty (``score_distribution`` reports it, and
``score_notes`` says which score cannot separate customers).

``fm_score`` is the mean of F and M rounded half up: ``(f + m + 1) // 2``. ``rfm_cell`` is the
three digits, e.g. ``"545"``. ``segment`` is the :class:`SegmentRule` whose R and FM ranges hold
the customer's (r_score, fm_score); the rule table is compiled into one CASE expression.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens._validation import require_columns
from custlens.config import RFM_BINS, RFMConfig
from custlens.errors import DataError

_NEEDED = ("customer_id", "recency_days", "frequency", "monetary")
SUMMARY_COLUMNS = (
    "segment",
    "customers",
    "share",
    "revenue",
    "revenue_share",
    "avg_monetary",
    "avg_recency",
    "avg_frequency",
    "action",
    "description",
)


_FIX = "build it with custlens.features.rfm.customer_table (and score_rfm)"


def segment_expr(r_score: ir.IntegerValue, fm_score: ir.IntegerValue, rfm: RFMConfig):
    """The segment name of (r_score, fm_score) as one engine-side CASE expression."""
    branches = [
        (
            r_score.between(rule.r[0], rule.r[1]) & fm_score.between(rule.fm[0], rule.fm[1]),
            rule.name,
        )
        for rule in rfm.segments
    ]
    return ibis.cases(*branches, else_=ibis.null().cast("string"))


def _tied_group(value: ir.Value, n: ir.IntegerScalar) -> ir.IntegerValue:
    """0-based ntile(5) group of the first row holding ``value`` (ties share it).

    With ``q = n // 5`` and ``extra = n % 5``, the first ``extra`` groups hold ``q + 1`` rows:
    position ``p`` (the 0-based rank of the value, ties at their lowest position) falls in
    group ``p // (q + 1)`` below ``extra * (q + 1)`` and ``extra + (p - extra * (q + 1)) // q``
    after it.
    """
    position = ibis.rank().over(order_by=value).cast("int64")
    q = (n // RFM_BINS).cast("int64")
    extra = (n % RFM_BINS).cast("int64")
    big = extra * (q + 1)
    late = extra + (position - big) // ibis.greatest(q, 1)
    return ibis.ifelse(position < big, position // (q + 1), late).cast("int64")


def score_rfm(customers: ir.Table, rfm: RFMConfig | None = None) -> ir.Table:
    """Add RFM quintile scores and the named segment to a customer table.

    Parameters
    ----------
    customers : ibis.Table
        A customer table (``custlens.customer_table``) with ``recency_days``, ``frequency``
        and ``monetary``.
    rfm : RFMConfig, optional
        The R x FM segment table and its actions (default: the built-in one).

    Returns
    -------
    ibis.Table
        The table with ``r_score, f_score, m_score`` (quintiles 1-5, 5 best), ``fm_score`` (the
        rounded-up mean of F and M), ``rfm_cell`` and ``segment``.

    Raises
    ------
    MappingError
        A needed column is missing.

    Examples
    --------
    >>> import ibis
    >>> import pandas as pd
    >>> customers = ibis.memtable(pd.DataFrame({
    ...     "customer_id": list("abcde"), "recency_days": [1, 10, 50, 100, 300],
    ...     "frequency": [9, 5, 3, 2, 1], "monetary": [900.0, 500.0, 300.0, 200.0, 100.0]}))
    >>> scored = score_rfm(customers).order_by("customer_id").to_pandas()
    >>> scored[["customer_id", "r_score", "f_score", "m_score", "segment"]].values.tolist()
    [['a', 5, 5, 5, 'Champions'], ['b', 4, 4, 4, 'Loyal Customers'], ['c', 3, 3, 3, 'Need Attention'], ['d', 2, 2, 2, 'Hibernating'], ['e', 1, 1, 1, 'Lost']]
    """
    rfm = rfm or RFMConfig()
    require_columns(customers, _NEEDED, what="the customers", fix=_FIX)
    c = customers
    n = c.count()
    scored = c.mutate(
        r_score=(RFM_BINS - _tied_group(c.recency_days, n)).cast("int64"),
        f_score=(_tied_group(c.frequency, n) + 1).cast("int64"),
        m_score=(_tied_group(c.monetary, n) + 1).cast("int64"),
    )
    fm = ((scored.f_score + scored.m_score + 1) // 2).cast("int64")
    scored = scored.mutate(fm_score=fm)
    return scored.mutate(
        rfm_cell=scored.r_score.cast("string")
        .concat(scored.f_score.cast("string"))
        .concat(scored.m_score.cast("string")),
        segment=segment_expr(scored.r_score, scored.fm_score, rfm),
    )


_SCORES = (
    ("R", "r_score", "recency_days"),
    ("F", "f_score", "frequency"),
    ("M", "m_score", "monetary"),
)
DISTRIBUTION_COLUMNS = ("score", "value", "customers", "share", "measure", "min", "max")


def score_distribution(customers_df: pd.DataFrame) -> pd.DataFrame:
    """Customers per R, F and M score (1..5, empty scores included) with the measure's range."""
    require_columns(
        customers_df,
        [c for _, s, m in _SCORES for c in (s, m)],
        what="the scored customers",
        fix=_FIX,
    )
    rows = []
    n = max(len(customers_df), 1)
    for name, score, measure in _SCORES:
        groups = customers_df.groupby(score)[measure].agg(["size", "min", "max"])
        for value in range(1, RFM_BINS + 1):
            has = value in groups.index
            count = int(groups.loc[value, "size"]) if has else 0
            rows.append(
                {
                    "score": name,
                    "value": value,
                    "customers": count,
                    "share": count / n,
                    "measure": measure,
                    "min": float(groups.loc[value, "min"]) if has else np.nan,
                    "max": float(groups.loc[value, "max"]) if has else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(DISTRIBUTION_COLUMNS))


def score_notes(distribution: pd.DataFrame) -> list[str]:
    """Plain sentences for each score that cannot separate customers (from ``score_distribution``).

    A score with a single value, or one whose scores 1..5 are not all used because one value of
    the measure is shared by more customers than a quintile holds (the tie spans quintiles).
    """
    notes = []
    for name, part in distribution.groupby("score", sort=False):
        used = part[part["customers"] > 0]
        measure = part["measure"].iloc[0]
        if len(used) == 1:
            row = used.iloc[0]
            notes.append(
                f"{name} score cannot separate customers: all {int(row.customers):,} share one "
                f"value of {measure} ({_number(row['min'])}), so every customer scores {name}="
                f"{int(row.value)}"
            )
        elif len(used) < RFM_BINS:
            empty = ", ".join(str(int(v)) for v in part.loc[part["customers"] == 0, "value"])
            ties = used[(used["min"] == used["max"]) & (used["share"] > 1 / RFM_BINS)]
            held = "; ".join(
                f"{row.share:.0%} of customers share {measure} = {_number(row['min'])} and all "
                f"score {name}={int(row.value)}"
                for _, row in ties.iterrows()
            )
            plural = "s" if len(part) - len(used) > 1 else ""
            verb = "are" if plural else "is"
            notes.append(
                f"{name} score separates customers only partly: {held or 'ties span quintiles'}; "
                f"{name} score{plural} {empty} {verb} empty"
            )
    return notes


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def describe_segments(customers_df: pd.DataFrame, rfm: RFMConfig | None = None) -> pd.DataFrame:
    """A copy of a scored customer frame with the segment's ``description`` and ``action``."""
    rfm = rfm or RFMConfig()
    require_columns(customers_df, ("segment",), what="the scored customers", fix=_FIX)
    desc = {rule.name: rule.description for rule in rfm.segments}
    action = {rule.name: rule.action for rule in rfm.segments}
    # the rows are shared, not copied: only the two new columns are written
    out = customers_df.copy(deep=False)
    out["description"] = out["segment"].map(desc)
    out["action"] = out["segment"].map(action)
    return out


def segment_summary(customers_df: pd.DataFrame, rfm: RFMConfig | None = None) -> pd.DataFrame:
    """One row per segment in config order (empty segments included with zero counts).

    ``share`` and ``revenue_share`` are fractions of all customers and of total monetary value;
    the averages (``avg_monetary``, ``avg_recency``, ``avg_frequency``) are NaN for an empty
    segment, since an average of nothing is undefined.
    """
    rfm = rfm or RFMConfig()
    needed = ("segment", "monetary", "recency_days", "frequency")
    require_columns(customers_df, needed, what="the customers", fix=_FIX)
    names = [rule.name for rule in rfm.segments]
    unknown = sorted(set(customers_df["segment"].dropna()) - set(names))
    if unknown:
        raise DataError(
            f"Segments {unknown} are not in the RFM segment table",
            where="column 'segment'",
            fix="score the customers with the same RFMConfig that is passed here",
        )
    grouped = customers_df.groupby("segment", sort=False).agg(
        customers=("monetary", "size"),
        revenue=("monetary", "sum"),
        avg_monetary=("monetary", "mean"),
        avg_recency=("recency_days", "mean"),
        avg_frequency=("frequency", "mean"),
    )
    grouped = grouped.reindex(names)
    grouped["customers"] = grouped["customers"].fillna(0).astype("int64")
    grouped["revenue"] = grouped["revenue"].fillna(0.0).astype("float64")
    total_customers = int(grouped["customers"].sum())
    total_revenue = float(grouped["revenue"].sum())
    grouped["share"] = grouped["customers"] / total_customers if total_customers else 0.0
    grouped["revenue_share"] = (
        grouped["revenue"] / total_revenue if total_revenue else np.zeros(len(grouped))
    )
    grouped["action"] = [rule.action for rule in rfm.segments]
    grouped["description"] = [rule.description for rule in rfm.segments]
    out = grouped.reset_index().rename(columns={"index": "segment"})
    for col in ("avg_monetary", "avg_recency", "avg_frequency", "share", "revenue_share"):
        out[col] = out[col].astype("float64")
    return out[list(SUMMARY_COLUMNS)]
