"""Honesty of the insight engine: planted effects are found, and on data without any effect at
most 5% of the series tested produce a trend or anomaly insight (20 seeds)."""

from __future__ import annotations

from datetime import date

import ibis
import pytest
from tests.insights.planted import orders

import custlens
from custlens.config import Settings
from custlens.insights.engine import InsightRun, series_insights

AS_OF = date(2024, 1, 1)


def _ids(results) -> set[str]:
    return set(results.stages["insights"].tables["insights"]["id"])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 8])
def test_planted_effects_are_found(seed):
    data = orders(seed, decline="Garden", spike="2023-05", shrink=True)
    results = custlens.run(data, settings=Settings(analyses=["migration", "insights"]))
    table = results.stages["insights"].tables["insights"].set_index("id")
    # a category whose sales decline steadily
    assert "trend:category:Garden" in table.index
    assert table.loc["trend:category:Garden", "effect_size"] < 0
    for other in ("Kitchen", "Toys", "Lighting", "Paper", "Textiles"):
        assert f"trend:category:{other}" not in table.index
    # a month with an order spike
    # (revenue may be flagged with it: then one finding for both)
    [spike] = [i for i in table.index if i.startswith("anomaly:orders") and "month:2023-05" in i]
    assert table.loc[spike, "metric_value"] > 0
    # a segment that shrinks: the best customers stop buying in the last 90 days
    shrunk = {
        i
        for i in table.index
        if i.startswith("segment_shift:") and table.loc[i, "metric_value"] < 0
    }
    assert shrunk & {"segment_shift:Champions", "segment_shift:Loyal Customers"}
    # and their CRM list is written
    crm = results.stages["insights"].tables["customers"]
    assert set(crm["insight_id"]) >= shrunk


def series_with_findings(seed: int, settings: Settings) -> tuple[int, int]:
    """(series tested, series with at least one trend or anomaly insight) on null data."""
    run = InsightRun()
    data = ibis.memtable(orders(seed, customers=300))
    series_insights(data, None, AS_OF, settings.insights, settings.rfm, run)
    tested = run.tested["anomaly"] + run.tested["trend"]
    # an anomaly is one series per measure it names ("anomaly:orders+revenue:week:...")
    flagged = {
        f"{i.kind}:{m}:{i.id.split(':')[2]}" if i.kind == "anomaly" else i.id
        for i in run.insights
        for m in (i.id.split(":")[1].split("+") if i.kind == "anomaly" else [""])
    }
    return tested, len(flagged)


@pytest.mark.slow
def test_false_alarm_rate_on_data_without_effects():
    settings = Settings()
    tested = flagged = 0
    for seed in range(20):
        t, f = series_with_findings(seed, settings)
        tested += t
        flagged += f
    assert tested >= 20 * 20
    assert flagged / tested <= 0.05, f"{flagged} of {tested} series flagged"
