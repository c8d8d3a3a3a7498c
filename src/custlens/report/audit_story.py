"""The segmentation audit as a ``Story``, rendered as ``audit.html`` like the run's report.

Reads the audit result's tables only (duck-typed, so the audit package can move freely).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custlens.story import KPI, Bullets, Cards, Paragraph, Section, Story, chart_nodes, table_node

_ROWS = 50


def audit_story(result: Any, charts: Mapping[str, Any]) -> Story:
    """Sections: conclusion, anomalies per segment, how they differ, clusters, trees, notes."""
    s = result.settings
    rel = "relative to |segment mean|" if s["relative"] else "absolute"
    summary = Section(
        "summary",
        "Conclusion",
        lead=f"Anomaly: |{s['metric']} - segment mean| > {s['threshold']:g} ({rel}).",
        blocks=(
            Cards(
                (
                    KPI("Rows audited", f"{s['rows_used']:,}", f"of {s['rows_in']:,}"),
                    KPI("Anomalies", f"{result.n_anomalies:,}"),
                    KPI("Segment column", str(s["segment"])),
                    KPI("Metric", str(s["metric"])),
                )
            ),
            # one paragraph per finding, as audit.md has them
            *(Paragraph(p.strip()) for p in result.conclusion.split("\n\n") if p.strip()),
        ),
    )
    nodes = {c.name: c for c in chart_nodes(charts)}

    def pick(*names: str) -> tuple:
        return tuple(nodes[n] for n in names if n in nodes)

    sections = [
        summary,
        Section(
            "segments",
            "Anomalies per segment",
            blocks=(
                table_node(
                    "segments",
                    "Anomalies per segment",
                    result.segments,
                    _ROWS,
                    source="segments.csv",
                ),
                *pick("deviation", "segment_rates"),
            ),
        ),
    ]
    if len(result.comparisons):
        comp = result.comparisons
        allg = comp[comp["group"] == "all"]
        allg = allg.reindex(allg["rank_biserial"].abs().sort_values(ascending=False).index)
        sections.append(
            Section(
                "differences",
                "How anomalies differ from the rest",
                lead="Mann-Whitney U, two-sided; rank-biserial > 0: anomalies tend to be higher.",
                blocks=(
                    table_node("comparisons", "Comparisons", allg, _ROWS, source="comparisons.csv"),
                    *pick("seasonal", "stability", "value_realisation"),
                ),
            )
        )
    if len(result.cluster_profiles):
        sections.append(
            Section(
                "clusters",
                "Anomaly personas (clusters)",
                blocks=(
                    table_node(
                        "cluster_profiles",
                        "Clusters",
                        result.cluster_profiles,
                        _ROWS,
                        source="cluster_profiles.csv",
                    ),
                    *pick("cluster_selection"),
                ),
            )
        )
    if len(result.tree_metrics):
        rules = [
            Bullets(tuple(result.tree_rules.get(m, ())), title=f"Top rules ({m})")
            for m in ("without_metric", "with_metric")
        ]
        sections.append(
            Section(
                "trees",
                "Decision trees for the anomaly flag",
                lead="without_metric is the fair test: it never sees the metric.",
                blocks=(
                    table_node("tree_metrics", "Tree metrics", result.tree_metrics, _ROWS),
                    *rules,
                    *pick("importances"),
                ),
            )
        )
    sections.append(Section("notes", "Notes", blocks=(Bullets(tuple(result.notes)),)))
    return Story(
        title=f"Segmentation audit: {s['metric']} by {s['segment']}",
        subtitle=f"{s['rows_used']:,} rows audited",
        sections=tuple(sections),
        meta={
            "source": f"the {s['segment']} segmentation",
            "as_of": str(s.get("snapshot_mode", "")),
            # an audit writes no CRM lists: its tables are the CSV files beside audit.html
            "footer": f"rows: {s.get('snapshot_mode', '')}. The audit's tables (CSV) are "
            "beside this file.",
        },
    )
