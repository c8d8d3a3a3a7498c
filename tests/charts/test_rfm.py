"""The RFM charts are plain Vega-Lite dicts (no Altair import): valid specs with the right data."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest

from custlens.charts import VEGA_LITE_SCHEMA, save_chart, vega_lite_version
from custlens.charts.rfm import rfm_grid_chart, segment_share_chart


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "r_score": [5, 5, 1, 5, 1],
            "fm_score": [4, 4, 2, 1, 2],
            "segment": pd.Categorical(["Champions", "Champions", "Lost", "New", "Lost"]),
        }
    )


def test_the_dict_specs_declare_the_schema_altair_uses():
    # Altair's specs and ours go into one report with one Vega bundle: same Vega-Lite version
    assert VEGA_LITE_SCHEMA == alt.SCHEMA_URL
    assert (
        vega_lite_version({"$schema": VEGA_LITE_SCHEMA})
        == alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    )
    assert vega_lite_version({"$schema": "https://x/vega-lite/v5.20.json"}) == "5.20"
    assert vega_lite_version({}) is None


def test_rfm_grid_counts_customers_per_cell_and_is_a_valid_spec(customers):
    spec = rfm_grid_chart(customers)
    alt.LayerChart.from_dict(spec)  # validates against the Vega-Lite schema; raises if not
    cells = {
        (v["r_score"], v["fm_score"], v["segment"]): v["customers"] for v in spec["data"]["values"]
    }
    # by hand: (5,4) Champions a,b; (1,2) Lost c,e; (5,1) New d
    assert cells == {(5, 4, "Champions"): 2, (1, 2, "Lost"): 2, (5, 1, "New"): 1}
    assert all(
        type(v) is int for cell in spec["data"]["values"] for k, v in cell.items() if k != "segment"
    )
    json.dumps(spec, allow_nan=False)  # plain JSON values only


def test_segment_share_keeps_the_order_and_writes_missing_shares_as_null(tmp_path):
    summary = pd.DataFrame(
        {
            "segment": ["Lost", "Champions"],
            "share": [0.75, 0.25],
            "revenue_share": [float("nan"), 1.0],
        }
    )
    spec = segment_share_chart(summary)
    alt.Chart.from_dict(spec)
    assert spec["encoding"]["y"]["sort"] == ["Lost", "Champions"]
    values = {(v["segment"], v["measure"]): v["value"] for v in spec["data"]["values"]}
    assert values == {
        ("Lost", "customers"): 0.75,
        ("Champions", "customers"): 0.25,
        ("Lost", "revenue"): None,
        ("Champions", "revenue"): 1.0,
    }
    # save_chart takes the dict as it is
    path = save_chart(spec, tmp_path / "segments.json")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(spec))
