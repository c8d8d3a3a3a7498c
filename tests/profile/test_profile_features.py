"""Derived features, quality rules and scores, checked by hand on small tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custlens.config.profile import ProfileConfig, QualityRule
from custlens.profile.derived import catalog_markdown, derive_features, quintile_scores
from custlens.profile.quality import apply_quality_rules
from custlens.profile.roles import assign_roles
from custlens.profile.scores import score_customers

DOCS = Path(__file__).resolve().parents[2] / "docs" / "profile_features.md"


@pytest.fixture()
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": range(1, 13),
            "Year_Birth": [1980, 1990, 1890, 1970, 1985, 1975, 1960, 1995, 1982, 1978, 1966, 1999],
            "Income": [50e3, 60e3, 55e3, 1e7, 40e3, 45e3, 70e3, 30e3, 52e3, 58e3, 61e3, 33e3],
            "Kidhome": [0, 1, 0, 2, 1, 0, 0, 1, 0, 1, 0, 0],
            "Teenhome": [1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0],
            "Marital_Status": ["Married", "Single", "Together", "Single", "Married", "Divorced",
                               "Married", "Single", "Single", "Together", "Widow", "Single"],
            "Dt_Customer": ["01-01-2014", "15-06-2013", "31-12-2013", "01-02-2012", "13-03-2013",
                            "01-01-2013", "02-02-2013", "03-03-2013", "04-04-2013", "05-05-2013",
                            "06-06-2013", "07-07-2013"],
            "Recency": [10, 20, 30, 40, 50, 60, 70, 80, 90, 5, 15, 25],
            "MntWines": [100, 0, 50, 300, 10, 0, 200, 5, 60, 80, 90, 1],
            "MntMeat": [100, 0, 50, 100, 30, 10, 0, 5, 20, 40, 10, 1],
            "NumDealsPurchases": [1, 0, 2, 1, 4, 0, 0, 3, 1, 1, 0, 2],
            "NumWebPurchases": [2, 0, 1, 3, 4, 1, 0, 2, 1, 2, 3, 1],
            "NumStorePurchases": [2, 0, 3, 5, 4, 1, 5, 2, 3, 2, 1, 1],
            "AcceptedCmp1": [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0],
            "AcceptedCmp2": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            "Complain": [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        }
    )  # fmt: skip


def test_derived_features_by_hand(small: pd.DataFrame):
    feats = derive_features(assign_roles(small), ProfileConfig(), date(2014, 7, 1))
    f = feats.frame.set_index("ID")
    f.index = f.index.astype(int)  # ids are read as text
    assert f.loc[1, "age"] == 34  # 2014 - 1980 on 1 July
    assert np.isnan(f.loc[3, "age"])  # 124: excluded by "age over 110"
    assert f.loc[1, "tenure_days"] == (pd.Timestamp("2014-07-01") - pd.Timestamp("2014-01-01")).days
    assert f.loc[4, "total_spend"] == 400 and f.loc[4, "spend_share_wines"] == 0.75
    assert np.isnan(f.loc[2, "spend_share_wines"])  # nothing spent: no share
    assert f.loc[4, "total_purchases"] == 8  # web + store; deals are not a channel
    assert f.loc[4, "purchase_share_web"] == 3 / 8
    assert f.loc[5, "deal_share"] == 4 / 8 and f.loc[5, "spend_per_purchase"] == 40 / 8
    assert f.loc[1, "children"] == 1 and f.loc[1, "household_size"] == 3  # married + 1 teen
    assert f.loc[4, "household_size"] == 3  # single + 2 kids
    assert (
        f.loc[1, "campaign_acceptance_rate"] == 1.0 and f.loc[6, "campaign_acceptance_rate"] == 0.5
    )
    assert f.loc[5, "complained"] == 1
    q1, q3 = np.percentile(small["Income"], [25, 75])
    assert f.loc[4, "income"] == pytest.approx(q3 + 3 * (q3 - q1))  # capped, not dropped
    quality = feats.quality.set_index("rule")
    assert quality.loc["age over 110", "rows"] == 1 and quality.loc["income outlier", "rows"] == 1
    assert "Year_Birth" in feats.inputs["age"]
    assert feats.inputs["total_purchases"] == ["NumWebPurchases", "NumStorePurchases"]


def test_quintile_scores_match_an_independent_ranking():
    rng = np.random.default_rng(5)
    values = pd.Series(rng.integers(0, 20, 103).astype(float))
    ids = pd.Series([f"c{i:03d}" for i in range(103)])
    scores = quintile_scores(values, ids)
    order = sorted(range(103), key=lambda i: (values[i], ids[i]))
    expected = np.empty(103)
    for position, i in enumerate(order):
        expected[i] = position * 5 // 103 + 1
    np.testing.assert_array_equal(scores.to_numpy(), expected)


def test_quality_rules_cap_exclude_and_count():
    frame = pd.DataFrame({"a": [-1.0, 2.0, 3.0, -4.0], "b": [1.0, 2.0, 3.0, 400.0]})
    rules = [
        QualityRule(name="neg", column="role:spend", check="below", limit=0, action="exclude"),
        QualityRule(name="big", column="b", check="above", limit=100, action="cap"),
        QualityRule(name="absent", column="zzz", check="above", limit=1, action="cap"),
    ]
    out, report = apply_quality_rules(frame, rules, {"spend": ["a"]})
    assert out["a"].isna().tolist() == [True, False, False, True]
    assert out["b"].tolist() == [1.0, 2.0, 3.0, 100.0]
    assert report[["rule", "rows"]].values.tolist() == [["neg", 2], ["big", 1]]


def test_scores_are_mean_percentiles_of_available_components(small: pd.DataFrame):
    feats = derive_features(assign_roles(small), ProfileConfig(), date(2014, 7, 1))
    scored = score_customers(feats.frame, ProfileConfig().scores)
    f = feats.frame
    pct = lambda s: s.rank(pct=True) * 100  # noqa: E731
    loyalty = pd.concat([pct(f["tenure_days"]), pct(f["total_purchases"]), pct(f["total_spend"]),
                         pct(-f["recency_days"])], axis=1).mean(axis=1)  # fmt: skip
    np.testing.assert_allclose(scored.scores["loyalty_score"], loyalty)
    churn = pd.concat([pct(f["recency_days"]), pct(-f["total_purchases"]),
                       pct(f["complained"])], axis=1).mean(axis=1)  # fmt: skip
    np.testing.assert_allclose(scored.scores["churn_risk"], churn)
    np.testing.assert_allclose(scored.scores["discount_sensitivity"], pct(f["deal_share"]))
    no_deals = score_customers(f.drop(columns=["deal_share"]), ProfileConfig().scores)
    assert "discount_sensitivity" not in no_deals.scores.columns
    assert any("discount_sensitivity skipped" in n for n in no_deals.notes)


def test_feature_docs_are_generated_from_the_catalog():
    assert DOCS.read_text(encoding="utf-8") == catalog_markdown()


def test_documented_profile_config_parses(tmp_path: Path):
    import re

    from custlens.config import load_settings

    text = (DOCS.parent / "configuration.md").read_text(encoding="utf-8")
    example = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "[profile]" in b][0]
    path = tmp_path / "custlens.toml"
    path.write_text(example, encoding="utf-8")
    config = load_settings(path).profile
    assert config.roles == {"Kidhome": "numeric", "Region": "categorical"}
    assert config.as_of == date(2014, 7, 1)
    assert [r.name for r in config.quality_rules] == ["age over 100"]
    assert config.persona_rules[0].conditions()[1] == ("spend_share_wines", ">", 0.5)
