"""Why a customer has their persona: a shallow surrogate tree and feature importances.

* A decision tree (``max_depth`` <= 4) learns persona from the features in their original units
  (missing values set to the median, noted; so are infinite values and finite values beyond
  float32's range, about 3.4e38, which scikit-learn's trees cannot hold). Its **fidelity** is its accuracy on a seeded,
  stratified held-out split: how far the readable rules can be trusted to reproduce the personas.
* **Rules**: every leaf's path, with the conditions on one feature merged into one interval,
  e.g. ``"frequency > 4.5 and 120 < monetary <= 3,400"``; per persona, the leaves that predict
  it, with their training support, precision (share of the leaf that has the persona) and
  coverage (share of the persona's training customers in the leaf).
* **Permutation importance** of the tree on the held-out split (seeded), and beside it a
  random forest's impurity importance ranking (the forest's held-out accuracy is reported).
Above ``max_rows`` customers a seeded sample is used (noted).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from custlens._validation import require_columns
from custlens.errors import ConfigError, DataError, InputError
from custlens.features.customer_frame import feature_values
from custlens.features.limits import beyond_float32
from custlens.segment.tree_rules import leaf_bounds, rule_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PersonaExplanation:
    """A surrogate tree's fidelity and rules, and two importance rankings."""

    fidelity: float  # held-out accuracy of the tree against the personas
    forest_accuracy: float  # held-out accuracy of the random forest
    rules: pd.DataFrame  # persona, rule, support, precision, coverage (best first per persona)
    permutation_importance: pd.DataFrame  # feature, importance_mean, importance_std, rank
    forest_importance: pd.DataFrame  # feature, importance, rank
    features: list[str]
    n_train: int
    n_test: int
    notes: list[str] = field(default_factory=list)

    def rules_for(self, persona: str) -> list[str]:
        """The readable rules (best coverage first) that lead to ``persona``."""
        return self.rules.loc[self.rules["persona"] == persona, "rule"].tolist()


def explain_personas(
    customers: pd.DataFrame,
    personas: Sequence[str] | pd.Series | np.ndarray,
    features: Sequence[str],
    *,
    seed: int = 0,
    max_depth: int = 4,
    test_size: float = 0.3,
    permutation_repeats: int = 5,
    forest_trees: int = 100,
    max_rows: int = 100_000,
) -> PersonaExplanation:
    """Fit the surrogate tree and the forest from ``features`` to ``personas`` (one per row)."""
    if not 1 <= max_depth <= 4:
        raise ConfigError(
            f"max_depth must be 1..4 for readable rules, got {max_depth}",
            where="explain_personas(max_depth=...)",
            fix="pass max_depth between 1 and 4",
        )
    # a Series stays as it is (a million names as Python strings would take 60 bytes each);
    # only the explained sample's names are taken out of it (``_matrix``)
    labels = (
        personas.reset_index(drop=True)
        if isinstance(personas, pd.Series)
        else pd.Series(np.asarray(personas, dtype=object))
    )
    if len(labels) != len(customers):
        raise InputError(
            f"{len(labels)} persona labels for {len(customers)} customers",
            where="explain_personas(customers, personas)",
            fix="pass one persona per customer row",
        )
    if not features:
        raise InputError(
            "No features given to explain the personas with",
            where="explain_personas(features=...)",
            fix="pass the features the personas were clustered on (clusterer.features_)",
        )
    require_columns(
        customers,
        features,
        what="the customer table",
        fix="pass the features the personas were clustered on (clusterer.features_)",
    )
    if len(pd.unique(labels)) < 2:  # hashed: np.unique would sort a million strings
        raise DataError(
            "Only one persona: there is nothing to tell apart",
            where="persona labels",
            fix="cluster with k >= 2 first",
        )
    notes: list[str] = []
    x, labels = _matrix(customers, list(features), labels, notes, seed, max_rows)
    # integer codes in name order: the classes (and their tie order) are those of the names,
    # and scikit-learn's label handling runs on integers instead of sorting Python strings
    names = np.array(sorted(set(labels)), dtype=object)
    codes = pd.Categorical(labels, categories=names).codes.astype(np.int64)
    x_train, x_test, y_train, y_test = _split(x, codes, test_size, seed, notes)

    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed).fit(x_train, y_train)
    fidelity = float((tree.predict(x_test) == y_test).mean())
    perm = permutation_importance(
        tree, x_test, y_test, n_repeats=permutation_repeats, random_state=seed
    )
    perm_table = pd.DataFrame(
        {
            "feature": list(features),
            "importance_mean": perm.importances_mean,
            "importance_std": perm.importances_std,
        }
    )
    # trees are seeded one by one, so building them on every core gives the same forest
    forest = RandomForestClassifier(n_estimators=forest_trees, random_state=seed, n_jobs=-1)
    forest.fit(x_train, y_train)
    forest_table = pd.DataFrame(
        {"feature": list(features), "importance": forest.feature_importances_}
    )
    rules = _tree_rules(tree, list(features), y_train, names)
    for persona in sorted(set(labels) - set(rules["persona"])):
        notes.append(f"no leaf of the depth-{max_depth} tree predicts {persona!r}")
    for note in notes:
        logger.info("persona explanation: %s", note)
    return PersonaExplanation(
        fidelity=fidelity,
        forest_accuracy=float((forest.predict(x_test) == y_test).mean()),
        rules=rules,
        permutation_importance=_ranked(perm_table, "importance_mean"),
        forest_importance=_ranked(forest_table, "importance"),
        features=list(features),
        n_train=len(y_train),
        n_test=len(y_test),
        notes=notes,
    )


def _matrix(
    customers: pd.DataFrame,
    features: list[str],
    labels: pd.Series,
    notes: list[str],
    seed: int,
    max_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    keep = None  # the sampled rows (the missing values still take the median of every row)
    if len(labels) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(labels), max_rows, replace=False))
    columns = []
    for name in features:
        values = feature_values(customers, name)  # infinite values are already NaN
        huge = beyond_float32(values)
        n_huge = int(huge.sum())
        if n_huge:
            values[huge] = np.nan
            notes.append(
                f"feature {name!r}: {n_huge} values beyond float32's range (|x| > 3.4e38) "
                "treated as missing"
            )
        n_missing = int(np.isnan(values).sum())
        if n_missing == len(values):
            raise DataError(
                f"Feature {name!r} has no values",
                where=f"column {name!r}",
                fix="drop it from the features",
            )
        if n_missing:
            values = np.where(np.isnan(values), np.nanmedian(values), values)
            notes.append(
                f"feature {name!r}: {n_missing} missing or infinite values set to the median"
            )
        columns.append(values if keep is None else values[keep])
    x = np.column_stack(columns)
    if keep is not None:
        notes.append(f"explained on a seeded sample of {max_rows:,} of {len(labels):,} customers")
        return x, labels.iloc[keep].to_numpy(dtype=object)
    return x, labels.to_numpy(dtype=object)


def _split(
    x: np.ndarray, y: np.ndarray, test_size: float, seed: int, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    if stratify is None:
        notes.append("a persona has a single customer: the held-out split is not stratified")
    try:
        return train_test_split(x, y, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise DataError(
            f"Too few customers to hold out {test_size:.0%} for checking the tree: {exc}",
            where="persona explanation",
            fix="explain more customers, or lower test_size",
        ) from None


def _ranked(table: pd.DataFrame, column: str) -> pd.DataFrame:
    out = table.sort_values([column, "feature"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def _tree_rules(
    tree: DecisionTreeClassifier, features: list[str], y_train: np.ndarray, names: np.ndarray
) -> pd.DataFrame:
    """Readable rules of the leaves (``y_train`` holds codes into ``names``)."""
    t = tree.tree_
    classes = tree.classes_
    class_sizes = {c: int((y_train == c).sum()) for c in classes}
    rows = []
    for node, bounds in leaf_bounds(tree).items():
        shares = t.value[node][0] / t.value[node][0].sum()
        best = int(np.argmax(shares))
        code = classes[best]
        support = int(t.n_node_samples[node])
        rows.append(
            {
                "persona": names[code],
                "rule": rule_text(bounds, features),
                "support": support,
                "precision": float(shares[best]),
                "coverage": float(shares[best] * support / class_sizes[code]),
            }
        )
    table = pd.DataFrame(rows, columns=["persona", "rule", "support", "precision", "coverage"])
    table = table.sort_values(["persona", "coverage", "rule"], ascending=[True, False, True])
    return table.reset_index(drop=True)
