"""Personas: sizes and profiles, the charts (map, profiles, k choice, importance), the rules."""

from __future__ import annotations

import streamlit as st

from custlens.app.views.common import headline, skipped, stage_charts, table
from custlens.pipeline import Results
from custlens.pipeline.stages.sections import rule_words


def render(results: Results) -> None:
    st.title("Personas")
    if skipped(results, "personas"):
        return
    result = results.stages["personas"]
    headline(results, "personas")
    tables = result.tables
    st.subheader("Profiles")
    table(tables["profiles"])
    stage_charts(results, "personas")
    if "tree_rules" in tables:
        st.subheader("How the personas are told apart (surrogate tree rules)")
        rules = tables["tree_rules"]
        table(rules.assign(rule=rules["rule"].astype(str).map(rule_words)), wide=("rule",))
    if "outliers" in tables and len(tables["outliers"]):
        with st.expander(f"Extreme customers kept out of the fit ({len(tables['outliers']):,})"):
            table(tables["outliers"])
