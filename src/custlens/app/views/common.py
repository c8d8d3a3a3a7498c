"""Helpers every page uses: charts from the report's specs, tables, stage notes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from custlens.app.panel import error_panel, plain
from custlens.errors import CustlensError
from custlens.pipeline import Results


def all_charts(results: Results) -> dict:
    """Every chart of the run, by name: the same Altair specs as the report's figures (made
    once per run and kept beside it)."""
    from custlens.report.figures import figures

    return per_run(results, "charts", lambda: figures(results))


def per_run(results: Results, what: str, build: Callable[[], Any]) -> Any:
    """``build()``, made once per run and ``what`` and kept beside the run (the last 16): a
    page drawn again on every click does not build its charts or sections again."""
    key = (id(results), what)
    cached = _KEPT.get(key)
    if cached is None or cached[0] is not results:
        cached = (results, build())
        _KEPT[key] = cached
        while len(_KEPT) > 16:
            _KEPT.pop(next(iter(_KEPT)))
    return cached[1]


_KEPT: dict[tuple[int, str], tuple[Results, Any]] = {}


def charts(results: Results, names: Iterable[str]) -> None:
    """Show the named charts that exist (a chart that cannot be drawn shows the panel)."""
    try:
        available = all_charts(results)
    except CustlensError as exc:
        error_panel(exc, context="The charts cannot be drawn")
        return
    for name in names:
        chart = available.get(name)
        if chart is not None:
            st.altair_chart(as_in_report(chart), width="content", theme=None)


def as_in_report(chart):
    """The chart sized as in the report: its width and height are the plot's, with titles,
    axis labels and legends added around it (Vega-Lite's "pad"). Streamlit otherwise makes a
    chart without an ``autosize`` "fit" its whole drawing into the plot's size, which squeezes
    a heatmap under long rotated labels to a few pixels, clips titles and hides bars behind
    their labels. ``theme=None`` (above) keeps the report's fonts and colours."""
    if getattr(chart, "autosize", alt.Undefined) is not alt.Undefined:
        return chart
    return chart.properties(autosize=alt.AutoSizeParams(type="pad", contains="padding"))


def stage_charts(results: Results, stage: str) -> None:
    """Every chart the stage gives."""
    result = results.stages.get(stage)
    if result is None:
        return
    try:
        names = list(result.charts(results))
    except CustlensError as exc:
        error_panel(exc, context="The charts cannot be drawn")
        return
    charts(results, names)


def headline(results: Results, stage: str) -> None:
    result = results.stages.get(stage)
    if result is None:
        return
    lines = list(result.headline(results))
    for line in lines:
        st.markdown(f"- {plain(line)}")
    if result.notes:
        # a stage with nothing to headline (timing on dates without a time of day) says why at
        # once, not behind a click under an otherwise empty title
        with st.expander(f"Notes ({len(result.notes)})", expanded=not lines):
            for note in result.notes:
                st.caption(plain(note))


def skipped(results: Results, stage: str) -> bool:
    """Say why a stage is not there; True when it did not run."""
    if stage in results.stages:
        return False
    reason = results.skipped.get(stage)
    if reason:
        st.warning(f"The {stage} analysis could not run on these data: {plain(reason)}")
    else:
        st.info(
            f"The {stage} analysis was not selected for this run; choose it on the Start page "
            "and run again."
        )
    return True


ROW_PX = 35  # the height of a row (and of the header) in st.dataframe


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Column names in words ("avg order value") and amounts with thousands separators and two
    decimals ("66,957.02" instead of 66957.02, "4,782.64" instead of 4782.6443). Ids keep their
    digits; a column with values below 0.01 (p-values, small shares) keeps Streamlit's own
    format, which does not round them to 0.00."""
    config: dict[str, Any] = {}
    for name in frame.columns:
        label = str(name).replace("_", " ")
        values = frame[name]
        is_id = str(name).lower().endswith("id")
        if pd.api.types.is_float_dtype(values.dtype) and not is_id:
            finite = values[np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan))]
            small = bool(((finite != 0) & (finite.abs() < 0.01)).any())
            config[str(name)] = st.column_config.NumberColumn(
                label, format=None if small else "%,.2f"
            )
        elif pd.api.types.is_integer_dtype(values.dtype) and not is_id:
            config[str(name)] = st.column_config.NumberColumn(label, format="%,d")
        else:
            config[str(name)] = label
    return config


def table(
    frame: pd.DataFrame,
    *,
    height: int | None = None,
    key: str | None = None,
    percent: Sequence[str] = (),
) -> None:
    """``height``: the most the table takes (it scrolls beyond); ``percent``: columns of shares
    (0..1) shown as percentages with one decimal ("36.5%")."""
    if height is not None:  # at most as tall as its rows: no empty grid under a short table
        height = min(height, ROW_PX * (len(frame) + 1) + 3)
    config = column_config(frame)
    shares = [c for c in percent if c in frame.columns]
    if shares:
        frame = frame.assign(**{c: frame[c].astype("float64") * 100.0 for c in shares})
        for c in shares:
            config[c] = st.column_config.NumberColumn(c.replace("_", " "), format="%.1f%%")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=height or "auto",
        key=key,
        column_config=config,
    )


ACRONYMS = {"btyd": "BTYD", "clv": "CLV", "rfm": "RFM", "crm": "CRM", "shap": "SHAP"}


def pretty(name: str) -> str:
    """A table or stage name in words: "btyd_by_frequency" -> "BTYD by frequency" (not "Btyd"),
    "clv_lift" -> "CLV lift"."""
    words = [ACRONYMS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
