"""Surrogate tree: fidelity, readable rules in original units, importances; errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from custlens.errors import ConfigError, DataError, InputError, MappingError
from custlens.segment.explain import explain_personas

from .test_clustering import FEATURES, PLANTED, planted_customers


def thresholds(rule: str, feature: str) -> list[float]:
    pattern = rf"(?:([\d,.]+) < )?{feature} (?:<=|>) ([\d,.]+)|([\d,.]+) < {feature}"
    found = []
    for m in re.finditer(pattern, rule):
        found += [float(g.replace(",", "")) for g in m.groups() if g]
    return found


def test_one_split_by_hand():
    # persona is "Big" exactly when x > 10; noise carries no information
    rng = np.random.default_rng(0)
    x = rng.permutation(np.arange(0.5, 20.5, 1.0).repeat(10))  # 0.5, 1.5, ..., 19.5
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=x.size)})
    personas = np.where(frame["x"] > 10, "Big", "Small")
    result = explain_personas(frame, personas, ["x", "noise"], max_depth=1, seed=0)
    assert result.fidelity == 1.0
    # the best split lies halfway between 9.5 and 10.5
    assert result.rules_for("Big") == ["x > 10"]
    assert result.rules_for("Small") == ["x <= 10"]
    big = result.rules.set_index("persona").loc["Big"]
    assert big["precision"] == 1.0 and big["coverage"] == 1.0
    perm = result.permutation_importance.set_index("feature")["importance_mean"]
    assert perm["noise"] == 0.0 and perm["x"] > 0.4
    assert result.forest_importance["feature"].tolist()[0] == "x"


def test_planted_personas_are_reproduced_with_readable_rules():
    frame, truth = planted_customers(n_per=150, seed=5)
    personas = np.array(list(PLANTED))[truth]
    result = explain_personas(frame, personas, FEATURES, seed=0, forest_trees=30)
    assert result.fidelity >= 0.95
    assert result.forest_accuracy >= 0.95
    assert result.n_test == pytest.approx(0.3 * len(frame), abs=1)
    bulk = result.rules_for("Bulk Wholesale")[0]
    assert "avg_items_per_order" in bulk
    # in original units: the split lies between the planted ~12 and ~400 items per order
    cut = thresholds(bulk, "avg_items_per_order")
    assert cut and all(20 < c < 300 for c in cut)
    top_rule = result.rules[result.rules["persona"] == "Bulk Wholesale"].iloc[0]
    assert top_rule["coverage"] >= 0.9 and top_rule["precision"] >= 0.9
    # the rules cover every persona and their coverages add up to at most 1 per persona
    assert set(result.rules["persona"]) == set(PLANTED)
    assert (result.rules.groupby("persona")["coverage"].sum() <= 1 + 1e-9).all()
    assert result.permutation_importance["rank"].tolist() == list(range(1, len(FEATURES) + 1))
    assert result.forest_importance["importance"].sum() == pytest.approx(1.0)


def test_same_seed_same_explanation():
    frame, truth = planted_customers(n_per=60, seed=2)
    personas = np.array(list(PLANTED))[truth]
    a = explain_personas(frame, personas, FEATURES, seed=4, forest_trees=20)
    b = explain_personas(frame, personas, FEATURES, seed=4, forest_trees=20)
    pd.testing.assert_frame_equal(a.rules, b.rules)
    pd.testing.assert_frame_equal(a.permutation_importance, b.permutation_importance)
    assert a.fidelity == b.fidelity


def test_a_series_of_names_explains_as_its_array_on_a_sample():
    """The pipeline passes the persona column itself (indexed like the table, Arrow strings):
    the sample's rows and names are those of the array."""
    frame, truth = planted_customers(n_per=60, seed=2)
    names = np.array(list(PLANTED))[truth]
    series = pd.Series(names, index=frame.index + 1000, dtype="str")
    a = explain_personas(frame, names, FEATURES, seed=4, forest_trees=20, max_rows=150)
    b = explain_personas(frame, series, FEATURES, seed=4, forest_trees=20, max_rows=150)
    pd.testing.assert_frame_equal(a.rules, b.rules)
    pd.testing.assert_frame_equal(a.forest_importance, b.forest_importance)
    assert (a.fidelity, a.n_train, a.n_test) == (b.fidelity, b.n_train, b.n_test)


def test_missing_values_and_sampling_are_noted():
    frame, truth = planted_customers(n_per=60, seed=2)
    frame.loc[:4, "monetary"] = np.nan
    personas = np.array(list(PLANTED))[truth]
    result = explain_personas(frame, personas, FEATURES, forest_trees=20, max_rows=200)
    notes = " | ".join(result.notes)
    assert "'monetary': 5 missing or infinite values set to the median" in notes
    assert "sample of 200 of 240" in notes
    assert result.n_train + result.n_test == 200


@pytest.mark.parametrize("value", [1e300, -1e39, np.inf])
def test_values_beyond_float32_are_treated_like_missing_ones(value: float):
    """scikit-learn's trees hold float32: a larger finite value is set to the median as inf
    and a missing value are, so the explanation equals the one with that value missing."""
    frame, truth = planted_customers(n_per=40, seed=3)
    personas = np.array(list(PLANTED))[truth]
    huge, missing = frame.copy(), frame.copy()
    huge.loc[[0, 7], "monetary"] = value
    missing.loc[[0, 7], "monetary"] = np.nan
    a = explain_personas(huge, personas, FEATURES, seed=1, forest_trees=10)
    b = explain_personas(missing, personas, FEATURES, seed=1, forest_trees=10)
    pd.testing.assert_frame_equal(a.rules, b.rules)
    pd.testing.assert_frame_equal(a.permutation_importance, b.permutation_importance)
    assert a.fidelity == b.fidelity
    notes = " | ".join(a.notes)
    assert "'monetary': 2 missing or infinite values set to the median" in notes
    if np.isfinite(value):
        assert "'monetary': 2 values beyond float32's range" in notes


def test_bad_input_gives_clear_errors():
    frame = pd.DataFrame({"x": np.arange(20.0)})
    two = np.array(["a", "b"] * 10)
    with pytest.raises(ConfigError, match="max_depth"):
        explain_personas(frame, two, ["x"], max_depth=5)
    with pytest.raises(InputError, match="persona labels"):
        explain_personas(frame, two[:5], ["x"])
    with pytest.raises(MappingError, match="lack the column"):
        explain_personas(frame, two, ["y"])
    with pytest.raises(DataError, match="Only one persona"):
        explain_personas(frame, np.array(["a"] * 20), ["x"])
    with pytest.raises(DataError, match="no values"):
        explain_personas(frame.assign(y=np.nan), two, ["x", "y"])
