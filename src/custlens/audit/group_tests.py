"""The audit's tests: anomalies versus the rest (Mann-Whitney U) and categorical chi-square tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MISSING_LEVEL = "(missing)"


def compare_groups(
    features: pd.DataFrame,
    catalog: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    alpha: float,
    min_group: int = 3,
) -> tuple[pd.DataFrame, list[str]]:
    """Anomalies (all, above, below) versus the rest on every feature: Mann-Whitney U.

    ``rank_biserial`` = 2 U / (n_anomaly n_rest) - 1 (U of the anomaly group): +1 when every
    anomaly is higher than every other customer, -1 when every one is lower. p-values are
    two-sided and Benjamini-Hochberg adjusted within each group.
    """
    notes: list[str] = []
    flag = rows["is_anomaly"].to_numpy()
    rest = ~flag
    groups = {"all": flag}
    for d in ("above", "below"):
        groups[d] = (rows["direction"] == d).to_numpy()
    info = catalog.set_index("feature")
    records: list[dict] = []
    for gname, mask in groups.items():
        if mask.sum() < min_group:
            if gname == "all" or mask.sum() > 0:
                notes.append(
                    f"Comparison of {gname} anomalies skipped: {int(mask.sum())} anomalies "
                    f"(at least {min_group} needed)."
                )
            continue
        for feat in features.columns:
            x = features.loc[mask, feat].dropna().to_numpy()
            y = features.loc[rest, feat].dropna().to_numpy()
            rec = {
                "feature": feat,
                "family": info.at[feat, "family"],
                "source": info.at[feat, "source"],
                "uses_metric": bool(info.at[feat, "uses_metric"]),
                "group": gname,
                "n_anomaly": len(x),
                "n_rest": len(y),
                "mean_anomaly": x.mean() if len(x) else np.nan,
                "mean_rest": y.mean() if len(y) else np.nan,
                "median_anomaly": np.median(x) if len(x) else np.nan,
                "median_rest": np.median(y) if len(y) else np.nan,
                "rank_biserial": np.nan,
                "p_value": np.nan,
            }
            if len(x) >= min_group and len(y) >= min_group and np.ptp(np.r_[x, y]) > 0:
                res = stats.mannwhitneyu(x, y, alternative="two-sided")
                rec["rank_biserial"] = 2.0 * float(res.statistic) / (len(x) * len(y)) - 1.0
                rec["p_value"] = float(res.pvalue)
            records.append(rec)
    cols = [
        "feature",
        "family",
        "source",
        "uses_metric",
        "group",
        "n_anomaly",
        "n_rest",
        "mean_anomaly",
        "mean_rest",
        "median_anomaly",
        "median_rest",
        "rank_biserial",
        "p_value",
        "p_adjusted",
        "significant",
    ]
    out = pd.DataFrame(records)
    if out.empty:
        return pd.DataFrame(columns=cols), notes
    out["p_adjusted"] = np.nan
    for _g, idx in out.groupby("group", sort=False).groups.items():
        ps = out.loc[idx, "p_value"]
        ok = ps.notna()
        if ok.any():
            out.loc[ps[ok].index, "p_adjusted"] = stats.false_discovery_control(ps[ok].to_numpy())
    out["significant"] = out["p_adjusted"] < alpha
    untestable = sorted(set(out.loc[out["p_value"].isna() & (out["group"] == "all"), "feature"]))
    if untestable:
        notes.append(
            "Not tested (fewer than 3 values in a group, or constant): "
            + ", ".join(untestable)
            + "."
        )
    return out[cols], notes


def chi_square_tests(
    frame: pd.DataFrame, columns: list[str], flag: pd.Series, *, alpha: float
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Cross-tab of each categorical column with the anomaly flag and a chi-square test.

    Missing values form their own level ``(missing)``. scipy's ``chi2_contingency`` with its
    default Yates continuity correction for 2x2 tables. Cramer's V = sqrt(chi2 / (n (min(r, c) - 1))).
    """
    notes: list[str] = []
    tests: list[dict] = []
    tabs: list[pd.DataFrame] = []
    for c in columns:
        ct = crosstab(frame[c], flag)
        long = ct.rename(columns={True: "anomalies", False: "rest"}).reset_index()
        long.insert(0, "column", str(c))
        long["rows"] = long["anomalies"] + long["rest"]
        long["anomaly_rate"] = long["anomalies"] / long["rows"]
        tabs.append(long[["column", "level", "rows", "anomalies", "rest", "anomaly_rate"]])
        table = ct.to_numpy()
        if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
            notes.append(f"Chi-square for {c!r} skipped: needs two levels and both groups present.")
            continue
        res = stats.chi2_contingency(table)
        n = table.sum()
        k = min(table.shape) - 1
        tests.append(
            {
                "column": str(c),
                "levels": table.shape[0],
                "rows": int(n),
                "chi2": float(res.statistic),
                "dof": int(res.dof),
                "p_value": float(res.pvalue),
                "cramers_v": float(np.sqrt(res.statistic / (n * k))) if k > 0 else np.nan,
                "low_expected_share": float((res.expected_freq < 5).mean()),
            }
        )
    cols = [
        "column",
        "levels",
        "rows",
        "chi2",
        "dof",
        "p_value",
        "p_adjusted",
        "significant",
        "cramers_v",
        "low_expected_share",
    ]
    out = pd.DataFrame(tests)
    if out.empty:
        out = pd.DataFrame(columns=cols)
    else:
        out["p_adjusted"] = stats.false_discovery_control(out["p_value"].to_numpy())
        out["significant"] = out["p_adjusted"] < alpha
        out = out[cols]
    tab_cols = ["column", "level", "rows", "anomalies", "rest", "anomaly_rate"]
    tabs_df = pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame(columns=tab_cols)
    return out, tabs_df, notes


def crosstab(values: pd.Series, flag: pd.Series) -> pd.DataFrame:
    """Counts of rows per level (rows) and flag (columns ``False``, ``True``)."""
    levels = values.astype("object").where(values.notna(), MISSING_LEVEL).astype(str)
    ct = pd.crosstab(levels.rename("level"), flag.astype(bool).rename("flag"))
    return ct.reindex(columns=[False, True], fill_value=0)
