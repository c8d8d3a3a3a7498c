"""Decision-tree paths as readable rules, shared by the persona explanation and the audit.

Each leaf's path becomes one condition per feature, the conditions on one feature merged into an
interval (``"120 < monetary <= 3,400"``), features in the order the path first splits on them
(the root's feature first), thresholds through
:func:`custlens.features.formatting.format_number`. A one-hot column named ``"column = level"``
(threshold 0.5) reads ``"column is level"`` or ``"column is not level"``.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from custlens.features.formatting import format_number

__all__ = ["ONE_HOT_SEPARATOR", "leaf_bounds", "rule_text"]

ONE_HOT_SEPARATOR = " = "

Bounds = dict[int, tuple[float, float]]  # feature index -> (lower, upper]: lower < x <= upper


def leaf_bounds(tree: DecisionTreeClassifier) -> dict[int, Bounds]:
    """For every leaf (node id), the interval each feature on its path is confined to.

    The features of a leaf's bounds are in the order its path first splits on them.
    """
    t = tree.tree_
    out: dict[int, Bounds] = {}
    stack: list[tuple[int, Bounds]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == right:  # leaf
            out[node] = bounds
            continue
        f, thr = int(t.feature[node]), float(t.threshold[node])
        lo, hi = bounds.get(f, (-np.inf, np.inf))
        stack.append((right, {**bounds, f: (max(lo, thr), hi)}))
        stack.append((left, {**bounds, f: (lo, min(hi, thr))}))
    return dict(sorted(out.items()))


def rule_text(
    bounds: Bounds,
    features: list[str],
    *,
    joiner: str = " and ",
    always: str = "every customer",
    one_hot: Collection[str] = (),
) -> str:
    """One leaf's conditions as text; ``always`` when the path has none (a one-leaf tree).

    >>> rule_text({0: (4.5, np.inf), 1: (120.0, 3400.5)}, ["frequency", "monetary"])
    'frequency > 4.5 and 120 < monetary <= 3,400'
    >>> rule_text({0: (-np.inf, 0.5)}, ["industry = Retail"], one_hot={"industry = Retail"})
    'industry is not Retail'
    """
    if not bounds:
        return always
    parts = []
    for f, (lo, hi) in bounds.items():
        name = features[f]
        if name in one_hot and ONE_HOT_SEPARATOR in name:
            column, level = name.split(ONE_HOT_SEPARATOR, 1)
            parts.append(f"{column} is {level}" if np.isfinite(lo) else f"{column} is not {level}")
        elif np.isfinite(lo) and np.isfinite(hi):
            parts.append(f"{format_number(lo)} < {name} <= {format_number(hi)}")
        elif np.isfinite(lo):
            parts.append(f"{name} > {format_number(lo)}")
        else:
            parts.append(f"{name} <= {format_number(hi)}")
    return joiner.join(parts)
