"""Findings rules as data, the story nodes and the renderers' escaping (no engine needed)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from custlens.config import FindingRule, ReportConfig, Settings, load_settings
from custlens.errors import ConfigError
from custlens.report.html import render_html, script_json
from custlens.report.markdown import md_text, render_markdown
from custlens.story import (
    KPI,
    Cards,
    Chart,
    Section,
    Story,
    Table,
    evaluate,
    findings,
    top_findings,
)

SEGMENTS = [
    {"segment": "Champions", "customers": 600, "share": 0.15, "revenue_share": 0.51},
    {"segment": "Lost", "customers": 1200, "share": 0.30, "revenue_share": 0.05},
    {"segment": "Loyal", "customers": 400, "share": 0.10, "revenue_share": 0.25},
]


def test_a_rule_writes_the_sentence_of_the_issue():
    rule = FindingRule(
        about="segment",
        when="revenue_share >= 2 * share",
        text="{segment} are {share:.0%} of customers and bring {revenue_share:.0%} of revenue",
        importance="revenue_share - share",
        limit=2,
    )
    out = findings({"segment": SEGMENTS}, [rule])
    # Champions: 0.51 >= 0.30 (importance 0.36); Loyal: 0.25 >= 0.20 (0.15); Lost fails
    assert [f.text for f in out] == [
        "Champions are 15% of customers and bring 51% of revenue",
        "Loyal are 10% of customers and bring 25% of revenue",
    ]
    assert [round(f.importance, 2) for f in out] == [0.36, 0.15]


def test_limit_missing_names_and_zero_division_do_not_match():
    rules = [
        FindingRule(id="a", about="segment", when="revenue_share > 0", text="{segment}"),
        FindingRule(id="b", about="segment", when="unknown > 0", text="never"),
        FindingRule(id="c", about="segment", when="share / 0 > 1", text="never"),
        FindingRule(id="d", about="segment", text="{missing_name}"),
    ]
    out = findings({"segment": SEGMENTS}, rules)
    assert [f.rule for f in out] == ["a"]  # limit 1 by default


def test_expressions_are_arithmetic_only():
    assert evaluate("a + b * 2 > 3 and not c", {"a": 1, "b": 2, "c": False}) is True
    assert evaluate("1 < a <= 2", {"a": 2}) is True
    for bad in ("__import__('os')", "a.b > 1", "[1][0]", "lambda: 1", "a if b else c"):
        with pytest.raises(ValueError):
            FindingRule(about="x", when=bad, text="t")
    with pytest.raises(ValueError, match="plain names"):
        FindingRule(about="x", text="{a.__class__}")


def test_rules_are_overridable_in_custlens_toml(tmp_path):
    toml = tmp_path / "custlens.toml"
    toml.write_text(
        '[report]\ntop_findings = 3\n[[report.findings]]\nid = "mine"\nabout = "segment"\n'
        'when = "share > 0.2"\ntext = "{segment} is big"\n',
        encoding="utf-8",
    )
    settings = load_settings(toml)
    assert settings.report.top_findings == 3
    assert [r.id for r in settings.report.findings] == ["mine"]
    assert [f.text for f in findings({"segment": SEGMENTS}, settings.report.findings)] == [
        "Lost is big"
    ]
    toml.write_text('[[report.findings]]\nabout = "segment"\nwhen = "open(1)"\ntext = "x"\n')
    with pytest.raises(ConfigError):
        load_settings(toml)


def test_default_rules_are_valid_and_unique():
    cfg = Settings().report
    assert cfg == ReportConfig()
    assert len({r.id for r in cfg.findings}) == len(cfg.findings)


def test_top_findings_rank_across_sections():
    a = Section(
        "a",
        "A",
        findings=tuple(
            findings(
                {"segment": SEGMENTS},
                [
                    FindingRule(
                        about="segment", text="{segment}", importance="revenue_share", limit=3
                    )
                ],
            )
        ),
    )
    b = Section("b", "B")
    assert [f.text for f in top_findings([a, b], 2)] == ["Champions", "Loyal"]


EVIL = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>", "{{7*7}}"]


def _evil_story() -> Story:
    frame = pd.DataFrame({"description": EVIL, "value": [1.0, 2.0, 3.0]})
    spec = {"data": {"values": frame.to_dict("records")}, "mark": "bar", "title": EVIL[1]}
    return Story(
        title=EVIL[0],
        subtitle=EVIL[2],
        sections=(
            Section(
                "s",
                EVIL[1],
                lead=EVIL[2],
                blocks=(
                    Cards((KPI(EVIL[0], EVIL[1], EVIL[2]),)),
                    Table("t", EVIL[0], frame),
                    Chart("c", EVIL[1], spec),
                ),
            ),
        ),
        meta={"source": EVIL[0], "as_of": "2011-12-10"},
    )


def test_html_escapes_every_value_from_the_data():
    html = render_html(_evil_story(), bundle="/* no vega in this test */")
    assert "<img src=x" not in html
    assert "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{7*7}}" in html and "49" not in html  # shown literally, never evaluated
    # the spec's JSON block: no raw <, > or & inside, and it parses back to the same data
    block = re.search(
        r'<script type="application/json" data-chart="[^"]+">(.*?)</script>', html, re.S
    )
    assert block and "<" not in block.group(1) and ">" not in block.group(1)
    assert json.loads(block.group(1))["data"]["values"][1]["description"] == EVIL[1]


def test_script_json_escapes_html_specials():
    assert str(script_json({"a": "</script>&"})) == '{"a":"\\u003c/script\\u003e\\u0026"}'


def test_markdown_escapes_markup():
    md = render_markdown(_evil_story(), images={"c": "figures/c.png"})
    assert not re.search(r"<(img|script|/script)", md)  # only as entities: &lt;img
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert md_text("a|b <x>") == "a\\|b &lt;x&gt;"
    assert "![" in md and "(figures/c.png)" in md
