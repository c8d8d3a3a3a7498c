"""`custlens audit` writes audit.html from the same story renderer as the run's report."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets.customer_table_demo import customer_table_demo

from .browser import open_report


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("audit_html")
    table = customer_table_demo(400, seed=5)
    table.loc[table.index[0], "profitability_segment"] = "<img src=x onerror=alert(3)>"
    source = base / "customers.csv"
    table.to_csv(source, index=False)
    out = base / "audit"
    result = CliRunner().invoke(
        app,
        ["audit", str(source), "--segment", "profitability_segment", "--metric",
         "retention_probability", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_audit_html_is_written_and_escaped(audit_dir):
    html = (audit_dir / "audit.html").read_text(encoding="utf-8")
    assert '<section id="summary"' in html and '<section id="segments"' in html
    assert html.count('data-chart="') >= 2
    assert "<img src=x" not in html


@pytest.mark.slow
def test_audit_html_in_a_real_browser(audit_dir):
    page = open_report(audit_dir / "audit.html")
    assert page.rendered == page.specified == page.svgs >= 2
    assert page.console_errors == [] and page.page_errors == [] and page.requests == []
    assert page.dialogs == []


def test_audit_html_conclusion_has_the_markdowns_paragraphs_and_no_crm_lists(audit_dir):
    html = (audit_dir / "audit.html").read_text(encoding="utf-8")
    md = (audit_dir / "audit.md").read_text(encoding="utf-8")
    conclusion = md.split("## Conclusion\n\n", 1)[1].split("\n\n## ", 1)[0]
    paragraphs = [p for p in conclusion.split("\n\n") if p.strip()]
    assert len(paragraphs) >= 3
    summary = html.split('<section id="summary"', 1)[1].split("</section>", 1)[0]
    # one <p> per Markdown paragraph (the HTML ran them all into one)
    assert summary.count("<p>") == len(paragraphs)
    footer = html.split("<footer>", 1)[1].split("</footer>", 1)[0]
    assert "CRM" not in footer and "customers as of" not in footer
    assert "rows: all rows" in footer or "rows: one row per customer" in footer
