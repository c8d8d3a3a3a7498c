"""The migration and insights stages in a run: insights.json, the CLI's five most severe, the
results folder round trip, and what happens with and without the basket and predictions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest
from tests.insights.planted import orders
from typer.testing import CliRunner

import custlens
from custlens.cli import app
from custlens.config import Settings
from custlens.exports import write_results
from custlens.insights.record import KINDS, LEVELS, SCHEMA
from custlens.io import clean, load
from custlens.pipeline import Results
from custlens.pipeline.stage import StageContext, StageResult
from custlens.pipeline.stages import insights as insights_stage

FIELDS = {
    "id", "kind", "title", "finding", "severity", "severity_score", "metric", "metric_value",
    "test", "statistic", "p_value", "p_adjusted", "effect_size", "effect_name", "subject_type",
    "subject", "customers", "crm_list", "action", "numbers",
}  # fmt: skip


@pytest.fixture(scope="module")
def planted():
    return orders(3, decline="Garden", spike="2023-05", shrink=True)


@pytest.fixture(scope="module")
def run(planted, tmp_path_factory):
    results = custlens.run(planted, settings=Settings(analyses=["migration", "insights"]))
    out = write_results(results, tmp_path_factory.mktemp("ins") / "results")
    return results, out


def test_insights_json_follows_the_schema(run):
    results, out = run
    doc = json.loads((out / "insights.json").read_text())
    assert doc["schema"] == SCHEMA and doc["as_of"] == "2024-01-01"
    assert doc["insights"], "the planted effects give insights"
    levels = [LEVELS.index(i["severity"]) for i in doc["insights"]]
    assert levels == sorted(levels)  # most severe first
    for item in doc["insights"]:
        assert set(item) == FIELDS
        assert item["kind"] in KINDS
        assert item["finding"].endswith(".")
        assert any(ch.isdigit() for ch in item["finding"])
    assert doc["skipped"]["cross_sell"] == "the basket stage did not run"
    assert "predictions did not run" in doc["skipped"]["high_value_at_risk:clv"]
    assert doc["tested"]["trend"] >= 6


def test_crm_lists_belong_to_listed_insights(run):
    results, out = run
    crm = pd.read_csv(out / "insights" / "customers.csv", dtype={"customer_id": str})
    doc = json.loads((out / "insights.json").read_text())
    listed = {i["id"] for i in doc["insights"] if i["crm_list"]}
    assert set(crm["insight_id"]) == listed
    assert set(crm["customer_id"]) <= set(results.customers["customer_id"])


def test_folder_reopens_with_the_same_insights(run):
    results, out = run
    again = Results.from_folder(out)
    for name in ("migration", "insights"):
        assert again.stages[name].summary == results.stages[name].summary
        for key, table in results.stages[name].tables.items():
            pd.testing.assert_frame_equal(
                again.stages[name].tables[key].reset_index(drop=True),
                table.reset_index(drop=True),
                obj=f"{name}/{key}",
            )
        assert again.stages[name].documents() == results.stages[name].documents()
    assert again.stages["insights"].headline(again) == results.stages["insights"].headline(results)
    charts = again.stages["insights"].charts(again)
    assert "insights_overview" in charts and charts["insights_overview"].to_dict()
    assert again.stages["migration"].charts(again)["migration_matrix"].to_dict()


def test_the_anomaly_chart_draws_the_configured_cut_off(run):
    results, _ = run
    assert results.settings.insights.anomaly_z == 4.0  # the default, as in the findings' text
    spec = results.stages["insights"].charts(results)["insights_anomalies"].to_dict()
    rules = [d for d in spec["datasets"].values() if d and set(d[0]) == {"z"}]
    assert rules == [[{"z": -4.0}, {"z": 4.0}]]  # the chart drew +/-3.5 before


def test_the_migration_segments_now_are_the_run_segments(run):
    results, _ = run
    states = results.stages["migration"].tables["customer_states"]
    merged = states.merge(results.customers[["customer_id", "segment"]], on="customer_id")
    assert len(merged) == len(results.customers)
    assert (merged["segment_now"] == merged["segment"]).all()


def test_headline_prints_the_five_most_severe(run):
    results, _ = run
    lines = results.stages["insights"].headline(results)
    assert lines[0].startswith("Insights: ")
    top = results.stages["insights"].tables["insights"].head(5)
    assert len(lines) == 1 + len(top)
    for line, title in zip(lines[1:], top["title"], strict=True):
        assert title in line


@dataclass(frozen=True)
class FakeBasket(StageResult):
    stage = "basket"


def test_cross_sell_uses_the_basket_rules_per_segment(run, planted):
    results, _ = run
    rules = pd.DataFrame(
        {
            "segment": ["Champions", "Champions", "Lost"],
            "antecedent": [["Garden"], ["Toys"], ["Paper"]],
            "consequent": [["Kitchen"], ["Paper"], ["Toys"]],
            "support": [0.1, 0.05, 0.02],
            "confidence": [0.4, 0.6, 0.3],
            "lift": [2.5, 1.2, 1.6],
        }
    )
    basket = FakeBasket(tables={"segment_rules": rules})
    ctx = StageContext(
        customers=results.customers,
        transactions=None,  # type: ignore[arg-type]  # not read by the insights stage
        cleaned=clean(load(planted).table, Settings().cleaning),
        as_of=date(2024, 1, 1),
        settings=Settings(),
        earlier={"migration": results.stages["migration"], "basket": basket},
    )
    _, result = insights_stage.run(ctx)
    table = result.tables["insights"].set_index("id")
    assert table.loc["cross_sell:Champions", "metric_value"] == 2.5
    assert "Garden" in table.loc["cross_sell:Champions", "finding"]
    assert "Kitchen" in table.loc["cross_sell:Champions", "action"]
    assert table.loc["cross_sell:Lost", "metric_value"] == 1.6
    assert "cross_sell" not in result.summary["skipped"]


def test_cross_sell_reads_the_merged_basket_layout():
    """The basket stage on main: rules with antecedent_1/consequent_1, a readable ``rule``,
    ``by``/``group`` per segment or persona, and Benjamini-Hochberg ``q_value``."""
    from custlens.config import InsightsConfig
    from custlens.insights.customer_kinds import cross_sell

    rules = pd.DataFrame(
        {
            "by": ["segment", "segment", "persona", "segment"],
            "group": ["Champions", "Champions", "Bulk", "Lost"],
            "antecedent_1": ["p1", "p2", "p3", "p4"],
            "antecedent_2": [None, None, None, None],
            "consequent_1": ["p9", "p8", "p7", "p6"],
            "rule": ["Mug -> Plate", "Cup -> Saucer", "Bag -> Box", "Pen -> Ink"],
            "support": [0.05, 0.04, 0.1, 0.02],
            "confidence": [0.5, 0.6, 0.7, 0.3],
            "lift": [4.0, 9.0, 12.0, 2.0],
            "p_value": [1e-6, 0.2, 1e-9, 1e-4],
            "q_value": [1e-5, 0.3, 1e-8, 1e-3],
        }
    )
    found = {i.id: i for i in cross_sell({"segment_rules": rules}, InsightsConfig())}
    assert set(found) == {"cross_sell:Champions", "cross_sell:Lost"}  # persona rows left out
    best = found["cross_sell:Champions"]  # Cup -> Saucer has the higher lift but q = 0.3
    assert best.metric_value == 4.0 and "Mug" in best.finding and "Plate" in best.action
    assert best.p_adjusted == 1e-5


def test_cli_prints_insights_and_accepts_compare_to(tmp_path, planted):
    source = tmp_path / "orders.parquet"
    planted.to_parquet(source)
    out = tmp_path / "out"
    args = ["run", str(source), "--out", str(out), "--analyses", "migration,insights",
            "--figures", "none", "--compare-to", "2023-09-01"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Insights: " in result.output and "[HIGH]" in result.output
    summary = json.loads((out / "migration" / "summary.json").read_text())
    assert summary["date_then"] == "2023-09-01"
    bad = CliRunner().invoke(
        app, [*args[:-2], "--compare-to", "2030-01-01", "--as-of", "2024-01-01"]
    )
    assert bad.exit_code == 2 and "--compare-to" in bad.output


def test_the_report_shows_the_findings_in_words(run):
    from custlens.story import Table

    results, _ = run
    section = results.stages["insights"].section(results)
    [findings] = [
        b for b in section.blocks if isinstance(b, Table) and b.name == "insights_insights"
    ]
    assert list(findings.frame.columns) == [
        "severity",
        "title",
        "finding",
        "action",
        "customers",
        "crm_list",
    ]
    # every finding is shown; the ids and test statistics stay in insights.csv
    assert len(findings.frame) == min(
        len(results.stages["insights"].tables["insights"]), results.settings.report.max_table_rows
    )
