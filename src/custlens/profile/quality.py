"""Plausibility rules for customer tables: implausible values are counted, then capped or excluded.

The rules are data (:class:`custlens.config.profile.QualityRule`, ``[[profile.quality_rules]]``);
nothing is changed silently: every rule that applies gives a row of ``quality.csv`` with the
rows it touched, the limit and a few example values.

Before the rules, :func:`mask_unusable_numbers` sets missing every value of a numeric column that
is infinite or beyond float32's range (about 3.4e38): no customer spends or earns that much, and
the statistics (scikit-learn works in float32) cannot use it. Those values are counted in
``quality.csv`` too (rule ``not a usable number``). :func:`mask_implausible_dates` does the same
for dates outside the plausible window of order dates (``[cleaning]`` ``plausible_from`` ..
``plausible_to``, :meth:`custlens.config.CleaningConfig.plausible_window`; rule
``implausible date``): a customer-since date in 2104 is a typo, and would otherwise set the
default as-of date and every tenure.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from custlens.config.profile import QualityRule
from custlens.features.limits import FLOAT32_MAX, beyond_float32, outside_window

__all__ = ["apply_quality_rules", "mask_implausible_dates", "mask_unusable_numbers"]

QUALITY_COLUMNS = ["rule", "column", "check", "limit", "action", "rows", "share", "examples"]
UNUSABLE_RULE = "not a usable number"
IMPLAUSIBLE_DATE_RULE = "implausible date"


def mask_unusable_numbers(
    frame: pd.DataFrame, columns: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Set missing the infinite values and those beyond float32's range in ``columns``.

    Returns the new frame, the ``quality.csv`` rows (only columns that had such values) and a
    note per column.

    Examples
    --------
    >>> frame = pd.DataFrame({"visits": [3.0, 1e300, -np.inf, 5.0]})
    >>> fixed, report, notes = mask_unusable_numbers(frame, ["visits"])
    >>> fixed["visits"].tolist(), int(report["rows"].iloc[0])
    ([3.0, nan, nan, 5.0], 2)
    """
    out = frame.copy()
    rows = []
    notes = []
    for column in columns:
        values = out[column].astype("float64")
        bad = ~np.isfinite(values) & values.notna()
        bad |= beyond_float32(values.to_numpy())
        n_bad = int(bad.sum())
        if not n_bad:
            continue
        out[column] = values.mask(bad, np.nan)
        rows.append(
            {
                "rule": UNUSABLE_RULE,
                "column": column,
                "check": "infinite or |x| above",
                "limit": FLOAT32_MAX,
                "action": "exclude",
                "rows": n_bad,
                "share": n_bad / len(values),
                "examples": ", ".join(f"{v:g}" for v in pd.unique(values[bad])[:5]),
            }
        )
        notes.append(
            f"column {column!r}: {n_bad} value(s) infinite or beyond float32's range "
            "(|x| > 3.4e38) set missing (quality.csv)"
        )
    return out, pd.DataFrame(rows, columns=QUALITY_COLUMNS), notes


def mask_implausible_dates(
    frame: pd.DataFrame, columns: list[str], window: tuple[date, date]
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Set missing the dates in ``columns`` before ``window[0]`` or after ``window[1]`` (both
    inclusive, compared by day, as cleaning's rule ``implausible_date`` does).

    Returns the new frame, the ``quality.csv`` rows (only columns that had such dates; the window
    is in ``check``, ``limit`` is empty) and a note per column naming it and the count.

    Examples
    --------
    >>> frame = pd.DataFrame({"since": pd.to_datetime(["2013-05-01", "2104-05-04", None])})
    >>> fixed, report, notes = mask_implausible_dates(
    ...     frame, ["since"], (date(1970, 1, 1), date(2030, 1, 28)))
    >>> fixed["since"].dt.year.tolist(), int(report["rows"].iloc[0])
    ([2013.0, nan, nan], 1)
    """
    first, last = window
    out = frame.copy()
    rows = []
    notes = []
    for column in columns:
        values = pd.to_datetime(out[column])
        bad = outside_window(values, window)
        n_bad = int(bad.sum())
        if not n_bad:
            continue
        out[column] = values.mask(bad)
        examples = ", ".join(values[bad].drop_duplicates().head(5).dt.strftime("%Y-%m-%d"))
        rows.append(
            {
                "rule": IMPLAUSIBLE_DATE_RULE,
                "column": column,
                "check": f"before {first} or after {last}",
                "limit": np.nan,
                "action": "exclude",
                "rows": n_bad,
                "share": n_bad / len(values),
                "examples": examples,
            }
        )
        notes.append(
            f"column {column!r}: {n_bad} date(s) outside the plausible window {first} .. {last} "
            f"({examples}) left out of the date features and of the default as-of date "
            "(quality.csv; the window is plausible_from / plausible_to under [cleaning])"
        )
    return out, pd.DataFrame(rows, columns=QUALITY_COLUMNS), notes


def _columns(rule: QualityRule, frame: pd.DataFrame, roles: dict[str, list[str]]) -> list[str]:
    if rule.column.startswith("role:"):
        return [c for c in roles.get(rule.column[5:], []) if c in frame.columns]
    return [rule.column] if rule.column in frame.columns else []


def apply_quality_rules(
    frame: pd.DataFrame, rules: list[QualityRule], roles: dict[str, list[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply ``rules`` to the columns of ``frame`` they name; return the new frame and the report.

    ``roles`` maps a role to its columns (for ``role:<name>`` rules). Rules naming a column the
    table lacks are skipped (they are not reported).

    Examples
    --------
    >>> from custlens.config.profile import QualityRule
    >>> frame = pd.DataFrame({"age": [30.0, 125.0, 40.0]})
    >>> rule = QualityRule(name="old", column="age", check="above", limit=110, action="exclude")
    >>> fixed, report = apply_quality_rules(frame, [rule], {})
    >>> fixed["age"].tolist(), int(report["rows"].iloc[0])
    ([30.0, nan, 40.0], 1)
    """
    out = frame.copy()
    rows = []
    for rule in rules:
        for column in _columns(rule, out, roles):
            values = out[column].astype("float64")
            limit = float(rule.limit)
            if rule.check == "iqr_above":
                q1, q3 = np.nanpercentile(values, [25, 75]) if values.notna().any() else (0, 0)
                limit = float(q3 + rule.limit * (q3 - q1))
                bad = values > limit
            elif rule.check == "above":
                bad = values > limit
            else:
                bad = values < limit
            n_bad = int(bad.sum())
            examples = ", ".join(f"{v:g}" for v in pd.unique(values[bad])[:5])
            if n_bad:
                out[column] = values.mask(bad, np.nan if rule.action == "exclude" else limit)
            rows.append(
                {
                    "rule": rule.name,
                    "column": column,
                    "check": rule.check,
                    "limit": limit,
                    "action": rule.action,
                    "rows": n_bad,
                    "share": n_bad / len(values) if len(values) else 0.0,
                    "examples": examples,
                }
            )
    return out, pd.DataFrame(rows, columns=QUALITY_COLUMNS)
