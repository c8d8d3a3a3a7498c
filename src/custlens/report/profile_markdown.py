"""A customer-table profile as files: tables, ``roles.json``, ``run.json``, figures, ``profile.md``.

``write_profile(result, out_dir)`` builds everything in a staging folder beside ``out_dir`` and
renames it into place (:func:`custlens.outputs.atomic_dir`): a failure leaves no partial output.
An existing ``out_dir`` is replaced only when it is empty or holds an earlier profile.

Layout::

    profile.md, run.json, roles.json, summary.json
    customers.parquet, customers.csv        one row per customer: persona, scores, features
    personas/<persona>.csv                  CRM list per persona (best loyalty first)
    tables/<name>.csv                       quality, catalog, k selection, profiles, tests ...
    figures/<name>.png                      (or .svg; none with figures="none")
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from custlens.outputs import atomic_dir, spreadsheet_safe
from custlens.report.markdown_text import md_code, md_table, md_text
from custlens.report.profile_story import (
    found_high_value_drivers,
    high_value_lead,
    shown_campaigns,
    shown_tests,
)

if TYPE_CHECKING:
    from custlens.pipeline.profile import ProfileResult

__all__ = ["is_profile_folder", "render_profile_markdown", "write_profile"]

HTML = "profile.html"
MARKER = "profile.md"
CRM_SCORES = ("loyalty_score", "churn_risk", "discount_sensitivity")
CRM_FEATURES = ("total_spend", "total_purchases", "recency_days", "income", "age", "deal_share")


def _persona_rows(profiles: pd.DataFrame) -> pd.DataFrame:
    """The persona table's rows; a persona named by its features (no rule matched) says so."""
    if "rule" not in profiles.columns:
        return profiles
    return profiles.assign(rule=profiles["rule"].where(profiles["rule"].notna(), "(none)"))


def slug(name: str) -> str:
    """``"Affluent Wine Lovers"`` -> ``"affluent_wine_lovers"`` (a safe file name)."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower().replace("'", "")).strip("_") or "persona"


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV through Arrow (fast on wide tables); floats rounded to 6 decimals for people, cells
    that a spreadsheet would run as formulas made inert (``outputs.spreadsheet_safe``)."""
    out = df.copy(deep=False)
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
        elif out[col].dtype == object:
            out[col] = out[col].astype("string")
    table = pa.Table.from_pandas(spreadsheet_safe(out), preserve_index=False)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def is_profile_folder(path: Path) -> bool:
    """True when ``path`` holds a profile written by custlens."""
    run = path / "run.json"
    if not (path / MARKER).is_file() or not run.is_file():
        return False
    try:
        return json.loads(run.read_text(encoding="utf-8")).get("command") == "profile"
    except (OSError, ValueError):
        return False


def _json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def _names(names: list[str]) -> str:
    """Column names from the data, comma-separated and escaped for Markdown."""
    return ", ".join(md_text(n) for n in names)


def render_profile_markdown(result: ProfileResult, figures: dict[str, str]) -> str:
    """``profile.md``; ``figures`` maps a figure name to its relative path (those written)."""
    from custlens.charts.profile import TITLES

    s, t = result.summary, result.tables

    def fig(name: str) -> list[str]:
        return [f"![{TITLES[name]}]({figures[name]})", ""] if name in figures else []

    roles = t["roles"]
    out = [
        f"# Customer profile: {md_text(result.run['input']['origin'])}",
        "",
        f"- Customers: {s['customers']:,}; id column {md_code(s['id_column'])}; as of "
        f"{md_text(s['as_of'])}; "
        f"seed {result.run['seed']}",
        f"- Personas: k = {s['k']}; stability across seeds (mean adjusted Rand index) "
        f"{s['stability']:.2f}",
        f"- Tests: {s['significant_tests']} of {s['tests']} significant after "
        "Benjamini-Hochberg adjustment",
        "",
        "## Column roles",
        "",
        md_table(roles, ["column", "role", "reason", "missing", "distinct"]),
        "",
        "## Data quality",
        "",
        md_table(t["quality"].loc[t["quality"]["rows"] > 0])
        if len(t["quality"]) and (t["quality"]["rows"] > 0).any()
        else "No rule found an implausible value.",
        "",
        "## Derived features",
        "",
        md_table(t["feature_catalog"]),
        "",
        "## Personas",
        "",
        md_text(s["k_reason"]),
        "",
        f"Segmented on {_names(s['segmentation']['numeric'])}"
        + (
            f" and the categorical {_names(s['segmentation']['categorical'])}"
            if s["segmentation"]["categorical"]
            else ""
        )
        + f" ({md_text(s['segmentation']['method'])}).",
        "",
        *fig("k_selection"),
        md_table(
            _persona_rows(t["persona_profiles"]),
            ["persona", "size", "share", "n_outliers", "rule", "evidence"]
            + [c for c in t["persona_profiles"].columns if c.endswith("_top")],
        ),
        "",
        "Medians and z-scores of every feature per persona: `tables/persona_profiles.csv`.",
        "",
        *fig("persona_map"),
        *fig("persona_radar"),
        *fig("persona_heatmap"),
        "## What differs across personas",
        "",
        "Kruskal-Wallis with epsilon squared for numeric features, chi-square with Cramer's V "
        "for categorical features and flags; p-values adjusted by Benjamini-Hochberg.",
        "",
        md_table(
            shown_tests(t["tests"].head(15)),
            [
                "feature",
                "test",
                "effect",
                "effect_size",
                "strength",
                "p_adjusted",
                "highest",
                "lowest",
            ],
        ),
        "",
        *fig("effect_sizes"),
        *fig("key_features"),
    ]
    if len(t["campaign_response"]):
        out += [
            "## Campaigns",
            "",
            "Best-responding persona per campaign (95 % Wilson interval; `clears_base_rate`: "
            "its lower bound is above the rate of all customers):",
            "",
            md_table(shown_campaigns(t["best_campaign_persona"])),
            "",
            *fig("campaign_response"),
            "All rates: `tables/campaign_response.csv`.",
            "",
        ]
    hv = s.get("high_value") or {}
    if hv:
        out += [
            "## What sets high-value customers apart",
            "",
            high_value_lead(hv, _names),
            "",
            *[f"- {md_text(r)}" for r in (hv["rules"] if found_high_value_drivers(hv) else [])],
            "",
        ]
    out += [
        "## Scores",
        "",
        md_table(t["score_definitions"]),
        "",
        "Per customer in `customers.csv`; CRM lists per persona in `personas/`.",
        "",
        "## Notes",
        "",
        *[f"- {md_text(n)}" for n in result.notes],
        "",
    ]
    return "\n".join(out).replace("\n\n\n", "\n\n")


def write_profile(
    result: ProfileResult, out_dir: str | Path, *, figures: str = "png", force: bool = False
) -> Path:
    """Write every output of ``result`` into ``out_dir`` atomically; return the folder."""
    target = Path(out_dir).expanduser().resolve()
    with atomic_dir(target, is_ours=is_profile_folder, force=force) as tmp:
        customers = result.customers
        customers.to_parquet(tmp / "customers.parquet", index=False)
        write_csv(customers, tmp / "customers.csv")
        crm = tmp / "personas"
        crm.mkdir()
        cols = [result.id_column, "persona", *CRM_SCORES, *CRM_FEATURES]
        cols = list(dict.fromkeys(c for c in cols if c in customers.columns))
        order = "loyalty_score" if "loyalty_score" in customers.columns else result.id_column
        for name, group in customers.groupby("persona", sort=True):
            ranked = group.sort_values([order, result.id_column], ascending=[False, True])
            write_csv(ranked[cols], crm / f"{slug(str(name))}.csv")
        tables = tmp / "tables"
        tables.mkdir()
        for name, table in result.tables.items():
            write_csv(table, tables / f"{name}.csv")
        _json(tmp / "roles.json", result.roles)
        _json(tmp / "summary.json", result.summary)
        from custlens.charts.profile import profile_charts
        from custlens.report.html import render_html
        from custlens.report.profile_story import profile_story

        charts = profile_charts(result.tables, result.summary, customers)
        written: dict[str, str] = {}
        if figures != "none":
            from custlens.charts import save_charts

            (tmp / "figures").mkdir()
            save_charts({tmp / "figures" / f"{name}.{figures}": c for name, c in charts.items()})
            written = {name: f"figures/{name}.{figures}" for name in charts}
        (tmp / MARKER).write_text(render_profile_markdown(result, written), encoding="utf-8")
        (tmp / HTML).write_text(render_html(profile_story(result, charts)), encoding="utf-8")
        _json(tmp / "run.json", result.run)
    return target
