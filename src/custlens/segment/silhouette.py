"""Mean silhouette of several labelings of the same points, sharing one distance computation.

Choosing k scores every candidate labeling on the same seeded sample of customers. The pairwise
distances of that sample do not depend on k, so they are computed once, block by block, and
each block serves every labeling: per point, the summed distance to each cluster is the block
times the labeling's one-hot matrix. The silhouette of point i is ``(b - a) / max(a, b)`` with
``a`` its mean distance to the other members of its cluster and ``b`` the smallest mean
distance to another cluster; it is 0 for a point alone in its cluster (Rousseeuw 1987, as
scikit-learn's ``silhouette_score``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def sample_indices(n: int, sample_size: int | None, seed: int) -> np.ndarray:
    """The rows scored: all, or scikit-learn's seeded draw (``permutation(n)[:sample_size]``)."""
    if sample_size is None or sample_size >= n:
        return np.arange(n)
    return np.random.RandomState(seed).permutation(n)[:sample_size]


def mean_silhouettes(
    x: np.ndarray, labelings: Mapping[int, np.ndarray], block: int = 1024
) -> dict[int, float]:
    """Mean silhouette of each labeling of the rows of ``x`` (NaN with fewer than 2 clusters)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    coded = {key: np.unique(labels, return_inverse=True) for key, labels in labelings.items()}
    onehots = {
        key: np.eye(len(classes), dtype=np.float64)[codes]
        for key, (classes, codes) in coded.items()
    }
    sums = {key: np.empty((n, m.shape[1])) for key, m in onehots.items()}
    norms = np.einsum("ij,ij->i", x, x)
    for start in range(0, n, block):
        stop = min(start + block, n)
        d2 = norms[start:stop, None] + norms[None, :] - 2.0 * (x[start:stop] @ x.T)
        np.maximum(d2, 0.0, out=d2)
        d2[np.arange(stop - start), np.arange(start, stop)] = 0.0
        d = np.sqrt(d2, out=d2)
        for key, onehot in onehots.items():
            sums[key][start:stop] = d @ onehot
    out = {}
    for key, (classes, codes) in coded.items():
        if len(classes) < 2:
            out[key] = float("nan")
            continue
        sizes = np.bincount(codes, minlength=len(classes)).astype(np.float64)
        rows = np.arange(n)
        own_size = sizes[codes]
        a = sums[key][rows, codes] / np.maximum(own_size - 1.0, 1.0)
        others = sums[key] / sizes[None, :]
        others[rows, codes] = np.inf
        b = others.min(axis=1)
        denom = np.maximum(a, b)
        s = np.where(denom > 0, (b - a) / np.where(denom > 0, denom, 1.0), 0.0)
        s[own_size <= 1] = 0.0
        out[key] = float(s.mean())
    return out
