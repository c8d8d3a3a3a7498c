"""A numeric column whose first value is ``inf``, ``-inf`` or ``Infinity``: DuckDB's sniffer
reads it as text (the same value on a later line gives a number); custlens reads it as numbers,
so that each command handles the value as it handles infinite numbers elsewhere."""

from __future__ import annotations

import math
from pathlib import Path

from custlens.io.options import ReadOptions
from custlens.io.readers import read_table


def _column(path: Path, options: ReadOptions | None = None) -> list:
    frame = read_table(path, options).table.to_pandas()
    return frame["b"].tolist()


def test_a_column_of_nothing_but_infinities_is_numbers_not_dates(tmp_path: Path) -> None:
    # DuckDB sniffs such a column as DATE (its infinite dates), which pandas cannot hold: the
    # profile and the audit stopped with "year 5881580 is out of range"
    path = tmp_path / "t.csv"
    path.write_text("a,b\nx,inf\ny,-inf\nz,\nw,inf\n", encoding="utf-8")
    values = _column(path)
    assert values[:2] == [math.inf, -math.inf] and math.isnan(values[2]) and values[3] == math.inf
    # real dates stay dates; an infinite one among them is a missing date, not a crash
    path.write_text("a,b\nx,2024-01-05\ny,2024-02-01\n", encoding="utf-8")
    assert [str(v)[:10] for v in _column(path)] == ["2024-01-05", "2024-02-01"]
    path.write_text("a,b\nx,2024-01-05\ny,infinity\nz,-infinity\n", encoding="utf-8")
    assert [str(v)[:10] for v in _column(path)] == ["2024-01-05", "NaT", "NaT"]
    path.write_text("a,b\nx,2024-01-05 10:00\ny,infinity\n", encoding="utf-8")
    assert [str(v)[:16] for v in _column(path)] == ["2024-01-05 10:00", "NaT"]


def test_a_first_value_that_is_not_finite_keeps_a_numeric_column_numeric(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    for first, expected in [
        ("inf", math.inf),
        ("-inf", -math.inf),
        ("Infinity", math.inf),
        ('"inf"', math.inf),  # quoted
        (" -Infinity", -math.inf),  # a leading space
        ("1e400", math.inf),  # beyond float64: infinite
    ]:
        path.write_text(f"a,b\nx,{first}\ny,2\nz,3.5\n", encoding="utf-8")
        assert _column(path) == [expected, 2.0, 3.5], first
    path.write_text("a,b\nx,inf\ny,\nz,4\n", encoding="utf-8")  # an empty cell is missing
    values = _column(path)
    assert values[0] == math.inf and math.isnan(values[1]) and values[2] == 4.0
    # with decimal commas too
    path.write_text("a;b\nx;-inf\ny;2,5\n", encoding="utf-8")
    assert _column(path, ReadOptions(decimal=",")) == [-math.inf, 2.5]
    # a column with a word in it stays text, on the first lines or far beyond the sniffer's sample
    path.write_text("a,b\nx,inf\ny,abc\nz,2\n", encoding="utf-8")
    assert _column(path) == ["inf", "abc", "2"]
    lines = ["a,b", "x,inf", *(f"x,{i % 50}" for i in range(30_000)), "x,abc"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    values = _column(path)
    assert values[0] == "inf" and values[-1] == "abc" and len(values) == 30_002
    # a value the CSV reader refuses with --decimal , (a decimal point) keeps the column text
    path.write_text("a;b\nx;inf\ny;1.5\nz;2,5\n", encoding="utf-8")
    assert _column(path, ReadOptions(decimal=",")) == ["inf", "1.5", "2,5"]
