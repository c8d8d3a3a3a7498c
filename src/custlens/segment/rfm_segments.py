"""RFM scores (quintiles 1-5) and named segments from the configurable R x FM grid.

Scores are computed in the engine with ``ntile(5)``, each over a total order made unique by
``customer_id`` so that every engine gives the same answer:

- ``f_score``: ntile over (frequency, customer_id) ascending, plus 1 (most orders = 5).
- ``m_score``: the same over (monetary, customer_id).
- ``r_score``: 5 minus the 0-based ntile over (recency_days, customer_id) ascending, so the
  most recent fifth scores 5.

``ntile`` makes groups whose sizes differ by at most one, the larger groups first.
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
    quintile = ibis.ntile(RFM_BINS)
    scored = c.mutate(
        r_score=(RFM_BINS - quintile.over(order_by=[c.recency_days, c.customer_id])).cast("int64"),
        f_score=(quintile.over(order_by=[c.frequency, c.customer_id]) + 1).cast("int64"),
        m_score=(quintile.over(order_by=[c.monetary, c.customer_id]) + 1).cast("int64"),
    )
    fm = ((scored.f_score + scored.m_score + 1) // 2).cast("int64")
    scored = scored.mutate(fm_score=fm)
    return scored.mutate(
        rfm_cell=scored.r_score.cast("string")
        .concat(scored.f_score.cast("string"))
        .concat(scored.m_score.cast("string")),
        segment=segment_expr(scored.r_score, scored.fm_score, rfm),
    )


def describe_segments(customers_df: pd.DataFrame, rfm: RFMConfig | None = None) -> pd.DataFrame:
    """A copy of a scored customer frame with the segment's ``description`` and ``action``."""
    rfm = rfm or RFMConfig()
    require_columns(customers_df, ("segment",), what="the scored customers", fix=_FIX)
    desc = {rule.name: rule.description for rule in rfm.segments}
    action = {rule.name: rule.action for rule in rfm.segments}
    out = customers_df.copy()
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
