"""The example stage of docs/DEVELOPING.md, kept here so that the suite runs it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from custlens.pipeline.stage import StageContext, StageResult


@dataclass(frozen=True)
class RepeatResult(StageResult):
    """Share of customers with a second order, overall and per segment."""

    stage = "repeat"

    def headline(self, results) -> list[str]:
        return [f"Repeat customers: {self.summary['repeat_share']:.1%}"]


def run(ctx: StageContext) -> tuple[pd.DataFrame, RepeatResult]:
    customers = ctx.customers
    repeat = customers["frequency"] >= 2
    per_segment = (
        customers.assign(repeat=repeat)
        .groupby("segment", sort=True)["repeat"]
        .agg(customers="size", repeat_share="mean")
        .reset_index()
    )
    result = RepeatResult(
        tables={"by_segment": per_segment},
        summary={"repeat_share": float(repeat.mean()), "customers": len(customers)},
        columns=("is_repeat",),
    )
    return pd.DataFrame({"is_repeat": repeat}, index=customers.index), result
