"""Model chart specs from a ``ModelEvaluation``: cumulative gains, calibration, top SHAP
features. Functions from results to Altair specs; they never fit models."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from custlens.charts import MAX_ROWS, WORDS
from custlens.models.trainer import ModelEvaluation

_ADVERB = {"week": "weekly", "day": "daily"}


def gains_chart(ev: ModelEvaluation, table: str = "churn_lift") -> alt.Chart:
    """Cumulative gains by decile against the random line."""
    t = ev.tables[table]
    data = pd.concat(
        [
            pd.DataFrame({"customers": [0.0], "gain": [0.0], "curve": ["model"]}),
            pd.DataFrame(
                {"customers": t["cumulative_share"], "gain": t["cumulative_gain"], "curve": "model"}
            ),
            pd.DataFrame({"customers": [0.0, 1.0], "gain": [0.0, 1.0], "curve": "random"}),
        ]
    )
    what = "churners" if table.startswith("churn") else "future revenue"
    return (
        alt.Chart(data, title=f"Cumulative gains: share of {what} in the top-scored customers")
        .mark_line(point=True)
        .encode(
            x=alt.X("customers:Q", title="share of customers contacted", axis=alt.Axis(format="%")),
            y=alt.Y("gain:Q", title=f"share of {what}", axis=alt.Axis(format="%")),
            color=alt.Color("curve:N", title=None),
        )
    )


def calibration_chart(ev: ModelEvaluation, table: str = "churn_calibration") -> alt.Chart:
    """Mean predicted vs observed churn per decile, with the diagonal."""
    t = ev.tables[table]
    points = (
        alt.Chart(t, title="Calibration on the future period (deciles)")
        .mark_circle(size=80)
        .encode(
            x=alt.X(
                "mean_predicted:Q",
                title="mean predicted churn probability",
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("observed_rate:Q", title="observed churn rate", scale=alt.Scale(domain=[0, 1])),
            tooltip=["decile", "n", "mean_predicted", "observed_rate"],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="x:Q", y="y:Q")
    )
    return diagonal + points


def shap_chart(ev: ModelEvaluation, top: int = 12) -> alt.Chart:
    """Mean |SHAP| of the churn model's top features."""
    items = list(ev.importance.items())[:top]
    data = pd.DataFrame(items, columns=["feature", "mean_abs_shap"])
    return (
        alt.Chart(data, title="What drives the churn score (mean |SHAP|, log-odds)")
        .mark_bar()
        .encode(
            x=alt.X("mean_abs_shap:Q", title="mean |SHAP value|"),
            y=alt.Y("feature:N", sort="-x", title=None, axis=alt.Axis(labelExpr=WORDS)),
        )
    )


def btyd_frequency_chart(table: pd.DataFrame) -> alt.Chart:
    """Mean holdout purchases per calibration repeat purchases, actual beside predicted."""
    data = table.melt(
        id_vars=["calibration_repeats"],
        value_vars=["actual_mean", "predicted_mean"],
        var_name="series",
        value_name="purchases",
    )
    data["series"] = data["series"].map({"actual_mean": "actual", "predicted_mean": "predicted"})
    order = table["calibration_repeats"].tolist()
    return (
        alt.Chart(data, title="Holdout purchases per customer by calibration repeat purchases")
        .mark_bar()
        .encode(
            x=alt.X("calibration_repeats:N", sort=order, title="repeat purchases in calibration"),
            xOffset="series:N",
            y=alt.Y("purchases:Q", title="mean purchase days in the holdout"),
            color=alt.Color("series:N", title=None),
            tooltip=["calibration_repeats", "series", alt.Tooltip("purchases:Q", format=".3f")],
        )
    )


def _every_kth(table: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, int]:
    """At most ``limit`` rows: every k-th period counted back from the last, and the last
    period of calibration (where the rule is drawn); k = 1 when all fit."""
    n = len(table)
    if n <= limit:
        return table, 1
    k = -(-n // (limit - 1))  # one row kept for the end of calibration
    position = np.arange(n)
    keep = position % k == (n - 1) % k
    calibration = np.flatnonzero((table["phase"] == "calibration").to_numpy())
    if len(calibration):
        keep[calibration[-1]] = True
    return table[keep], k


def btyd_tracking_chart(table: pd.DataFrame, max_rows: int = MAX_ROWS) -> alt.Chart:
    """Cumulative repeat purchases, actual vs expected, with the end of calibration marked.

    Two rows are drawn per period; above ``max_rows`` (weeks over about 48 years) one period
    in k is drawn (the cumulative counts at those periods are exact, the line between them
    straight) and the title says so.
    """
    shown, k = _every_kth(table, max_rows // 2)
    data = shown.melt(
        id_vars=["period_end", "phase"],
        value_vars=["actual_cumulative", "predicted_cumulative"],
        var_name="series",
        value_name="purchases",
    )
    # named as in the title: the model's expectation, not a forecast of the holdout alone
    names = {"actual_cumulative": "actual", "predicted_cumulative": "expected"}
    data["series"] = data["series"].map(names)
    data["period_end"] = pd.to_datetime(data["period_end"])
    unit = str(table["unit"].iloc[0]) if len(table) else "week"
    head = f"Cumulative repeat purchases ({_ADVERB.get(unit, unit)}): actual vs expected"
    title: str | list[str] = head
    if k > 1:
        title = [head, f"(one {unit} in {k} drawn: {len(shown):,} of {len(table):,})"]
    lines = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("period_end:T", title=None),
            y=alt.Y("purchases:Q", title="cumulative repeat purchase days"),
            # one legend for both channels (a legend=None on the dash hid the colour's too)
            color=alt.Color("series:N", title=None),
            strokeDash=alt.StrokeDash("series:N", title=None),
        )
    )
    calibration = table[table["phase"] == "calibration"]
    if calibration.empty:
        return lines.properties(title=title)
    cut = pd.DataFrame(
        {
            "cutoff": [pd.to_datetime(calibration["period_end"].iloc[-1])],
            "label": ["end of calibration"],
        }
    )
    rule = alt.Chart(cut).mark_rule(strokeDash=[4, 4], color="gray").encode(x="cutoff:T")
    note = (
        alt.Chart(cut)
        .mark_text(align="right", baseline="top", dx=-4, dy=4, color="gray", fontSize=10)
        .encode(x="cutoff:T", y=alt.value(0), text="label:N")
    )
    # the title on the layer: the report's caption reads the top-level title
    return (lines + rule + note).properties(title=title)


def model_charts(ev: ModelEvaluation) -> dict[str, alt.Chart]:
    charts: dict[str, alt.Chart] = {"churn_gains": gains_chart(ev, "churn_lift")}
    if "clv_lift" in ev.tables:
        charts["clv_gains"] = gains_chart(ev, "clv_lift")
    if "churn_calibration" in ev.tables:
        charts["churn_calibration"] = calibration_chart(ev)
    if ev.importance:
        charts["churn_shap"] = shap_chart(ev)
    if "btyd_by_frequency" in ev.tables:
        charts["btyd_by_frequency"] = btyd_frequency_chart(ev.tables["btyd_by_frequency"])
    if "btyd_tracking" in ev.tables:
        charts["btyd_tracking"] = btyd_tracking_chart(ev.tables["btyd_tracking"])
    return charts
