"""Persona profiles, names from rules, the PCA map, and the persona charts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy.stats import norm

from custlens.charts import personas as charts
from custlens.charts import save_chart
from custlens.config import PersonaConfig, PersonaRule
from custlens.errors import DataError, MappingError
from custlens.segment.clustering import PersonaClusterer
from custlens.segment.explain import explain_personas
from custlens.segment.personas import build_personas, name_personas, profile_clusters

from .test_clustering import FEATURES, PLANTED, planted_customers

Z_FEATURES = [
    "monetary",
    "frequency",
    "recency_days",
    "avg_order_value",
    "tenure_days",
    "avg_items_per_order",
    "q4_share",
    "interval_mean_days",
    "return_rate",
]


def profile_rows(*rows: dict) -> pd.DataFrame:
    """Hand-built profiles: every z defaults to 0, the medians of q4_share to 0.25 and of
    tenure_days to 400."""
    out = []
    for i, row in enumerate(rows):
        base = {"cluster": i, "size": 100, "q4_share_median": 0.25, "tenure_days_median": 400.0}
        base.update({f"{f}_z": 0.0 for f in Z_FEATURES})
        base.update(row)
        out.append(base)
    return pd.DataFrame(out)


def test_default_rules_name_hand_built_profiles():
    profiles = profile_rows(
        {"monetary_z": 1.2, "frequency_z": 0.9, "recency_days_z": -0.5},
        {"avg_items_per_order_z": 2.0, "monetary_z": 1.0},
        {"q4_share_z": 1.5, "q4_share_median": 0.8},
        {"frequency_z": -0.6, "avg_order_value_z": -0.5, "recency_days_z": 0.2},
        {"recency_days_z": 1.3, "frequency_z": 0.6, "monetary_z": 1.0},
        {"recency_days_z": 1.0, "frequency_z": -0.1},
        {"monetary_z": 0.1, "frequency_z": -0.2},
        {"interval_mean_days_z": 0.9, "return_rate_z": -0.5, "monetary_z": 0.2},
        {"q4_share_z": 1.5, "q4_share_median": 0.4},  # z high but the median is not: no rule
        # all orders in Q4 but only two months of history: newcomers, not seasonal buyers
        {
            "q4_share_z": 1.3,
            "q4_share_median": 1.0,
            "tenure_days_median": 60.0,
            "tenure_days_z": -0.7,
        },
    )
    names = [d.name for d in name_personas(profiles)]
    assert names == [
        "High-Value Loyal",
        "Bulk Wholesale",
        "Seasonal Q4 Gift Buyers",
        "Bargain One-Timers",
        "At-Risk Former Regulars",
        "Lapsing",
        "Typical Customers",
        "Long-Gap, Low-Return Customers",
        "Q4-Heavy Customers",
        "Q4-Heavy, New Customers",
    ]
    decisions = name_personas(profiles)
    assert decisions[0].rule == "High-Value Loyal"
    assert "monetary_z = 1.2 > 0.8" in decisions[0].evidence
    assert decisions[6].rule is None


def test_clashing_names_are_disambiguated_deterministically():
    loyal = {"monetary_z": 1.2, "frequency_z": 0.9}
    profiles = profile_rows(
        {**loyal, "size": 50, "tenure_days_z": 1.5},
        {**loyal, "size": 100},
        {**loyal, "size": 50, "tenure_days_z": 1.5},
    )
    names = {d.cluster: d.name for d in name_personas(profiles)}
    # the largest keeps the name; the others get their most different feature, then a number
    assert names == {
        1: "High-Value Loyal",
        0: "High-Value Loyal (Long-Standing)",
        2: "High-Value Loyal (Long-Standing) 2",
    }
    reversed_order = {d.cluster: d.name for d in name_personas(profiles.iloc[::-1])}
    assert reversed_order[1] == "High-Value Loyal"
    assert len(set(reversed_order.values())) == 3


def test_custom_rules_and_missing_features():
    config = PersonaConfig(
        rules=[
            PersonaRule(name="Returners", when=["return_rate_z > 0.5"]),
            PersonaRule(name="Big Spenders", when=["monetary >= 1000"]),  # a median
        ]
    )
    profiles = pd.DataFrame(
        {
            "cluster": [0, 1],
            "size": [10, 5],
            "monetary_median": [1500.0, 80.0],
            "monetary_z": [1.0, -1.0],
        }
    )
    names = [d.name for d in name_personas(profiles, config)]
    # return_rate is absent, so "Returners" never matches
    assert names == ["Big Spenders", "Low-Spend Customers"]


def test_default_features_have_words_and_any_other_feature_reads_as_words():
    # every feature clustered by default has a phrase; one without reads with spaces
    assert set(PersonaConfig().features) <= set(PersonaConfig().feature_phrases)
    profiles = pd.DataFrame(
        {
            "cluster": [0, 1],
            "size": [10, 5],
            "days_overdue_z": [1.5, -1.5],
            "avg_unit_price_z": [1.0, -1.0],
            "weekend_share_z": [-0.5, 0.5],
        }
    )
    names = [d.name for d in name_personas(profiles, PersonaConfig(rules=[]))]
    assert names == ["Overdue, High-Price Customers", "On-Schedule, Low-Price Customers"]
    only_new = profiles[["cluster", "size", "weekend_share_z"]]
    names = [d.name for d in name_personas(only_new, PersonaConfig(rules=[]))]
    assert names == ["Low weekend share Customers", "High weekend share Customers"]


def test_bad_rules_are_rejected():
    with pytest.raises(ValidationError, match="must read"):
        PersonaRule(name="X", when=["monetary_z >> 1"])
    with pytest.raises(ValidationError, match="not a number"):
        PersonaRule(name="X", when=["monetary_z > high"])
    with pytest.raises(ValidationError, match="unique"):
        PersonaConfig(rules=[PersonaRule(name="A", when=["x > 1"])] * 2)


def test_profile_by_hand():
    # x = expm1(0..4) so log1p(x) = 0..4 exactly; y is not skewed and kept as is
    frame = pd.DataFrame({"x": np.expm1([0.0, 1, 2, 3, 4]), "y": [1.0, 2, 3, 4, np.nan]})
    profile = profile_clusters(frame, [0, 0, 1, 1, 1], ["x", "y"], log_features={"x"})
    assert profile["size"].tolist() == [2, 3]
    assert profile["share"].tolist() == pytest.approx([0.4, 0.6])
    # medians in original units
    assert profile["x_median"].tolist() == pytest.approx([(0 + math.e - 1) / 2, math.e**3 - 1])
    assert profile["y_median"].tolist() == pytest.approx([1.5, 3.5])
    # z on log1p(x) = 0..4: mean 2, population sd sqrt(2); cluster means 0.5 and 3
    assert profile["x_z"].tolist() == pytest.approx([-1.5 / math.sqrt(2), 1 / math.sqrt(2)])
    # y ignores the missing value: mean 2.5, sd sqrt(1.25); cluster means 1.5 and 3.5
    sd = math.sqrt(1.25)
    assert profile["y_z"].tolist() == pytest.approx([-1 / sd, 1 / sd])


@pytest.fixture(scope="module")
def result():
    frame, truth = planted_customers(n_per=150, seed=3)
    extreme = frame.iloc[:2].assign(customer_id=["X1", "X2"], monetary=[3e9, 5e9])
    frame = pd.concat([frame, extreme], ignore_index=True)
    clusterer = PersonaClusterer(features=FEATURES, k_range=(2, 6), seed=0).fit(frame)
    return frame, np.concatenate([truth, truth[:2]]), clusterer, build_personas(frame, clusterer)


def independent_outliers(frame: pd.DataFrame, clusterer: PersonaClusterer) -> list[str]:
    """Customers with a robust z beyond 5 on any feature, computed here with numpy.

    z = (x - median) / ((Q95 - Q5) / (2 * Phi^-1(0.95))), on log1p(x) for the log features.
    """
    beyond = np.zeros(len(frame), dtype=bool)
    for name in FEATURES:
        x = frame[name].to_numpy(dtype=float)
        if name in clusterer.log_features_:
            x = np.log1p(x)
        q05, q95 = np.percentile(x, [5, 95])
        z = (x - np.median(x)) / ((q95 - q05) / (2 * norm.ppf(0.95)))
        beyond |= np.abs(z) > 5.0
    return frame.loc[beyond, "customer_id"].tolist()


def test_planted_clusters_get_their_names(result):
    frame, truth, clusterer, personas = result
    names = list(PLANTED)
    majority = pd.crosstab(truth, personas.assignments["persona"]).idxmax(axis=1)
    assert [majority[i] for i in range(4)] == names
    agree = personas.assignments["persona"].to_numpy() == np.array(names)[truth]
    assert agree.mean() >= 0.95
    assert personas.profiles["persona"].is_unique
    assert personas.profiles["size"].sum() == len(frame)
    assert personas.profiles["n_outliers"].sum() == len(independent_outliers(frame, clusterer))


def test_assignments_flag_outliers(result):
    frame, _, clusterer, personas = result
    a = personas.assignments
    assert list(a.columns) == ["customer_id", "cluster", "persona", "persona_outlier"]
    flagged = a.loc[a["persona_outlier"], "customer_id"].tolist()
    assert {"X1", "X2"} <= set(flagged)
    assert flagged == independent_outliers(frame, clusterer)
    assert a["persona"].notna().all()
    assert np.array_equal(a["cluster"], clusterer.labels_)


def test_pca_map_matches_an_eigen_decomposition(result):
    frame, _, clusterer, personas = result
    z = clusterer.transform(frame).to_numpy()[~clusterer.is_outlier_]
    eig = np.sort(np.linalg.eigvalsh(np.cov(z, rowvar=False)))[::-1]
    assert personas.map.explained_variance == pytest.approx(tuple(eig[:2] / eig.sum()), rel=1e-6)
    coords = personas.map.coordinates
    assert len(coords) == len(frame)
    # PC1 scores have the variance of the first eigenvalue on the fitted rows
    pc1 = coords.loc[~clusterer.is_outlier_, "pc1"].to_numpy()
    assert pc1.var(ddof=1) == pytest.approx(eig[0], rel=1e-6)


def test_rows_scored_in_blocks_give_the_one_block_results(result, monkeypatch):
    """Blocks of 37 rows and a fit on a sample of 300: the outliers, every customer's nearest
    centre and the map are those computed here with numpy on all robust scores at once."""
    frame, _, _, _ = result
    monkeypatch.setattr("custlens.segment.clustering.ROW_BLOCK", 37)
    clusterer = PersonaClusterer(features=FEATURES, k_range=(2, 6), seed=0, fit_sample=300)
    personas = build_personas(frame, clusterer.fit(frame))
    assert frame.loc[clusterer.is_outlier_, "customer_id"].tolist() == independent_outliers(
        frame, clusterer
    )
    z = clusterer.transform(frame).to_numpy()  # every row at once
    centres = clusterer.cluster_centers_
    nearest = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.array_equal(clusterer.labels_, nearest)
    fitted = clusterer.fit_rows_
    assert len(fitted) == 300 and not clusterer.is_outlier_[fitted].any()
    values, vectors = np.linalg.eigh(np.cov(z[fitted], rowvar=False))
    top = np.argsort(values)[::-1][:2]
    assert personas.map.explained_variance == pytest.approx(
        tuple(values[top] / values.sum()), rel=1e-6
    )
    centred = z - z[fitted].mean(axis=0)
    for axis, column in zip(top, ("pc1", "pc2"), strict=True):
        expected = np.abs(centred @ vectors[:, axis])  # an axis's sign is arbitrary
        got = np.abs(personas.map.coordinates[column].to_numpy())
        assert got == pytest.approx(expected, abs=1e-9)


def test_build_personas_needs_the_fitted_table(result):
    frame, _, clusterer, _ = result
    with pytest.raises(DataError, match="same table"):
        build_personas(frame.iloc[:10], clusterer)


def test_charts_are_vega_lite_and_save_as_png_and_svg(result, tmp_path):
    frame, _, clusterer, personas = result
    explanation = explain_personas(
        frame, personas.assignments["persona"], clusterer.features_, forest_trees=20
    )
    made = {
        "selection": charts.k_selection_chart(clusterer.selection_),
        "map": charts.persona_map_chart(
            personas.map.coordinates, personas.map.explained_variance, max_points=200
        ),
        "heatmap": charts.profile_heatmap(personas.profiles),
        "importance": charts.importance_chart(
            explanation.permutation_importance, explanation.forest_importance
        ),
    }
    for name, chart in made.items():
        spec = chart.to_dict()  # validates against the Vega-Lite schema
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        png = save_chart(chart, tmp_path / f"{name}.png", scale=1)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sample of 200" in str(made["map"].to_dict()["title"])
    svg = save_chart(made["heatmap"], tmp_path / "heatmap.svg")
    text = svg.read_text()
    assert text.startswith("<svg") and "High-Value Loyal" in text
    heat = made["heatmap"].to_dict()
    rows = heat["datasets"][next(iter(heat["datasets"]))]
    assert len(rows) == len(personas.profiles) * len(clusterer.features_)


def test_persona_radar_geometry(tmp_path):
    """Two features: the first spoke points up, the second down. Radius (clip(z, -2, 2) + 2) / 4:
    z = 0 on the dashed ring (0.5), z clipped to +2 at the rim (1) and to -2 at the centre (0);
    each polygon is closed (the first point repeated)."""
    profiles = pd.DataFrame(
        {"persona": ["A", "B"], "size": [3, 4], "f_z": [0.0, 5.0], "g_z": [-3.0, 1.0]}
    )
    chart = charts.persona_radar_chart(profiles, features=["f", "g"])
    spec = chart.to_dict()
    rows = pd.DataFrame(spec["datasets"][next(iter(spec["datasets"]))])
    shape = rows[rows["kind"] == "shape"]
    a = shape[shape["persona"] == "A"].sort_values("i")
    assert a["feature"].tolist() == ["f", "g", "f"]
    assert a["y"].round(9).tolist() == [0.5, 0.0, 0.5]  # g at z = -3 -> clipped to the centre
    b = shape[shape["persona"] == "B"].sort_values("i")
    assert b["y"].round(9).tolist() == [1.0, -0.75, 1.0]
    assert a["x"].abs().max() < 1e-9
    assert save_chart(chart, tmp_path / "radar.png", scale=1).read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(MappingError, match="persona radar"):
        charts.persona_radar_chart(pd.DataFrame({"persona": ["A"]}))


def test_charts_reject_wrong_tables():
    with pytest.raises(MappingError, match="k selection chart lack"):
        charts.k_selection_chart(pd.DataFrame({"k": [2]}))
    with pytest.raises(MappingError, match="persona map chart lack"):
        charts.persona_map_chart(pd.DataFrame({"pc1": [1.0]}), (0.5, 0.2))


def simple_features(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per-customer features from UCI-layout orders, written independently with pandas."""
    o = orders[orders["CustomerID"].notna() & (orders["InvoiceDate"] < cutoff)]
    o = o[~o["StockCode"].isin(["POST", "M"])]
    cancelled = o["InvoiceNo"].str.startswith("C") | (o["Quantity"] < 0)
    buy = o[~cancelled & (o["UnitPrice"] > 0)].assign(amount=lambda d: d.Quantity * d.UnitPrice)
    back = o[cancelled]
    inv = buy.groupby(["CustomerID", "InvoiceNo"], as_index=False).agg(
        value=("amount", "sum"), items=("Quantity", "sum"), ts=("InvoiceDate", "min")
    )
    inv["day"] = inv["ts"].dt.normalize()
    g = inv.groupby("CustomerID")
    f = pd.DataFrame(
        {
            "frequency": g.size(),
            "monetary": g["value"].sum(),
            "recency_days": (cutoff - g["day"].max()).dt.days,
            "tenure_days": (cutoff - g["day"].min()).dt.days,
            "avg_items_per_order": g["items"].sum() / g.size(),
            "q4_share": (inv["ts"].dt.month >= 10).groupby(inv["CustomerID"]).mean(),
        }
    )
    f["avg_order_value"] = f["monetary"] / f["frequency"]
    days = inv[["CustomerID", "day"]].drop_duplicates().sort_values(["CustomerID", "day"])
    f["interval_mean_days"] = (
        days.groupby("CustomerID")["day"].diff().dt.days.groupby(days["CustomerID"]).mean()
    )
    f["days_overdue"] = f["recency_days"] - f["interval_mean_days"]  # NaN with one order date
    f["avg_unit_price"] = f["monetary"] / g["items"].sum()
    month = inv["ts"].dt.year * 12 + inv["ts"].dt.month
    last_day = cutoff - pd.Timedelta(days=1)
    tenure_months = last_day.year * 12 + last_day.month - month.groupby(inv["CustomerID"]).min() + 1
    f["active_month_ratio"] = month.groupby(inv["CustomerID"]).nunique() / tenure_months
    returned = (back["Quantity"].abs() * back["UnitPrice"]).groupby(back["CustomerID"]).sum()
    f["return_rate"] = (returned.reindex(f.index).fillna(0.0) / f["monetary"]).clip(upper=1.0)
    f = f.reset_index()
    f["customer_id"] = f["CustomerID"].astype("int64").astype(str)
    return f.drop(columns="CustomerID")


def test_planted_personas_of_the_synthetic_generator_are_recovered():
    synthetic = pytest.importorskip("custlens.datasets.synthetic")
    from sklearn.metrics import adjusted_rand_score

    data = synthetic.synthetic(2000, seed=0)
    customers = simple_features(data.orders, pd.Timestamp(data.cutoff))
    truth = data.truth.set_index("customer_id").loc[customers["customer_id"], "persona"]
    clusterer = PersonaClusterer(seed=0).fit(customers)
    # measured 0.90 (k = 6 of the 6 planted personas; the 2% planted anomalies count as a 7th)
    assert adjusted_rand_score(truth.to_numpy(), clusterer.labels_) >= 0.8


def test_a_fallback_persona_is_described_by_its_means_beside_all_customers():
    profiles = profile_rows(
        {"q4_share_z": 1.3, "q4_share_median": 1.0, "q4_share_mean": 0.9,
         "tenure_days_median": 60.0, "tenure_days_mean": 75.4, "tenure_days_z": -0.7},
        {"monetary_z": 1.2, "frequency_z": 0.9},
    )  # fmt: skip
    typical = {"q4_share": 0.33, "tenure_days": 249.0}
    fallback, ruled = name_personas(profiles, typical=typical)
    assert fallback.name == "Q4-Heavy, New Customers" and fallback.rule is None
    # by hand: 0.9 -> 90%, 0.33 -> 33%; 75.4 and 249 days
    assert fallback.description == (
        "Averages: placed 90% of orders in Q4 (all customers 33%); "
        "first order 75.4 days ago (all customers 249)."
    )
    [rule] = [r for r in PersonaConfig().rules if r.name == ruled.rule]
    assert ruled.description == rule.description  # a rule keeps its own words
    # without all customers' means, nothing to compare with: no description
    assert name_personas(profiles)[0].description == ""


def test_profiles_hold_each_clusters_mean_beside_its_median():
    customers = pd.DataFrame({"frequency": [1.0, 1.0, 1.0, 2.0, 1.0, 9.0, 12.0, 10.0]})
    profiles = profile_clusters(customers, np.array([0, 0, 0, 0, 1, 1, 1, 1]), ["frequency"])
    # by hand: cluster 0 (1, 1, 1, 2) mean 1.25, median 1; cluster 1 (1, 9, 12, 10) mean 8
    assert profiles["frequency_mean"].tolist() == [1.25, 8.0]
    assert profiles["frequency_median"].tolist() == [1.0, 9.5]
