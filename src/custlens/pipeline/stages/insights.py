"""Stage ``insights``: tested findings (segment shifts, high-value customers at risk, anomalies,
trends, cohorts, cross-sell), rated by severity, with CRM lists and ``insights.json``.

It reads the migration stage (declared in ``needs``) and, when they ran, the predictions (CLV,
churn probability) and basket (rules) stages; what it could not do is in ``summary["skipped"]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt

    from custlens.insights.record import Insight
    from custlens.pipeline.results import Results
    from custlens.story import Section

INSIGHTS_JSON = "insights.json"
CRM_LIST = "insights/customers.csv"
_NUMERIC = (
    "statistic", "p_value", "p_adjusted", "effect_size", "metric_value", "customers",
    "severity_score",
)  # fmt: skip
# the findings table of the report: what a reader acts on
_REPORT_COLUMNS = ("severity", "title", "finding", "action", "customers", "crm_list")
_CRM_EXTRA = ("segment", "recency_days", "frequency", "monetary", "clv", "churn_probability")


@dataclass(frozen=True)
class InsightsResult(StageResult):
    """Tables: ``insights`` (one row per insight, most severe first; ``numbers`` as JSON),
    ``customers`` (CRM lists: insight_id, customer_id, ...), ``trend_tests``,
    ``anomaly_scores``, ``cohort_tests``. Summary: counts by severity and kind, what was tested
    and what was skipped."""

    stage = "insights"

    def records(self) -> list[dict[str, Any]]:
        """The insights as dictionaries, in ``insights.json`` form."""
        from custlens.insights.record import _clean

        table = self.tables["insights"]
        out = []
        for row in table.to_dict("records"):
            row["numbers"] = json.loads(row["numbers"]) if row.get("numbers") else {}
            out.append(_clean(row))
        return out

    def section(self, results: Results) -> Section:
        """The default section, with the findings table in words: severity, title, finding,
        action and the CRM list's size (ids, metrics and test statistics stay in
        insights/insights.csv and insights.json)."""
        from dataclasses import replace

        from custlens.story import Table

        def in_words(block: Any) -> Any:
            if not (isinstance(block, Table) and block.name == f"{self.stage}_insights"):
                return block
            frame = block.frame
            return replace(block, frame=frame[[c for c in _REPORT_COLUMNS if c in frame.columns]])

        section = super().section(results)
        return replace(section, blocks=tuple(in_words(b) for b in section.blocks))

    def documents(self) -> dict[str, str]:
        doc = {
            "schema": self.summary.get("schema"),
            "as_of": self.summary.get("as_of"),
            "insights": self.records(),
            "tested": self.summary.get("tested", {}),
            "skipped": self.summary.get("skipped", {}),
        }
        return {INSIGHTS_JSON: json.dumps(doc, indent=2, allow_nan=False) + "\n"}

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.insights import anomaly_chart, insight_overview, trend_chart

        charts: dict[str, alt.TopLevelMixin] = {}
        if not self.tables["insights"].empty:
            charts["insights_overview"] = insight_overview(self.tables["insights"])
        if not self.tables["anomaly_scores"].empty:
            charts["insights_anomalies"] = anomaly_chart(
                self.tables["anomaly_scores"], cut_off=results.settings.insights.anomaly_z
            )
        if not self.tables["trend_tests"].empty:
            charts["insights_trends"] = trend_chart(self.tables["trend_tests"])
        return charts

    def headline(self, results: Results) -> list[str]:
        s = self.summary
        counts = s.get("by_severity", {})
        lines = [
            f"Insights: {s.get('insights', 0)} ({counts.get('high', 0)} high, "
            f"{counts.get('medium', 0)} medium, {counts.get('low', 0)} low); see {INSIGHTS_JSON}"
        ]
        for row in self.records()[: int(s.get("top", 5))]:
            lines.append(f"  [{row['severity'].upper()}] {row['title']}: {row['finding']}")
        return lines


def _crm(run_crm: list[pd.DataFrame], customers: pd.DataFrame, limit: int) -> pd.DataFrame:
    frames = [f for f in run_crm if not f.empty]
    if not frames:
        return pd.DataFrame(
            {"insight_id": pd.Series(dtype=str), "customer_id": pd.Series(dtype=str)}
        )
    lists = pd.concat([f[["insight_id", "customer_id"]] for f in frames], ignore_index=True)
    extra = [c for c in _CRM_EXTRA if c in customers.columns]
    merged = lists.merge(customers[["customer_id", *extra]], on="customer_id", how="left")
    order = "clv" if "clv" in merged.columns else "monetary"
    merged = merged.sort_values(["insight_id", order, "customer_id"], ascending=[True, False, True])
    return merged.groupby("insight_id", sort=False).head(limit).reset_index(drop=True)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})


def _table(insights: list[Insight]) -> pd.DataFrame:
    from custlens.insights.record import Insight

    names = [f.name for f in fields(Insight)]
    rows = []
    for i in insights:
        row = i.to_dict()
        row["numbers"] = json.dumps(row["numbers"], sort_keys=True)
        rows.append(row)
    table = pd.DataFrame(rows, columns=names)
    for col in _NUMERIC[:-2]:
        table[col] = pd.to_numeric(table[col]).astype("float64")
    table["customers"] = table["customers"].astype("Int64")
    table["severity_score"] = table["severity_score"].astype("float64")
    for col in names:
        if col not in _NUMERIC:
            table[col] = table[col].astype("str")
    return table


def run(ctx: StageContext) -> tuple[None, InsightsResult]:
    """Every insight kind these data and the earlier stages allow, most severe first."""
    from dataclasses import replace

    from custlens.insights.customer_kinds import COHORT_TEST_COLUMNS
    from custlens.insights.engine import build_insights
    from custlens.insights.record import LEVELS, SCHEMA
    from custlens.insights.series_kinds import ANOMALY_COLUMNS, TREND_COLUMNS

    cfg = ctx.settings.insights
    found = build_insights(
        ctx.customers,
        ctx.cleaned.purchases,
        ctx.cleaned.returns,
        ctx.as_of,
        cfg,
        ctx.settings.rfm,
        ctx.earlier,
    )
    crm = _crm(found.crm, ctx.customers, cfg.max_listed)
    listed = set(crm["insight_id"])
    insights = [replace(i, crm_list=CRM_LIST if i.id in listed else None) for i in found.insights]
    table = _table(insights)
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        "as_of": ctx.as_of.isoformat(),
        "insights": len(insights),
        "by_severity": {lvl: sum(i.severity == lvl for i in insights) for lvl in LEVELS},
        "by_kind": dict(pd.Series([i.kind for i in insights], dtype=str).value_counts()),
        "top": cfg.top,
        "top_ids": [i.id for i in insights[: cfg.top]],
        "tested": found.tested,
        "skipped": found.skipped,
    }
    summary["by_kind"] = {str(k): int(v) for k, v in summary["by_kind"].items()}
    tables = {
        "insights": table,
        "customers": crm,
        "trend_tests": found.tables.get("trend_tests", _empty(TREND_COLUMNS)),
        "anomaly_scores": found.tables.get("anomaly_scores", _empty(ANOMALY_COLUMNS)),
        "cohort_tests": found.tables.get("cohort_tests", _empty(COHORT_TEST_COLUMNS)),
    }
    notes = tuple(f"insights: {k} skipped ({v})" for k, v in found.skipped.items())
    return None, InsightsResult(tables=tables, summary=summary, notes=notes)
