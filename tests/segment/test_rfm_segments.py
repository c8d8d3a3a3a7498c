"""RFM quintiles and segments, checked against an independent numpy/pandas computation."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.config import DEFAULT_SEGMENTS, RFMConfig, SegmentRule
from custlens.errors import DataError, MappingError
from custlens.segment.rfm_segments import (
    SUMMARY_COLUMNS,
    describe_segments,
    score_distribution,
    score_notes,
    score_rfm,
    segment_expr,
    segment_summary,
)


def _customers(n: int = 103, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"c{i:04d}" for i in rng.permutation(n)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": rng.integers(1, 40, n),  # many ties
            "frequency": rng.integers(1, 6, n),  # heavy ties
            "monetary": np.round(rng.gamma(2.0, 50.0, n), 0),  # some ties
        }
    )


def _reference_quintiles(values: pd.Series) -> np.ndarray:
    """Tie-aware quintile 1..5 of each row, computed independently.

    The n sorted positions are split into 5 groups whose sizes differ by at most one, the larger
    groups first (SQL ``ntile``); a value takes the group of its first position (pandas
    ``rank(method='min')``), so equal values get equal scores.
    """
    position = values.rank(method="min").astype(int).to_numpy() - 1
    group = np.empty(len(values), dtype=int)
    for k, chunk in enumerate(np.array_split(np.arange(len(values)), 5)):
        group[chunk] = k + 1
    return group[position]


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    df = _customers()
    return score_rfm(ibis.memtable(df), RFMConfig()).to_pandas().set_index("customer_id")


def test_scores_match_independent_quintiles(scored):
    df = _customers().set_index("customer_id", drop=False)
    f = _reference_quintiles(df["frequency"])
    m = _reference_quintiles(df["monetary"])
    r = 6 - _reference_quintiles(df["recency_days"])  # most recent fifth scores 5
    out = scored.loc[df.index]
    np.testing.assert_array_equal(out["f_score"].to_numpy(), f)
    np.testing.assert_array_equal(out["m_score"].to_numpy(), m)
    np.testing.assert_array_equal(out["r_score"].to_numpy(), r)


def test_equal_values_get_equal_scores(scored):
    for column, score in (("frequency", "f_score"), ("monetary", "m_score")):
        assert (scored.groupby(column)[score].nunique() == 1).all()
    assert (scored.groupby("recency_days")["r_score"].nunique() == 1).all()


def test_without_ties_the_groups_are_ntile():
    n = 103
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "recency_days": np.arange(n)[::-1],
            "frequency": np.arange(1, n + 1),
            "monetary": np.arange(n) * 1.5,
        }
    )
    out = score_rfm(ibis.memtable(df)).to_pandas().sort_values("frequency")
    # 103 = 21 + 21 + 21 + 20 + 20, the larger groups first
    assert np.bincount(out["f_score"])[1:].tolist() == [21, 21, 21, 20, 20]
    np.testing.assert_array_equal(out["f_score"], out["m_score"])
    np.testing.assert_array_equal(out["r_score"], 6 - _reference_quintiles(out["recency_days"]))


def test_one_frequency_for_everyone_is_not_split_by_customer_id():
    # before: F = 1 for ids "0".."1818" and F = 5 for "7829".."9999"
    n = 500
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(n)],
            "recency_days": rng.integers(1, 300, n),
            "frequency": np.ones(n, dtype=int),
            "monetary": rng.gamma(2.0, 30.0, n),
        }
    )
    out = score_rfm(ibis.memtable(df)).to_pandas()
    assert set(out["f_score"]) == {1}
    dist = score_distribution(out)
    notes = score_notes(dist)
    assert any("F" in note and "one value" in note for note in notes), notes
    f = dist[dist["score"] == "F"]
    assert f["customers"].tolist() == [n, 0, 0, 0, 0]


def test_a_tie_spanning_quintiles_is_reported():
    n = 200
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": np.arange(n),
            "frequency": np.r_[np.ones(120, dtype=int), np.arange(2, 82)],  # 60% one order
            "monetary": np.arange(n) * 2.0,
        }
    )
    out = score_rfm(ibis.memtable(df)).to_pandas()
    assert (out.loc[out["frequency"] == 1, "f_score"] == 1).all()
    assert out.loc[out["frequency"] > 1, "f_score"].min() == 4  # position 120 of 200
    notes = score_notes(score_distribution(out))
    assert len(notes) == 1 and "F" in notes[0] and "60%" in notes[0], notes


def test_fm_cell_and_segment(scored):
    for _, row in scored.iterrows():
        f, m, r = int(row.f_score), int(row.m_score), int(row.r_score)
        expected_fm = int(np.floor((f + m) / 2 + 0.5))  # mean, rounded half up
        assert row.fm_score == expected_fm
        assert row.rfm_cell == f"{r}{f}{m}"
        assert row.segment == RFMConfig().segment_of(r, expected_fm).name
    # a few by hand: f=4, m=5 -> 4.5 -> 5; f=1, m=2 -> 1.5 -> 2; f=3, m=3 -> 3
    assert (4 + 5 + 1) // 2 == 5 and (1 + 2 + 1) // 2 == 2


def test_every_cell_maps_to_exactly_one_segment():
    grid = pd.DataFrame([(r, fm) for r in range(1, 6) for fm in range(1, 6)], columns=["r", "fm"])
    t = ibis.memtable(grid)
    names = t.mutate(segment=segment_expr(t.r, t.fm, RFMConfig())).to_pandas()
    assert names["segment"].notna().all()
    for _, row in names.iterrows():
        holders = [
            s.name
            for s in DEFAULT_SEGMENTS
            if s.r[0] <= row.r <= s.r[1] and s.fm[0] <= row.fm <= s.fm[1]
        ]
        assert holders == [row.segment]
    cell = names.set_index(["r", "fm"])["segment"]
    assert cell[(5, 5)] == "Champions"
    assert cell[(1, 5)] == "Can't Lose Them"
    assert cell[(3, 3)] == "Need Attention"
    assert cell[(1, 1)] == "Lost"
    assert cell[(5, 1)] == "New Customers"


def test_custom_segment_table_runs_in_the_engine():
    rfm = RFMConfig(
        segments=[
            SegmentRule(name="Recent", r=(4, 5), fm=(1, 5), description="d1", action="a1"),
            SegmentRule(name="Old", r=(1, 3), fm=(1, 5), description="d2", action="a2"),
        ]
    )
    out = score_rfm(ibis.memtable(_customers()), rfm).to_pandas()
    expected = np.where(out["r_score"] >= 4, "Recent", "Old")
    np.testing.assert_array_equal(out["segment"].to_numpy(), expected)


def test_missing_columns_are_a_mapping_error():
    df = _customers().drop(columns=["monetary"])
    with pytest.raises(MappingError, match="lack the column.*monetary"):
        score_rfm(ibis.memtable(df))


def test_segment_summary_by_hand():
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "segment": ["Champions", "Champions", "Lost", "At Risk"],
            "monetary": [300.0, 100.0, 50.0, 50.0],
            "recency_days": [2, 4, 300, 100],
            "frequency": [10, 6, 1, 3],
        }
    )
    s = segment_summary(df, RFMConfig())
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    assert list(s["segment"]) == [rule.name for rule in DEFAULT_SEGMENTS]
    row = s.set_index("segment")
    assert row.loc["Champions", "customers"] == 2
    assert row.loc["Champions", "share"] == pytest.approx(0.5)
    assert row.loc["Champions", "revenue"] == pytest.approx(400.0)
    assert row.loc["Champions", "revenue_share"] == pytest.approx(0.8)
    assert row.loc["Champions", "avg_monetary"] == pytest.approx(200.0)
    assert row.loc["Champions", "avg_recency"] == pytest.approx(3.0)
    assert row.loc["Champions", "avg_frequency"] == pytest.approx(8.0)
    assert row.loc["Lost", "revenue_share"] == pytest.approx(0.1)
    empty = row.loc["Promising"]
    assert (empty.customers, empty.share, empty.revenue, empty.revenue_share) == (0, 0, 0, 0)
    assert np.isnan(empty.avg_monetary)
    assert row.loc["Lost", "action"] == DEFAULT_SEGMENTS[-1].action
    assert s["customers"].sum() == 4


def test_segment_summary_rejects_unknown_segments():
    df = pd.DataFrame(
        {"segment": ["Whales"], "monetary": [1.0], "recency_days": [1], "frequency": [1]}
    )
    with pytest.raises(DataError, match="Whales"):
        segment_summary(df, RFMConfig())


def test_describe_segments_attaches_description_and_action():
    df = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["Champions", "Lost"]})
    out = describe_segments(df, RFMConfig())
    assert out.loc[0, "description"] == DEFAULT_SEGMENTS[0].description
    assert out.loc[1, "action"] == DEFAULT_SEGMENTS[-1].action
    assert "description" not in df.columns  # the input is not modified
