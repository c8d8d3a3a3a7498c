"""What the pages show, found by driving the app in a browser: charts drawn at their size."""

from __future__ import annotations

import json

import pytest
from tests.app.conftest import go, new_app


def _specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


@pytest.mark.slow
def test_charts_keep_their_size_instead_of_being_squeezed(app_env, full_run):
    """A chart without its own ``autosize`` is made by Streamlit to fit its whole drawing
    (titles, rotated axis labels, legend) into the plot's width and height: the persona
    heatmap's rows shrank to a few pixels and the anomaly bars hid behind their labels. The
    app draws them as the report does: the declared size is the plot's, labels around it."""
    _, folder = full_run
    app_env(path=folder)
    at = new_app()
    for page in ("Overview", "Personas", "Anomalies", "Predictions"):
        specs = _specs(go(at, page))
        assert specs, page
        for spec in specs:
            assert spec.get("autosize", {}).get("type") == "pad", (page, spec.get("title"))
