"""RFM chart specs: segment sizes against their revenue, and the R x FM grid.

Plain Vega-Lite dicts rather than Altair charts: every run's report has these two charts, and
a run with only RFM need not import Altair (about 0.3 s) for them. They are the specs Altair
would give (the tests check both against the Vega-Lite schema); ``save_chart`` takes them as
they are, ``custlens.report.figures`` wraps them in Altair where Altair is loaded anyway.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from custlens.charts import VEGA_LITE_SCHEMA

__all__ = ["rfm_grid_chart", "segment_share_chart"]

_VIEW = {"view": {"continuousWidth": 300, "continuousHeight": 300}}  # Altair's default


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python numbers, missing values as null."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _values(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [str(c) for c in frame.columns]
    return [
        dict(zip(columns, map(_plain, row), strict=True))
        for row in frame.itertuples(index=False, name=None)
    ]


def _field(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"field": name, "type": kind, **extra}


def segment_share_chart(summary: pd.DataFrame) -> dict[str, Any]:
    """Share of customers beside share of revenue for each segment (from ``segment_summary``)."""
    order = [_plain(s) for s in summary["segment"].tolist()]
    long = summary.melt(
        id_vars=["segment"],
        value_vars=["share", "revenue_share"],
        var_name="measure",
        value_name="value",
    )
    long["measure"] = long["measure"].map({"share": "customers", "revenue_share": "revenue"})
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "config": _VIEW,
        "title": "Segments: share of customers and of revenue",
        "data": {"values": _values(long[["segment", "measure", "value"]])},
        "mark": {"type": "bar"},
        "encoding": {
            "y": _field("segment", "nominal", sort=order, title=None),
            "x": _field("value", "quantitative", axis={"format": "%"}, title="share"),
            "yOffset": _field("measure", "nominal"),
            "color": _field("measure", "nominal", title=None),
            "tooltip": [
                _field("segment", "nominal"),
                _field("measure", "nominal"),
                _field("value", "quantitative", format=".1%"),
            ],
        },
        "width": 420,
    }


def rfm_grid_chart(customers: pd.DataFrame) -> dict[str, Any]:
    """Customers per R x FM cell, labelled with the segment each cell belongs to."""
    cells = (
        customers.groupby(["r_score", "fm_score", "segment"], observed=True)
        .size()
        .reset_index(name="customers")
    )
    title = "Customers per R x FM cell"
    position = {
        "x": _field("fm_score", "ordinal", title="FM score"),
        "y": _field("r_score", "ordinal", sort="descending", title="R score"),
    }
    heat = {
        "mark": {"type": "rect"},
        "encoding": {
            **position,
            "color": _field("customers", "quantitative", scale={"scheme": "blues"}),
            "tooltip": [
                _field("segment", "nominal"),
                _field("r_score", "quantitative"),
                _field("fm_score", "quantitative"),
                _field("customers", "quantitative"),
            ],
        },
        "title": title,
    }
    text = {
        "mark": {"type": "text", "fontSize": 9},
        "encoding": {**position, "text": _field("segment", "nominal")},
        "title": title,
    }
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "config": _VIEW,
        "data": {"values": _values(cells)},
        "layer": [heat, text],
        "width": 420,
        "height": 300,
    }
