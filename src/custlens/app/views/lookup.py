"""Customer lookup: every score of one customer, in words where custlens has words, and the
customer's order history read from the run's source."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from custlens.app.cache import Run, RunCache
from custlens.app.history import OrderHistory, folder_source
from custlens.app.panel import error_panel, plain
from custlens.app.views.common import table
from custlens.errors import CustlensError

# the scorers of churn_source / clv_source in words (as in the model card)
SCORERS = {
    "lightgbm": "LightGBM model",
    "btyd": "BG/NBD model",
    "last_period": "last-period baseline",
    "recency": "recency rule",
}


def _value(value: object, fmt: str = "{}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


def _cards(row: pd.Series, cards: list[tuple[str, str, str]]) -> None:
    present = [(label, col, fmt) for label, col, fmt in cards if col in row.index]
    for start in range(0, len(present), 4):  # four cards a row: long numbers stay readable
        for column, (label, col, fmt) in zip(
            st.columns(4), present[start : start + 4], strict=False
        ):
            column.metric(label, _value(row[col], fmt))


def profile(row: pd.Series) -> None:
    st.markdown(f"### Customer {plain(row['customer_id'])}")
    st.markdown(f"**Segment:** {plain(row['segment'])} — {plain(row.get('description', ''))}")
    if "action" in row.index:
        st.markdown(f"**Action:** {plain(row['action'])}")
    facts = [
        ("R / F / M", "rfm_cell"),
        ("Persona", "persona"),
        ("Timing", "timing_persona"),
        ("Next purchase", "next_purchase_window"),
        ("Confidence", "confidence_tier"),
    ]
    st.markdown(
        " · ".join(
            f"**{label}:** {plain(_value(row[col]))}" for label, col in facts if col in row.index
        )
    )
    _cards(
        row,
        [
            ("Recency (days)", "recency_days", "{:,.0f}"),
            ("Orders", "frequency", "{:,.0f}"),
            ("Spent", "monetary", "{:,.2f}"),
            ("Churn probability", "churn_probability", "{:.0%}"),
            ("P(alive)", "p_alive", "{:.0%}"),
            ("CLV", "clv", "{:,.2f}"),
            ("Anomaly score", "anomaly_score", "{:.3f}"),
        ],
    )
    reasons = [row[c] for c in ("reason_1", "reason_2", "reason_3") if c in row.index and row[c]]
    if reasons:
        st.markdown("**Why (the churn score's strongest reasons):**")
        for reason in reasons:
            st.markdown(f"- {plain(reason)}")
        source = str(row.get("churn_source") or "lightgbm")
        if not source.startswith("lightgbm"):
            st.caption(
                f"This customer's churn probability is the {plain(SCORERS.get(source, source))}'s, "
                "which scored better on the backtest or where LightGBM cannot (see the "
                "Predictions page); the reasons in words are the LightGBM churn model's."
            )
    if "is_anomaly" in row.index:
        if bool(row["is_anomaly"]):
            why = row.get("anomaly_reasons") or "no reason recorded"
            st.warning(f"Flagged as unusual: {plain(why)}")
        else:
            st.caption("Not flagged as unusual.")
    with st.expander("Every value"):
        values = row.rename("value").to_frame()
        values.index.name = "column"
        values["value"] = values["value"].map(lambda v: _value(v))
        st.dataframe(values, width="stretch")


def history(cache: RunCache, run: Run, customer_id: str) -> None:
    st.subheader("Order history")
    source, why = (run.source, "") if run.source else folder_source(run.results)
    if source is None:
        st.info(why)
        return
    try:
        with st.spinner("Reading the customer's lines from the source..."):
            reader: OrderHistory = cache.extra(
                run,
                "history",
                lambda: OrderHistory(source, run.results.settings, run.read),
            )
            lines = reader.lines(customer_id)
    except CustlensError as exc:
        private = {run.source: run.label} if run.source and run.source != run.label else {}
        error_panel(exc, context="The order history cannot be read", rename=private)
        return
    st.caption(
        f"{len(lines):,} lines from {plain(run.label if run.source else source)}, cleaned with the "
        "run's settings "
        "(purchases kept by cleaning, and returns/cancellations)"
    )
    table(lines, height=360, key="history_table")


def render(cache: RunCache, run: Run) -> None:
    st.title("Customer lookup")
    customers = run.results.customers
    typed = st.text_input(
        "Customer id", key="lookup_id", placeholder=f"e.g. {customers['customer_id'].iloc[0]}"
    ).strip()
    if not typed:
        st.caption(f"{len(customers):,} customers; type an id (as in the file).")
        return
    match = customers[customers["customer_id"] == typed]
    if match.empty:
        close = customers[customers["customer_id"].str.contains(typed, regex=False)]
        st.warning(f"No customer {plain(repr(typed))} in these results.")
        if len(close):
            st.caption("Ids containing it: " + ", ".join(map(plain, close["customer_id"].head(10))))
        return
    profile(match.iloc[0])
    history(cache, run, typed)
