"""Statistics across personas against independent computations (numpy, scipy, statsmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, rankdata
from scipy.stats.contingency import association

from custlens.profile.statistics import (
    adjust,
    campaign_response,
    categorical_tests,
    epsilon_squared,
    numeric_tests,
    wilson_interval,
)


def _kruskal_h_by_hand(values: np.ndarray, groups: np.ndarray) -> float:
    """H with the tie correction, from ranks (Kruskal & Wallis 1952)."""
    r = rankdata(values)
    n = len(values)
    h = 12 / (n * (n + 1)) * sum(r[groups == g].sum() ** 2 / (groups == g).sum()
                                 for g in np.unique(groups)) - 3 * (n + 1)  # fmt: skip
    _, counts = np.unique(values, return_counts=True)
    return h / (1 - (counts**3 - counts).sum() / (n**3 - n))


def test_kruskal_wallis_and_epsilon_squared_match_a_hand_computation():
    rng = np.random.default_rng(0)
    persona = np.repeat(["a", "b", "c"], [40, 30, 50])
    x = np.round(rng.normal(np.repeat([0.0, 0.5, 1.0], [40, 30, 50]), 1.0), 1)  # with ties
    table = numeric_tests(pd.DataFrame({"x": x}), pd.Series(persona), ["x"])
    h = _kruskal_h_by_hand(x, persona)
    n = len(x)
    assert table["statistic"].iloc[0] == pytest.approx(h, rel=1e-10)
    assert table["effect_size"].iloc[0] == pytest.approx(h / (n - 1), rel=1e-10)
    assert epsilon_squared(h, n) == pytest.approx(h * (n + 1) / (n**2 - 1))
    assert table["highest"].iloc[0] == "c" and table["lowest"].iloc[0] == "a"


def test_chi_square_and_cramers_v_match_scipy():
    rng = np.random.default_rng(1)
    persona = rng.choice(["a", "b", "c"], 300)
    level = np.where(persona == "a", rng.choice(["x", "y", "z"], 300, p=[0.6, 0.3, 0.1]),
                     rng.choice(["x", "y", "z"], 300))  # fmt: skip
    table = categorical_tests(pd.DataFrame({"edu": level}), pd.Series(persona), ["edu"])
    crosstab = pd.crosstab(persona, level).to_numpy()
    chi2, p, dof, _ = chi2_contingency(crosstab, correction=False)
    assert table["statistic"].iloc[0] == pytest.approx(chi2)
    assert table["p_value"].iloc[0] == pytest.approx(p)
    assert table["effect_size"].iloc[0] == pytest.approx(
        association(crosstab, method="cramer", correction=False)
    )


def test_benjamini_hochberg_matches_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    tests = pd.DataFrame({"feature": [f"f{i}" for i in range(10)], "p_value": p,
                          "effect_size": np.linspace(1, 0.1, 10)})  # fmt: skip
    out = adjust(tests, 0.05).set_index("feature").loc[tests["feature"]]
    reject, expected, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(out["p_adjusted"], expected)
    assert out["significant"].tolist() == reject.tolist()


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (45, 100), (100, 100), (7, 2000)])
def test_wilson_interval_matches_statsmodels(k, n):
    proportion_confint = pytest.importorskip("statsmodels.stats.proportion").proportion_confint
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-12)


def test_campaign_rates_lift_and_best_persona_by_hand():
    frame = pd.DataFrame({"cmp": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1] * 10})
    persona = pd.Series((["A"] * 4 + ["B"] * 8) * 10)
    rates, best = campaign_response(frame, persona, ["cmp"])
    a = rates.set_index("persona").loc["A"]
    assert (a["customers"], a["responders"]) == (40, 40)
    base = 50 / 120
    assert a["base_rate"] == pytest.approx(base)
    assert a["lift"] == pytest.approx(1.0 / base)
    assert best["persona"].iloc[0] == "A" and bool(best["clears_base_rate"].iloc[0])
