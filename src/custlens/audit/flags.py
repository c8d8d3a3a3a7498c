"""The audit's flags: who deviates from their segment's mean, and the per-segment summary."""

from __future__ import annotations

import numpy as np
import pandas as pd


def flag_rows(
    metric: pd.Series, segment: pd.Series, *, threshold: float, relative: bool
) -> pd.DataFrame:
    """Per row: the segment mean, the deviation from it and the anomaly flag.

    Anomaly = |metric - segment mean| > limit, where limit = threshold, or threshold x |segment
    mean| when ``relative``. The comparison is strict: a deviation equal to the limit is not one.
    """
    seg_mean = metric.groupby(segment, sort=False).transform("mean")
    deviation = metric - seg_mean
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
            "mean": g["metric"].mean(),
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
