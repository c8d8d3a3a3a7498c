"""Data text in the Markdown files custlens writes (audit.md, profile.md, report.md): no raw
HTML, and a ``|`` or a newline in a column name or a value cannot break a table.

The expected escapes follow the rule in ``custlens.report.markdown_text``: ``|`` -> ``\\|``,
whitespace runs -> one space, ``& < >`` -> ``&amp; &lt; &gt;``."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import custlens
from custlens.audit import audit_segmentation
from custlens.cli import app
from custlens.datasets.customer_profiles import customer_profile_table
from custlens.datasets.customer_table_demo import customer_table_demo
from custlens.report.audit_markdown import write_audit
from custlens.report.markdown_text import md_code, md_table, md_text
from custlens.report.profile_markdown import write_profile

SEG, METRIC = "profitability_segment", "retention_probability"
TAG = re.compile(r"<[A-Za-z/!?]")  # the start of an HTML tag, comment or declaration


def _pipes(line: str) -> int:
    """The number of ``|`` that separate cells (those not escaped by a backslash)."""
    count, escaped = 0, False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            count += 1
    return count


def _tables(md: str) -> list[list[str]]:
    """Each table: its header line and every line after it up to the next blank line."""
    lines = md.splitlines()
    out = []
    for i in range(1, len(lines)):
        if re.fullmatch(r"\|(---\|)+", lines[i]):
            end = next((j for j in range(i + 1, len(lines)) if not lines[j].strip()), len(lines))
            out.append(lines[i - 1 : end])
    return out


def assert_safe_markdown(md: str) -> None:
    assert "<script" not in md.lower()
    assert not TAG.search(md), TAG.search(md)
    tables = _tables(md)
    assert tables
    for table in tables:
        cells = _pipes(table[1])  # the separator row: one more | than columns
        for line in table:
            assert line.startswith("| ") or line == table[1], line
            assert _pipes(line) == cells, line


# -- the helper ----------------------------------------------------------------------------------


def test_md_text_escapes_by_hand():
    assert md_text("a|b\n<script>alert(1)</script>") == (
        "a\\|b &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert md_text("R&D  [x](http://e.vil) *bold* `c`") == (
        "R&amp;D \\[x\\](http://e.vil) \\*bold\\* \\`c\\`"
    )
    assert md_text("total_spend") == "total_spend"  # an underscore inside a word stays
    assert md_text("_x_") == "\\_x\\_"
    assert md_text("# heading") == "\\# heading" and md_text("1. item") == "1\\. item"
    assert md_text("\x1b[31mred") == "\ufffd\\[31mred"  # no terminal escape sequence
    assert md_code("a`b") == "``a`b``"


def test_md_table_keeps_one_cell_per_column():
    frame = pd.DataFrame({"a|b": ["x|y"], "c\nd": ["1\n2"], "<i>": [True]})
    assert md_table(frame) == "| a\\|b | c d | &lt;i&gt; |\n|---|---|---|\n| x\\|y | 1 2 | yes |"
    assert md_table(frame.iloc[:0]) == "_(empty)_"


# -- audit.md ------------------------------------------------------------------------------------

EVIL_SEG = "seg|<script>alert(1)</script>\nment"
EVIL_COL = "ind|ustry\n<script>alert(2)</script>"


def _evil_audit_table() -> pd.DataFrame:
    d = customer_table_demo(200, seed=2).rename(columns={SEG: EVIL_SEG, "industry": EVIL_COL})
    d[EVIL_SEG] = d[EVIL_SEG] + "|<script>alert(3)</script>\nx"
    d[EVIL_COL] = d[EVIL_COL] + "|\n<b>"
    return d


def test_audit_md_escapes_column_names_and_values(tmp_path: Path):
    result = audit_segmentation(_evil_audit_table(), segment=EVIL_SEG, metric=METRIC)
    out = write_audit(result, tmp_path / "audit")
    md = (out / "audit.md").read_text(encoding="utf-8")
    assert_safe_markdown(md)
    # the segment column in the title and the segment "Loss|<script>..." in the table
    assert md.startswith(
        f"# Segmentation audit: {METRIC} by seg\\|&lt;script&gt;alert(1)&lt;/script&gt; ment\n"
    )
    assert "| Loss\\|&lt;script&gt;alert(3)&lt;/script&gt; x | " in md
    html = (out / "audit.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in html and "&lt;script&gt;alert(3)" in html


# -- profile.md ----------------------------------------------------------------------------------

EDU = "Edu|ca\ntion<script>alert(4)</script>"


def test_profile_md_escapes_column_names_and_values(tmp_path: Path):
    table = customer_profile_table(200, seed=1).table.rename(columns={"Education": EDU})
    table[EDU] = table[EDU].replace({"Graduation": "Grad|uation\n<script>alert(5)</script>"})
    result = custlens.profile(table, seed=0)
    out = write_profile(result, tmp_path / "profile", figures="none")
    md = (out / "profile.md").read_text(encoding="utf-8")
    assert_safe_markdown(md)
    assert "| Edu\\|ca tion&lt;script&gt;alert(4)&lt;/script&gt; | categorical | " in md
    assert "Edu\\|ca tion&lt;script&gt;alert(4)&lt;/script&gt;\\_top" in md  # persona header
    assert "| Grad\\|uation &lt;script&gt;alert(5)&lt;/script&gt; |" in md
    html = (out / "profile.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in html


# -- through the CLI, from a CSV file ------------------------------------------------------------


@pytest.mark.parametrize("command", ["audit", "profile"])
def test_cli_markdown_of_a_hostile_csv(tmp_path: Path, command: str):
    """A CSV header cannot hold a newline (the loader refuses it); its values can."""
    if command == "audit":
        table = customer_table_demo(200, seed=3)
        table["seg|<script>x</script>"] = table.pop(SEG) + "|\n<script>alert(6)</script>"
        args = ["--segment", "seg|<script>x</script>", "--metric", METRIC]
    else:
        table = customer_profile_table(200, seed=2).table
        table["Edu|<script>x</script>"] = table.pop("Education") + "|\n<script>alert(7)</script>"
        args = ["--figures", "none"]
    source = tmp_path / "hostile.csv"
    table.to_csv(source, index=False)
    out = tmp_path / "out"
    run = CliRunner().invoke(app, [command, str(source), "--out", str(out), *args])
    assert run.exit_code == 0, run.output
    md = (out / f"{command}.md").read_text(encoding="utf-8")
    assert_safe_markdown(md)
    assert "\\|&lt;script&gt;x&lt;/script&gt;" in md
    assert "\\| &lt;script&gt;alert(" in md
