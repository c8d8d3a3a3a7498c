"""A stage's page: its headline, charts and tables. Anomalies, timing and any stage added
later (baskets, insights, migration...) use it as it is; predictions add the model card."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from custlens.app.views.common import headline, pretty, skipped, stage_charts, table
from custlens.pipeline import Results

TITLES = {"predictions": "Predictions", "anomalies": "Anomalies", "timing": "Timing"}


def render(results: Results, stage: str) -> None:
    st.title(TITLES.get(stage, pretty(stage)))
    if skipped(results, stage):
        return
    result = results.stages[stage]
    headline(results, stage)
    stage_charts(results, stage)
    if stage == "predictions":
        for path, text in result.documents().items():
            if path.endswith(".md"):
                with st.expander("Model card", expanded=True):
                    st.markdown(_demoted(text))
    for name, frame in result.tables.items():
        with st.expander(f"{pretty(name)} ({_rows(result.summary, name, frame)})"):
            table(frame, key=f"{stage}_{name}")


def _rows(summary: Mapping, name: str, frame: pd.DataFrame) -> str:
    """How many rows the table has and, when the stage listed fewer than it found (its
    ``max_listed``), how many it found: "100 rows" read as every cancellation pair."""
    counted = summary.get(name) if isinstance(summary, Mapping) else None
    found = counted.get("found") if isinstance(counted, Mapping) else None
    if isinstance(found, int) and found > len(frame):
        return f"the {len(frame):,} largest of {found:,} found"
    return f"{len(frame):,} rows"


def _demoted(markdown: str) -> str:
    """Headings two levels down: a document inside a page is not the page's title."""
    return "\n".join(
        "##" + line if line.startswith("#") else line for line in markdown.splitlines()
    )
