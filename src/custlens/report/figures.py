"""Every figure of a run, as Altair specs, and saving them beside the results tables."""

from __future__ import annotations

from pathlib import Path

import altair as alt

from custlens.pipeline import Results
from custlens.report.charts import save_chart
from custlens.report.charts.anomalies import anomaly_score_distribution, top_anomalies
from custlens.report.charts.personas import (
    importance_chart,
    k_selection_chart,
    persona_map_chart,
    profile_heatmap,
)
from custlens.report.charts.rfm import rfm_grid_chart, segment_share_chart
from custlens.report.charts.timing import (
    hour_weekday_heatmap,
    hour_weekday_heatmap_by_segment,
    quarter_seasonality,
)

ALL_CUSTOMERS = "All customers"
FIGURE_FORMATS = ("png", "svg")


def figures(results: Results) -> dict[str, alt.TopLevelMixin]:
    """Name -> chart for every section that ran (charts never compute models)."""
    u = results.understanding
    charts: dict[str, alt.TopLevelMixin] = {
        "segments": segment_share_chart(results.segment_summary),
        "rfm_grid": rfm_grid_chart(results.customers),
    }
    if u.personas is not None:
        charts["persona_k_selection"] = k_selection_chart(u.k_selection)
        charts["persona_map"] = persona_map_chart(
            u.personas.map.coordinates,
            u.personas.map.explained_variance,
            seed=results.settings.seed,
        )
        charts["persona_profiles"] = profile_heatmap(u.personas.profiles)
    if u.explanation is not None:
        charts["persona_importance"] = importance_chart(
            u.explanation.permutation_importance, u.explanation.forest_importance
        )
    if u.anomaly_threshold is not None:
        scored = results.customers[
            ["customer_id", "anomaly_score", "is_anomaly", "anomaly_reasons"]
        ]
        charts["anomaly_scores"] = anomaly_score_distribution(scored, u.anomaly_threshold)
        charts["top_anomalies"] = top_anomalies(scored)
    if u.hour_weekday is not None:
        grid = u.hour_weekday
        overall = grid[grid["segment"] == ALL_CUSTOMERS].drop(columns="segment")
        charts["hour_weekday"] = hour_weekday_heatmap(overall, "orders")
        charts["hour_weekday_by_segment"] = hour_weekday_heatmap_by_segment(
            grid[grid["segment"] != ALL_CUSTOMERS]
        )
    if u.quarter_seasonality is not None:
        charts["quarter_seasonality"] = quarter_seasonality(u.quarter_seasonality)
    if results.predictions is not None:
        from custlens.report.charts.models import model_charts  # imports the models (LightGBM)

        for name, chart in model_charts(results.predictions.evaluation).items():
            charts[f"model_{name}"] = chart
    return charts


def write_figures(results: Results, folder: Path, fmt: str = "png") -> list[Path]:
    """Save every figure as ``folder/figures/<name>.<fmt>``; return the paths."""
    out = Path(folder) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    return [save_chart(chart, out / f"{name}.{fmt}") for name, chart in figures(results).items()]


def write_reports(results: Results, folder: Path, fmt: str = "png") -> None:
    """The documents that belong beside the tables: figures and the model card."""
    if fmt != "none":
        write_figures(results, folder, fmt)
    if results.predictions is not None:
        from custlens.report.models_markdown import render_models_markdown

        card = render_models_markdown(results.predictions.evaluation)
        (Path(folder) / "models.md").write_text(card, encoding="utf-8")
