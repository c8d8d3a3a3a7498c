"""Input checks shared by the BTYD estimators (BG/NBD and Gamma-Gamma).

They run once, at the public entry points (``fit`` and the predictions), and raise
:class:`~custlens.errors.DataError` naming the input, the first bad row and how to fix it.
"""

from __future__ import annotations

import numpy as np

from custlens.errors import DataError

MIN_CUSTOMERS = 10  # the estimators' default ``min_customers``


def as_vector(values: object, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """A finite, non-negative 1-D float array, or DataError naming the first bad row."""
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise DataError(
            f"{name} must be numbers",
            where=name,
            fix="pass a numeric column (pandas Series, numpy array or list)",
        ) from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}", where=name)
    if arr.size == 0 and not allow_empty:
        raise DataError(f"{name} is empty", where=name, fix="pass at least one customer")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name} must be finite and non-negative; found {arr[i]!r}",
            where=f"{name}, row {i} ({int(bad.sum())} bad row(s) in all)",
            fix="drop or repair those customers (missing values, negative amounts)",
        )
    return arr


def check_integer_frequency(x: np.ndarray, name: str = "frequency") -> None:
    """DataError unless ``x`` holds whole numbers (repeat purchases are counted)."""
    frac = np.abs(x - np.round(x)) > 1e-9
    if frac.any():
        i = int(np.flatnonzero(frac)[0])
        raise DataError(
            f"{name} must count repeat purchases (whole numbers); found {x[i]!r}",
            where=f"{name}, row {i}",
            fix="use summary_from_transactions to build frequency, recency and T",
        )


def check_same_length(**arrays: np.ndarray) -> None:
    """DataError naming the inputs when their lengths differ."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(
            f"Inputs have different lengths: {lengths}",
            where=", ".join(lengths),
            fix="pass one value per customer in every input",
        )


def validate_rfm(
    frequency: object, recency: object, T: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the BTYD summary once: lengths, non-negative, integer frequency, recency <= T."""
    x = as_vector(frequency, "frequency")
    tx = as_vector(recency, "recency")
    big_t = as_vector(T, "T")
    check_same_length(frequency=x, recency=tx, T=big_t)
    check_integer_frequency(x)
    over = tx > big_t * (1 + 1e-12) + 1e-12
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise DataError(
            f"recency ({tx[i]}) is larger than T ({big_t[i]})",
            where=f"row {i} ({int(over.sum())} such row(s))",
            fix="recency is first-to-last purchase and T first purchase to the end; "
            "recompute them with summary_from_transactions",
        )
    lone = (x == 0) & (tx > 0)
    if lone.any():
        i = int(np.flatnonzero(lone)[0])
        raise DataError(
            f"recency is {tx[i]} for a customer with no repeat purchase (frequency 0)",
            where=f"row {i} ({int(lone.sum())} such row(s))",
            fix="by definition recency is 0 when frequency is 0",
        )
    return np.round(x), tx, big_t


def check_weights(weights: object | None, n: int) -> np.ndarray:
    """The weights as a valid vector of length ``n`` (ones when ``None``)."""
    if weights is None:
        return np.ones(n)
    w = as_vector(weights, "weights")
    check_same_length(weights=w, customers=np.empty(n))
    return w
