"""The stage pages (anomalies, predictions...) of a results folder: what their tables say."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.app.conftest import frame_with, go, new_app

import custlens


@pytest.fixture(scope="module")
def folder(tmp_path_factory, orders_frame):
    """Every analysis on the small order log, at most 2 anomalies of each kind listed."""
    from custlens.exports import write_results

    root = tmp_path_factory.mktemp("stage-pages")
    csv = root / "orders.csv"
    orders_frame.to_csv(csv, index=False)
    settings = custlens.Settings().with_overrides(**{"anomalies.max_listed": 2})
    return write_results(custlens.run(str(csv), settings=settings), root / "results")


def _expanders(at) -> list[str]:
    return [e.label for e in at.expander]


def test_table_names_keep_their_acronyms():
    from custlens.app.views.common import pretty

    assert pretty("btyd_by_frequency") == "BTYD by frequency"
    assert pretty("clv_lift") == "CLV lift"
    assert pretty("churn_lift") == "Churn lift"
    assert pretty("rfm") == "RFM"


@pytest.mark.slow
def test_predictions_tables_are_named_with_their_acronyms(app_env, folder):
    """The expanders read "Btyd by frequency" and "Clv lift"."""
    app_env(path=folder)
    labels = _expanders(go(new_app(), "Predictions"))
    assert any(label.startswith("BTYD by frequency (") for label in labels), labels
    assert "CLV lift (10 rows)" in labels, labels
    assert not [label for label in labels if label.startswith(("Btyd", "Clv"))], labels


@pytest.mark.slow
def test_a_capped_list_says_how_many_were_found(app_env, folder):
    """The anomalies page said "Cancellation pairs (100 rows)" on Online Retail, where 2,161
    pairs were found and the stage lists at most 100 (``[anomalies] max_listed``)."""
    found = json.loads((folder / "anomalies" / "summary.json").read_text())
    pairs = found["cancellation_pairs"]["found"]
    listed = len(pd.read_csv(folder / "anomalies" / "cancellation_pairs.csv"))
    assert listed == 2 < pairs  # the fixture's cap is what this test is about
    app_env(path=folder)
    labels = _expanders(go(new_app(), "Anomalies"))
    assert f"Cancellation pairs (the 2 largest of {pairs:,} found)" in labels, labels
    flagged = len(pd.read_csv(folder / "anomalies" / "customers.csv"))
    assert f"Customers ({flagged:,} rows)" in labels, labels


@pytest.mark.slow
def test_the_predictions_page_lists_the_top_spenders_likely_to_churn(app_env, folder):
    """The Overview says "Call or email the N top spenders likely to churn (list in the
    predictions section)", but the app's Predictions page had no such list."""
    customers = pd.read_parquet(folder / "customers.parquet")
    bar = customers["monetary"].quantile(0.8)  # the top 20% by spend (report defaults)
    expected = customers[
        (customers["monetary"] >= bar)
        & (customers["churn_probability"] >= 0.5)
        & ~customers["low_confidence"].astype(bool)
    ].sort_values(["monetary", "customer_id"], ascending=[False, True])
    assert len(expected), "the fixture should have some"
    app_env(path=folder)
    at = go(new_app(), "Predictions")
    headings = [h.value for h in at.subheader]
    assert f"Top spenders likely to churn ({len(expected):,})" in headings, headings
    shown = frame_with(at, "churn_probability")
    assert shown["customer_id"].astype(str).tolist() == expected["customer_id"].tolist()


@pytest.mark.slow
def test_the_lookup_says_whose_reasons_they_are(app_env, folder):
    """The lookup headed the reasons "Why (churn and value)", yet they are the LightGBM churn
    model's alone: on CDNOW, where the BG/NBD model won the backtest and scored every customer,
    customer 1 read "churn probability 73%" with LightGBM's "days overdue 86 days lowers churn
    risk" as its why."""
    customers = pd.read_parquet(folder / "customers.parquet")
    has_reasons = customers["reason_1"].fillna("") != ""
    by_btyd = customers[has_reasons & (customers["churn_source"] == "btyd")]
    assert len(by_btyd), "the fixture should have a customer scored by BG/NBD"
    app_env(path=folder)
    at = go(new_app(), "Customer lookup")
    at.text_input(key="lookup_id").set_value(by_btyd["customer_id"].iloc[0]).run()
    assert not at.exception, at.exception
    assert not [m.value for m in at.markdown if "churn and value" in m.value]
    captions = " ".join(c.value for c in at.caption)
    assert "churn probability is the BG/NBD model's" in captions, captions
    assert "the reasons in words are the LightGBM churn model's" in captions, captions


def test_tree_rules_read_in_words():
    from custlens.pipeline.stages.sections import rule_words

    assert rule_words("frequency <= 4.5 and 0.417 < q4_share <= 0.583") == (
        "frequency at most 4.5, q4 share above 0.417 and at most 0.583"
    )
    assert rule_words("frequency > 4.5 and 120 < monetary <= 3,400") == (
        "frequency above 4.5, monetary above 120 and at most 3,400"
    )


@pytest.mark.slow
def test_the_personas_page_shows_the_tree_rules_in_words(app_env, folder):
    """The rules table showed "0.417 < q4_share <= 0.583 and avg_items_per_order <= 133",
    column names and symbols, in a grid column that cut them off after a few conditions."""
    raw = pd.read_csv(folder / "personas" / "tree_rules.csv")
    app_env(path=folder)
    at = go(new_app(), "Personas")
    tables = [t.value for t in at.table if "coverage" in t.value.columns]
    assert len(tables) == 1, "the rules are one static table, which wraps long rules"
    shown = tables[0]
    assert len(shown) == len(raw)
    for rule in shown["rule"]:
        assert not any(ch in rule for ch in "_<>"), rule
    for before, after in zip(raw["rule"], shown["rule"], strict=True):
        for name in ("frequency", "monetary", "q4_share", "avg_items_per_order"):
            assert (name in before) == (name.replace("_", " ") in after), (before, after)


@pytest.mark.slow
def test_the_sort_choices_read_like_the_table_headers(app_env, folder):
    """ "Sort by" offered "recency_days", "avg_order_value" above a table headed "recency days",
    "avg order value"; choosing one still sorts by that column."""
    app_env(path=folder)
    at = go(new_app(), "Segments")
    box = at.selectbox(key="seg_sort")
    assert "recency days" in box.options and "avg order value" in box.options, box.options
    assert not [o for o in box.options if "_" in o], box.options
    box.set_value("recency_days").run()
    assert not at.exception, at.exception
    at.toggle(key="seg_asc").set_value(True).run()
    shown = frame_with(at, "recency_days")
    assert shown["recency_days"].is_monotonic_increasing


@pytest.mark.slow
def test_a_stage_without_a_headline_shows_its_notes_at_once(app_env):
    """Timing on dates without a time of day (CDNOW) has no contact windows to headline: the page
    was a title over a closed "Notes (1)" and a chart, the reason hidden behind a click."""
    from tests.app.conftest import upload

    days = pd.date_range("2024-01-01", periods=120, freq="D")
    lines = pd.DataFrame(
        {
            "customer": [f"c{i % 30}" for i in range(120)],
            "order_date": days.strftime("%Y-%m-%d"),  # no time of day
            "amount": [10.0 + i for i in range(120)],
        }
    )
    app_env()
    at = upload(new_app(), "dates only.csv", lines.to_csv(index=False).encode())
    at.multiselect(key="analyses").set_value(["timing"]).run()
    at.button(key="run_button").click().run()
    assert not at.exception, at.exception
    go(at, "Timing")
    assert not [m.value for m in at.markdown if m.value.startswith("- Best contact windows")]
    notes = [e for e in at.expander if e.label.startswith("Notes (")]
    assert len(notes) == 1 and notes[0].proto.expanded, [e.label for e in at.expander]
    assert any("no time of day" in c.value for c in notes[0].caption)


@pytest.mark.slow
def test_basket_and_migration_pages_show_the_reports_tables_in_words(app_env, folder):
    """The Basket page showed five raw tables of up to 23 columns; it now shows the report's
    tables first (rules by label, shares as percentages), the full tables after them."""
    app_env(path=folder)
    at = go(new_app(), "Basket")
    headings = [h.value for h in at.subheader]
    assert "Products most often bought together" in headings, headings
    assert headings[-1] == "Every table, every column", headings
    together = frame_with(at, "share_of_orders")
    itemsets = pd.read_csv(folder / "basket" / "itemsets.csv")
    several = itemsets[itemsets["size"] >= 2].sort_values("count", ascending=False)
    # the share shown in percent: 100 x the support of the most frequent pair or triple
    top = 100 * several["support"].iloc[0]  # the CSV rounds the support to 6 digits
    assert together["share_of_orders"].iloc[0] == pytest.approx(top, rel=1e-3)
    at = go(new_app(), "Migration")
    headings = [h.value for h in at.subheader]
    assert any(h.startswith("Monthly cohorts") for h in headings), headings
    assert "Every table, every column" in headings, headings
    # the insights in words: what a reader acts on, not ids and test statistics
    at = go(new_app(), "Insights")
    findings = frame_with(at, "finding")
    assert list(findings.columns) == ["severity", "title", "finding", "action", "customers",
                                      "crm_list"]  # fmt: skip
    # the other insights tables are shown as they are: once, below, not twice
    headings = [h.value for h in at.subheader]
    assert headings == ["Insights", "Every table, every column"], headings
