"""Segment migration between two as-of dates: RFM segments at both, the transition matrix with
"new" and "lost" margins, the Stuart-Maxwell and McNemar tests, and the customers who moved down.

The customer tables at both dates are computed in the engine (``customer_table`` and
``score_rfm``, or the as-of date's value cut points with ``cut_points="fixed"``); only one row
per customer is fetched.

States: at each date a customer is in their RFM segment, or **lost** when the last order is more
than ``lost_after_days`` before that date. A customer whose first order falls between the two
dates is **new** (a row of the matrix with no earlier state). Customers present at both dates
(every state but "new") make the square table of the tests:

- Stuart-Maxwell (``statsmodels SquareTable.homogeneity``): are the state shares the same at
  both dates? States empty at both dates are dropped first.
- McNemar per state (``statsmodels mcnemar``; exact binomial when fewer than 25 customers
  changed, else chi-square with continuity correction): did this state gain or lose customers?
  ``share_change`` = (entered - left) / continuing customers.
"""

from __future__ import annotations

import warnings
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.config import RFMConfig
from custlens.features.rfm import customer_table_before
from custlens.io.frames import fetch_released
from custlens.segment.rfm_segments import score_rfm, segment_expr

NEW = "new"
LOST = "lost"


def state_words(date_then: object, lost_after_days: int | None) -> dict[str, str]:
    """Migration's own states in words, beside the RFM segments (one of which is "Lost"):
    "new (first order after 2011-09-11)" and "no order in 365 days"."""
    return {
        NEW: f"new (first order after {date_then})",
        LOST: f"no order in {lost_after_days:,} days" if lost_after_days else "no recent order",
    }


_KEEP = ("customer_id", "recency_days", "frequency", "monetary", "r_score", "fm_score", "segment")


def cut_points(scored: pd.DataFrame) -> dict[str, list[float]]:
    """The largest recency / frequency / monetary value of each quintile of a scored table:
    ``recency`` for R = 5, 4, 3, 2 and ``frequency``/``monetary`` for scores 1-4 (ascending)."""
    rec = scored.groupby("r_score")["recency_days"].max()
    freq = scored.groupby("f_score")["frequency"].max()
    mon = scored.groupby("m_score")["monetary"].max()
    return {
        "recency": [float(rec.get(s, np.inf)) for s in (5, 4, 3, 2)],
        "frequency": [float(freq.get(s, np.inf)) for s in (1, 2, 3, 4)],
        "monetary": [float(mon.get(s, np.inf)) for s in (1, 2, 3, 4)],
    }


def _above(value: ir.NumericValue, edges: list[float]) -> ir.IntegerValue:
    total: ir.IntegerValue = ibis.literal(0, type="int64")
    for edge in edges:
        if np.isfinite(edge):
            total = total + ibis.ifelse(value > ibis.literal(edge, type="float64"), 1, 0)
    return total


def score_with_cuts(customers: ir.Table, cuts: dict[str, list[float]], rfm: RFMConfig) -> ir.Table:
    """RFM scores and segment from fixed value cut points (a tie goes to the lowest quintile
    holding the value), the same columns as ``score_rfm``."""
    c = customers
    scored = c.mutate(
        r_score=(5 - _above(c.recency_days.cast("float64"), cuts["recency"])).cast("int64"),
        f_score=(1 + _above(c.frequency.cast("float64"), cuts["frequency"])).cast("int64"),
        m_score=(1 + _above(c.monetary.cast("float64"), cuts["monetary"])).cast("int64"),
    )
    scored = scored.mutate(fm_score=((scored.f_score + scored.m_score + 1) // 2).cast("int64"))
    return scored.mutate(segment=segment_expr(scored.r_score, scored.fm_score, rfm))


def segments_at(
    purchases: ir.Table,
    returns: ir.Table | None,
    dates: tuple[date, date],
    rfm: RFMConfig,
    *,
    method: str = "recut",
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[float]] | None]:
    """The scored customers at the earlier and the later date (one row per customer each), and
    the cut points used when ``method="fixed"`` (those of the later date). Both dates must come
    after the first purchase (the migration stage checks them).

    Recency, frequency and monetary value at both dates come from one pass over the lines
    (:func:`rfm_at_two_dates`), the same numbers as ``customer_table`` at each date."""
    if dates[0] < dates[1]:
        then_t, now_t = rfm_at_two_dates(purchases, dates[0], dates[1])
    else:
        then_t, now_t = (customer_table_before(purchases, returns, d) for d in dates)
    if method == "recut":
        frames = [score_rfm(t, rfm) for t in (then_t, now_t)]
        cuts = None
    else:
        now_scored = score_rfm(now_t, rfm)
        cols = ["r_score", "f_score", "m_score", "recency_days", "frequency", "monetary"]
        cuts = cut_points(now_scored.select(*cols).to_pandas())
        frames = [score_with_cuts(t, cuts, rfm) for t in (then_t, now_t)]
    # through Arrow, each column released once converted (two tables of every customer)
    then, now = (fetch_released(f.select(*_KEEP).order_by("customer_id")) for f in frames)
    return then, now, cuts


def rfm_at_two_dates(purchases: ir.Table, then: date, now: date) -> tuple[ir.Table, ir.Table]:
    """``customer_id, recency_days, frequency, monetary`` before ``then`` and before ``now``
    (``then < now``), as ``customer_table_before`` gives them at each date, from one stored table
    of one row per customer (from the lines summed per order and day,
    :func:`custlens.features.order_days.order_days`, then per order, then per customer: the
    orders with a line before each date count once, the money adds up exactly)."""
    from custlens.features.order_days import order_days
    from custlens.io.materialize import materialize
    from custlens.io.sums import exact_sum_of_parts

    cut_then, cut_now = ibis.literal(then, type="date"), ibis.literal(now, type="date")
    # the lines summed per order and day (stored once per run): a day before a date holds
    # exactly the lines before it
    rows = order_days(purchases)
    p = rows.filter(rows.customer_id.notnull() & (rows.day < cut_now))
    early = p.day < cut_then
    orders = p.group_by(["customer_id", "order_id"]).aggregate(
        last_now=p.last_ts.max(),
        last_then=p.last_ts.max(where=early),
        lines_then=p.lines.sum(where=early).fill_null(0),
        exact_now=p._exact.sum(),
        rest_now=p._rest.sum(),
        exact_then=p._exact.sum(where=early),
        rest_then=p._rest.sum(where=early),
    )
    counted = orders.order_id.notnull()
    per_customer = orders.group_by("customer_id").aggregate(
        last_now=orders.last_now.max(),
        last_then=orders.last_then.max(),
        lines_then=orders.lines_then.sum(),
        frequency_now=orders.count(where=counted),
        frequency_then=orders.count(where=counted & (orders.lines_then > 0)),
        monetary_now=exact_sum_of_parts(orders.exact_now.sum(), orders.rest_now.sum()),
        monetary_then=exact_sum_of_parts(orders.exact_then.sum(), orders.rest_then.sum()),
    )
    stored = materialize(per_customer, "migration_customers")

    def at(table: ir.Table, cutoff: ir.DateValue, when: str) -> ir.Table:
        return table.select(
            "customer_id",
            recency_days=cutoff.delta(table[f"last_{when}"].date(), unit="day").cast("int64"),
            frequency=table[f"frequency_{when}"].cast("int64"),
            monetary=table[f"monetary_{when}"],
        )

    return at(stored.filter(stored.lines_then > 0), cut_then, "then"), at(stored, cut_now, "now")


def states(then: pd.DataFrame, now: pd.DataFrame, lost_after_days: int | None) -> pd.DataFrame:
    """One row per customer at the later date: ``state_then`` (segment, "lost" or "new"),
    ``state_now``, the scores at both dates and ``monetary_now``."""

    def state(frame: pd.DataFrame) -> pd.Series:
        out = frame["segment"].astype("object").copy()
        if lost_after_days is not None:
            out[frame["recency_days"] > lost_after_days] = LOST
        return out

    left = pd.DataFrame(
        {
            "customer_id": then["customer_id"],
            "state_then": state(then),
            "segment_then": then["segment"],
            "rfm_then": then["r_score"] + then["fm_score"],
        }
    )
    right = pd.DataFrame(
        {
            "customer_id": now["customer_id"],
            "state_now": state(now),
            "segment_now": now["segment"],
            "rfm_now": now["r_score"] + now["fm_score"],
            "recency_days": now["recency_days"],
            "frequency": now["frequency"],
            "monetary": now["monetary"],
        }
    )
    merged = right.merge(left, on="customer_id", how="left")
    merged["state_then"] = merged["state_then"].fillna(NEW)
    for col in ("state_then", "state_now", "segment_then", "segment_now"):
        merged[col] = merged[col].astype("str").where(merged[col].notna())
    if merged["customer_id"].is_monotonic_increasing:  # ``now``'s order: sorted by the engine
        return merged.reset_index(drop=True)
    return merged.sort_values("customer_id", kind="stable").reset_index(drop=True)


def transition_matrix(moves: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Long table: ``from_state, to_state, customers, row_share`` for every pair of states
    (rows: "new", the segments, "lost"; columns: the segments, "lost"), zeros included."""
    rows, cols = [NEW, *order, LOST], [*order, LOST]
    counts = pd.crosstab(moves["state_then"], moves["state_now"])
    counts = counts.reindex(index=rows, columns=cols, fill_value=0)
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0, 1), axis=0)
    long = counts.stack().rename("customers").reset_index()
    long.columns = ["from_state", "to_state", "customers"]
    long["customers"] = long["customers"].astype("int64")
    long["row_share"] = shares.stack().to_numpy().astype("float64")
    return long


def wide(matrix: pd.DataFrame, value: str = "customers") -> pd.DataFrame:
    """The long transition table as a from x to grid (in the given state order)."""
    rows = list(dict.fromkeys(matrix["from_state"]))
    cols = list(dict.fromkeys(matrix["to_state"]))
    grid = matrix.pivot(index="from_state", columns="to_state", values=value)
    return grid.reindex(index=rows, columns=cols)


def homogeneity_tests(moves: pd.DataFrame, order: list[str]) -> tuple[dict, pd.DataFrame]:
    """Stuart-Maxwell over the continuing customers, and McNemar per state."""
    from scipy.stats import chi2
    from statsmodels.stats.contingency_tables import SquareTable, mcnemar

    cont = moves[moves["state_then"] != NEW]
    states_ = [*order, LOST]
    square = pd.crosstab(cont["state_then"], cont["state_now"])
    square = square.reindex(index=states_, columns=states_, fill_value=0)
    used = [s for s in states_ if square.loc[s].sum() + square[s].sum() > 0]
    square = square.loc[used, used]
    omnibus: dict = {"test": "Stuart-Maxwell", "customers": int(len(cont)), "states": len(used)}
    try:
        with warnings.catch_warnings():  # a singular covariance gives NaN: reported as None
            warnings.simplefilter("ignore")
            res = SquareTable(square.to_numpy(dtype=float), shift_zeros=False).homogeneity(
                method="stuart_maxwell"
            )
        ok = bool(np.isfinite(res.pvalue))
    except (np.linalg.LinAlgError, ValueError):
        ok = False
    if ok:
        # the tail from the statistic: statsmodels' p-value is 1 - cdf, which stops at 2.2e-16
        p_value = float(chi2.sf(float(res.statistic), int(res.df)))
        omnibus.update(statistic=float(res.statistic), df=int(res.df), p_value=p_value)
    else:
        omnibus.update(statistic=None, df=None, p_value=None)
    n = len(cont)
    per_state = []
    for s in used:
        was, now = cont["state_then"] == s, cont["state_now"] == s
        both, left = int((was & now).sum()), int((was & ~now).sum())
        entered, neither = int((~was & now).sum()), int((~was & ~now).sum())
        exact = left + entered < 25
        if left + entered == 0:
            p, stat = 1.0, 0.0
        else:
            r = mcnemar([[both, left], [entered, neither]], exact=exact, correction=True)
            p, stat = float(r.pvalue), float(r.statistic)
        per_state.append(
            {
                "state": s,
                "customers_then": both + left,
                "customers_now": both + entered,
                "stayed": both,
                "left": left,
                "entered": entered,
                "share_then": (both + left) / n if n else np.nan,
                "share_now": (both + entered) / n if n else np.nan,
                "share_change": (entered - left) / n if n else np.nan,
                "test": "McNemar exact" if exact else "McNemar chi-square",
                "statistic": stat,
                "p_value": p,
            }
        )
    return omnibus, pd.DataFrame(per_state)


def went_down(moves: pd.DataFrame) -> pd.Series:
    """Whether each customer changed state for one with a lower r + fm score, or for lost."""
    lower = (moves["rfm_now"] < moves["rfm_then"]) | (moves["state_now"] == LOST)
    return (lower & (moves["state_now"] != moves["state_then"])).fillna(False).astype(bool)


def moved_down(moves: pd.DataFrame, watch: list[str]) -> pd.DataFrame:
    """Customers who were in a watched segment at the earlier date and are now in another state
    with a lower r + fm score (or lost): the CRM list, most valuable first."""
    down = moves[moves["state_then"].isin(watch) & went_down(moves)]
    cols = [
        "customer_id",
        "state_then",
        "state_now",
        "recency_days",
        "frequency",
        "monetary",
    ]
    return down.sort_values(["monetary", "customer_id"], ascending=[False, True])[cols].reset_index(
        drop=True
    )
