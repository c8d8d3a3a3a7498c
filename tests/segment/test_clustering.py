"""PersonaClusterer: true k and labels on planted clusters, outliers, determinism, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from custlens.config import Settings
from custlens.errors import ConfigError, DataError, InputError, MappingError, NotFittedError
from custlens.segment.clustering import PersonaClusterer
from custlens.segment.k_choice import choose_k, knee_gaps, knee_point

FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "avg_items_per_order",
]
# four planted kinds of customer: (frequency, monetary, items/order, recency mean, recency sd)
PLANTED = {
    "High-Value Loyal": (25.0, 9.0, 10.0, 15.0, 8.0),
    "Bulk Wholesale": (4.0, 8.0, 400.0, 60.0, 20.0),
    "Bargain One-Timers": (1.0, 3.5, 5.0, 150.0, 30.0),
    "At-Risk Former Regulars": (15.0, 7.0, 12.0, 300.0, 40.0),
}


def planted_customers(n_per: int = 250, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Seeded Gaussian blobs in log space for money and counts (so those columns are skewed)."""
    rng = np.random.default_rng(seed)
    parts = []
    for label, (freq, log_money, items, rec, rec_sd) in enumerate(PLANTED.values()):
        frequency = np.exp(rng.normal(np.log(freq), 0.25, n_per))
        monetary = np.exp(rng.normal(log_money, 0.3, n_per))
        recency = np.clip(rng.normal(rec, rec_sd, n_per), 0, None)
        tenure = recency if freq == 1.0 else recency + rng.normal(600, 60, n_per)
        parts.append(
            pd.DataFrame(
                {
                    "frequency": frequency,
                    "monetary": monetary,
                    "avg_order_value": monetary / frequency,
                    "avg_items_per_order": np.exp(rng.normal(np.log(items), 0.3, n_per)),
                    "recency_days": recency,
                    "tenure_days": tenure,
                    "truth": label,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    return frame.drop(columns="truth"), frame["truth"].to_numpy()


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    return planted_customers()


@pytest.fixture(scope="module")
def fitted(planted) -> PersonaClusterer:
    frame, _ = planted
    return PersonaClusterer(features=FEATURES, k_range=(2, 8), seed=0).fit(frame)


def test_picks_the_planted_k_and_recovers_the_clusters(planted, fitted):
    _, truth = planted
    assert fitted.k_ == 4
    assert adjusted_rand_score(truth, fitted.labels_) >= 0.9
    assert fitted.selection_["k"].tolist() == list(range(2, 9))
    assert fitted.selection_.loc[fitted.selection_["chosen"], "k"].tolist() == [4]
    assert "k = 4" in fitted.selection_reason_
    assert fitted.stability_ >= 0.95
    # clusters are numbered by size: 0 is the largest
    sizes = np.bincount(fitted.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_scores_match_an_independent_computation(planted, fitted):
    from sklearn.metrics import davies_bouldin_score

    frame, _ = planted
    z = fitted.transform(frame).to_numpy()
    row = fitted.selection_.set_index("k").loc[4]
    # inertia: sum of squared distances to the nearest centre (K-Means' own objective)
    d2 = ((z[:, None, :] - fitted.cluster_centers_[None]) ** 2).sum(axis=2).min(axis=1)
    assert row["inertia"] == pytest.approx(d2.sum(), rel=1e-6)
    assert row["davies_bouldin"] == pytest.approx(davies_bouldin_score(z, fitted.labels_), rel=1e-6)


def test_log1p_only_for_skewed_non_negative_features(planted, fitted):
    frame, _ = planted
    skewness = frame[FEATURES].skew()  # pandas' adjusted skewness, an independent estimate
    for name in FEATURES:
        if skewness[name] > 1.2:
            assert name in fitted.log_features_
        if skewness[name] < 0.8:
            assert name not in fitted.log_features_
    # the scale is robust: the transformed median is 0 and the 5-95% range is that of a
    # standard normal, 2 * Phi^-1(0.95) (from scipy, independently of the code under test)
    z = fitted.transform(frame)
    assert z.median().abs().max() < 1e-9
    spread = z.quantile(0.95) - z.quantile(0.05)
    assert np.allclose(spread, 2 * norm.ppf(0.95), atol=1e-6)


def test_scale_does_not_jump_when_a_quartile_falls_between_two_groups():
    # 70% of customers near 0 and 30% near 300 (e.g. days overdue with a lapsed group): the
    # upper quartile lies in the gap, so an IQR scale would change several-fold when the
    # lapsed share moves from 24% to 26%. The 5-95% range sees both groups every time.
    rng = np.random.default_rng(3)
    scales = []
    for lapsed_share in (0.24, 0.26):
        n_lapsed = int(2000 * lapsed_share)
        values = np.concatenate([rng.normal(0, 20, 2000 - n_lapsed), rng.normal(300, 40, n_lapsed)])
        frame = pd.DataFrame({"customer_id": np.arange(2000).astype(str), "late": values})
        model = PersonaClusterer(features=["late"], k_range=(2, 2), seed=0).fit(frame)
        scales.append(model.scales_["late"])
        q05, q95 = np.percentile(values, [5, 95])  # independent: numpy on the raw values
        assert model.scales_["late"] == pytest.approx((q95 - q05) / (2 * norm.ppf(0.95)))
        iqr_scales = np.subtract(*np.percentile(values, [75, 25]))
        scales.append(iqr_scales)
    robust_ratio = scales[2] / scales[0]
    iqr_ratio = scales[3] / scales[1]
    assert 0.9 < robust_ratio < 1.1
    assert iqr_ratio > 2  # what the interquartile range would have done


def test_planted_outliers_are_flagged_excluded_and_still_assigned(planted):
    frame, truth = planted
    extreme = frame.iloc[:3].copy()
    extreme["monetary"] = [5e8, 2e9, 7e8]
    extreme["customer_id"] = ["X1", "X2", "X3"]
    data = pd.concat([frame, extreme], ignore_index=True)
    model = PersonaClusterer(features=FEATURES, k_range=(2, 8), seed=0).fit(data)
    flagged = data.loc[model.is_outlier_, "customer_id"].tolist()
    assert flagged == ["X1", "X2", "X3"]
    assert model.n_fit_ == len(frame)
    assert model.outliers_["customer_id"].tolist() == ["X1", "X2", "X3"]
    assert model.outliers_["feature"].eq("monetary").all()
    assert model.outliers_["reason"].str.contains("monetary").all()
    # excluded from the fit: no centre lies out where the outliers are
    assert np.abs(model.cluster_centers_).max() < model.outlier_z
    assert model.k_ == 4
    assert adjusted_rand_score(truth, model.labels_[: len(frame)]) >= 0.9
    assert set(model.labels_[-3:]) <= set(range(model.k_))  # assigned, not dropped


def test_quantile_rule_and_cap(planted):
    frame, _ = planted
    model = PersonaClusterer(features=FEATURES, k_range=(4, 4), seed=0, outlier_quantile=0.99).fit(
        frame
    )
    n = len(frame)
    assert 0.005 * n <= model.is_outlier_.sum() <= 0.011 * n
    assert model.outliers_["reason"].str.contains("quantile").all()
    capped = PersonaClusterer(
        features=FEATURES, k_range=(4, 4), seed=0, outlier_quantile=0.9, max_outlier_share=0.02
    ).fit(frame)
    assert capped.is_outlier_.sum() == int(0.02 * n)
    assert any("most distant" in note for note in capped.notes_)


def test_same_seed_same_result(planted, fitted):
    frame, _ = planted
    again = PersonaClusterer(features=FEATURES, k_range=(2, 8), seed=0).fit(frame)
    assert np.array_equal(again.labels_, fitted.labels_)
    pd.testing.assert_frame_equal(again.selection_, fitted.selection_)
    assert again.stability_ == fitted.stability_
    assert np.array_equal(fitted.predict(frame), fitted.labels_)


def test_minibatch_and_sampled_silhouette_path(planted):
    frame, truth = planted
    model = PersonaClusterer(
        features=FEATURES, k_range=(3, 5), seed=1, minibatch_threshold=100, silhouette_sample=300
    ).fit(frame)
    assert model.k_ == 4
    assert adjusted_rand_score(truth, model.labels_) >= 0.9


def test_missing_null_and_constant_features_are_skipped_with_notes(planted):
    frame, _ = planted
    data = frame.assign(q4_share=np.nan, constant=3.0)
    data.loc[:9, "monetary"] = np.nan
    model = PersonaClusterer(
        features=FEATURES + ["q4_share", "constant", "not_there"], k_range=(4, 4), seed=0
    ).fit(data)
    assert model.features_ == FEATURES
    notes = " | ".join(model.notes_)
    assert "'q4_share' skipped: every value is missing" in notes
    assert "'constant' skipped" in notes
    assert "'not_there' skipped: not in the customer table" in notes
    assert "'monetary': 10 missing or infinite values set to the median" in notes


def test_default_features_use_whatever_subset_exists(planted):
    frame, _ = planted
    model = PersonaClusterer(k_range=(4, 4), seed=0).fit(frame)
    # the defaults this table has (recency and tenure are profiled, not clustered, by default)
    assert set(model.features_) == {
        "frequency",
        "monetary",
        "avg_order_value",
        "avg_items_per_order",
    }
    assert any("'q4_share' skipped" in note for note in model.notes_)


def test_from_config_reads_persona_settings():
    settings = Settings().with_overrides(**{"personas.k_min": 3, "personas.k_max": 6})
    model = PersonaClusterer.from_config(settings.personas, seed=7)
    assert model.k_range == (3, 6) and model.seed == 7
    with pytest.raises(ConfigError):
        Settings().with_overrides(**{"personas.k_min": 6, "personas.k_max": 3})


def test_knee_point_by_hand():
    # normalised: x = 0, .25, .5, .75, 1; y = 1, .318, .091, .034, 0; chord = 1 - x
    # gaps: 0, .432, .409, .216, 0 -> the knee is k = 2
    assert knee_point([1, 2, 3, 4, 5], [100, 40, 20, 15, 12]) == 2
    assert knee_point([2, 3], [10, 5]) is None


def test_knee_gaps_by_hand():
    # k = 2..5, inertia 100, 40, 25, 20: x = 0, 1/3, 2/3, 1; y = 1, .25, .0625, 0
    # chord = 1 - x, so the gaps are 0, 5/12, 13/48, 0
    gaps = knee_gaps([2, 3, 4, 5], [100.0, 40.0, 25.0, 20.0])
    assert gaps == pytest.approx([0.0, 5 / 12, 13 / 48, 0.0])
    assert np.isnan(knee_gaps([2, 3], [10.0, 5.0])).all()


def test_silhouette_davies_bouldin_and_elbow_vote_by_rank():
    scores = pd.DataFrame(
        {
            "k": [2, 3, 4, 5],
            "inertia": [100.0, 40.0, 25.0, 20.0],  # gaps 0, 5/12, 13/48, 0 -> ranks 3 1 2 3
            "silhouette": [0.6, 0.5, 0.4, 0.3],  # ranks 1 2 3 4 (silhouette alone: k = 2)
            "davies_bouldin": [0.8, 0.5, 0.6, 0.9],  # ranks 3 1 2 4
            "calinski_harabasz": [900.0, 10.0, 10.0, 10.0],  # reported, does not vote
        }
    )
    table, knee, chosen = choose_k(scores)
    assert knee == 3
    assert table["rank_knee_gap"].tolist() == [3, 1, 2, 3]
    assert table["mean_rank"].tolist() == pytest.approx([7 / 3, 4 / 3, 7 / 3, 11 / 3])
    assert chosen == 3
    assert table["chosen"].tolist() == [False, True, False, False]
    assert table["is_knee"].tolist() == [False, True, False, False]
    assert "calinski_harabasz" in table.columns


def test_ties_go_to_the_elbow_then_the_smaller_k_and_nan_ranks_last():
    scores = pd.DataFrame(
        {
            "k": [2, 3, 4],
            "inertia": [100.0, 30.0, 20.0],  # gaps 0, .375, 0 -> ranks 2 1 2; knee at 3
            "silhouette": [0.6, 0.5, 0.4],  # ranks 1 2 3
            "davies_bouldin": [0.5, 0.5, 0.7],  # ranks 1 1 3
        }
    )
    table, knee, chosen = choose_k(scores)
    assert table["mean_rank"].tolist() == pytest.approx([4 / 3, 4 / 3, 8 / 3])
    assert (knee, chosen) == (3, 3)  # k = 2 and k = 3 tie; k = 3 is the elbow
    # a score that could not be computed ranks last (rank = number of k)
    broken = scores.assign(silhouette=[np.nan, 0.5, 0.4], davies_bouldin=[np.nan, 0.6, 0.7])
    table, _, chosen = choose_k(broken)
    assert table["rank_silhouette"].tolist() == [3, 1, 2]
    assert chosen == 3
    # without an elbow (two values of k) ties go to the smaller k
    two = scores.iloc[:2].assign(silhouette=[0.5, 0.6], davies_bouldin=[0.5, 0.6])
    table, knee, chosen = choose_k(two)
    assert knee is None and chosen == 2


def test_bad_input_gives_clear_errors(planted, fitted):
    frame, _ = planted
    with pytest.raises(ConfigError, match="k_range"):
        PersonaClusterer(k_range=(1, 4)).fit(frame)
    with pytest.raises(InputError, match="not numeric"):
        PersonaClusterer(features=["customer_id", "monetary"]).fit(frame)
    with pytest.raises(DataError, match="No usable feature"):
        PersonaClusterer(features=["nothing"]).fit(frame)
    with pytest.raises(DataError, match="at least"):
        PersonaClusterer(features=FEATURES).fit(frame.iloc[:6])
    with pytest.raises(NotFittedError, match="not fitted"):
        PersonaClusterer().predict(frame)
    with pytest.raises(NotFittedError):
        PersonaClusterer().transform(frame)
    with pytest.raises(MappingError, match="lack the column"):
        fitted.predict(frame.drop(columns="monetary"))
    with pytest.raises(InputError, match="DataFrame"):
        PersonaClusterer().fit([[1, 2], [3, 4]])


def test_large_tables_fit_on_a_seeded_sample_and_assign_everyone() -> None:
    """Above ``fit_sample`` the fit uses a sample; every customer still gets its nearest centre."""
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    truth = rng.integers(0, 3, 6_000)
    xy = centres[truth] + rng.normal(size=(6_000, 2))
    frame = pd.DataFrame(
        {"customer_id": np.arange(6_000).astype(str), "a": xy[:, 0], "b": xy[:, 1]}
    )
    model = PersonaClusterer(features=["a", "b"], k_range=(2, 5), seed=0, fit_sample=1_500)
    model.fit(frame)
    assert model.n_fit_ == 1_500 and model.k_ == 3
    assert any("sample of 1,500" in n for n in model.notes_)
    assert len(model.labels_) == 6_000
    assert adjusted_rand_score(truth, model.labels_) > 0.95


def test_follows_the_scikit_learn_estimator_contract(planted):
    frame, _ = planted
    model = PersonaClusterer(features=FEATURES, k_range=(3, 5), seed=4)
    params = model.get_params()
    assert params["k_range"] == (3, 5) and params["seed"] == 4 and params["features"] == FEATURES
    text = " ".join(repr(model).split())
    assert text.startswith("PersonaClusterer(features=['recency_days',")
    assert text.endswith("k_range=(3, 5), seed=4)")
    twin = clone(model)
    assert twin is not model and twin.get_params() == params
    # the constructor only stores settings: no fitted attribute before fit
    assert not [a for a in vars(model) if a.endswith("_")]
    with pytest.raises(TypeError):
        PersonaClusterer(FEATURES)  # keyword-only
    fitted = twin.set_params(k_range=(4, 4), stability_seeds=2, n_init=3).fit(frame)
    assert fitted.k_ == 4 and "k_" not in vars(model)


@pytest.mark.parametrize(
    ("name", "value"),
    [("outlier_z", -1.0), ("max_outlier_share", 0.7), ("stability_seeds", 1), ("seed", "x")],
)
def test_bad_parameters_are_config_errors_naming_the_parameter(planted, name, value):
    frame, _ = planted
    with pytest.raises(ConfigError, match=name) as err:
        PersonaClusterer(features=FEATURES, **{name: value}).fit(frame)
    assert err.value.where == f"PersonaClusterer({name}=...)"


def test_stability_is_the_mean_ari_of_the_seeded_runs():
    # structureless data: each seed finds other clusters, so the ARI is well below 1
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.uniform(0.0, 1.0, (600, 3)), columns=["a", "b", "c"])
    model = PersonaClusterer(
        features=["a", "b", "c"], k_range=(4, 4), seed=7, stability_seeds=3, n_init=1
    ).fit(frame)
    z = model.transform(frame).to_numpy()[~model.is_outlier_]
    with threadpool_limits(limits=1):
        runs = [KMeans(4, random_state=7 + s, n_init=1).fit(z).labels_ for s in range(3)]
    pairs = [(0, 1), (0, 2), (1, 2)]
    want = np.mean([adjusted_rand_score(runs[i], runs[j]) for i, j in pairs])
    assert want < 0.95
    assert model.stability_ == pytest.approx(want, abs=1e-12)
