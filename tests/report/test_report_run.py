"""The report through the whole run: hostile data, the CLI commands, a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets import synthetic

from .browser import open_report

EVIL_DESC = "<img src=x onerror=alert(1)>"
EVIL_ID = "</script><script>alert(2)</script>"
EVIL_TITLE = "{{7*191}} <b>report</b>"  # 1337 if a template ever evaluated it


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """A full run on synthetic orders whose largest order and cancellation carry hostile text."""
    base = tmp_path_factory.mktemp("hostile")
    orders = synthetic(400, seed=3).orders.copy()
    orders["CustomerID"] = orders["CustomerID"].map(lambda v: None if v != v else str(int(v)))
    orders.loc[orders.index[:40], "Description"] = EVIL_DESC
    big = orders.loc[orders["CustomerID"].notna()].iloc[[0]].copy()
    big = big.assign(
        CustomerID=EVIL_ID,
        Quantity=80_000,
        UnitPrice=2.0,
        InvoiceNo="999001",
        Description=EVIL_DESC,
        StockCode="EVIL1",
    )
    cancel = big.assign(
        InvoiceNo="C999002", Quantity=-80_000, InvoiceDate=big["InvoiceDate"] + pd_minutes(90)
    )
    import pandas as pd

    orders = pd.concat([orders, big, cancel], ignore_index=True)
    source = base / "orders.csv"
    orders.to_csv(source, index=False)
    (base / "custlens.toml").write_text(f'[report]\ntitle = "{EVIL_TITLE}"\n', encoding="utf-8")
    out = base / "results"
    result = CliRunner().invoke(
        app, ["run", str(source), "--out", str(out), "--config", str(base / "custlens.toml")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Report:")
    return out


def pd_minutes(n: int):
    import pandas as pd

    return pd.Timedelta(minutes=n)


def test_run_writes_both_reports(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    md = (hostile_run / "report.md").read_text(encoding="utf-8")
    for section in (
        "summary",
        "quality",
        "segments",
        "personas",
        "anomalies",
        "timing",
        "predictions",
    ):
        assert f'<section id="{section}"' in html
        assert f'<a id="{section}"></a>' in md
    for image in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (hostile_run / image).is_file()
    # nothing to fetch: no http(s) URL is loaded by the page (specs may name schemas as text)
    assert not re.search(r'(src|href)="https?:', html)
    assert html.count('data-chart="') == html.count('class="chart-target"')


def test_hostile_values_are_escaped_in_the_file(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert EVIL_DESC not in html and "<script>alert(2)" not in html and "<b>report" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text
    # the title is shown literally (escaped), never evaluated as a template
    assert "{{7*191}} &lt;b&gt;report" in html and "1337 &lt;b&gt;report" not in html


def test_report_command_rerenders_without_recomputing(hostile_run):
    before = json.loads((hostile_run / "run.json").read_text(encoding="utf-8"))
    html, md = ((hostile_run / f"report.{x}").read_bytes() for x in ("html", "md"))
    (hostile_run / "report.html").unlink()
    result = CliRunner().invoke(app, ["report", str(hostile_run)])
    assert result.exit_code == 0, result.output
    assert (hostile_run / "report.html").is_file()
    assert json.loads((hostile_run / "run.json").read_text(encoding="utf-8")) == before
    # the same report as the run's (the tables were listed in another order before)
    assert (hostile_run / "report.html").read_bytes() == html
    assert (hostile_run / "report.md").read_bytes() == md


def test_rfm_only_run_says_why_each_stage_is_missing(tmp_path):
    source = tmp_path / "orders.csv"
    synthetic(150, seed=1).orders.to_csv(source, index=False)
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(source),
            "--out",
            str(tmp_path / "r"),
            "--analyses",
            "rfm",
            "--figures",
            "none",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    for stage in ("personas", "anomalies", "timing", "predictions"):
        assert f"add {stage} to --analyses" in md


@pytest.mark.slow
def test_report_in_a_real_browser(hostile_run):
    page = open_report(hostile_run / "report.html")
    assert page.requests == []  # every request other than the file itself would be blocked
    assert page.specified > 10 and page.rendered == page.specified == page.svgs
    assert page.console_errors == [] and page.page_errors == []
    assert page.dialogs == []  # no injected script ran
    assert page.sorted_ok is True
    assert page.row_counts and all(
        text == (f"{n} row" if n == 1 else f"{n} rows") for text, n in page.row_counts
    ), page.row_counts
    assert EVIL_DESC in page.text  # the hostile description is shown as text
    assert "{{7*191}}" in page.text


@pytest.mark.slow
def test_online_retail_report_in_a_browser(online_retail_run, tmp_path):
    # the session's one default run of Online Retail (tests/conftest.py)
    assert online_retail_run.returncode == 0, online_retail_run.stderr[-3000:]
    out = online_retail_run.out
    size = (out / "report.html").stat().st_size
    assert size <= 3_000_000, size
    page = open_report(
        out / "report.html", shots=tmp_path / "shots", sections=("segments", "personas")
    )
    assert page.rendered == page.specified == page.svgs > 10
    assert page.console_errors == [] and page.page_errors == [] and page.requests == []
    assert page.sorted_ok is True
    for name in ("report-top.png", "report-segments.png", "report-personas.png"):
        assert (tmp_path / "shots" / name).stat().st_size > 10_000
