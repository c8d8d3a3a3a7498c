"""CustomerAnomalyDetector: planted extremes, reasons, contamination, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from custlens.anomalies.isolation import CustomerAnomalyDetector
from custlens.config import AnomalyConfig
from custlens.errors import (
    ConfigError,
    CustlensError,
    DataError,
    InputError,
    MappingError,
    NotFittedError,
)

N_NORMAL = 980
PLANTED = 20


def _customers(seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Gaussian-ish customers (log-normal spend) plus planted extremes; returns (table, truth)."""
    rng = np.random.default_rng(seed)
    n = N_NORMAL + PLANTED
    frequency = np.round(np.exp(rng.normal(1.0, 0.5, n))) + 1
    aov = np.exp(rng.normal(5.0, 0.4, n))
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "recency_days": rng.uniform(1, 365, n).round(),
            "frequency": frequency,
            "avg_order_value": aov,
            "monetary": frequency * aov,
            "distinct_products": np.round(rng.normal(30, 6, n)).clip(1),
        }
    )
    truth = np.zeros(n, dtype=bool)
    planted = np.arange(N_NORMAL, n)
    truth[planted] = True
    # planted: spend about 100 times the typical customer's, in a few large orders
    frame.loc[planted, "avg_order_value"] = frame.loc[planted, "avg_order_value"] * 100
    frame.loc[planted, "monetary"] = (
        frame.loc[planted, "frequency"] * frame.loc[planted, "avg_order_value"]
    )
    return frame, truth


def test_planted_extremes_found_with_high_auc():
    frame, truth = _customers()
    scored = CustomerAnomalyDetector(contamination=0.02, seed=0).fit_transform(frame)
    auc = roc_auc_score(truth, scored["anomaly_score"])
    assert auc >= 0.9, auc
    # most planted customers are flagged, and most flags are planted customers
    flagged = scored["is_anomaly"].to_numpy()
    assert (flagged & truth).sum() >= 0.8 * flagged.sum()


def test_reasons_name_the_planted_feature_with_its_value():
    frame, truth = _customers()
    det = CustomerAnomalyDetector(features=["recency_days", "frequency", "monetary"], seed=0)
    scored = det.fit_transform(frame)
    reasons = det.reasons(frame)
    median = float(np.median(frame["monetary"]))
    for i in np.flatnonzero(truth)[:5]:
        value = frame.loc[i, "monetary"]
        expected = f"spent {value:,.0f} (typical {median:,.0f})"
        assert reasons.loc[i].split("; ")[0] == expected
    assert reasons.loc[0].count("; ") == 2  # three reasons by default
    # the scored table carries the reasons of flagged customers only
    flagged = scored["is_anomaly"]
    assert flagged.any() and not flagged.all()
    assert scored.loc[flagged, "anomaly_reasons"].equals(reasons[flagged])
    assert (scored.loc[~flagged, "anomaly_reasons"] == "").all()
    assert (scored.loc[~flagged, "anomaly_reason_features"] == "").all()


def test_reasons_example_from_hand_built_table():
    # monetary median = 650; the planted customer spends 152,300
    frame = pd.DataFrame(
        {
            "customer_id": list("abcdefg"),
            "monetary": [600.0, 640, 650, 650, 660, 700, 152300],
            "frequency": [3.0, 4, 5, 5, 6, 4, 5],
        }
    )
    scored = CustomerAnomalyDetector(n_top_reasons=1, seed=1).fit_transform(frame)
    # in words for people; feature name and raw values for machines
    assert scored.loc[6, "anomaly_reasons"] == "spent 152,300 (typical 650)"
    assert scored.loc[6, "anomaly_reason_features"] == "monetary 152300 (typical 650)"
    assert scored["anomaly_score"].idxmax() == 6


def test_reasons_read_as_words_with_shares_as_percentages():
    # 9 customers return nothing and buy 1 item per order; one returns all of its items and
    # buys up to 8 per order: the words say 100 % (typical 0 %) and 8 items (typical 1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(10)],
            "returned_items_share": [0.0] * 9 + [1.0],
            "max_items_per_order": [1.0] * 9 + [8.0],
        }
    )
    det = CustomerAnomalyDetector(n_top_reasons=2, contamination=0.1, seed=0)
    scored = det.fit_transform(frame)
    assert scored["is_anomaly"].tolist() == [False] * 9 + [True]
    # both are the same two-point pattern (equal |z|): the tie keeps the feature order
    assert scored.loc[9, "anomaly_reasons"] == (
        "returned 100% of items (typical 0%); up to 8 items in an order (typical 1)"
    )
    assert scored.loc[9, "anomaly_reason_features"] == (
        "returned_items_share 1 (typical 0); max_items_per_order 8 (typical 1)"
    )


def test_one_reason_per_group_of_features_that_say_one_fact():
    # the return rate by items and by value say one fact: the second reason is the next group's
    # by hand: both return columns are 9 zeros and one positive value, so after log1p their
    # robust z is 3.2897 / 0.55 = 5.98 (a tie: feature order); frequency [3,3,4,4,4,4,5,5,5,40]
    # has z = (ln 41 - ln 5) / ((Q95 - Q5) / 3.2897) = 2.104 / 0.4447 = 4.73, median 4
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(10)],
            "returned_items_share": [0.0] * 9 + [1.0],
            "return_rate": [0.0] * 9 + [0.8],
            "frequency": [3.0, 4, 5, 4, 3, 5, 4, 4, 5, 40],
        }
    )
    det = CustomerAnomalyDetector(n_top_reasons=2, contamination=0.1, seed=0)
    scored = det.fit_transform(frame)
    assert scored["is_anomaly"].tolist() == [False] * 9 + [True]
    assert scored.loc[9, "anomaly_reasons"] == (
        "returned 100% of items (typical 0%); 40 orders (typical 4)"
    )
    assert scored.loc[9, "anomaly_reason_features"] == (
        "returned_items_share 1 (typical 0); frequency 40 (typical 4)"
    )
    # with room for every feature, the group's other member is still not repeated
    assert det.set_params(n_top_reasons=3).reasons(frame).loc[9].count("returned") == 1


def test_a_return_share_above_100_percent_is_said_as_such():
    # returns of goods bought before the data start: 1.55 of the items bought
    frame = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(10)], "returned_items_share": [0.0] * 9 + [1.55]}
    )
    scored = CustomerAnomalyDetector(n_top_reasons=1, contamination=0.1, seed=0).fit_transform(
        frame
    )
    assert scored.loc[9, "anomaly_reasons"] == (
        "returned 155% of items: more than bought in the data (typical 0%)"
    )
    # the value itself is kept for machines
    assert scored.loc[9, "anomaly_reason_features"] == "returned_items_share 1.55 (typical 0)"


def test_contamination_sets_the_share_flagged():
    frame, _ = _customers(seed=3)
    n = len(frame)
    for contamination in (0.01, 0.05, 0.1):
        scored = CustomerAnomalyDetector(contamination=contamination, seed=2).fit_transform(frame)
        assert abs(int(scored["is_anomaly"].sum()) - contamination * n) <= 1


def test_deterministic_for_a_seed():
    frame, _ = _customers(seed=5)
    a = CustomerAnomalyDetector(seed=11).fit_transform(frame)
    b = CustomerAnomalyDetector(seed=11).fit_transform(frame)
    pd.testing.assert_frame_equal(a, b)
    c = CustomerAnomalyDetector(seed=12).fit_transform(frame)
    assert not np.array_equal(a["anomaly_score"].to_numpy(), c["anomaly_score"].to_numpy())


def test_log_rule_and_robust_scale():
    frame, _ = _customers(seed=1)
    det = CustomerAnomalyDetector(seed=0).fit(frame)
    # spend is log-normal (strongly right-skewed); distinct_products is symmetric
    assert "monetary" in det.log_features_
    assert "distinct_products" not in det.log_features_
    # the one scale rule: median and (Q95 - Q5) / (2 * Phi^-1(0.95)), from numpy and scipy
    x = frame["distinct_products"].to_numpy()
    q05, q95 = np.percentile(x, [5, 95])
    assert det.centers_["distinct_products"] == pytest.approx(np.median(x))
    assert det.scales_["distinct_products"] == pytest.approx((q95 - q05) / (2 * norm.ppf(0.95)))
    lm = np.log1p(frame["monetary"].to_numpy())
    assert det.centers_["monetary"] == pytest.approx(np.median(lm))
    # the threshold is the 98% quantile of the training scores: what scikit-learn's own
    # contamination=0.02 offset gives for the same trees
    z = np.nan_to_num(det.preprocessor_.robust_z(frame), nan=0.0)
    same = IsolationForest(n_estimators=det.n_estimators, contamination=0.02, random_state=0)
    # scores are rounded to 10 decimals (threads sum the trees in any order)
    assert det.threshold_ == pytest.approx(-same.fit(z).offset_, abs=1e-10)
    scores = det.transform(frame)["anomaly_score"]
    assert det.threshold_ == pytest.approx(np.percentile(scores, 98.0), rel=1e-12)


def test_missing_and_all_null_features_are_skipped_with_a_note():
    frame, truth = _customers()
    frame["return_rate"] = np.nan
    det = CustomerAnomalyDetector(
        features=["monetary", "frequency", "return_rate", "no_such_column"], seed=0
    )
    scored = det.fit_transform(frame)
    assert det.features_ == ["monetary", "frequency"]
    assert any("return_rate" in n and "missing" in n for n in det.notes_)
    assert any("no_such_column" in n and "not in the customer table" in n for n in det.notes_)
    assert roc_auc_score(truth, scored["anomaly_score"]) >= 0.9


def test_some_missing_values_are_treated_as_typical():
    frame, _ = _customers()
    frame.loc[[1, 2], "recency_days"] = np.nan
    frame.loc[3, "recency_days"] = np.inf
    det = CustomerAnomalyDetector(seed=0)
    scored = det.fit_transform(frame)
    assert scored["anomaly_score"].notna().all()
    assert any("'recency_days': 3 missing or infinite" in n for n in det.notes_)
    assert det.medians_["recency_days"] == pytest.approx(
        frame["recency_days"].drop([1, 2, 3]).median()
    )


def test_all_features_missing_is_a_data_error():
    frame = pd.DataFrame({"customer_id": list("abcdef"), "x": [np.nan] * 6})
    with pytest.raises(DataError, match="No usable feature"):
        CustomerAnomalyDetector(features=["x", "y"]).fit(frame)
    with pytest.raises(DataError):
        CustomerAnomalyDetector().fit(frame[["customer_id"]])


def test_bad_input_errors_are_custlens_errors():
    frame, _ = _customers()
    frame["country"] = "UK"
    with pytest.raises(InputError, match="not numeric"):
        CustomerAnomalyDetector(features=["monetary", "country"]).fit(frame)
    with pytest.raises(ConfigError, match="contamination"):
        CustomerAnomalyDetector(contamination=0.7).fit(frame)
    with pytest.raises(NotFittedError, match="not fitted"):
        CustomerAnomalyDetector().transform(frame)
    with pytest.raises(NotFittedError):
        CustomerAnomalyDetector().reasons(frame)
    with pytest.raises(DataError, match="at least"):
        CustomerAnomalyDetector().fit(frame.head(3))
    det = CustomerAnomalyDetector(features=["monetary", "frequency"]).fit(frame)
    with pytest.raises(MappingError, match="frequency"):
        det.transform(frame.drop(columns="frequency"))
    with pytest.raises(InputError, match="DataFrame"):
        CustomerAnomalyDetector().fit([[1, 2], [3, 4]])


def test_from_config_and_ibis_input():
    import ibis

    frame, truth = _customers()
    det = CustomerAnomalyDetector.from_config(AnomalyConfig(contamination=0.05), seed=3)
    scored = det.fit_transform(ibis.memtable(frame))
    assert det.contamination == 0.05
    assert list(scored["customer_id"]) == list(frame["customer_id"])
    assert roc_auc_score(truth, scored["anomaly_score"]) >= 0.9


def test_anomaly_charts_and_save(tmp_path):
    from custlens.charts import save_chart
    from custlens.charts.anomalies import anomaly_score_distribution, top_anomalies

    frame, _ = _customers()
    det = CustomerAnomalyDetector(seed=0)
    scored = det.fit_transform(frame)
    dist = anomaly_score_distribution(scored, det.threshold_, bins=30)
    spec = dist.to_dict()
    hist = pd.DataFrame(next(iter(spec["datasets"].values())))
    assert hist["customers"].sum() == len(frame)  # every customer lands in one bin
    assert 30 <= len(hist) <= 31
    # the threshold is a bin edge: the flagged bars hold exactly the flagged customers
    assert hist["bin_start"].sub(det.threshold_).abs().min() < 1e-12
    flagged = hist.loc[hist.flag == "anomaly", "customers"].sum()
    assert flagged == int((scored["anomaly_score"] >= det.threshold_).sum())
    assert any(layer.get("mark", {}).get("type") == "rule" for layer in spec["layer"])
    top = top_anomalies(scored, n=5)
    top_spec = top.to_dict()
    rows = pd.DataFrame(next(iter(top_spec["datasets"].values())))
    expected = scored.nlargest(5, "anomaly_score")["customer_id"].tolist()
    assert sorted(rows["customer"]) == sorted(expected)
    assert rows["anomaly_reasons"].str.len().gt(0).all()
    # beside each bar the strongest reason, the first of the list; the whole list in the tooltip
    firsts = [r.split("; ")[0] for r in rows["anomaly_reasons"]]
    assert rows["main_reason"].tolist() == firsts
    assert any("; " in r for r in rows["anomaly_reasons"])  # the label is shorter than the list
    layers = top_spec["layer"]
    assert [
        layer["encoding"]["text"]["field"] for layer in layers if "text" in layer["encoding"]
    ] == ["main_reason"]
    out = save_chart(top, tmp_path / "top.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(CustlensError):
        save_chart(top, tmp_path / "top.gif")
    with pytest.raises(MappingError, match="anomaly_reasons"):
        top_anomalies(scored.drop(columns="anomaly_reasons"))


def test_synthetic_planted_anomalies_auc():
    """Planted anomalies of custlens.datasets.synthetic, with simple features computed here."""
    synthetic_mod = pytest.importorskip("custlens.datasets.synthetic")
    data = synthetic_mod.synthetic(2000, seed=0)
    o = data.orders.dropna(subset=["CustomerID"])
    o = o[o["InvoiceDate"] < pd.Timestamp(data.cutoff)].copy()
    o["customer_id"] = o["CustomerID"].astype("int64").astype(str)
    o["amount"] = o["Quantity"] * o["UnitPrice"]
    cancelled = o["InvoiceNo"].str.startswith("C")
    buy = o[~cancelled & (o["Quantity"] > 0) & (o["UnitPrice"] > 0)]
    orders = buy.groupby(["customer_id", "InvoiceNo"]).agg(
        value=("amount", "sum"), ts=("InvoiceDate", "min")
    )
    orders = orders.reset_index()
    orders["day"] = orders["ts"].dt.normalize()
    per_day = orders.groupby(["customer_id", "day"]).size().groupby("customer_id").max()
    g = orders.groupby("customer_id")
    feats = pd.DataFrame(
        {
            "recency_days": (pd.Timestamp(data.cutoff) - g["ts"].max()).dt.days,
            "frequency": g.size(),
            "monetary": g["value"].sum(),
            "avg_order_value": g["value"].mean(),
            "max_order_value": g["value"].max(),
            "max_orders_per_day": per_day,
            "max_line_units": buy.groupby("customer_id")["Quantity"].max(),
        }
    )
    cancelled_units = -o.loc[o["Quantity"] < 0].groupby("customer_id")["Quantity"].sum()
    bought_units = buy.groupby("customer_id")["Quantity"].sum()
    feats["cancelled_units_share"] = cancelled_units.reindex(feats.index).fillna(0) / bought_units
    feats = feats.reset_index()
    truth = data.truth.set_index("customer_id")["is_anomaly"]
    feats = feats[feats["customer_id"].isin(truth.index)].reset_index(drop=True)
    y = truth.reindex(feats["customer_id"]).to_numpy()
    assert y.sum() >= 20  # about 2% of 2,000 customers are planted
    scored = CustomerAnomalyDetector(contamination=0.02, seed=0).fit_transform(feats)
    assert roc_auc_score(y, scored["anomaly_score"]) >= 0.9


def test_follows_the_scikit_learn_estimator_contract():
    frame, _ = _customers()
    det = CustomerAnomalyDetector(contamination=0.05, seed=3, n_estimators=50)
    params = det.get_params()
    assert params["contamination"] == 0.05 and params["seed"] == 3 and params["features"] is None
    assert repr(det) == "CustomerAnomalyDetector(contamination=0.05, n_estimators=50, seed=3)"
    twin = clone(det)
    assert twin is not det and twin.get_params() == params
    assert not [a for a in vars(det) if a.endswith("_")]  # nothing fitted before fit
    with pytest.raises(TypeError):
        CustomerAnomalyDetector(["monetary"])  # keyword-only
    a = twin.fit_transform(frame)
    b = clone(det).fit(frame).transform(frame)
    pd.testing.assert_frame_equal(a, b)
    assert "forest_" not in vars(det)


@pytest.mark.parametrize(
    ("name", "value"),
    [("contamination", 0.0), ("n_estimators", 0), ("n_top_reasons", 0), ("seed", -1)],
)
def test_bad_parameters_are_config_errors_naming_the_parameter(name, value):
    frame, _ = _customers()
    with pytest.raises(ConfigError, match=name) as err:
        CustomerAnomalyDetector(**{name: value}).fit(frame)
    assert err.value.where == f"CustomerAnomalyDetector({name}=...)"


def test_fitted_on_a_seeded_sample_and_scored_in_blocks(monkeypatch):
    import custlens.anomalies.isolation as isolation

    monkeypatch.setattr(isolation, "SCORE_BLOCK", 300)  # four blocks of 1,000 customers
    frame, truth = _customers(seed=5)
    det = CustomerAnomalyDetector(seed=4, n_estimators=60, fit_rows=1000)
    # fit_rows >= 1000: 1,000 customers is the smallest sample; here every customer is used
    assert det.fit(frame).notes_ == []
    big = pd.concat([frame] * 3, ignore_index=True)
    big["customer_id"] = [f"c{i:05d}" for i in range(len(big))]
    scored = det.fit_transform(big)
    assert any("seeded sample of 1,000 of 3,000 customers" in n for n in det.notes_)
    # independently: the same sample drawn with numpy, scikit-learn's forest fitted on it,
    # every customer scored at once
    rows = np.sort(np.random.default_rng(4).choice(len(big), size=1000, replace=False))
    z = np.nan_to_num(det.preprocessor_.robust_z(big), nan=0.0)
    forest = IsolationForest(n_estimators=60, contamination="auto", random_state=4).fit(z[rows])
    expected = np.round(-forest.score_samples(z), 10)
    np.testing.assert_allclose(scored["anomaly_score"], expected, rtol=0, atol=2e-10)
    assert det.threshold_ == pytest.approx(np.percentile(expected, 98.0), abs=1e-9)
    # the planted extremes are still found from the sample
    assert roc_auc_score(np.tile(truth, 3), scored["anomaly_score"]) >= 0.9
