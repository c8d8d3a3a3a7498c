"""Insights from time series: revenue and order anomalies, and trends per category, country and
segment.

Anomalies: robust z-scores of ``ln(1 + value)`` (spikes are multiplicative, and the logarithm
makes revenue's long right tail symmetric), with the baseline's scale never below the period's
counting noise (``1 / sqrt(orders)`` for orders, ``sqrt((1 + CV^2) / orders)`` for revenue, at
the baseline's median): a dozen baseline months can agree by chance far more closely than the
noise of one month allows. A **week** is compared with the other complete weeks
within ``anomaly_window`` weeks on each side: a complete week holds each weekday once, so weeks
compare like with like (the same-weekday mix). A **month**, per day (months differ in length),
is compared with the same month of the other years when the data cover at least
``same_month_min_years`` years, else with the six complete months on each side. A period is an
anomaly when ``|z| >= anomaly_z``; orders and revenue of one period flagged in the same direction
are one insight (``anomaly:orders+revenue:...``, its severity from the larger ``|z|``).

Trends: monthly revenue per category and per country (the ``max_series`` largest with a median
of at least ``min_orders_per_month`` orders a month) and the size of each RFM segment at the
first day of the last ``segment_trend_months`` months that lie at least
``segment_trend_min_history_days`` after the first purchase (earlier, every customer's history is
cut short by the data's start, and the shares drift from that alone). Each series gets the
Mann-Kendall test
with Sen's slope (``statistics.trend_test``); the p-values of all series tested are adjusted
together with Benjamini-Hochberg and a trend is reported when the adjusted p-value is below
``alpha``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.config.insights import DEFAULT_ACTIONS, InsightsConfig
from custlens.insights.record import Insight, format_p
from custlens.insights.statistics import benjamini_hochberg, robust_z, trend_test

_MEASURES = {"orders": "Orders", "revenue": "Revenue"}


def _action(config: InsightsConfig, key: str, **fields: str) -> str:
    return config.actions.get(key, DEFAULT_ACTIONS[key]).format(**fields)


def _label(start: pd.Timestamp, period: str) -> str:
    return f"the week of {start:%Y-%m-%d}" if period == "week" else f"{start:%B %Y}"


def _log_noise(periods: pd.DataFrame, measure: str) -> np.ndarray:
    """The sampling noise of ln(total) of each period: ``1 / sqrt(orders)`` for a count,
    ``sqrt((1 + CV^2) / orders)`` for revenue (CV: of the period's order values)."""
    n = periods["orders"].to_numpy(dtype=float)
    safe = np.where(n > 0, n, np.nan)
    if measure == "orders":
        return np.nan_to_num(1 / np.sqrt(safe))
    rev = periods["revenue"].to_numpy(dtype=float)
    sq = periods["revenue_sq"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv2 = np.clip(safe * sq / (rev * rev) - 1, 0, None)
    return np.nan_to_num(np.sqrt((1 + cv2) / safe))


ANOMALY_COLUMNS = (
    "period", "start", "measure", "value", "baseline_median", "baseline", "baseline_periods",
    "robust_z",
)  # fmt: skip
TREND_COLUMNS = (
    "dimension", "key", "measure", "n", "first", "last", "test", "z", "p_value", "slope",
    "median_level", "relative_slope", "p_adjusted",
)  # fmt: skip


def anomaly_scores(periods: pd.DataFrame, period: str, config: InsightsConfig) -> pd.DataFrame:
    """Per complete period and measure: value, baseline median, robust z (long table)."""
    rows = []
    starts = periods["start"].reset_index(drop=True)
    years = starts.dt.year.nunique()
    same_month = period == "month" and years >= config.same_month_min_years
    for measure in _MEASURES:
        raw = periods[measure].to_numpy(dtype=float)
        per_day = raw / periods["days"].to_numpy(dtype=float) if period == "month" else raw
        logged = np.log1p(per_day)
        noise = _log_noise(periods, measure)
        for i, start in enumerate(starts):
            if same_month:
                mask = (starts.dt.month == start.month) & (starts != start)
                base_idx = np.flatnonzero(mask.to_numpy())
            else:
                width = config.anomaly_window if period == "week" else 6
                base_idx = np.array(
                    [j for j in range(max(0, i - width), min(len(starts), i + width + 1)) if j != i]
                )
            if len(base_idx) < (2 if same_month else 8):
                continue
            z = robust_z(logged[i], logged[base_idx], floor=float(np.median(noise[base_idx])))
            rows.append(
                {
                    "period": period,
                    "start": start,
                    "measure": measure,
                    "value": raw[i],
                    "baseline_median": float(np.expm1(np.median(logged[base_idx])))
                    * (periods["days"].iloc[i] if period == "month" else 1),
                    "baseline": "same month of other years" if same_month else "neighbouring",
                    "baseline_periods": len(base_idx),
                    "robust_z": z,
                }
            )
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def _amount(value: float) -> str:
    """A count or money amount: whole numbers with separators, two significant digits below 10
    (a baseline median of 0.38 orders is not 0)."""
    if value == 0 or abs(value) >= 9.5:
        return f"{value:,.0f}"
    return f"{value:.2g}"


def _anomaly_part(row) -> tuple[str, float | None]:
    """One measure's numbers in words, and its ratio to the baseline median (None for 0)."""
    # no ratio to a baseline of 0 (a week without orders): the text gives the two numbers
    ratio = row.value / row.baseline_median if row.baseline_median > 0 else None
    base = _amount(row.baseline_median)
    against = (
        f"{ratio:,.2f} times the baseline median {base}"
        if ratio  # neither a baseline of 0 nor a value of 0 ("0.00 times")
        else f"against a baseline median of {base}"
    )
    return f"{row.value:,.0f}, {against}", ratio


def anomaly_insights(scores: pd.DataFrame, config: InsightsConfig) -> list[Insight]:
    """One insight per flagged period and direction: orders and revenue of the same period
    flagged the same way (a closed week has neither) are one finding, not two."""
    out: list[Insight] = []
    if scores.empty:
        return out
    flagged = scores[scores["robust_z"].abs() >= config.anomaly_z].copy()
    flagged["_high"] = flagged["robust_z"] > 0
    flagged["_order"] = flagged["measure"].map({m: i for i, m in enumerate(_MEASURES)})
    flagged = flagged.sort_values(["_order"], kind="stable")
    groups = flagged.groupby(["period", "start", "_high"], sort=False)
    for (period, start, high), rows in groups:
        label = _label(start, period)
        direction = "high" if high else "low"
        word = "above" if high else "below"
        parts = [(row, *_anomaly_part(row)) for row in rows.itertuples(index=False)]
        lead = max(parts, key=lambda p: abs(p[0].robust_z))[0]
        measures = [p[0].measure for p in parts]
        first, rest = parts[0], parts[1:]
        finding = (
            f"{_MEASURES[first[0].measure]} in {label}: {first[1]} ({first[0].baseline} "
            f"{period}s, robust z = {first[0].robust_z:+.1f}"
        )
        for row, text, _ in rest:
            finding += f"); {row.measure}: {text} (robust z = {row.robust_z:+.1f}"
        finding += f", {'both ' if rest else ''}{word} the +/-{config.anomaly_z:g} cut-off)."
        numbers: dict = {"period": period, "measure": "+".join(measures)}
        for row, _, _ in parts:
            prefix = f"{row.measure}_" if rest else ""
            numbers[f"{prefix}value"] = float(row.value)
            numbers[f"{prefix}baseline_median"] = float(row.baseline_median)
        numbers["baseline_periods"] = int(lead.baseline_periods)
        lead_ratio = next(r for row, _, r in parts if row is lead)
        out.append(
            Insight(
                id=f"anomaly:{'+'.join(measures)}:{period}:{start:%Y-%m-%d}",
                kind="anomaly",
                title=f"Unusual {' and '.join(measures)} in {label}",
                finding=finding,
                metric="robust_z",
                metric_value=float(lead.robust_z),
                test=f"robust z-score (MAD) of ln(1 + {lead.measure}) against "
                f"{lead.baseline_periods} {lead.baseline} {period}s",
                statistic=float(lead.robust_z),
                effect_size=lead_ratio,
                effect_name=f"{lead.measure} / baseline median",
                subject_type="period",
                subject=label,
                action=_action(config, f"anomaly.{direction}", subject=label),
                numbers=numbers,
            )
        )
    return out


def select_series(monthly: pd.DataFrame, config: InsightsConfig) -> list[str]:
    """The keys worth testing: largest revenue first, enough orders a month."""
    if monthly.empty:
        return []
    stats_ = monthly.groupby("key").agg(revenue=("revenue", "sum"), orders=("orders", "median"))
    stats_ = stats_[stats_["orders"] >= config.min_orders_per_month]
    stats_ = stats_.sort_values(["revenue"], ascending=False, kind="stable")
    return list(stats_.index[: config.max_series])


def trend_table(
    series: dict[tuple[str, str], pd.Series], config: InsightsConfig, *, monthly: bool = True
) -> pd.DataFrame:
    """One row per series tested: dimension, key, n, test, z, p, BH-adjusted p, Sen's slope,
    median level, relative slope."""
    rows = []
    for (dimension, key), values in series.items():
        x = values.to_numpy(dtype=float)
        if len(x) < config.trend_min_periods or np.all(x == x[0]):
            continue
        t = trend_test(x, monthly=monthly, seasonal_min_years=config.seasonal_min_years)
        level = float(np.median(x))
        rows.append(
            {
                "dimension": dimension,
                "key": key,
                "measure": "share" if dimension == "segment" else "revenue",
                "n": t.n,
                "first": str(values.index[0])[:10],
                "last": str(values.index[-1])[:10],
                "test": t.test,
                "z": t.z,
                "p_value": t.p_value,
                "slope": t.slope,
                "median_level": level,
                "relative_slope": t.slope / level if level else float("nan"),
            }
        )
    table = pd.DataFrame(rows, columns=TREND_COLUMNS[:-1])
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    return table


def trend_insights(table: pd.DataFrame, config: InsightsConfig) -> list[Insight]:
    out: list[Insight] = []
    if table.empty:
        return out
    for row in table[table["p_adjusted"] < config.alpha].itertuples(index=False):
        down = row.slope < 0
        unit = "share of customers" if row.measure == "share" else "revenue"
        what = (
            f"{row.key} share of customers"
            if row.dimension == "segment"
            else f"revenue of {row.key}"
        )
        slope = f"{row.slope:+.2%}" if row.measure == "share" else f"{row.slope:+,.1f}"
        relative = float(row.relative_slope)
        level = f"{row.median_level:.1%}" if row.measure == "share" else _amount(row.median_level)
        # a series whose median is 0 has no slope relative to it: the text gives the level
        how = (
            f"by {abs(relative):.1%} of its median level per month"
            if np.isfinite(relative)
            else f"from a median level of {level}"
        )
        finding = (
            f"The {what} {'fell' if down else 'rose'} {how} (Sen's slope {slope} per month over "
            f"{row.n} months, {row.first} to {row.last}; {row.test} z = {row.z:+.2f}, "
            f"{format_p(row.p_value)}, BH-adjusted {format_p(row.p_adjusted)})."
        )
        out.append(
            Insight(
                id=f"trend:{row.dimension}:{row.key}",
                kind="trend",
                title=f"{row.dimension.capitalize()} {row.key}: {unit} "
                f"{'declining' if down else 'rising'}",
                finding=finding,
                metric="relative_slope",
                metric_value=float(row.relative_slope),
                test=row.test,
                statistic=float(row.z),
                p_value=float(row.p_value),
                p_adjusted=float(row.p_adjusted),
                effect_size=float(row.slope),
                effect_name=f"Sen's slope ({unit} per month)",
                subject_type=row.dimension,
                subject=str(row.key),
                action=_action(
                    config,
                    ("segment_trend" if row.dimension == "segment" else "trend")
                    + (".down" if down else ".up"),
                    subject=str(row.key),
                ),
                numbers={
                    "slope": float(row.slope),
                    "median_level": float(row.median_level),
                    "months": int(row.n),
                    "first": row.first,
                    "last": row.last,
                },
            )
        )
    return out
