"""Spend columns that are totals of other spend columns (``MntTotal`` beside ``MntWines`` ...).

Exports often carry a total beside its parts (the public iFood table has ``MntTotal`` and
``MntRegularProds``). Summed with its parts it would count the spend twice, so
:func:`find_totals` finds every column that equals, within rounding, the sum of two or more
other spend columns on (nearly) every row; :func:`custlens.profile.roles.assign_roles` gives it
the role ``numeric`` (it stays in the customer table but is neither summed, clustered, tested
nor used to explain high spend) with a note.

A match must hold on at least ``min_share`` of the rows where the column or one of its parts is
non-zero and present (rows where everything is zero say nothing), and on at least ``min_rows``
such rows. "Within rounding": half a unit of the column's last decimal per summed column.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

__all__ = ["find_totals"]

_MAX_PARTS = 12  # subsets of up to 12 candidate parts are searched; more: only their full sum
_SAMPLE = 5000  # rows the search runs on (the match found is checked on every row)


def _step(values: np.ndarray) -> float:
    """The rounding unit of ``values``: 10^-d for the fewest decimals d (0..6) that hold them."""
    for d in range(7):
        scaled = values * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return 10.0**-d
    return 0.0


def _matches(total: np.ndarray, parts: np.ndarray, n_parts: int, step: float) -> np.ndarray:
    tol = 0.5 * step * (n_parts + 1) + 1e-9 * np.maximum(np.abs(total), np.abs(parts))
    return np.abs(total - parts) <= tol


def _informative(total: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Rows with every value present and finite, and not all of them zero (an infinite value,
    set missing before the features, decides nothing)."""
    ok = np.isfinite(total) & np.isfinite(matrix).all(axis=1)
    return ok & ((total != 0) | (matrix != 0).any(axis=1))


def _is_total(
    total: np.ndarray, parts: dict[str, np.ndarray], min_share: float, min_rows: int
) -> list[str] | None:
    """The parts whose sum is ``total`` on ``min_share`` of the informative rows, or None.

    Decided on evenly spaced rows; the match found is then checked on every row.
    """
    names = list(parts)
    rows = np.linspace(0, len(total) - 1, min(len(total), _SAMPLE)).astype(int)
    m = np.column_stack([parts[n][rows] for n in names])
    keep = _informative(total[rows], m)
    if keep.sum() < min(min_rows, len(rows)):
        return None
    t, m = total[rows][keep], m[keep]
    step = _step(t)
    # a part never exceeds its total (spend is not negative); an all-zero column adds nothing
    fits = np.mean(m <= t[:, None] + 0.5 * step + 1e-9, axis=0) >= min_share
    small = [i for i in range(len(names)) if fits[i] and np.any(m[:, i] != 0)]
    if len(small) < 2:
        return None
    if len(small) <= _MAX_PARTS:  # the most parts first
        subsets = [s for k in range(len(small), 1, -1) for s in itertools.combinations(small, k)]
    else:
        subsets = [tuple(small)]
    for subset in subsets:
        cols = list(subset)
        if _matches(t, m[:, cols].sum(axis=1), len(cols), step).mean() < min_share:
            continue
        chosen = [names[i] for i in subset]
        full = np.column_stack([parts[n] for n in chosen])
        every = _informative(total, full)
        if every.sum() < min_rows:
            continue
        found = _matches(total[every], full[every].sum(axis=1), len(cols), step)
        if found.mean() >= min_share:
            return chosen
    return None


def find_totals(
    frame: pd.DataFrame,
    spend: list[str],
    candidates: list[str],
    *,
    min_share: float = 0.99,
    min_rows: int = 10,
) -> dict[str, list[str]]:
    """Each column of ``candidates`` that is the sum of other ``spend`` columns -> those columns.

    A column found to be a total is no longer a part of the others.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": np.arange(12.0), "b": np.arange(12.0) % 5, "c": 3.0})
    >>> frame["total"] = frame["a"] + frame["b"] + frame["c"]
    >>> find_totals(frame, ["a", "b", "c", "total"], ["a", "b", "c", "total"])
    {'total': ['a', 'b', 'c']}
    """
    values = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64") for c in spend}
    for c in candidates:
        if c not in values:
            values[c] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64")
    totals: dict[str, list[str]] = {}
    # the largest columns first: a total is at least as large as each of its parts
    order = sorted(candidates, key=lambda c: -float(np.nanmax(np.abs(values[c]), initial=0)))
    for column in order:
        parts = {p: values[p] for p in spend if p != column and p not in totals}
        if len(parts) < 2:
            continue
        found = _is_total(values[column], parts, min_share, min_rows)
        if found is not None:
            totals[column] = found
    return totals
