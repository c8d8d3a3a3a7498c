"""The report's sentences say what their numbers count, checked against the CSV files of the run
(recomputed here with pandas, not read from the code that wrote the sentences)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets import synthetic


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("numbers")
    source = base / "orders.parquet"
    synthetic(800, seed=5).orders.to_parquet(source)
    # few rows listed per order rule, so that more pairs are found than the CSV lists
    (base / "custlens.toml").write_text("[anomalies]\nmax_listed = 5\n", encoding="utf-8")
    out = base / "results"
    result = CliRunner().invoke(
        app,
        ["run", str(source), "--out", str(out), "--config", str(base / "custlens.toml"),
         "--figures", "none", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _text(out: Path) -> str:
    markdown = (out / "report.md").read_text(encoding="utf-8").replace("\\", "")  # md escapes
    return " ".join(markdown.split())


def test_found_caption_by_hand():
    from custlens.pipeline.stages.sections import _found_caption

    assert _found_caption(2161, 100) == "2,161 found; the 100 largest are listed (largest first)."
    assert _found_caption(66, 66) == "66 found; the largest first."


def test_cancellation_pairs_say_they_are_lines_and_how_many_the_csv_lists(run: Path):
    import json

    listed = len(pd.read_csv(run / "anomalies" / "cancellation_pairs.csv"))
    found = json.loads((run / "anomalies" / "summary.json").read_text())["cancellation_pairs"]
    assert listed == 5 < found["found"]  # the setting above; more were found
    text = _text(run)
    # before: "N pairs found; the largest first." above a table whose note called its 5 rows
    # "the full table", and a card "Cancelled orders" counting purchase lines
    assert f"{found['found']:,} found; the 5 largest are listed (largest first)." in text
    assert "| Cancelled purchase lines |" in text and "Cancelled orders" not in text
    assert "orders cancelled after purchase" not in text


def test_the_two_at_risk_lists_say_their_rules_and_counts(run: Path):
    c = pd.read_csv(run / "customers.csv", dtype={"customer_id": str})
    # predictions: top 20 % by spend (linear quantile), churn probability >= 0.5, confident
    top_spend = c["monetary"] >= c["monetary"].quantile(0.8)
    confident = ~c["low_confidence"].fillna(False).astype(bool)
    likely = top_spend & (c["churn_probability"] >= 0.5) & confident
    n = int(likely.sum())
    share = c.loc[likely, "monetary"].sum() / c["monetary"].sum()
    assert n > 0
    text = _text(run)
    assert (
        f"{n:,} of the top 20% of customers by spend are likely to churn (churn probability "
        f"50% or more); together they brought {share:.0%} of revenue."
    ) in text
    assert f"Call or email the {n:,} top spenders likely to churn" in text
    # insights: top quarter by CLV (above 0), churn probability >= 0.5 or overdue
    clv = c["clv"].fillna(0.0)
    top = (clv >= clv.quantile(0.75)) & (clv > 0)
    first, last = pd.to_datetime(c["first_order"]), pd.to_datetime(c["last_order"])
    cadence = (last - first).dt.days / (c["frequency"] - 1).where(c["frequency"] > 1)
    overdue = (c["recency_days"] / cadence.where(cadence > 0)) > 1.5
    risky = top & ((c["churn_probability"] >= 0.5) | overdue.fillna(False))
    assert (
        f"{int(risky.sum()):,} of the {int(top.sum()):,} customers in the top 25% by CLV are "
        "at risk"
    ) in text
    # before: both lists were "High-value customers at risk", with different counts
    assert "Top customers by CLV at risk" in text
    assert "High-value customers at risk" not in text and "high-value customers" not in text


def test_a_slipping_segment_is_compared_with_the_mean_it_is_divided_by(run: Path):
    c = pd.read_csv(run / "customers.csv", dtype={"customer_id": str})
    overall = c["recency_days"].mean()
    by = c.groupby("segment").agg(
        n=("customer_id", "size"), rec=("recency_days", "mean"), rev=("monetary", "sum")
    )
    by["ratio"] = by["rec"] / overall
    by["rev_share"] = by["rev"] / c["monetary"].sum()
    slipping = by[(by["ratio"] >= 1.5) & (by["rev_share"] >= 0.05)]
    assert len(slipping)
    text = _text(run)
    for name, row in slipping.iterrows():
        # before: "... times longer than the typical customer" (a mean read as a median)
        assert (
            f"last ordered {row['rec']:.0f} days ago on average, {row['ratio']:.1f} times the "
            f"average of all customers ({overall:.0f} days)."
        ) in text, name
    assert "typical customer" not in text


def test_markdown_tables_name_columns_as_the_html_report_does():
    from custlens.report.markdown import render_markdown
    from custlens.story import Section, Story, Table

    frame = pd.DataFrame({"segment": ["Champions"], "revenue_share": [0.515], "avg_recency": [6.5]})
    table = Table("segments", "Segments", frame, percent=("revenue_share",))
    story = Story("Report", "sub", (Section("segments", "Segments", blocks=(table,)),))
    lines = render_markdown(story, {}).splitlines()
    # before: "| segment | revenue_share | avg_recency |" (HTML said "revenue share")
    head = lines.index("| segment | revenue share | avg recency |")
    assert lines[head + 2] == "| Champions | 51.5% | 6.50 |"  # the share still as a percent
