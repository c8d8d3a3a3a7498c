"""Stage ``timing``: when customers buy (hour x weekday, seasonality), timing personas, windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt

    from custlens.pipeline.results import Results
    from custlens.story import Section

ALL_CUSTOMERS = "All customers"


@dataclass(frozen=True)
class TimingResult(StageResult):
    """Hour x weekday grids (overall and per segment), seasonality and the best contact windows."""

    stage = "timing"

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.timing import (
            hour_weekday_heatmap,
            hour_weekday_heatmap_by_segment,
            quarter_seasonality,
        )

        # the segment rules' order (best customers first), as in the segment tables
        order = [r.name for r in results.settings.rfm.segments] if results is not None else None
        charts: dict[str, alt.TopLevelMixin] = {
            "quarter_seasonality": quarter_seasonality(
                self.tables["quarter_seasonality"], order=order
            )
        }
        if "hour_weekday" not in self.tables:  # date-only data: no hour analyses
            return charts
        grid = self.tables["hour_weekday"]
        overall = grid[grid["segment"] == ALL_CUSTOMERS].drop(columns="segment")
        return {
            "hour_weekday": hour_weekday_heatmap(overall, "orders"),
            "hour_weekday_by_segment": hour_weekday_heatmap_by_segment(
                grid[grid["segment"] != ALL_CUSTOMERS], order=order
            ),
            **charts,
        }

    def section(self, results: Results) -> Section:
        from custlens.pipeline.stages.sections import timing_section

        return timing_section(self, results)

    def headline(self, results: Results) -> list[str]:
        windows = self.summary.get("best_windows", [])
        return ["Best contact windows: " + ", ".join(windows)] if windows else []


def run(ctx: StageContext) -> tuple[pd.DataFrame, TimingResult]:
    """Hour x weekday and seasonality overall and per segment, timing personas, contact windows."""
    from custlens.segment.timing import (
        best_contact_windows,
        date_only_config,
        has_time_of_day,
        hour_weekday,
        quarters_of,
        seasonality,
        stored_orders,
        timing_personas,
        weekdays_of,
    )

    customers, purchases, settings = ctx.customers, ctx.cleaned.purchases, ctx.settings
    segments = customers[["customer_id", "segment"]]
    timed = has_time_of_day(purchases)
    notes: list[str] = []
    config = settings.timing
    if not timed:
        config = date_only_config(config)
        notes.append(
            "the order timestamps carry no time of day (all at 00:00): hour x weekday, contact "
            "windows and hour-based timing personas skipped; weekday and seasonality kept"
        )
    tables: dict[str, pd.DataFrame] = {}
    # one query per grid: the weekday tables sum the hours of the same grids
    # the orders (one row per order) once: the grids, personas and seasonality all read them
    orders = stored_orders(purchases)
    overall_grid = hour_weekday(purchases, orders=orders)
    segment_grid = hour_weekday(purchases, segments, orders=orders)
    if timed:
        overall = overall_grid.assign(segment=ALL_CUSTOMERS)
        grid = pd.concat([overall[segment_grid.columns], segment_grid], ignore_index=True)
        tables["hour_weekday"] = grid
    overall_days = weekdays_of(overall_grid).assign(segment=ALL_CUSTOMERS)
    per_segment_days = weekdays_of(segment_grid)
    tables["weekday"] = pd.concat(
        [overall_days[per_segment_days.columns], per_segment_days], ignore_index=True
    )
    personas_t = timing_personas(purchases, config, orders=orders)
    merged = customers[["customer_id"]].merge(
        personas_t[["customer_id", "timing_persona"]], on="customer_id", how="left"
    )
    columns = pd.DataFrame({"timing_persona": merged["timing_persona"].to_numpy()})
    columns.index = customers.index
    summary: dict = {
        "time_of_day": timed,
        "timing_personas": {
            str(k): int(v) for k, v in columns["timing_persona"].value_counts().items()
        },
    }
    if timed:
        windows = best_contact_windows(tables["hour_weekday"], top_n=settings.timing.top_windows)
        tables["contact_windows"] = windows
        summary["best_windows"] = windows.loc[
            windows["segment"] == ALL_CUSTOMERS, "window"
        ].tolist()
    months = seasonality(purchases, segments, period="month", orders=orders)
    tables["quarter_seasonality"] = quarters_of(months)
    tables["month_seasonality"] = months
    result = TimingResult(
        tables=tables, summary=summary, columns=("timing_persona",), notes=tuple(notes)
    )
    return columns, result
