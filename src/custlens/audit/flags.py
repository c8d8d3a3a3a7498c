"""The audit's flags: who deviates from their segment's mean, and the per-segment summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

# A deviation (or a segment mean) smaller than this share of the segment's largest |metric| is
# floating-point round-off and counts as 0: computing a mean leaves a few ulps (about 1e-16 of
# the values), far below this, while no recorded business value carries 13 significant digits.
ROUND_OFF = 1e-13


def flag_rows(
    metric: pd.Series, segment: pd.Series, *, threshold: float, relative: bool
) -> pd.DataFrame:
    """Per row: the segment mean, the deviation from it and the anomaly flag.

    Anomaly = |metric - segment mean| > limit, where limit = threshold, or threshold x |segment
    mean| when ``relative``. The comparison is strict: a deviation equal to the limit is not one.

    Floating-point round-off is 0: a segment mean or a deviation within ``ROUND_OFF`` x the
    segment's largest |metric| of 0 is set to exactly 0 (a metric constant in a segment would
    otherwise deviate from its own mean by about 1e-16, and a segment of 0.1, 0.2 and -0.3
    would have a mean of about 1e-17 instead of 0).
    """
    scale = metric.abs().groupby(segment, sort=False).transform("max")
    tol = ROUND_OFF * scale
    seg_mean = metric.groupby(segment, sort=False).transform("mean")
    seg_mean = seg_mean.mask(seg_mean.abs() <= tol, 0.0)
    deviation = metric - seg_mean
    deviation = deviation.mask(deviation.abs() <= tol, 0.0)
    limit = threshold * seg_mean.abs() if relative else pd.Series(threshold, index=metric.index)
    flag = deviation.abs() > limit
    direction = np.where(flag, np.where(deviation > 0, "above", "below"), "")
    return pd.DataFrame(
        {
            "segment": segment,
            "metric": metric,
            "segment_mean": seg_mean,
            "deviation": deviation,
            "limit": limit.astype("float64"),
            "is_anomaly": flag.astype(bool),
            "direction": direction,
        },
        index=metric.index,
    )


def segment_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per segment: size, metric summary, anomaly count, rate, share and direction."""
    total = int(rows["is_anomaly"].sum())
    g = rows.groupby("segment", sort=False)
    out = pd.DataFrame(
        {
            "rows": g.size(),
            "mean": g["segment_mean"].first(),  # round-off of 0 is 0 (``flag_rows``)
            "std": g["metric"].std(ddof=1),
            "median": g["metric"].median(),
            "min": g["metric"].min(),
            "max": g["metric"].max(),
            "limit": g["limit"].first(),
            "anomalies": g["is_anomaly"].sum().astype("int64"),
            "above": g["direction"].apply(lambda d: int((d == "above").sum())),
            "below": g["direction"].apply(lambda d: int((d == "below").sum())),
        }
    )
    out["anomaly_rate"] = out["anomalies"] / out["rows"]
    out["share_of_anomalies"] = out["anomalies"] / total if total else np.nan
    out["direction"] = [
        "none" if a + b == 0 else "above" if a > b else "below" if b > a else "mixed"
        for a, b in zip(out["above"], out["below"], strict=True)
    ]
    out = out.sort_values("mean", ascending=False, kind="mergesort")
    out.index.name = "segment"
    cols = [
        "rows",
        "mean",
        "std",
        "median",
        "min",
        "max",
        "limit",
        "anomalies",
        "anomaly_rate",
        "share_of_anomalies",
        "above",
        "below",
        "direction",
    ]
    return out[cols].reset_index()


# an absolute threshold smaller than this share of the metric's within-segment spread flags
# nearly everyone (so does a relative one whose limit, threshold x |segment mean|, is); a metric
# whose sample skewness exceeds SKEWED has its mean pulled by a tail
SCALE_RATIO = 0.1
SKEWED = 1.0
MIN_ROWS_FOR_SKEW = 30  # a sample skewness of fewer rows says little
NAMED = 5  # segments named in a warning before "and N more"


def threshold_warnings(
    rows: pd.DataFrame, *, metric: str, threshold: float, relative: bool
) -> list[str]:
    """Warnings about a threshold that does not suit the metric's scale or shape.

    - absolute threshold below ``SCALE_RATIO`` x the within-segment standard deviation of the
      metric: the limit is on the wrong scale (it flags most rows); suggest ``--relative``;
    - relative threshold whose limit (threshold x |segment mean|) is below ``SCALE_RATIO`` x
      that standard deviation in some segments: their means are near 0 against the spread (a
      metric centred on 0), so nearly every row there is flagged; suggest an absolute threshold;
    - sample skewness of the within-segment deviations above ``SKEWED``: the segment mean is
      pulled by a tail, so a robust centre (the segment median) would flag fewer ordinary rows.

    Deviations that are floating-point round-off are 0 already (see ``flag_rows``).
    """
    out: list[str] = []
    dev = rows["deviation"].dropna()
    spread = float(dev.std(ddof=1)) if len(dev) > 1 else 0.0
    share = float(rows["is_anomaly"].mean()) if len(rows) else 0.0
    if not relative and spread > 0 and threshold < SCALE_RATIO * spread:
        mean_abs = float(rows["segment_mean"].abs().median())
        out.append(
            f"Warning: --threshold {threshold:g} is tiny against {metric}'s scale (within-segment "
            f"standard deviation {spread:.4g}, typical segment mean {mean_abs:.4g}), so "
            f"{share:.0%} of rows are flagged. Use --relative (e.g. --threshold 0.15 --relative "
            f"flags rows more than 15 % from their segment mean) or a threshold in {metric}'s "
            "units."
        )
    if relative and spread > 0:
        per_seg = rows.groupby("segment", sort=False).agg(
            mean=("segment_mean", "first"),
            rows=("is_anomaly", "size"),
            flagged=("is_anomaly", "sum"),
        )
        near_zero = per_seg[threshold * per_seg["mean"].abs() < SCALE_RATIO * spread]
        if len(near_zero):
            names = [
                f"{s} ({m:.3g})" for s, m in zip(near_zero.index, near_zero["mean"], strict=True)
            ]
            more = len(names) - NAMED
            listed = ", ".join(names[:NAMED]) + (f" and {more} more" if more > 0 else "")
            n_rows, n_flag = int(near_zero["rows"].sum()), int(near_zero["flagged"].sum())
            out.append(
                f"Warning: with --relative the limit is {threshold:g} x |segment mean|, and the "
                f"mean of {metric} is near 0 against its within-segment standard deviation "
                f"({spread:.4g}) in {len(near_zero)} of {len(per_seg)} segments: {listed}. "
                f"Their limits are tiny, so {n_flag:,} of their {n_rows:,} rows are flagged. "
                f"Omit --relative and pass a threshold in {metric}'s units (e.g. --threshold "
                f"{spread:.2g} flags rows more than one standard deviation from their segment "
                "mean)."
            )
    if len(dev) >= MIN_ROWS_FOR_SKEW and np.ptp(dev) > 0:
        skew = float(dev.skew())
        if abs(skew) > SKEWED:
            out.append(
                f"Warning: {metric} is skewed within segments (skewness {skew:+.2f}): a few "
                "extreme rows pull the segment means, so ordinary rows look deviant. A robust "
                f"centre (the segment median) or a log of {metric} would suit it better."
            )
    return out
