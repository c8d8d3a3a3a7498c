"""The report's sentences say what their numbers count, checked against the CSV files of the run
(recomputed here with pandas, not read from the code that wrote the sentences)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets import synthetic


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("numbers")
    source = base / "orders.parquet"
    synthetic(800, seed=5).orders.to_parquet(source)
    # few rows listed per order rule, so that more pairs are found than the CSV lists
    (base / "custlens.toml").write_text("[anomalies]\nmax_listed = 5\n", encoding="utf-8")
    out = base / "results"
    result = CliRunner().invoke(
        app,
        ["run", str(source), "--out", str(out), "--config", str(base / "custlens.toml"),
         "--figures", "none", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _text(out: Path) -> str:
    markdown = (out / "report.md").read_text(encoding="utf-8").replace("\\", "")  # md escapes
    return " ".join(markdown.split())


def test_found_caption_by_hand():
    from custlens.pipeline.stages.sections import _found_caption

    assert _found_caption(2161, 100) == "2,161 found; the 100 largest are listed (largest first)."
    assert _found_caption(66, 66) == "66 found; the largest first."


def test_cancellation_pairs_say_they_are_lines_and_how_many_the_csv_lists(run: Path):
    import json

    listed = len(pd.read_csv(run / "anomalies" / "cancellation_pairs.csv"))
    found = json.loads((run / "anomalies" / "summary.json").read_text())["cancellation_pairs"]
    assert listed == 5 < found["found"]  # the setting above; more were found
    text = _text(run)
    # before: "N pairs found; the largest first." above a table whose note called its 5 rows
    # "the full table", and a card "Cancelled orders" counting purchase lines
    assert f"{found['found']:,} found; the 5 largest are listed (largest first)." in text
    assert "| Cancelled purchase lines |" in text and "Cancelled orders" not in text
