"""The customer-feature frame: one row per customer as pandas, its numeric columns as float64.

Every customer-level estimator (personas, anomalies, the segmentation audit) reads its input
through these helpers, so "which columns are numeric features" and "what counts as missing"
have one answer: booleans are not features unless named explicitly, and missing and infinite
values are both ``NaN``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from custlens.errors import InputError

__all__ = ["as_customer_frame", "feature_values", "is_numeric_feature", "numeric_columns"]


def as_customer_frame(customers: object, *, where: str) -> pd.DataFrame:
    """``customers`` as a pandas DataFrame (Arrow and Ibis tables are converted; small tables).

    Raises ``InputError`` naming ``where`` for anything else.
    """
    if isinstance(customers, pd.DataFrame):
        return customers
    to_pandas = getattr(customers, "to_pandas", None)
    if callable(to_pandas):  # an Ibis table (one row per customer, small) or an Arrow table
        return to_pandas()
    raise InputError(
        f"Expected a customer table (pandas DataFrame or Ibis table), got {type(customers).__name__}",
        where=where,
        fix="pass one row per customer as a pandas DataFrame (e.g. customer_table(...).to_pandas())",
    )


def is_numeric_feature(column: pd.Series, *, allow_bool: bool = True) -> bool:
    """True for numeric columns (booleans only when ``allow_bool``)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return allow_bool
    return bool(pd.api.types.is_numeric_dtype(column.dtype))


def numeric_columns(frame: pd.DataFrame, *, exclude: Iterable[object] = ()) -> list[str]:
    """The numeric, non-boolean columns of ``frame`` in order, without those in ``exclude``."""
    skip = set(exclude)
    return [
        c for c in frame.columns if c not in skip and is_numeric_feature(frame[c], allow_bool=False)
    ]


def feature_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 with NaN for missing and infinite values."""
    values = frame[name].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    values[~np.isfinite(values)] = np.nan
    return values
