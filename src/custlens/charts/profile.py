"""Charts of a customer-table profile, built from the profile's tables (no model is fitted here).

``profile_charts(tables, summary, customers)`` returns every chart by name: k selection, the
persona map, a heatmap and radar charts of the personas' standardised profiles, box-and-strip
plots of the features that differ most, campaign response rates with Wilson intervals, and the
effect sizes of the tests.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from custlens.charts.personas import k_selection_chart, persona_map_chart, profile_heatmap

__all__ = [
    "TITLES",
    "box_strip_chart",
    "campaign_chart",
    "effect_size_chart",
    "profile_charts",
    "radar_chart",
]

TITLES = {
    "k_selection": "Choosing k",
    "persona_map": "Personas on the first two principal components",
    "persona_heatmap": "Persona profiles (z-scores)",
    "persona_radar": "Standardised profile of each persona",
    "key_features": "Key features per persona",
    "campaign_response": "Campaign response per persona (95 % Wilson intervals)",
    "effect_sizes": "How strongly each feature differs across personas",
}
_Z_LIMIT = 2.0


def radar_chart(profiles: pd.DataFrame, features: list[str], columns: int = 3) -> alt.ConcatChart:
    """One radar per persona: each feature's z-score (clipped to +-2) on its own spoke.

    The dashed circle is z = 0 (all customers); points outside it are above average.
    """
    m = len(features)
    angles = 2 * np.pi * np.arange(m) / m
    offset = _Z_LIMIT + 0.5
    rows = []
    for _, row in profiles.iterrows():
        for i, f in enumerate([*features, features[0]]):
            z = float(np.clip(row.get(f"{f}_z", 0.0), -_Z_LIMIT, _Z_LIMIT))
            r = z + offset
            a = angles[i % m]
            rows.append(
                {
                    "persona": row["persona"],
                    "feature": f,
                    "z": z,
                    "order": i,
                    "x": r * np.sin(a),
                    "y": r * np.cos(a),
                }
            )
    points = pd.DataFrame(rows)
    circle = pd.DataFrame(
        {
            "x": offset * np.sin(np.linspace(0, 2 * np.pi, 61)),
            "y": offset * np.cos(np.linspace(0, 2 * np.pi, 61)),
            "order": np.arange(61),
        }
    )
    labels = pd.DataFrame(
        {
            "feature": features,
            "x": (offset + _Z_LIMIT + 0.6) * np.sin(angles),
            "y": (offset + _Z_LIMIT + 0.6) * np.cos(angles),
        }
    )
    lim = offset + _Z_LIMIT + 1.5
    scale = alt.Scale(domain=[-lim, lim])
    x = alt.X("x:Q", scale=scale, axis=None)
    y = alt.Y("y:Q", scale=scale, axis=None)
    charts = []
    for persona in profiles["persona"]:
        data = points.loc[points["persona"] == persona]
        ring = (
            alt.Chart(circle)
            .mark_line(strokeDash=[3, 3], color="#999")
            .encode(x=x, y=y, order="order:Q")
        )
        shape = (
            alt.Chart(data)
            .mark_line(point=True, filled=False)
            .encode(
                x=x, y=y, order="order:Q", tooltip=["feature:N", alt.Tooltip("z:Q", format="+.2f")]
            )
        )
        text = alt.Chart(labels).mark_text(fontSize=9).encode(x=x, y=y, text="feature:N")
        charts.append(
            alt.layer(ring, shape, text).properties(title=str(persona), width=220, height=220)
        )
    return alt.concat(*charts, columns=columns).properties(title=TITLES["persona_radar"])


def box_strip_chart(
    customers: pd.DataFrame, features: list[str], max_values: int = 4800, seed: int = 0
) -> alt.FacetChart:
    """Box plots with the customers as ticks, per persona, one panel per feature.

    Above ``max_values`` plotted values a seeded sample of customers is drawn (the title says so).
    """
    data = customers
    title = TITLES["key_features"]
    limit = max(1, max_values // max(1, len(features)))
    if len(data) > limit:
        data = data.sample(n=limit, random_state=seed)
        title += f" (random sample of {limit:,} of {len(customers):,} customers)"
    long = data.melt(id_vars=["persona"], value_vars=features, var_name="feature").dropna()
    base = alt.Chart().encode(
        y=alt.Y("persona:N", title=None), color=alt.Color("persona:N", legend=None)
    )
    box = base.mark_boxplot(extent=1.5, outliers=False, opacity=0.5).encode(
        x=alt.X("value:Q", title=None)
    )
    strip = base.mark_tick(opacity=0.25, thickness=1).encode(x="value:Q")
    return (
        alt.layer(box, strip, data=long)
        .properties(width=360, height=120)
        .facet(row=alt.Row("feature:N", title=None), title=title)
        .resolve_scale(x="independent")
    )


def campaign_chart(rates: pd.DataFrame) -> alt.FacetChart:
    """Response rate per persona with its Wilson interval; the rule is the base rate."""
    base = alt.Chart().encode(y=alt.Y("persona:N", title=None))
    bars = base.mark_errorbar().encode(
        x=alt.X("ci_low:Q", title="response rate", axis=alt.Axis(format="%")), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="rate:Q",
        color=alt.Color("persona:N", legend=None),
        tooltip=[
            "persona:N",
            alt.Tooltip("rate:Q", format=".1%"),
            alt.Tooltip("lift:Q", format=".2f"),
            "customers:Q",
        ],
    )
    rule = alt.Chart().mark_rule(strokeDash=[4, 3], color="#d62728").encode(x="mean(base_rate):Q")
    return (
        alt.layer(bars, points, rule, data=rates)
        .properties(width=300, height=110)
        .facet(
            facet=alt.Facet("campaign:N", title=None), columns=2, title=TITLES["campaign_response"]
        )
    )


def effect_size_chart(tests: pd.DataFrame, top: int = 20) -> alt.Chart:
    """Epsilon squared (numeric) and Cramer's V (categorical) of the strongest differences."""
    data = tests.head(top).assign(
        adjusted=lambda d: np.where(d["significant"], "significant", "not significant")
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("effect_size:Q", title="effect size (epsilon squared / Cramer's V)"),
            y=alt.Y("feature:N", sort="-x", title=None),
            color=alt.Color("effect:N", title="effect"),
            opacity=alt.Opacity("adjusted:N", scale=alt.Scale(range=[0.35, 1.0]), title="BH"),
            tooltip=[
                "feature:N",
                "test:N",
                alt.Tooltip("effect_size:Q", format=".3f"),
                alt.Tooltip("p_adjusted:Q", format=".2e"),
                "highest:N",
            ],
        )
        .properties(title=TITLES["effect_sizes"], width=420)
    )


def key_features(tests: pd.DataFrame, numeric: list[str], n: int = 6) -> list[str]:
    """The numeric features with the largest effect sizes."""
    ranked = tests.loc[(tests["kind"] == "numeric") & tests["feature"].isin(numeric), "feature"]
    return ranked.head(n).tolist()


def profile_charts(
    tables: dict[str, pd.DataFrame], summary: dict[str, Any], customers: pd.DataFrame
) -> dict[str, alt.TopLevelMixin]:
    """Every profile chart by name (those the tables support)."""
    charts: dict[str, alt.TopLevelMixin] = {}
    charts["k_selection"] = k_selection_chart(tables["k_selection"])
    charts["persona_map"] = persona_map_chart(
        tables["persona_map"], tuple(summary["explained_variance"])
    )
    profiles = tables["persona_profiles"]
    seg = summary["segmentation"]["numeric"]
    radar = [f for f in seg if f"{f}_z" in profiles.columns][:12]
    if len(radar) >= 3:
        charts["persona_heatmap"] = profile_heatmap(profiles, radar)
        charts["persona_radar"] = radar_chart(profiles, radar)
    tests = tables["tests"]
    if len(tests):
        keys = key_features(tests, [c for c in customers.columns if c != "persona"])
        if keys:
            charts["key_features"] = box_strip_chart(customers, keys)
        charts["effect_sizes"] = effect_size_chart(tests)
    if len(tables["campaign_response"]):
        charts["campaign_response"] = campaign_chart(tables["campaign_response"])
    return charts
