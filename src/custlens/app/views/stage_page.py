"""A stage's page: its headline, charts and tables. Anomalies, timing and any stage added
later (baskets, insights, migration...) use it as it is; predictions add the top spenders
likely to churn and the model card."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from custlens.app.panel import plain
from custlens.app.views.common import headline, per_run, pretty, skipped, stage_charts, table
from custlens.pipeline import Results
from custlens.pipeline.stages.model_section import AT_RISK_COLUMNS, at_risk

TITLES = {"predictions": "Predictions", "anomalies": "Anomalies", "timing": "Timing"}
# stages whose report section reads their tables in words (rules by label, shares as
# percentages, the top of each group): shown first, as in report.html; the full tables follow
IN_WORDS = ("basket", "migration", "insights")


def render(results: Results, stage: str) -> None:
    st.title(TITLES.get(stage, pretty(stage)))
    if skipped(results, stage):
        return
    result = results.stages[stage]
    headline(results, stage)
    if stage == "predictions":
        _at_risk(results)
    stage_charts(results, stage)
    if stage == "predictions":
        for path, text in result.documents().items():
            if path.endswith(".md"):
                with st.expander("Model card", expanded=True):
                    st.markdown(_demoted(text))
    if stage in IN_WORDS:
        _in_words(results, stage)
        st.subheader("Every table, every column")
    for name, frame in result.tables.items():
        with st.expander(f"{pretty(name)} ({_rows(result.summary, name, frame)})"):
            table(frame, key=f"{stage}_{name}")


def _in_words(results: Results, stage: str) -> None:
    """The tables of the stage's report section, as report.html shows them; a table the
    section shows as it is (the first rows of a stage table, its columns unchanged) only
    below, with every row."""
    from custlens.story import Table

    result = results.stages[stage]
    as_is = {f"{stage}_{name}": list(frame.columns) for name, frame in result.tables.items()}
    section = per_run(results, f"section {stage}", lambda: result.section(results))
    for block in section.blocks:
        if not isinstance(block, Table) or as_is.get(block.name) == list(block.frame.columns):
            continue
        st.subheader(block.title)
        if block.caption:
            st.caption(plain(block.caption))
        table(block.frame, height=420, key=f"{stage}_words_{block.name}", percent=block.percent)
        if block.total_rows is not None:
            st.caption(
                f"The first {len(block.frame):,} of {block.total_rows:,} rows; all of them "
                f"below and in {block.source}."
            )


def _rows(summary: Mapping, name: str, frame: pd.DataFrame) -> str:
    """How many rows the table has and, when the stage listed fewer than it found (its
    ``max_listed``), how many it found: "100 rows" read as every cancellation pair."""
    counted = summary.get(name) if isinstance(summary, Mapping) else None
    found = counted.get("found") if isinstance(counted, Mapping) else None
    if isinstance(found, int) and found > len(frame):
        return f"the {len(frame):,} largest of {found:,} found"
    return f"{len(frame):,} rows"


def _at_risk(results: Results) -> None:
    """The list the Overview's "call or email the top spenders likely to churn" points to."""
    if results.stages["predictions"].summary.get("scores") == "skipped":
        return  # no customer scored: the headline and notes say why
    cfg = results.settings.report
    risky = at_risk(results)
    st.subheader(f"Top spenders likely to churn ({len(risky):,})")
    st.caption(
        f"The top {1 - cfg.high_value_quantile:.0%} of customers by spend with a churn "
        f"probability of at least {cfg.at_risk_probability:.0%} (confident scores only), the "
        "largest spenders first."
    )
    if len(risky):
        table(risky[[c for c in AT_RISK_COLUMNS if c in risky.columns]], key="at_risk")


def _demoted(markdown: str) -> str:
    """Headings two levels down: a document inside a page is not the page's title."""
    return "\n".join(
        "##" + line if line.startswith("#") else line for line in markdown.splitlines()
    )
