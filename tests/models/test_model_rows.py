"""The final scoring's rows built block by block from the customer table: every block equals the
same rows of the frame read again from the engine, and the scores (blocks of 97 customers,
reasons for some) equal those of that frame scored whole."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.features.query import feature_query
from custlens.io.clean import clean
from custlens.io.frames import round_floats
from custlens.io.load import load
from custlens.models import scoring
from custlens.models.model_rows import BTYD_COLUMNS, FeatureRows, customer_features, feature_rows
from custlens.models.scoring import fit_final, score_customers

CONFIG = ModelsConfig(n_estimators=30)


@pytest.fixture(scope="module")
def fitted():
    data = synthetic(600, seed=8)
    c = clean(load(data.orders).table, CleaningConfig())
    models, _ = fit_final(c.purchases, c.returns, config=CONFIG)
    table = feature_query(c.purchases, c.returns, models.as_of, behavioral=True).table
    known = round_floats(table.order_by("customer_id").to_pandas())
    known["segment"] = "x"  # a column of the pipeline's table that is not a feature
    read, names = customer_features(c.purchases, c.returns, models.as_of, models.config)
    rows = feature_rows(c.purchases, c.returns, models.as_of, models.config, known=known)
    return models, read, names, rows


def test_rows_from_the_customer_table_are_built_when_asked(fitted):
    _, read, names, rows = fitted
    assert rows.added is not None  # built from the customer table, not read again
    assert len(rows) == len(read)
    assert rows.columns == tuple(read.columns)
    assert rows.names == names
    pd.testing.assert_frame_equal(rows.select(), read, check_exact=True)
    parts = [rows.select(rows=part) for part in rows.blocks(97)]
    assert [len(p) for p in parts] == [97] * 6 + [600 - 6 * 97]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), read, check_exact=True)
    at = np.array([0, 5, 311, 599])
    got = rows.select(["monetary", "btyd_T", "last_period_orders"], at)
    want = read.loc[at, ["monetary", "btyd_T", "last_period_orders"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_scores_from_blocks_equal_the_whole_frame_scored(fitted, monkeypatch):
    models, read, _, rows = fitted
    config = models.config.model_copy(update={"reason_rows": 150})
    models = dataclasses.replace(models, config=config)
    whole = score_customers(models, read)
    monkeypatch.setattr(scoring, "SCORE_BLOCK", 97)
    monkeypatch.setattr(scoring, "REASON_BLOCK", 40)
    blocks = score_customers(models, rows)
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    # 150 customers get TreeSHAP reasons; the low-confidence ones get their note first
    shap = (blocks["reason_1"] != "") & ~blocks["low_confidence"]
    assert 0 < shap.sum() <= 150
    low = blocks["low_confidence"]
    beyond = blocks["confidence_tier"] == "out of range"  # their note names the recency
    assert blocks.loc[low & ~beyond, "reason_1"].str.startswith("few orders so far").all()
    assert blocks.loc[beyond, "reason_1"].str.startswith("recency ").all()
    assert (blocks.loc[~low & ~shap, ["reason_1", "reason_2", "reason_3"]] == "").all().all()


def test_whole_frame_rows_select_without_changing_values():
    frame = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], **{c: [1.0, 2.0, 3.0] for c in BTYD_COLUMNS}}
    )
    rows = FeatureRows.whole(frame)
    assert rows.added is None and len(rows) == 3
    got = rows.select(["btyd_T"], np.array([2, 0]))
    assert got["btyd_T"].tolist() == [3.0, 1.0] and got.index.tolist() == [0, 1]


def test_the_customer_table_is_used_only_with_one_row_per_customer_in_order():
    import ibis

    from custlens.models.model_rows import _holds_rows

    query = ibis.memtable({"customer_id": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})

    def table(ids: list) -> pd.DataFrame:
        return pd.DataFrame({"customer_id": pd.array(ids, dtype="str"), "x": 0.0, "segment": "s"})

    assert _holds_rows(table(["a", "b", "c"]), query)
    assert not _holds_rows(table(["b", "a", "c"]), query)  # out of order
    assert not _holds_rows(table(["a", "a", "c"]), query)  # a customer twice
    assert not _holds_rows(table(["a", None, "c"]), query)  # an id missing
    assert not _holds_rows(table(["a", "b"]), query)  # a customer missing
    assert not _holds_rows(table(["a", "b", "c"]).drop(columns="x"), query)  # a column missing
