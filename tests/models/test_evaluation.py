"""Metric functions against sklearn / scipy called directly and hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from custlens.config import ModelsConfig
from custlens.errors import DataError
from custlens.models.evaluation import (
    Threshold,
    apply_threshold,
    binary_metrics,
    calibration_table,
    choose_threshold,
    deciles,
    expected_calibration_error,
    lift_table,
    regression_metrics,
    top_decile_capture,
)

RNG = np.random.default_rng(7)


def test_binary_metrics_match_sklearn():
    y = RNG.integers(0, 2, 500)
    p = np.clip(0.3 * y + RNG.uniform(0, 0.7, 500), 0, 1)
    m = binary_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert binary_metrics(y, p * 100, probability=False)["brier"] is None


def test_binary_metrics_hand_example():
    # pairs (pos, neg): pos scores 0.9, 0.4; neg 0.5, 0.1 -> 3 of 4 pairs ordered: AUC 0.75
    m = binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    assert m["roc_auc"] == pytest.approx(0.75)
    # Brier: (0.1^2 + 0.6^2 + 0.5^2 + 0.1^2) / 4
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.25 + 0.01) / 4)


def test_deciles_by_rank_with_stable_ties():
    score = [5, 1, 5, 3, 2, 4, 0, 9, 8, 7]
    # sorted high->low: 9(7) 8(8) 7(9) 5(0) 5(2) 4(5) 3(3) 2(4) 1(1) 0(6); 10 items: decile = pos+1
    expected = np.empty(10, dtype=int)
    for pos, idx in enumerate([7, 8, 9, 0, 2, 5, 3, 4, 1, 6]):
        expected[idx] = pos + 1
    np.testing.assert_array_equal(deciles(score), expected)
    assert sorted(np.bincount(deciles(np.zeros(25)))[1:]) == [2, 2, 2, 2, 2, 3, 3, 3, 3, 3]


def test_lift_and_gains_hand_example():
    # 20 customers, score = 20..1; the positives are the ranks 1, 2, 3 and 12 -> 4 positives
    score = np.arange(20, 0, -1)
    y = np.zeros(20)
    y[[0, 1, 2, 11]] = 1
    t = lift_table(y, score)
    assert t["n"].tolist() == [2] * 10
    assert t["total"].tolist() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    # overall rate 4/20 = 0.2; decile 1 rate 1.0 -> lift 5; decile 2 rate 0.5 -> lift 2.5
    assert t["lift"].iloc[0] == pytest.approx(5.0)
    assert t["lift"].iloc[1] == pytest.approx(2.5)
    assert t["cumulative_gain"].tolist() == pytest.approx(
        [0.5, 0.75, 0.75, 0.75, 0.75, 1, 1, 1, 1, 1]
    )
    assert t["cumulative_share"].iloc[2] == pytest.approx(0.3)


def test_top_decile_capture_hand_example():
    actual = np.array([100.0, 0, 0, 50, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    predicted = np.arange(20)[::-1].astype(float)  # customers 0 and 1 are the top decile
    assert top_decile_capture(actual, predicted) == pytest.approx(100 / 200)


def test_regression_metrics_match_scipy_and_numpy():
    a = RNG.gamma(0.5, 100, 300) * (RNG.uniform(size=300) > 0.4)
    p = a * RNG.uniform(0.5, 1.5, 300) + RNG.uniform(0, 20, 300)
    m = regression_metrics(a, p)
    assert m["spearman"] == pytest.approx(spearmanr(a, p).statistic)
    assert m["mae"] == pytest.approx(np.abs(a - p).mean())
    assert m["rmse"] == pytest.approx(np.sqrt(((a - p) ** 2).mean()))


def test_calibration_table_hand_example():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05] * 2)
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0] * 2)
    t = calibration_table(p=p, y=y)
    assert t["n"].tolist() == [2] * 10
    assert t["mean_predicted"].tolist() == pytest.approx(sorted(set(p.tolist()), reverse=True))
    assert t["observed_rate"].tolist() == [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]


def test_profit_threshold_hand_example():
    # cost 1, retention_uplift 0.5, margin 0.5 -> benefit of a churner = 0.25 * value
    cfg = ModelsConfig(contact_cost=1.0, retention_uplift=0.5, margin=0.5)
    p = [0.9, 0.8, 0.7, 0.6]
    y = [1, 0, 1, 0]
    value = [40.0, 40.0, 8.0, 100.0]
    # contact top 1: 10 - 1 = 9; top 2: 9 - 1 = 8; top 3: 8 + 2 - 1 = 9; top 4: 8
    th = choose_threshold(y, p, value, cfg)
    assert th.value == pytest.approx(0.9)  # first maximum (fewest contacts)
    assert th.profit == pytest.approx(9.0)
    assert (th.precision, th.recall, th.contacted) == (1.0, 0.5, 1)
    ev = apply_threshold(y, p, value, 0.7, cfg)
    assert ev["profit"] == pytest.approx(9.0)
    assert ev["precision"] == pytest.approx(2 / 3)


def test_no_profitable_threshold_contacts_nobody():
    # benefit of a churner = 0.2 * 0.3 * 10 = 0.6 < cost 1: every threshold loses money
    cfg = ModelsConfig(contact_cost=1.0, retention_uplift=0.2, margin=0.3)
    y, p, value = [1, 1, 0, 1], [0.9, 0.8, 0.7, 0.6], [10.0] * 4
    th = choose_threshold(y, p, value, cfg)
    assert th.contact_nobody and th.contacted == 0 and th.profit == 0.0
    assert th.decision == "contact nobody"
    assert th.to_dict()["value"] is None and th.to_dict()["precision"] is None
    assert Threshold(**th.to_dict()).contact_nobody  # reads back from a manifest
    ev = apply_threshold(y, p, value, th.value, cfg)
    assert ev["contacted"] == 0 and ev["profit"] == 0.0 and ev["decision"] == "contact nobody"
    assert ev["threshold"] is None


def test_save_rate_is_read_as_retention_uplift():
    assert ModelsConfig(save_rate=0.4).retention_uplift == 0.4


def test_expected_calibration_error_hand_example():
    # 20 rows, deciles of 2: predicted 0.9 .. 0.05 twice; observed 1,1,1,0,1,0,0,0,0,0
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05] * 2)
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0] * 2)
    gaps = [0.1, 0.2, 0.3, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    assert expected_calibration_error(y, p) == pytest.approx(sum(gaps) / 10)
    assert expected_calibration_error([0, 1] * 10, [0.5] * 20) == pytest.approx(0.0)


def test_recall_at_precision_threshold():
    cfg = ModelsConfig(threshold_goal="recall_at_precision", min_precision=0.6)
    p = [0.9, 0.8, 0.7, 0.6, 0.5]
    y = [1, 0, 1, 1, 0]
    # precision at 1..5 contacted: 1, .5, .667, .75, .6 -> lowest threshold with >= .6 is 0.5
    th = choose_threshold(y, p, [0] * 5, cfg)
    assert th.value == pytest.approx(0.5)
    assert th.recall == pytest.approx(1.0)


def test_bad_metric_input():
    with pytest.raises(DataError):
        binary_metrics([1, 1], [0.2, 0.3])
    with pytest.raises(DataError):
        regression_metrics([1, 2, 3], [1, 2])
