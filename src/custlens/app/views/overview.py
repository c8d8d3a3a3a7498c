"""Overview: KPI cards and the findings of every stage.

Built from ``Results`` directly (``kpis`` and ``findings`` are plain data); when the report's
structure step lands, these two functions are what to replace with its KPI cards and findings.
"""

from __future__ import annotations

import streamlit as st

from custlens.app.views.common import charts
from custlens.pipeline import Results


def kpis(results: Results) -> list[tuple[str, str]]:
    """Label -> value of the KPI cards: customers, revenue, orders, period."""
    customers = results.customers
    first = customers["first_order"].min()
    last = customers["last_order"].max()
    return [
        ("Customers", f"{len(customers):,}"),
        ("Revenue", f"{customers['monetary'].sum():,.0f}"),
        ("Orders", f"{int(customers['frequency'].sum()):,}"),
        ("Months of orders", f"{_months(first, last)}"),
        ("As of", f"{results.as_of:%Y-%m-%d}"),
    ]


def _months(first, last) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def period(results: Results) -> str:
    customers = results.customers
    first, last = customers["first_order"].min(), customers["last_order"].max()
    return f"Orders from {first:%Y-%m-%d} to {last:%Y-%m-%d}, customers as of {results.as_of}"


def findings(results: Results) -> list[str]:
    """Sentences from the numbers: the largest segment, each stage's headline, skipped stages."""
    lines = []
    summary = results.segment_summary
    if len(summary):
        top = summary.sort_values("revenue_share", ascending=False).iloc[0]
        lines.append(
            f"{top['segment']} bring {top['revenue_share']:.0%} of the revenue with "
            f"{top['share']:.0%} of the customers."
        )
    for result in results.stages.values():
        lines.extend(result.headline(results))
    lines.extend(f"{name} skipped: {why}" for name, why in results.skipped.items())
    return lines


def render(results: Results, label: str) -> None:
    st.title("Overview")
    st.caption(label)
    cards = kpis(results)
    for column, (name, value) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(name, value)
    st.caption(period(results))
    st.subheader("Findings")
    for line in findings(results):
        st.markdown(f"- {line}")
    with st.expander("Data quality: what cleaning removed"):
        for line in results.quality.summary_lines():
            st.text(line)
    charts(results, ["segments", "rfm_grid"])
