"""Seeded row samples: fitting on a fixed-size sample keeps time and memory bounded at scale."""

from __future__ import annotations

import numpy as np

__all__ = ["sample_rows"]


def sample_rows(n: int, cap: int | None, seed: int) -> np.ndarray | None:
    """Sorted positions of a seeded sample of ``cap`` of ``n`` rows without replacement, or
    None when every row is used (``cap`` is None or at least ``n``).

    >>> sample_rows(5, None, 0) is None, sample_rows(5, 5, 0) is None
    (True, True)
    >>> rows = sample_rows(10, 4, 0)
    >>> len(rows), bool((rows[1:] > rows[:-1]).all()), bool(rows.max() < 10)
    (4, True, True)
    """
    if cap is None or n <= cap:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))
