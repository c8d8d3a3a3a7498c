"""The profile of a customer table as a report story (sections of KPI cards, tables and charts),
rendered to ``profile.html`` by the same HTML renderer as ``report.html``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens.story import (
    KPI,
    Bullets,
    Cards,
    Chart,
    Paragraph,
    Section,
    Story,
    chart_nodes,
    table_node,
)

if TYPE_CHECKING:
    import altair as alt

    from custlens.pipeline.profile import ProfileResult

MAX_ROWS = 50
_RATES = ("rate", "ci_low", "ci_high", "base_rate")  # shares of customers: shown as percents


def shown_tests(tests: pd.DataFrame) -> pd.DataFrame:
    """The tests table as shown: an adjusted p-value below what a double tells from 0 reads
    ``< 1e-16``, not 0 (the full values stay in ``tables/tests.csv``)."""
    if "p_adjusted" not in tests.columns:
        return tests
    from custlens.insights.record import p_cell

    return tests.assign(p_adjusted=[p_cell(v) for v in tests["p_adjusted"].astype(float)])


def shown_campaigns(best: pd.DataFrame) -> pd.DataFrame:
    """The best persona per campaign as shown: response rates and their interval in percent."""
    rates = {c: [f"{v:.1%}" for v in best[c].astype(float)] for c in _RATES if c in best.columns}
    return best.assign(**rates)


def profile_story(result: ProfileResult, charts: dict[str, alt.TopLevelMixin]) -> Story:
    """``profile.html``'s content: roles, quality, personas, differences, campaigns, scores."""
    s, t = result.summary, result.tables
    nodes = {c.name: c for c in chart_nodes(charts)}

    def figs(*names: str) -> tuple[Chart, ...]:
        return tuple(nodes[n] for n in names if n in nodes)

    cards = Cards(
        (
            KPI("Customers", f"{s['customers']:,}", f"id column {s['id_column']}"),
            KPI("Personas", f"{s['k']}", f"stability (mean ARI) {s['stability']:.2f}"),
            KPI(
                "Significant differences",
                f"{s['significant_tests']} of {s['tests']}",
                "after Benjamini-Hochberg",
            ),
            KPI("As of", str(s["as_of"])),
        )
    )
    quality = t["quality"]
    quality = quality.loc[quality["rows"] > 0] if "rows" in quality.columns else quality
    sections = [
        Section("summary", "Summary", blocks=(cards,)),
        Section(
            "roles",
            "Column roles",
            lead="Inferred from names and values; override with --role COLUMN=ROLE.",
            blocks=(table_node("roles", "Roles", t["roles"], MAX_ROWS),),
        ),
        Section(
            "quality",
            "Data quality",
            lead="" if len(quality) else "No rule found an implausible value.",
            blocks=(table_node("quality", "Rules that applied", quality, MAX_ROWS),)
            if len(quality)
            else (),
        ),
        Section(
            "personas",
            "Personas",
            lead=_segmented_on(s),
            blocks=(
                Paragraph(str(s["k_reason"])),
                table_node(
                    "persona_profiles",
                    "Personas",
                    t["persona_profiles"],
                    MAX_ROWS,
                    columns=["persona", "size", "share", "rule", "evidence"],
                    percent=("share",),
                ),
                *figs("persona_radar", "persona_map", "persona_heatmap", "k_selection"),
            ),
        ),
        Section(
            "differences",
            "What differs across personas",
            lead="Kruskal-Wallis with epsilon squared (numeric), chi-square with Cramer's V "
            "(categorical and flags); p-values adjusted by Benjamini-Hochberg.",
            blocks=(
                table_node("tests", "Tests, strongest first", shown_tests(t["tests"]), 15),
                *figs("effect_sizes", "key_features"),
            ),
        ),
    ]
    if len(t.get("campaign_response", ())):
        sections.append(
            Section(
                "campaigns",
                "Campaigns",
                lead="Best-responding persona per campaign (95% Wilson interval).",
                blocks=(
                    table_node(
                        "best_campaign_persona",
                        "Best persona per campaign",
                        shown_campaigns(t["best_campaign_persona"]),
                        MAX_ROWS,
                    ),
                    *figs("campaign_response"),
                ),
            )
        )
    high_value = s.get("high_value") or {}
    if high_value:
        sections.append(_high_value(high_value))
    sections.append(
        Section(
            "scores",
            "Scores per customer",
            lead="In customers.csv; CRM lists per persona in personas/.",
            blocks=(table_node("scores", "Score definitions", t["score_definitions"], MAX_ROWS),),
        )
    )
    if result.notes:
        sections.append(Section("notes", "Notes", blocks=(Bullets(tuple(result.notes)),)))
    origin = str(result.run["input"]["origin"])
    return Story(
        title="Customer profile",
        subtitle=f"{origin} - customers as of {s['as_of']}",
        sections=tuple(sections),
        meta={"source": origin, "as_of": str(s["as_of"])},
    )


def _segmented_on(s: dict[str, Any]) -> str:
    seg = s["segmentation"]
    text = f"Segmented on {', '.join(seg['numeric'])}"
    if seg["categorical"]:
        text += f" and the categorical {', '.join(seg['categorical'])}"
    return text + f" ({seg['method']})."


def high_value_lead(hv: dict[str, Any], names: Callable[[list[str]], str] = ", ".join) -> str:
    """What the high-value tree found; ``names`` formats column names (escaping for Markdown).

    A tree whose held-out accuracy does not beat always answering 'other' found nothing, and its
    importances and rules are not reported as what sets high-value customers apart.
    """
    text = f"High value: total spend above {hv['threshold']:,.2f} (top {hv['share']:.0%}). "
    accuracy = (
        f"held-out accuracy {hv['fidelity']:.1%}; always answering 'other': "
        f"{hv['majority_accuracy']:.1%}"
    )
    if not found_high_value_drivers(hv):
        return text + (
            f"A depth-limited decision tree without any spend column does no better than always "
            f"answering 'other' ({accuracy}): the other columns do not tell them apart."
        )
    text += f"A depth-limited decision tree without any spend column tells them apart ({accuracy})."
    if hv["top_features"]:
        text += f" Most important: {names(hv['top_features'])}."
    return text


def found_high_value_drivers(hv: dict[str, Any]) -> bool:
    """True when the high-value tree beats always answering 'other' on held-out customers."""
    return bool(hv["fidelity"] > hv["majority_accuracy"])


def _high_value(hv: dict[str, Any]) -> Section:
    rules = tuple(hv["rules"]) if found_high_value_drivers(hv) else ()
    return Section(
        "high_value",
        "What sets high-value customers apart",
        lead=high_value_lead(hv),
        blocks=(Bullets(rules, title="Rules"),) if rules else (),
    )
