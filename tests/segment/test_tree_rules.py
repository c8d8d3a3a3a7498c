"""Tree paths as readable rules: merged intervals, one-hot columns, a one-leaf tree."""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from custlens.segment.tree_rules import leaf_bounds, rule_text


def test_paths_merge_into_intervals_per_feature():
    # y = 1 exactly when 2 < x <= 6; z is an unused one-hot column
    x = np.arange(0.0, 10.0)
    X = np.column_stack([x, np.zeros_like(x)])
    y = ((x > 2) & (x <= 6)).astype(int)
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    texts = {
        rule_text(b, ["x", "z = yes"], one_hot={"z = yes"}) for b in leaf_bounds(tree).values()
    }
    # thresholds are the midpoints 2.5 and 6.5 (scikit-learn's split points)
    assert texts == {"x <= 2.5", "2.5 < x <= 6.5", "x > 6.5"}


def test_one_hot_and_single_leaf():
    X = np.array([[0.0], [0.0], [1.0], [1.0]])
    tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    texts = [
        rule_text(b, ["channel = web"], joiner=" AND ", one_hot={"channel = web"})
        for b in leaf_bounds(tree).values()
    ]
    assert texts == ["channel is not web", "channel is web"]
    stump = DecisionTreeClassifier().fit(X, [1, 1, 1, 1])
    assert [rule_text(b, ["a"], always="always") for b in leaf_bounds(stump).values()] == ["always"]
