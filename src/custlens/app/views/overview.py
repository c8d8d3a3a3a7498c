"""Overview: the report's executive summary (KPI cards, the most important findings, what to do
this month), built by the report's structure step from the same ``Results``."""

from __future__ import annotations

import streamlit as st

from custlens.app.panel import plain
from custlens.app.views.common import charts
from custlens.pipeline import Results
from custlens.report.structure import build_story
from custlens.story import Bullets, Cards, Findings


def render(results: Results, label: str) -> None:
    st.title("Overview")
    st.caption(plain(label))
    summary = build_story(results).sections[0]
    st.caption(plain(summary.lead))
    for block in summary.blocks:
        if isinstance(block, Cards):
            for column, kpi in zip(st.columns(len(block.items)), block.items, strict=True):
                column.metric(kpi.label, kpi.value, help=kpi.detail or None)
        elif isinstance(block, Findings):
            st.subheader(block.title or "Findings")
            st.markdown("\n".join(f"{i}. {plain(f.text)}" for i, f in enumerate(block.items, 1)))
        elif isinstance(block, Bullets):
            st.subheader(block.title or "")
            st.markdown("\n".join(f"- {plain(item)}" for item in block.items))
    for name, why in results.skipped.items():
        st.caption(plain(f"{name} skipped: {why}"))
    with st.expander("Data quality: what cleaning removed"):
        for line in results.quality.summary_lines():
            st.text(line)
    charts(results, ["segments", "rfm_grid"])
