"""Which segmentation of mixed numeric + categorical customer tables recovers planted personas?

    PYTHONPATH=src python bench/bench_profile_segmentation.py [--customers 2000] [--seeds 3]

On the synthetic customer table (``custlens.datasets.customer_profile_table``: four planted
personas that differ in numbers and, more weakly, in education and marital status) every method
gets the same features and k = 4; the adjusted Rand index against the planted personas and the
seconds are printed (median over seeds). Methods:

* ``one-hot, unit-variance blocks`` (custlens profile): robust-scaled numbers, each categorical
  block centred and scaled to total variance 1, K-Means;
* ``numeric only``: the same without the categorical features;
* ``one-hot 0/1``: unscaled indicators beside the robust-scaled numbers;
* ``one-hot, each robust-scaled``: indicators scaled like numbers (the customer preprocessor);
* ``Gower + average linkage``: Gower distance (range-scaled absolute differences, level
  mismatches), agglomerative clustering, on at most 3,000 customers (quadratic memory);
* ``K-Prototypes`` (kmodes, when installed): K-Means on numbers + k-modes on categories.

``--weak-numeric`` clusters on five numbers that separate the personas only partly, so that the
categorical features carry more of the signal.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score

from custlens.config.profile import ProfileConfig
from custlens.datasets import customer_profile_table
from custlens.features.preprocess import CustomerFeaturePreprocessor
from custlens.pipeline.profile import _segmentation_features
from custlens.profile.derived import derive_features
from custlens.profile.roles import assign_roles
from custlens.profile.segmentation import design_matrix

K = 4


WEAK = ["age", "children", "recency_days", "tenure_days", "purchase_share_store"]


def _prepare(n: int, seed: int, weak: bool = False):
    data = customer_profile_table(n, seed=seed)
    roles = assign_roles(data.table)
    feats = derive_features(roles)
    numeric, categorical = _segmentation_features(feats, roles, ProfileConfig())
    if weak:  # numbers that separate the personas less: the categories matter more
        numeric = WEAK
    truth = data.truth.set_index(data.truth["ID"].astype(str)).loc[feats.frame["ID"], "persona"]
    return feats.frame, numeric, categorical, truth.to_numpy()


def _kmeans(x: np.ndarray, seed: int) -> np.ndarray:
    return KMeans(n_clusters=K, random_state=seed, n_init=4).fit_predict(x)


def unit_blocks(frame, numeric, categorical, seed):
    z, *_ = design_matrix(frame, numeric, categorical, ProfileConfig(), "ID")
    return _kmeans(z.to_numpy(), seed)


def numeric_only(frame, numeric, categorical, seed):
    z, *_ = design_matrix(frame, numeric, [], ProfileConfig(), "ID")
    return _kmeans(z.to_numpy(), seed)


def onehot_01(frame, numeric, categorical, seed):
    z, *_ = design_matrix(frame, numeric, [], ProfileConfig(), "ID")
    dummies = pd.get_dummies(frame[categorical].astype(str), dtype=float)
    return _kmeans(np.hstack([z.to_numpy(), dummies.to_numpy()]), seed)


def onehot_robust(frame, numeric, categorical, seed):
    dummies = pd.get_dummies(frame[categorical].astype(str), dtype=float)
    both = pd.concat([frame[numeric], dummies], axis=1)
    pre = CustomerFeaturePreprocessor(features=list(both.columns)).fit(both)
    return _kmeans(pre.transform(both).to_numpy(), seed)


def gower_average(frame, numeric, categorical, seed):
    num = frame[numeric].to_numpy(dtype=float)
    num = np.where(np.isnan(num), np.nanmedian(num, axis=0), num)
    span = np.ptp(num, axis=0)
    span[span == 0] = 1
    num = num / span
    dist = np.zeros((len(frame), len(frame)))
    for j in range(num.shape[1]):
        dist += np.abs(num[:, j, None] - num[None, :, j])
    for c in categorical:
        codes = pd.factorize(frame[c].astype(str))[0]
        dist += codes[:, None] != codes[None, :]
    dist /= num.shape[1] + len(categorical)
    model = AgglomerativeClustering(n_clusters=K, metric="precomputed", linkage="average")
    return model.fit_predict(dist)


def kprototypes(frame, numeric, categorical, seed):
    from kmodes.kprototypes import KPrototypes

    z, *_ = design_matrix(frame, numeric, [], ProfileConfig(), "ID")
    x = np.hstack([z.to_numpy(), frame[categorical].astype(str).to_numpy()]).astype(object)
    cats = list(range(z.shape[1], x.shape[1]))
    model = KPrototypes(n_clusters=K, random_state=seed, n_init=2, n_jobs=1)
    return model.fit_predict(x, categorical=cats)


METHODS = {
    "one-hot, unit-variance blocks (custlens)": unit_blocks,
    "numeric only": numeric_only,
    "one-hot 0/1": onehot_01,
    "one-hot, each robust-scaled": onehot_robust,
    "Gower + average linkage": gower_average,
    "K-Prototypes (kmodes)": kprototypes,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--weak-numeric", action="store_true", help=f"cluster on {', '.join(WEAK)} only"
    )
    args = parser.parse_args()
    print("| method | median ARI | min ARI | median s |\n|---|---|---|---|")
    prepared = [_prepare(args.customers, 100 + s, args.weak_numeric) for s in range(args.seeds)]
    for name, method in METHODS.items():
        aris, secs = [], []
        for s, (frame, numeric, categorical, truth) in enumerate(prepared):
            if method is gower_average and len(frame) > 3000:
                frame, truth = frame.iloc[:3000], truth[:3000]
            start = time.perf_counter()
            try:
                labels = method(frame, numeric, categorical, s)
            except ImportError:
                break
            secs.append(time.perf_counter() - start)
            aris.append(adjusted_rand_score(truth, labels))
        if aris:
            print(f"| {name} | {statistics.median(aris):.3f} | {min(aris):.3f} | "
                  f"{statistics.median(secs):.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
