"""Personas: sizes and profiles, the charts (map, profiles, k choice, importance), the rules."""

from __future__ import annotations

import pandas as pd
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
        _rules(tables["tree_rules"])
    if "outliers" in tables and len(tables["outliers"]):
        with st.expander(f"Extreme customers kept out of the fit ({len(tables['outliers']):,})"):
            table(tables["outliers"])


def _rules(rules: pd.DataFrame) -> None:
    """The rules in words, whole: a static table wraps a long rule where a data grid cut it off
    after a few conditions."""
    shown = pd.DataFrame(
        {
            "persona": rules["persona"].astype(str),
            "rule": rules["rule"].astype(str).map(rule_words),
            "customers (support)": rules["support"].map("{:,.0f}".format),
            "precision": rules["precision"].map("{:.0%}".format),
            "coverage": rules["coverage"].map("{:.1%}".format),
        }
    )
    st.table(shown, hide_index=True)
