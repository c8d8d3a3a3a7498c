"""Values the analyses cannot use, shared by the audit, the customer-table profile and the
persona explanation.

- The largest number the models can hold: scikit-learn's trees read features as float32, in
  which a finite float64 beyond about 3.4e38 becomes infinite; such values are treated as
  infinities are (as missing).
- Dates outside the plausible window (cleaning's rule ``implausible_date``,
  :meth:`custlens.config.CleaningConfig.plausible_window`): a year-2104 typo is no date.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

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


def outside_window(dates: pd.Series, window: tuple[date, date]) -> pd.Series:
    """True where a date lies before ``window[0]`` or after ``window[1]`` (both inclusive,
    compared by day, as cleaning's rule ``implausible_date`` does); missing dates: False.

    Examples
    --------
    >>> dates = pd.to_datetime(
    ...     pd.Series(["2013-05-01 00:00", "2104-05-04 00:00", None, "1969-12-31 23:00"])
    ... )
    >>> outside_window(dates, (date(1970, 1, 1), date(2030, 1, 28))).tolist()
    [False, True, False, True]
    """
    naive = dates.dt.tz_localize(None) if dates.dt.tz is not None else dates
    day = naive.dt.normalize()
    return dates.notna() & ((day < pd.Timestamp(window[0])) | (day > pd.Timestamp(window[1])))
