"""Choosing the number of clusters: silhouette, Davies-Bouldin and the inertia elbow together.

Every candidate k gets three scores, and each one votes by rank:

- silhouette (higher is better; Rousseeuw 1987);
- Davies-Bouldin (lower is better; Davies & Bouldin 1979);
- the elbow strength of the inertia curve: both axes scaled to [0, 1], the gap between the chord
  joining the first and the last k and the curve (the Kneedle difference curve, Satopaa et al.
  2011). The knee is the k with the largest gap; its neighbours get the next largest gaps, so the
  gap rewards k near the point after which more clusters explain little more.

The k with the smallest mean of the three ranks wins; ties go to the k nearest the knee, then to
the smaller k. Calinski-Harabasz is computed and kept in the table for reference but does not
vote: it keeps rising with k on large, weakly clustered tables and repeats what the inertia says.

Why not silhouette alone: a table with many one-time buyers has one dominant split (one order
vs. more) and silhouette then prefers k = 2 whatever the finer structure; the elbow and
Davies-Bouldin see the finer groups. Why not the knee alone: on a smooth inertia curve the
largest gap is flat over several k and moves with sampling noise; silhouette and Davies-Bouldin
pick among those.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

VOTES = ("silhouette", "davies_bouldin", "knee_gap")
_HIGHER_IS_BETTER = {"silhouette": True, "davies_bouldin": False, "knee_gap": True}


def knee_gaps(ks: Sequence[int], inertia: Sequence[float]) -> np.ndarray:
    """Normalised chord-minus-curve gap of the inertia at every k (0 at both ends).

    All NaN when there are fewer than 3 values of k or the inertia does not vary.
    """
    ks_arr, y = np.asarray(ks, dtype=float), np.asarray(inertia, dtype=float)
    if len(ks_arr) < 3 or np.ptp(y) == 0:
        return np.full(len(ks_arr), np.nan)
    x = (ks_arr - ks_arr[0]) / (ks_arr[-1] - ks_arr[0])
    yn = (y - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * x
    return chord - yn


def knee_point(ks: Sequence[int], inertia: Sequence[float]) -> int | None:
    """The k whose normalised inertia is furthest below the chord from the first to the last k.

    For a decreasing convex curve the chord lies above the curve and the knee is where the gap
    (chord - curve) is largest. ``None`` with fewer than 3 values of k.
    """
    gaps = knee_gaps(ks, inertia)
    if np.isnan(gaps).all():
        return None
    return int(np.asarray(ks)[int(np.nanargmax(gaps))])


def choose_k(scores: pd.DataFrame) -> tuple[pd.DataFrame, int | None, int]:
    """Rank every k on silhouette, Davies-Bouldin and knee gap; the best mean rank wins.

    ``scores`` has columns ``k, inertia, silhouette, davies_bouldin`` (and optionally
    ``calinski_harabasz``). Returns the table with ``knee_gap``, ``rank_<score>``,
    ``mean_rank``, ``is_knee`` and ``chosen`` added, the knee (or ``None``) and the chosen k.
    A score that could not be computed (NaN) ranks last.
    """
    table = scores.sort_values("k", kind="stable").reset_index(drop=True)
    table["knee_gap"] = knee_gaps(table["k"].tolist(), table["inertia"].tolist())
    worst = float(len(table))
    ranks = []
    for score in VOTES:
        column = f"rank_{score}"
        ascending = not _HIGHER_IS_BETTER[score]
        table[column] = table[score].rank(ascending=ascending, method="min").fillna(worst)
        ranks.append(column)
    table["mean_rank"] = table[ranks].mean(axis=1)
    knee = knee_point(table["k"].tolist(), table["inertia"].tolist())
    table["is_knee"] = table["k"] == knee
    distance = (table["k"] - knee).abs() if knee is not None else 0
    order = table.assign(_d=distance).sort_values(["mean_rank", "_d", "k"], kind="stable")
    chosen = int(order["k"].iloc[0])
    table["chosen"] = table["k"] == chosen
    return table, knee, chosen


def selection_reason(table: pd.DataFrame, k: int, knee: int | None, stability: float) -> str:
    """One paragraph saying why ``k`` was chosen, with its scores and ranks."""
    row = table.loc[table["k"] == k].iloc[0]
    ks = f"{int(table['k'].min())}..{int(table['k'].max())}"
    knee_text = (
        f"The inertia elbow (largest gap below the chord) is at k = {knee}"
        if knee is not None
        else "No elbow with fewer than 3 values of k"
    )
    gap = "n/a" if pd.isna(row["knee_gap"]) else f"{row['knee_gap']:.3f}"
    return (
        f"k = {k} was chosen over k = {ks}: it has the best mean rank ({row['mean_rank']:.2f}) "
        f"of silhouette ({row['silhouette']:.3f}, rank {int(row['rank_silhouette'])}), "
        f"Davies-Bouldin ({row['davies_bouldin']:.3f}, rank {int(row['rank_davies_bouldin'])}) "
        f"and elbow strength (gap below the inertia chord {gap}, rank "
        f"{int(row['rank_knee_gap'])}); ties go to the k nearest the elbow, then the smaller k. "
        f"{knee_text}. Stability across seeds: mean adjusted Rand index {stability:.2f}."
    )
