"""What ``custlens profile`` writes in prose must agree with its own tables (hand-checked cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custlens
from custlens.report.profile_markdown import write_profile


def _noise_table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Spend drawn independently of every other column: nothing tells high spenders apart."""
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ID": np.arange(1, n + 1),
            "Year_Birth": r.integers(1950, 1995, n),
            "Education": r.choice(["Graduation", "PhD", "Master"], n),
            "Income": r.normal(50000, 8000, n).round(),
            "Recency": r.integers(0, 100, n),
            "MntWines": r.integers(0, 500, n),
            "MntFruits": r.integers(0, 50, n),
            "NumWebPurchases": r.integers(0, 10, n),
            "NumStorePurchases": r.integers(0, 10, n),
        }
    )


@pytest.fixture(scope="module")
def noise_profile(tmp_path_factory):
    result = custlens.profile(_noise_table(), seed=0)
    out = write_profile(result, tmp_path_factory.mktemp("noise") / "p", figures="none")
    return result, out


def test_most_important_lists_only_features_whose_shuffling_costs_accuracy(noise_profile):
    result, _ = noise_profile
    importance = result.tables["high_value_importance"]
    positive = set(importance.loc[importance["importance_mean"] > 0, "feature"])
    top = result.summary["high_value"]["top_features"]
    # before: zero-importance features filled the list in alphabetical order (Education=...)
    assert set(top) <= positive
    assert len(top) == min(5, len(positive))


def test_a_tree_no_better_than_the_majority_is_not_reported_as_a_driver(noise_profile):
    result, out = noise_profile
    hv = result.summary["high_value"]
    # 60 customers, the top 20 % by spend: 12 high, 48 other -> always 'other' is 80 % right
    high = (result.customers["total_spend"] > result.customers["total_spend"].quantile(0.8)).sum()
    assert high == 12
    assert hv["majority_accuracy"] == pytest.approx(48 / 60)
    assert hv["fidelity"] <= hv["majority_accuracy"]
    text = (out / "profile.md").read_text(encoding="utf-8")
    section = text.split("## What sets high-value customers apart")[1].split("\n## ")[0]
    assert "does no better than always answering 'other'" in section
    assert "tells them apart" not in section
    assert "Most important" not in section
    assert "\n- " not in section  # no rules of a tree that found nothing


def test_high_value_lead_names_only_a_tree_that_beats_the_majority():
    from custlens.report.profile_story import high_value_lead

    hv = {
        "threshold": 370.2,
        "share": 0.2,
        "fidelity": 0.9,
        "majority_accuracy": 0.8,
        "top_features": ["income", "total_purchases"],
    }
    assert high_value_lead(hv) == (
        "High value: total spend above 370.20 (top 20%). A depth-limited decision tree without "
        "any spend column tells them apart (held-out accuracy 90.0%; always answering 'other': "
        "80.0%). Most important: income, total_purchases."
    )
    worse = {**hv, "fidelity": 0.778}
    assert high_value_lead(worse) == (
        "High value: total spend above 370.20 (top 20%). A depth-limited decision tree without "
        "any spend column does no better than always answering 'other' (held-out accuracy "
        "77.8%; always answering 'other': 80.0%): the other columns do not tell them apart."
    )


def _headline(differences, significant, best):
    from custlens.pipeline.profile import ProfileResult

    summary = {
        "role_counts": {"spend": 2},
        "k": 2,
        "silhouette": 0.2,
        "davies_bouldin": 1.5,
        "stability": 0.9,
        "personas": [],
        "strongest_differences": differences,
        "tests": len(differences),
        "significant_tests": significant,
        "best_persona_per_campaign": best,
    }
    return ProfileResult(pd.DataFrame(), {}, {}, summary, {}).headline()


def _difference(feature, effect_size, p_adjusted):
    return {
        "feature": feature,
        "effect": "epsilon_squared",
        "effect_size": effect_size,
        "p_adjusted": p_adjusted,
        "significant": p_adjusted < 0.05,
    }


def test_console_says_differs_most_only_of_significant_differences():
    # 30 customers: income (n = 6) has the largest effect size but adjusted p 0.145
    lines = _headline(
        [_difference("income", 0.771, 0.145), _difference("spend_share_wines", 0.724, 0.0023)],
        1,
        [],
    )
    assert [x for x in lines if x.startswith("Differs")] == [
        "Differs most: spend_share_wines (epsilon_squared 0.72, BH-adjusted p = 0.0023)"
    ]
    # a p-value that underflows to 0 is below what a double can tell from 0, not 0
    tiny = _headline([_difference("total_spend", 0.86, 0.0)], 1, [])
    assert "Differs most: total_spend (epsilon_squared 0.86, BH-adjusted p < 1e-16)" in tiny
    none = _headline([_difference("income", 0.771, 0.145)], 0, [])
    assert "No feature differs significantly across personas" in none
    assert not [x for x in none if x.startswith("Differs")]


def test_console_says_whether_the_best_campaign_persona_clears_the_base_rate():
    # 2 responders of 247 (0.8 %) against 7 of 2,240 (0.3 %): Wilson 95 % lower bound 0.2 %
    best = {
        "campaign": "AcceptedCmp2",
        "persona": "Gold Lovers",
        "rate": 2 / 247,
        "base_rate": 7 / 2240,
        "lift": (2 / 247) / (7 / 2240),
        "clears_base_rate": False,
    }
    lines = _headline([], 0, [best])
    assert lines[-1] == (
        "Campaign AcceptedCmp2: Gold Lovers responds best (0.8%, lift 2.59; its interval does "
        "not clear the base rate 0.3%)"
    )
    lines = _headline([], 0, [{**best, "clears_base_rate": True}])
    assert lines[-1].endswith("(0.8%, lift 2.59; its interval clears the base rate)")


def _two_tastes(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Half buy mostly wine, half mostly meat; nothing else differs."""
    r = np.random.default_rng(seed)
    wine = np.arange(n) < n // 2
    return pd.DataFrame(
        {
            "ID": np.arange(1, n + 1),
            "Income": r.normal(50000, 5000, n).round(),
            "Recency": r.integers(0, 100, n),
            "MntWines": np.where(wine, r.integers(300, 500, n), r.integers(0, 40, n)),
            "MntMeatProducts": np.where(wine, r.integers(0, 40, n), r.integers(300, 500, n)),
            "MntFruits": r.integers(0, 30, n),
            "NumWebPurchases": r.integers(1, 8, n),
            "NumStorePurchases": r.integers(1, 8, n),
        }
    )


def test_persona_names_do_not_repeat_a_share_in_the_exports_spelling():
    # before: "Wines-Heavy, High MntWines Customers" (wine twice, the second a raw column name)
    frame = _two_tastes()
    result = custlens.profile(frame, seed=0)
    names = [p["persona"] for p in result.summary["personas"]]
    assert any("Wines-Heavy" in name for name in names)
    for name in names:
        for column in frame.columns:
            assert column.lower() not in name.lower(), name
        assert not ("Wines-Heavy" in name and "Little-Wines" in name)
    # the spend columns are still profiled and tested, only not named after
    assert "MntWines_z" in result.tables["persona_profiles"].columns
    assert "MntWines" in result.tables["tests"]["feature"].tolist()


def test_column_phrases_put_an_exports_names_into_words():
    from custlens.profile.personas import column_phrases

    assert column_phrases(["NumWebVisitsMonth", "MntGoldProds", "deal_share"]) == {
        "NumWebVisitsMonth": ("Low Web Visits Month", "High Web Visits Month"),
        "MntGoldProds": ("Low Gold Prods", "High Gold Prods"),
    }
