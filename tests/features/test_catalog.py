"""The feature catalog: its generated docs are committed as generated, and it lists exactly the
columns that behavioral_features and customer_table produce."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import ibis
import pytest

from custlens.features.behavioral import behavioral_features
from custlens.features.catalog import FAMILIES, FEATURES, RETURNS, feature, render_markdown

from .test_behavioral import tiny_purchases, tiny_returns

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"
REGENERATE = "python -m custlens.features.catalog > docs/features.md"


def test_committed_doc_equals_generated_text():
    assert DOC.is_file(), f"docs/features.md is missing; run: {REGENERATE}"
    assert DOC.read_text(encoding="utf-8") == render_markdown(), f"stale; run: {REGENERATE}"
    assert REGENERATE in render_markdown().splitlines()[2]  # documented at the top


def test_module_entry_point_prints_the_doc():
    out = subprocess.run(
        [sys.executable, "-m", "custlens.features.catalog"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout == render_markdown()


def test_catalog_shape():
    names = [s.name for s in FEATURES]
    assert len(names) == len(set(names)) >= 50
    assert {s.family for s in FEATURES} == set(FAMILIES)
    for s in FEATURES:
        assert s.definition.strip() and s.unit.strip(), s.name
        assert set(s.requires) <= {"product_id", "category", RETURNS}, s.name
    assert feature("preferred_hour").family == "seasonality"
    with pytest.raises(KeyError):
        feature("no_such_feature")
    # the families the design asks for are all present
    for name in (
        "spend_cv",
        "price_range",
        "revenue_growth_90d",
        "product_entropy",
        "bulk_buyer",
        "interval_std_days",
        "days_overdue",
        "active_month_ratio",
        "purchase_consistency",
        "quarter_entropy",
        "preferred_hour",
        "weekend_share",
        "lifecycle_stage",
        "return_rate",
        "tenure_days",
    ):
        assert feature(name)


def test_every_behavioral_entry_is_produced_and_nothing_else():
    result = behavioral_features(
        ibis.memtable(tiny_purchases()), ibis.memtable(tiny_returns()), as_of=date(2021, 7, 1)
    )
    produced = set(result.table.columns) - {"customer_id"}
    catalog = {s.name for s in FEATURES if s.produced_by == "behavioral_features"}
    assert produced == catalog
    assert result.skipped == []
    # and the columns come in catalog order
    assert [c for c in result.table.columns if c != "customer_id"] == [
        s.name for s in FEATURES if s.name in produced
    ]


def test_every_rfm_entry_is_produced_by_customer_table_and_nothing_else():
    rfm = pytest.importorskip("custlens.features.rfm")
    table = rfm.customer_table(
        ibis.memtable(tiny_purchases().dropna(subset=["customer_id"])),
        ibis.memtable(tiny_returns()),
        as_of=date(2021, 7, 1),
    )
    produced = set(table.columns) - {"customer_id"}
    assert produced == {s.name for s in FEATURES if s.family == "rfm"}
    behavioral = {s.name for s in FEATURES if s.family != "rfm"}
    assert not produced & behavioral  # no duplicated column between the two tables
    # the two tables describe the same customers and join one-to-one on customer_id
    features = behavioral_features(
        ibis.memtable(tiny_purchases()), ibis.memtable(tiny_returns()), as_of=date(2021, 7, 1)
    ).table
    joined = table.join(features, "customer_id")
    con = ibis.duckdb.connect()
    assert sorted(con.to_pandas(table.customer_id)) == sorted(con.to_pandas(features.customer_id))
    assert con.to_pandas(joined.count()) == 5
