"""The largest number the models can hold: scikit-learn's trees read features as float32, in
which a finite float64 beyond about 3.4e38 becomes infinite. The audit, the customer-table
profile and the persona explanation treat such values as they treat infinities (as missing)."""

from __future__ import annotations

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)


def beyond_float32(values: np.ndarray) -> np.ndarray:
    """True where a value is finite but too large in size for float32 (NaN and inf: False).

    Examples
    --------
    >>> beyond_float32(np.array([1.0, 1e39, -1e300, np.inf, np.nan])).tolist()
    [False, True, True, False, False]
    """
    values = np.asarray(values, dtype="float64")
    return np.isfinite(values) & (np.abs(values) > FLOAT32_MAX)
