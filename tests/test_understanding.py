"""Issue 3's acceptance on synthetic data, through the whole pipeline with default settings.

The generator plants six personas (loyal high value, bulk wholesale, Q4 gift buyers, bargain
one-timers, lapsing, regular casual) and 2% anomalous customers, and returns the truth per
customer. ``custlens.run`` sees only the order log. The personas must recover the planted ones
(adjusted Rand index >= 0.8, the planted anomalies counted as a seventh group, so nothing is
excluded) and the anomaly score must rank the planted anomalies first (ROC-AUC >= 0.9). Both
scores come from scikit-learn's metrics, independent of the code under test.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, roc_auc_score

import custlens
from custlens.config import Settings
from custlens.exports import write_results

N_CUSTOMERS = 1000
SEED = 0


@pytest.fixture(scope="module")
def recovered() -> tuple[pd.DataFrame, object]:
    data = custlens.datasets.synthetic(N_CUSTOMERS, seed=SEED)
    settings = Settings().with_overrides(analyses=["personas", "anomalies"])
    results = custlens.run(data.orders, settings=settings)
    joined = results.customers.merge(data.truth, on="customer_id", suffixes=("", "_true"))
    return joined, results


def test_every_customer_with_a_purchase_is_compared(recovered):
    joined, results = recovered
    # a planted customer is missing from the run only when none of their lines survives
    # cleaning (e.g. every order cancelled); that must stay rare
    assert len(joined) == len(results.customers)
    assert len(joined) >= 0.99 * N_CUSTOMERS


def test_planted_personas_are_recovered(recovered):
    joined, _ = recovered
    assert joined["persona_true"].nunique() == 7  # six personas and "anomaly"
    assert adjusted_rand_score(joined["persona_true"], joined["persona"]) >= 0.8


def test_planted_anomalies_rank_first(recovered):
    joined, _ = recovered
    assert joined["is_anomaly_true"].sum() >= 10
    assert roc_auc_score(joined["is_anomaly_true"], joined["anomaly_score"]) >= 0.9


def test_the_k_decision_and_every_score_are_saved(recovered):
    _, results = recovered
    p = results.stages["personas"]
    table = p.k_selection
    assert table["k"].tolist() == list(range(2, 11))
    for column in ("inertia", "silhouette", "davies_bouldin", "knee_gap", "mean_rank"):
        assert table[column].notna().all(), column
    assert table["chosen"].sum() == 1
    chosen = int(table.loc[table["chosen"], "k"].iloc[0])
    assert len(p.profiles) == chosen
    assert f"k = {chosen} was chosen" in p.k_reason
    for word in ("silhouette", "Davies-Bouldin", "elbow"):
        assert word in p.k_reason


def test_results_folder_holds_every_table_and_the_headline_numbers(recovered, tmp_path):
    _, results = recovered
    out = write_results(results, tmp_path / "results")
    for name in ("k_selection", "profiles", "map", "outliers", "tree_rules",
                 "permutation_importance", "forest_importance"):  # fmt: skip
        assert (out / "personas" / f"{name}.csv").is_file(), name
    for name in ("customers", "extreme_orders", "cancellation_pairs"):
        assert (out / "anomalies" / f"{name}.csv").is_file(), name

    customers = pd.read_parquet(out / "customers.parquet")
    k_table = pd.read_csv(out / "personas" / "k_selection.csv")
    personas = json.loads((out / "personas" / "summary.json").read_text())
    assert personas["k"] == int(k_table.loc[k_table["chosen"], "k"].iloc[0])
    assert personas["sizes"] == customers["persona"].value_counts().to_dict()
    assert personas["outliers_kept_out_of_fit"] == len(pd.read_csv(out / "personas/outliers.csv"))
    p = results.stages["personas"]
    assert personas["stability_ari"] == pytest.approx(p.summary["stability_ari"])
    assert 0.0 < personas["stability_ari"] <= 1.0
    assert 0.5 < personas["surrogate_tree_fidelity"] <= 1.0

    anomalies = json.loads((out / "anomalies" / "summary.json").read_text())
    listed = pd.read_csv(out / "anomalies" / "customers.csv")
    assert anomalies["flagged"] == len(listed) == int(customers["is_anomaly"].sum())
    assert (listed["anomaly_score"] > anomalies["threshold"]).all()
    pairs = pd.read_csv(out / "anomalies" / "cancellation_pairs.csv")
    assert anomalies["cancellation_pairs"]["listed"] == len(pairs)
    assert anomalies["cancellation_pairs"]["found"] >= len(pairs)
