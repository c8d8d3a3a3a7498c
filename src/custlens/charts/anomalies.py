"""Anomaly chart specs: score distribution with the threshold, and the top anomalies."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from custlens._validation import require_columns


def _need(frame: pd.DataFrame, columns: tuple[str, ...], chart: str) -> None:
    require_columns(
        frame,
        columns,
        what=f"the table given to the {chart} chart",
        fix="pass the output of CustomerAnomalyDetector.transform",
    )


def anomaly_score_distribution(
    scored: pd.DataFrame, threshold: float, *, bins: int = 40
) -> alt.TopLevelMixin:
    """Histogram of ``anomaly_score`` (binned here, so the spec stays small for any number of
    customers; about ``bins`` bars, one edge on the threshold), flagged bars highlighted, and a
    rule at the threshold."""
    _need(scored, ("anomaly_score",), "anomaly score distribution")
    scores = scored["anomaly_score"].to_numpy(dtype="float64")
    lo = float(min(scores.min(), threshold))
    hi = float(max(scores.max(), threshold))
    width = (hi - lo) / bins if hi > lo else 1e-6
    # shift the grid so the threshold is a bin edge: a bar is either all typical or all flagged
    below = int(np.ceil((threshold - lo) / width))
    above = max(int(np.ceil((hi - threshold) / width)), 1)
    edges = threshold + width * np.arange(-below, above + 1)
    counts, edges = np.histogram(scores, bins=edges)
    hist = pd.DataFrame(
        {
            "bin_start": edges[:-1],
            "bin_end": edges[1:],
            "customers": counts,
            "flag": np.where(edges[:-1] >= threshold, "anomaly", "typical"),
        }
    )
    bars = (
        alt.Chart(hist)
        .mark_bar()
        .encode(
            x=alt.X("bin_start:Q", bin="binned", title="anomaly score (higher = more unusual)"),
            x2="bin_end:Q",
            y=alt.Y("customers:Q", title="customers"),
            color=alt.Color(
                "flag:N",
                scale=alt.Scale(domain=["typical", "anomaly"], range=["#9bb7d4", "#d62728"]),
                legend=alt.Legend(title=None),
            ),
            tooltip=[
                alt.Tooltip("bin_start:Q", format=".3f", title="from"),
                alt.Tooltip("bin_end:Q", format=".3f", title="to"),
                "customers:Q",
            ],
        )
    )
    rule_data = pd.DataFrame({"threshold": [threshold], "label": [f"threshold {threshold:.3f}"]})
    rule = alt.Chart(rule_data).mark_rule(strokeDash=[4, 3], color="black").encode(x="threshold:Q")
    label = (
        alt.Chart(rule_data)
        .mark_text(align="left", dx=4, dy=-4, baseline="bottom")
        .encode(x="threshold:Q", y=alt.value(0), text="label:N")
    )
    return alt.layer(bars, rule, label).properties(
        title="Customer anomaly scores", width=520, height=240
    )


def top_anomalies(
    scored: pd.DataFrame, n: int = 15, *, id_column: str = "customer_id"
) -> alt.TopLevelMixin:
    """Horizontal bars of the ``n`` highest scores, each labelled with its strongest reason (the
    first of ``anomaly_reasons``; all of them in the tooltip); only flagged customers when
    ``is_anomaly`` is present: the others carry no reasons."""
    _need(scored, (id_column, "anomaly_score", "anomaly_reasons"), "top anomalies")
    if "is_anomaly" in scored.columns:
        scored = scored[scored["is_anomaly"].fillna(False).astype(bool)]
    top = scored.nlargest(n, "anomaly_score", keep="first")[
        [id_column, "anomaly_score", "anomaly_reasons"]
    ].rename(columns={id_column: "customer"})
    top["customer"] = top["customer"].astype(str)
    # the strongest reason beside the bar (all three run off a report's page), all in the tooltip
    top["main_reason"] = top["anomaly_reasons"].fillna("").astype(str).str.split("; ").str[0]
    y = alt.Y("customer:N", sort="-x", title=None)
    bars = (
        alt.Chart(top)
        .mark_bar(color="#d62728")
        .encode(
            x=alt.X("anomaly_score:Q", title="anomaly score"),
            y=y,
            tooltip=[
                "customer:N",
                alt.Tooltip("anomaly_score:Q", format=".3f"),
                "anomaly_reasons:N",
            ],
        )
    )
    text = (
        alt.Chart(top)
        .mark_text(align="left", dx=4, fontSize=10)
        .encode(x="anomaly_score:Q", y=y, text="main_reason:N")
    )
    return alt.layer(bars, text).properties(
        title=f"Top {len(top)} unusual customers and the main reason of each",
        width=420,
        height=alt.Step(18),
    )
