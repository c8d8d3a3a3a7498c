"""The structure step: ``Results`` -> a ``Story`` (sections of cards, findings, tables, charts).

No HTML or Markdown here. The core sections (executive summary, data quality, segments) are
built from ``Results``; every stage's section comes from its ``StageResult.section``; a stage
that was selected but skipped, or not selected, gets one line saying why. The executive summary
takes the most important findings of every section and their actions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from custlens.charts.rfm import rfm_grid_chart, segment_share_chart
from custlens.pipeline import Results
from custlens.pipeline.folder import segment_list_path
from custlens.pipeline.registry import STAGES, selected
from custlens.story import (
    KPI,
    Bullets,
    Cards,
    Findings,
    Link,
    Links,
    Section,
    Story,
    chart_nodes,
    findings,
    not_run,
    table_node,
    top_findings,
)


def build_story(results: Results) -> Story:
    """The report of a run as data, in reading order."""
    rules = results.settings.report.findings
    overview = overview_facts(results)
    core = [quality_section(results), segments_section(results)]
    stages = stage_sections(results)
    overview_findings = findings({"overview": [overview]}, rules)
    summary = executive_summary(results, overview, overview_findings, [*core, *stages])
    source = results.source.origin
    return Story(
        title=results.settings.report.title,
        subtitle=f"{source} - customers as of {results.as_of.isoformat()}",
        sections=(summary, *core, *stages),
        meta={"as_of": results.as_of.isoformat(), "source": source},
    )


def overview_facts(results: Results) -> dict[str, Any]:
    """The run's headline numbers (facts of kind ``overview`` for the findings rules): the
    customers, orders and revenue the segments describe, those before the as-of date (what
    cleaning kept, later orders included, is the quality section's)."""
    customers = results.customers
    monetary = customers["monetary"].sort_values(ascending=False)
    total = float(monetary.sum())
    orders = int(customers["frequency"].sum())
    top = monetary.head(max(1, round(len(monetary) * 0.1))).sum()
    one = int((customers["frequency"] <= 1).sum())
    recent_days = results.settings.report.recent_days
    recent_one = int(
        ((customers["frequency"] <= 1) & (customers["recency_days"] <= recent_days)).sum()
    )
    first = pd.to_datetime(customers["first_order"]).min()
    last = pd.to_datetime(customers["last_order"]).max()
    return {
        "customers": len(customers),
        "revenue": total,
        "orders": orders,
        "first_order": first.date().isoformat() if pd.notna(first) else "",
        "last_order": last.date().isoformat() if pd.notna(last) else "",
        "days": int((last - first).days) + 1 if pd.notna(first) and pd.notna(last) else 0,
        "one_order_customers": one,
        "one_order_share": one / len(customers) if len(customers) else 0.0,
        "top_decile_revenue_share": float(top / total) if total else 0.0,
        "avg_order_value": total / orders if orders else 0.0,
        "recent_days": recent_days,
        # only when there are some: the one-time buyers' action names them (none, no action)
        **({"recent_one_order_customers": recent_one} if recent_one else {}),
    }


def executive_summary(
    results: Results, overview: dict[str, Any], own: tuple, sections: list[Section]
) -> Section:
    cfg = results.settings.report
    period = f"{overview['first_order']} to {overview['last_order']}"
    cards = Cards(
        (
            KPI("Customers", f"{overview['customers']:,}"),
            KPI("Revenue", f"{overview['revenue']:,.0f}", "gross, after cleaning"),
            KPI(
                "Orders", f"{overview['orders']:,}", f"{overview['avg_order_value']:,.2f} per order"
            ),
            KPI("Period", f"{overview['days']:,} days", period),
        )
    )
    every = [Section("overview", "", findings=own), *sections]
    top = top_findings(every, cfg.top_findings)
    actions: list[str] = []
    for finding in sorted(
        (f for s in every for f in s.all_findings() if f.action), key=lambda f: -f.importance
    ):
        if finding.action not in actions:
            actions.append(finding.action)
    blocks: list[Any] = [cards, Findings(tuple(top), title="The most important findings")]
    if actions and cfg.top_actions:
        blocks.append(Bullets(tuple(actions[: cfg.top_actions]), title="What to do this month"))
    return Section(
        id="summary",
        title="Executive summary",
        lead=f"{overview['customers']:,} customers placed {overview['orders']:,} orders from "
        f"{period}; customers are described as of {results.as_of.isoformat()}.",
        blocks=tuple(blocks),
    )


def quality_section(results: Results) -> Section:
    q = results.quality
    rows = [
        {
            "rule": r.rule,
            "what": r.description,
            "lines removed": r.rows if r.enabled else None,
            "share of lines": (r.rows / q.rows_in if q.rows_in else 0.0) if r.enabled else None,
            "customers removed": r.customers if r.enabled else None,
            "revenue removed": r.revenue if r.enabled else None,
            "note": r.note if r.enabled else ("off" + (f": {r.note}" if r.note else "")),
        }
        for r in q.rules
    ]
    facts = [
        {
            "rule": r.rule,
            "description": r.description[:1].lower() + r.description[1:],
            "rows": r.rows,
            "row_share": r.rows / q.rows_in if q.rows_in else 0.0,
            "revenue": r.revenue,
            "revenue_share": r.revenue / q.revenue_in if q.revenue_in else 0.0,
            "customers": r.customers,
        }
        for r in q.rules
        if r.enabled
    ]
    found = findings({"cleaning": facts}, results.settings.report.findings)
    kept = q.rows_out / q.rows_in if q.rows_in else 0.0
    cards = Cards(
        (
            KPI("Lines in", f"{q.rows_in:,}", f"{q.customers_in:,} customers"),
            KPI("Purchase lines kept", f"{q.rows_out:,}", f"{kept:.0%} of the input"),
            KPI("Customers kept", f"{q.customers_out:,}"),
            KPI("Return lines", f"{q.returns_rows:,}", "kept for return rates"),
        )
    )
    table = table_node(
        "cleaning_rules",
        "What each cleaning rule removed",
        pd.DataFrame(rows),
        len(rows) + 1,
        percent=("share of lines",),
        caption="Each removed line is counted once, by the first rule that removes it.",
        source="quality.json",
    )
    return Section(
        id="quality",
        title="Data quality",
        lead=f"{q.rows_in:,} lines in, {q.rows_out:,} purchase lines out.",
        findings=found,
        blocks=(cards, table),
    )


def segment_facts(results: Results) -> list[dict[str, Any]]:
    summary, customers = results.segment_summary, results.customers
    mean_recency = float(customers["recency_days"].mean()) or 1.0
    return [
        {
            "segment": str(row.segment),
            "customers": int(row.customers),
            "share": float(row.share),
            "revenue": float(row.revenue),
            "revenue_share": float(row.revenue_share),
            "avg_monetary": float(row.avg_monetary),
            "avg_recency": float(row.avg_recency),
            "avg_frequency": float(row.avg_frequency),
            # a mean against the mean of all customers (not the median: "typical" would mislead)
            "recency_ratio": float(row.avg_recency) / mean_recency,
            "all_avg_recency": mean_recency,
            "action_text": str(row.action),
        }
        for row in summary.itertuples(index=False)
    ]


def segments_section(results: Results) -> Section:
    summary = results.segment_summary
    found = findings({"segment": segment_facts(results)}, results.settings.report.findings)
    table = table_node(
        "segments",
        "Segments",
        summary,
        len(summary) + 1,
        columns=[
            "segment",
            "customers",
            "share",
            "revenue_share",
            "avg_monetary",
            "avg_recency",
            "avg_frequency",
            "action",
        ],
        percent=("share", "revenue_share"),
        source="segment_summary.csv",
    )
    links = Links(
        tuple(
            Link(
                str(row.segment),
                segment_list_path(str(row.segment)),
                f"{int(row.customers):,} customers",
            )
            for row in summary.itertuples(index=False)
        ),
        title="CRM lists (CSV files beside this report, in segments/)",
    )
    charts = chart_nodes(
        {"segments": segment_share_chart(summary), "rfm_grid": rfm_grid_chart(results.customers)}
    )
    return Section(
        id="segments",
        title="Segments",
        lead="RFM segments: recency, frequency and spend scored 1-5; each segment has an action.",
        findings=found,
        blocks=(table, links, *charts),
    )


def stage_sections(results: Results) -> list[Section]:
    """One section per declared stage (and any other stage in the results), in run order."""
    chosen = results.settings.analyses
    wanted = {s.name for s in selected(chosen)[0]} if chosen is not None else None
    names = [s.name for s in STAGES] + [
        n for n in results.stages if n not in {s.name for s in STAGES}
    ]
    titles = {s.name: s.description for s in STAGES}
    out = []
    for name in names:
        title = name.replace("_", " ").capitalize()
        if name in results.stages:
            out.append(results.stages[name].section(results))
        elif name in results.skipped:
            out.append(not_run(name, title, f"Skipped on these data: {results.skipped[name]}"))
        elif wanted is not None and name not in wanted:
            out.append(
                not_run(
                    name,
                    title,
                    f"Not selected ({titles.get(name, name)}): add {name} to --analyses "
                    "(or [analyses] in custlens.toml) to include it.",
                    status="not selected",
                )
            )
        else:
            out.append(not_run(name, title, "Did not run for this results folder."))
    return out


__all__ = ["build_story", "overview_facts"]
