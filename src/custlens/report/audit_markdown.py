"""The segmentation audit as files: CSV tables, PNG figures and ``audit.md``.

``write_audit(result, out_dir)`` builds everything in a temporary folder next to ``out_dir`` and
renames it into place, so a reader never sees a half-written audit. An existing ``out_dir`` is
replaced only when it is empty or holds a previous audit (an ``audit.md``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from custlens.audit import AuditResult
from custlens.charts import save_charts
from custlens.charts.audit import TITLES, audit_charts
from custlens.outputs import atomic_dir, spreadsheet_safe
from custlens.report.audit_story import audit_story
from custlens.report.html import render_html
from custlens.report.markdown_text import md_table, md_text

MARKER = "audit.md"


def _paragraphs(text: str) -> list[str]:
    """Plain-text paragraphs (separated by blank lines) as Markdown paragraphs, each escaped."""
    out: list[str] = []
    for para in text.split("\n\n"):
        if para.strip():
            out += [md_text(para), ""]
    return out


def render_audit_markdown(result: AuditResult, figures: dict[str, str]) -> str:
    """``audit.md``; ``figures`` maps a figure name to its file name (only those written)."""
    s = result.settings
    rel = "x |segment mean| (relative)" if s["relative"] else "(absolute)"

    def fig(name: str) -> str:
        return f"\n![{TITLES[name]}]({figures[name]})\n" if name in figures else ""

    metric, segment = md_text(s["metric"]), md_text(s["segment"])
    out = [
        f"# Segmentation audit: {metric} by {segment}",
        "",
        f"- Anomaly: |{metric} - segment mean| > {s['threshold']:g} {rel}",
        f"- Rows: {s['rows_in']} in the table, {s['rows_used']} audited ({s['snapshot_mode']}); "
        f"customer id column: {md_text(s['customer_col'] or 'none')}",
        f"- Anomalies: {result.n_anomalies}; significance: Benjamini-Hochberg adjusted p < "
        f"{s['alpha']:g}; an effect worth acting on: |rank-biserial| >= {s['min_effect']:g}; seed {s['seed']}",
        "",
        "## Conclusion",
        "",
        *_paragraphs(result.conclusion),
        "## Anomalies per segment",
        "",
        md_table(result.segments),
        fig("deviation"),
        fig("segment_rates"),
    ]
    if len(result.dimensions):
        out += ["## Candidate dimensions", "", md_table(result.dimensions), ""]
    if len(result.comparisons):
        comp = result.comparisons
        allg = comp[comp["group"] == "all"].copy()
        allg = allg.reindex(allg["rank_biserial"].abs().sort_values(ascending=False).index)
        out += [
            "## How anomalies differ from the rest",
            "",
            "Mann-Whitney U, two-sided; rank-biserial > 0 means anomalies tend to be higher. "
            "Per direction (above / below the segment mean) in `comparisons.csv`.",
            "",
            md_table(
                allg,
                [
                    "feature",
                    "family",
                    "source",
                    "n_anomaly",
                    "median_anomaly",
                    "median_rest",
                    "mean_anomaly",
                    "mean_rest",
                    "rank_biserial",
                    "p_adjusted",
                    "significant",
                ],
            ),
            fig("seasonal"),
            fig("stability"),
            fig("value_realisation"),
        ]
    if len(result.chi_square):
        out += [
            "## Categorical columns",
            "",
            md_table(result.chi_square),
            "",
            "Rates per level are in `crosstabs.csv`.",
            "",
        ]
    out += ["## Anomaly personas (clusters)", ""]
    if len(result.cluster_profiles):
        out += [
            md_table(
                result.cluster_profiles,
                ["cluster", "size", "share", "above", "below", "main_segment", "distinguishing"],
            ),
            "",
            "Medians per cluster are in `cluster_profiles.csv`.",
            fig("cluster_selection"),
        ]
    else:
        out += ["Not clustered (see the notes)."]
    out += ["", "## Decision trees for the anomaly flag", ""]
    if len(result.tree_metrics):
        out += [
            md_table(result.tree_metrics),
            "",
            "`without_metric` is the fair test: it never sees the metric or columns computed "
            "from it.",
            "",
        ]
        for model in ("without_metric", "with_metric"):
            rules = result.tree_rules.get(model, ())
            out += [f"Top rules ({model}):", ""] + [f"- {md_text(r)}" for r in rules] + [""]
        out += [fig("importances"), "Full trees: `tree_rules.txt`."]
    else:
        out += ["Not fitted (see the notes)."]
    out += ["", "## Notes", ""] + [f"- {md_text(n)}" for n in result.notes]
    out += ["", "## Features used", "", md_table(result.feature_catalog), ""]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def _tables(result: AuditResult) -> dict[str, pd.DataFrame]:
    return {
        "segments": result.segments,
        "rows": result.rows_with_features(),
        "anomalies": result.anomalies,
        "comparisons": result.comparisons,
        "chi_square": result.chi_square,
        "crosstabs": result.crosstabs,
        "cluster_selection": result.cluster_selection,
        "cluster_profiles": result.cluster_profiles,
        "tree_metrics": result.tree_metrics,
        "tree_importances": result.tree_importances,
        "dimensions": result.dimensions,
        "feature_catalog": result.feature_catalog,
    }


def is_audit_folder(path: Path) -> bool:
    return (path / MARKER).is_file()


def write_audit(result: AuditResult, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write the audit's CSVs, PNGs and ``audit.md`` into ``out_dir`` (atomically); return it."""
    with atomic_dir(out_dir, is_ours=is_audit_folder, force=force) as tmp:
        for name, table in _tables(result).items():
            spreadsheet_safe(table).to_csv(tmp / f"{name}.csv", index=False)
        if result.tree_text:
            text = "\n\n".join(f"== {m} ==\n{t}" for m, t in result.tree_text.items())
            (tmp / "tree_rules.txt").write_text(text, encoding="utf-8")
        charts = audit_charts(result)
        save_charts({tmp / f"{name}.png": chart for name, chart in charts.items()})
        figures = {name: f"{name}.png" for name in charts}
        (tmp / MARKER).write_text(render_audit_markdown(result, figures), encoding="utf-8")
        html = render_html(audit_story(result, charts))
        (tmp / "audit.html").write_text(html, encoding="utf-8")
    return Path(out_dir).expanduser().resolve()
