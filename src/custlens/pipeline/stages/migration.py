"""Stage ``migration``: RFM segments at two dates, the transition matrix and its tests, the
customers who moved down, and monthly acquisition cohorts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pandas as pd

from custlens.errors import DataError
from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt

    from custlens.pipeline.results import Results
    from custlens.story import Section


@dataclass(frozen=True)
class MigrationResult(StageResult):
    """Tables: ``transitions`` (long: from_state, to_state, customers, row_share),
    ``state_tests`` (McNemar per state), ``moved_down`` (CRM list), ``cohorts``.
    Summary: the two dates, the cut-point method, the Stuart-Maxwell test, counts."""

    stage = "migration"

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.migration import cohort_heatmap, transition_heatmap

        charts: dict[str, alt.TopLevelMixin] = {
            "migration_matrix": transition_heatmap(
                self.tables["transitions"],
                self.summary["date_then"],
                self.summary["date_now"],
                self.summary.get("lost_after_days"),
            )
        }
        if not self.tables["cohorts"].empty:
            charts["cohort_retention"] = cohort_heatmap(self.tables["cohorts"])
        return charts

    def headline(self, results: Results) -> list[str]:
        s = self.summary
        from custlens.insights.record import format_p

        p = format_p(s["stuart_maxwell"].get("p_value"))
        return [
            f"Migration {s['date_then']} -> {s['date_now']}: {s['changed']:,} of "
            f"{s['continuing']:,} continuing customers changed state, {s['new']:,} new; "
            f"Stuart-Maxwell {p}; {s['moved_down']:,} moved down from "
            + ", ".join(s["watch_segments"])
        ]

    def section(self, results: Results) -> Section:
        from custlens.pipeline.stages.sections import migration_section

        return migration_section(self, results)


def comparison_date(ctx: StageContext):
    cfg = ctx.settings.migration
    then = cfg.compare_to or (ctx.as_of - timedelta(days=cfg.days_before))
    if then >= ctx.as_of:
        raise DataError(
            f"The comparison date {then} is not before the as-of date {ctx.as_of}",
            where="migration.compare_to (--compare-to)",
            fix="choose a date before the as-of date",
        )
    return then


def run(ctx: StageContext) -> tuple[None, MigrationResult]:
    """Segments at ``compare_to`` (default: 90 days before the as-of date) and at the as-of
    date, their transitions and tests; monthly cohorts."""
    from custlens.segment.cohorts import cohort_table
    from custlens.segment.migration import (
        LOST,
        NEW,
        homogeneity_tests,
        moved_down,
        segments_at,
        states,
        transition_matrix,
        went_down,
    )

    cfg, rfm = ctx.settings.migration, ctx.settings.rfm
    then_date = comparison_date(ctx)
    purchases, returns = ctx.cleaned.purchases, ctx.cleaned.returns
    first = purchases.order_ts.min().to_pyarrow().as_py()
    if first is None or then_date <= first.date():
        raise DataError(
            f"No purchase comes before the comparison date {then_date}",
            where=f"the purchases start on {first.date() if first else 'no date'}",
            fix="choose a later --compare-to date (or fewer migration.days_before)",
        )
    then, now, cuts = segments_at(
        purchases, returns, (then_date, ctx.as_of), rfm, method=cfg.cut_points
    )
    moves = states(then, now, cfg.lost_after_days)
    order = [rule.name for rule in rfm.segments]
    matrix = transition_matrix(moves, order)
    omnibus, per_state = homogeneity_tests(moves, order)
    down = moved_down(moves, cfg.watch_segments)
    cohorts = cohort_table(purchases, ctx.as_of, cfg.cohort_max_months)
    continuing = moves[moves["state_then"] != NEW]
    summary = {
        "date_then": then_date.isoformat(),
        "date_now": ctx.as_of.isoformat(),
        "cut_points": cfg.cut_points,
        "cut_values": cuts,
        "lost_after_days": cfg.lost_after_days,
        "customers": len(moves),
        "continuing": len(continuing),
        "new": int((moves["state_then"] == NEW).sum()),
        "lost_now": int((moves["state_now"] == LOST).sum()),
        "changed": int((continuing["state_then"] != continuing["state_now"]).sum()),
        "stuart_maxwell": omnibus,
        "watch_segments": list(cfg.watch_segments),
        "moved_down": len(down),
        "moved_down_value": float(down["monetary"].sum()),
    }
    notes = []
    if cfg.cut_points == "recut":
        notes.append(
            "migration: each date is scored against its own quintiles (cut_points = recut)"
        )
    result = MigrationResult(
        tables={
            "transitions": matrix,
            "state_tests": per_state,
            "moved_down": down,
            "cohorts": cohorts,
            "customer_states": moves[
                ["customer_id", "state_then", "state_now", "segment_then", "segment_now"]
            ].assign(moved_down=went_down(moves)),
        },
        summary=summary,
        notes=tuple(notes),
    )
    return None, result


def matrix_text(result: MigrationResult) -> str:
    """The transition matrix as fixed-width text (counts; rows then, columns now)."""
    from custlens.segment.migration import wide

    grid = wide(result.tables["transitions"])
    return pd.DataFrame(grid).to_string()
