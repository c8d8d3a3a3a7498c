"""The shared-distance silhouette against scikit-learn's ``silhouette_score``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from custlens.segment.silhouette import mean_silhouettes, sample_indices


def _points(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(4, 3))
    return np.vstack([c + rng.normal(size=(150, 3)) for c in centres])


def test_matches_scikit_learn_for_every_k_and_block_size():
    x = _points()
    labelings = {
        k: KMeans(n_clusters=k, n_init=2, random_state=0).fit(x).labels_ for k in (2, 4, 7)
    }
    for block in (1, 37, 4096):
        ours = mean_silhouettes(x, labelings, block=block)
        for k, labels in labelings.items():
            assert ours[k] == pytest.approx(silhouette_score(x, labels), abs=1e-10)


def test_seeded_sample_is_scikit_learns_sample():
    x = _points(1)
    labels = KMeans(n_clusters=3, n_init=2, random_state=0).fit(x).labels_
    pick = sample_indices(len(x), 200, seed=5)
    ours = mean_silhouettes(x[pick], {3: labels[pick]})[3]
    expected = silhouette_score(x, labels, sample_size=200, random_state=5)
    assert ours == pytest.approx(expected, abs=1e-10)
    assert np.array_equal(sample_indices(10, None, 0), np.arange(10))
    assert np.array_equal(sample_indices(10, 50, 0), np.arange(10))


def test_singletons_score_zero_and_one_cluster_is_nan():
    # hand check: points 0, 1 (cluster A) and 10 (cluster B, alone) on a line
    x = np.array([[0.0], [1.0], [10.0]])
    got = mean_silhouettes(x, {2: np.array([0, 0, 1]), 1: np.array([0, 0, 0])})
    # point 0: a = 1, b = 10 -> 0.9; point 1: a = 1, b = 9 -> 8/9; point 10: alone -> 0
    assert got[2] == pytest.approx((0.9 + 8 / 9 + 0.0) / 3)
    assert np.isnan(got[1])
