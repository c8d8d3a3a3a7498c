"""Legends that tell the series apart: read from the SVG the chart draws (vl-convert), so the
test sees what a reader sees, not the spec."""

from __future__ import annotations

import re

import pandas as pd
import vl_convert as vlc

from custlens.charts.insights import anomaly_chart


def _legend_symbols(svg: str, title: str) -> dict[str, dict[str, str]]:
    """Label -> the attributes of its symbol's path, for the legend titled ``title``."""
    start = svg.index(f"Symbol legend titled '{title}'")
    end = svg.index("role-legend-title", start)
    part = svg[start:end]
    symbols = re.findall(r'role-legend-symbol".*?<path ([^>]*)/>', part)
    labels = re.findall(r'role-legend-label".*?>([^<]*)</text>', part)
    attrs = [dict(re.findall(r'([\w-]+)="([^"]*)"', s)) for s in symbols]
    return dict(zip(labels, attrs, strict=True))


def test_the_anomaly_chart_legend_shows_a_solid_line_for_months_and_a_dashed_one_for_weeks():
    rows = [
        {"period": period, "start": start, "measure": "orders", "value": 1.0, "robust_z": 0.5}
        for period, starts in (
            ("week", pd.date_range("2011-01-03", periods=8, freq="W-MON")),
            ("month", pd.date_range("2011-01-01", periods=3, freq="MS")),
        )
        for start in starts
    ]
    svg = vlc.vegalite_to_svg(anomaly_chart(pd.DataFrame(rows), 4.0).to_json())
    symbols = _legend_symbols(svg, "period")
    assert set(symbols) == {"month", "week"}
    for label, attrs in symbols.items():
        # a visible line sample: a stroke of some width, not transparent
        assert attrs.get("stroke") not in (None, "transparent", "none"), (label, attrs)
        assert float(attrs.get("stroke-width", "0")) > 0, (label, attrs)
    dashes = {label: attrs.get("stroke-dasharray", "") for label, attrs in symbols.items()}
    solid = {"", "1,0", "none"}
    assert dashes["month"] in solid and dashes["week"] not in solid, dashes


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_persona_charts_label_features_in_words():
    from custlens.charts.personas import importance_chart, persona_radar_chart, profile_heatmap

    profiles = pd.DataFrame(
        {
            "persona": ["A", "B"],
            "size": [10, 5],
            "recency_days_z": [1.0, -1.0],
            "q4_share_z": [-0.5, 0.5],
            "avg_unit_price_z": [0.2, -0.2],
        }
    )
    permutation = pd.DataFrame(
        {
            "feature": ["recency_days", "q4_share"],
            "importance_mean": [0.3, 0.1],
            "importance_std": [0.01, 0.02],
        }
    )
    for chart in (
        profile_heatmap(profiles),
        persona_radar_chart(profiles),
        importance_chart(permutation),
    ):
        texts = _texts(vlc.vegalite_to_svg(chart.to_json()))
        assert "recency days" in texts and "q4 share" in texts, texts
        assert not [t for t in texts if "_" in t], texts


def test_audit_tree_importances_name_the_trees_in_words_fair_test_first():
    from custlens.charts.audit import importances_chart

    data = pd.DataFrame(
        {
            "model": ["with_metric", "segment_only", "without_metric"],
            "feature": ["retention_probability", "segment = A", "tenure"],
            "importance": [0.9, 0.5, 0.4],
        }
    )
    texts = _texts(vlc.vegalite_to_svg(importances_chart(data).to_json()))
    heads = [t for t in texts if t.startswith(("without", "the segment", "with the"))]
    assert heads == [
        "without the metric (the fair test)",
        "the segment alone",
        "with the metric (circular)",
    ]
    assert not [t for t in texts if t in ("segment_only", "with_metric", "without_metric")]


def test_churn_drivers_and_insight_kinds_are_labelled_in_words():
    """The SHAP chart named features "recency_days", "min_unit_price" and the insights chart
    kinds "high_value_at_risk", "cross_sell", while every persona chart used words; the insight
    counts had ticks at 0.5 and 1.5 insights."""
    from types import SimpleNamespace

    from custlens.charts.insights import insight_overview
    from custlens.charts.models import shap_chart

    ev = SimpleNamespace(importance={"recency_days": 0.3, "min_unit_price": 0.1})
    texts = _texts(vlc.vegalite_to_svg(shap_chart(ev).to_json()))
    assert "recency days" in texts and "min unit price" in texts, texts
    assert not [t for t in texts if "_" in t], texts

    insights = pd.DataFrame(
        {
            "kind": ["high_value_at_risk", "segment_shift", "segment_shift"],
            "severity": ["high", "high", "medium"],
            "id": ["a", "b", "c"],
        }
    )
    texts = _texts(vlc.vegalite_to_svg(insight_overview(insights).to_json()))
    assert "high-value customers at risk" in texts and "segment shift" in texts, texts
    assert not [t for t in texts if "_" in t], texts
    # the x axis counts insights (at most 2 per kind here): 0, 1, 2 and no fractions
    ticks = [t for t in texts if re.fullmatch(r"[0-9.]+", t)]
    assert ticks and all(t.isdigit() for t in ticks), ticks  # "1", not "1.0"


LONG_PERSONA = "Large-Basket, Off-Season Customers"  # 34 characters, a real persona name


def test_persona_names_are_drawn_whole_on_the_map_legend_and_the_heatmap():
    """Vega cut legend labels at 160 px and axis labels at 180 px: the persona map's legend
    read "Large-Basket, Off-Season Custo…" and the heatmap's row "...Custom…"."""
    from custlens.charts.personas import persona_map_chart, profile_heatmap

    coordinates = pd.DataFrame(
        {
            "pc1": [0.0, 1.0, 2.0],
            "pc2": [1.0, 0.0, 2.0],
            "persona": [LONG_PERSONA, "Bargain One-Timers", LONG_PERSONA],
            "persona_outlier": [False, False, True],
        }
    )
    profiles = pd.DataFrame(
        {
            "persona": [LONG_PERSONA, "Bargain One-Timers"],
            "size": [10, 5],
            "recency_days_z": [1.0, -1.0],
        }
    )
    for chart in (persona_map_chart(coordinates, (0.4, 0.2)), profile_heatmap(profiles)):
        texts = _texts(vlc.vegalite_to_svg(chart.to_json()))
        assert LONG_PERSONA in texts, texts
        assert not [t for t in texts if t.endswith("…")], texts


def test_the_top_rules_chart_shows_what_each_rule_leads_to():
    """The rule was cut as a whole at 70 characters and then by Vega at 180 px, so the bars read
    "REGENCY TEA PLATE PINK -> REG…": the item bought with it was never visible. Two rules that
    shorten alike stay two bars."""
    from custlens.charts.basket import top_rules_chart

    cups = "PINK REGENCY TEACUP AND SAUCER"
    rules = pd.DataFrame(
        {
            "rule": [
                "REGENCY TEA PLATE PINK -> REGENCY TEA PLATE GREEN",
                f"{cups} + ROSES REGENCY TEACUP AND SAUCER -> GREEN REGENCY TEACUP AND SAUCER",
                f"{cups} + ROSES REGENCY TEACUP AND SAUCERS -> GREEN REGENCY TEACUP AND SAUCER",
            ],
            "lift": [65.8, 20.0, 19.0],
            "confidence": [0.89, 0.7, 0.6],
            "support": [0.01, 0.02, 0.02],
            "count": [187, 300, 290],
        }
    )
    texts = _texts(vlc.vegalite_to_svg(top_rules_chart(rules).to_json()))
    # every label ends with the whole consequent
    assert "REGENCY TEA PLATE PINK -&gt; REGENCY TEA PLATE GREEN" in texts, texts
    labels = [t for t in texts if "-&gt;" in t]
    assert len(labels) == 3 and len(set(labels)) == 3, labels
    assert all(t.split(" -&gt; ")[1].startswith("GREEN REGENCY TEA") for t in labels[1:])
    assert not [t for t in labels if t.endswith("…")], labels
