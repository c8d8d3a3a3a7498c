"""`custlens audit` through the CLI: results on a planted table, and bad input exits 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets.customer_table_demo import customer_table_demo

SEG, METRIC = "profitability_segment", "retention_probability"


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result, (result.stdout or "") + (result.stderr or "")


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "customers.csv"
    customer_table_demo(600, seed=2).to_csv(path, index=False)
    return path


def test_audit_writes_report_matching_an_independent_count(table_csv: Path, tmp_path: Path):
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(table_csv), "--segment", SEG, "--metric", METRIC,
                           "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, text
    df = pd.read_csv(table_csv)
    mean = df.groupby(SEG)[METRIC].transform("mean")
    expected = int(((df[METRIC] - mean).abs() > 0.15).sum())
    n = len(df)  # one row per customer here: rows and customers are both named
    assert f"{expected:,} of {n:,} rows ({expected:,} of {n:,} customers) deviate" in text
    assert (out / "audit.md").is_file()
    assert len(pd.read_csv(out / "anomalies.csv")) == expected


@pytest.mark.parametrize(
    ("mutate", "args", "needle"),
    [
        (lambda d: d, ["--metric", "nope"], "nope"),
        (lambda d: d.assign(retention_probability="high"), [], "high"),
        (lambda d: d.assign(profitability_segment="Only"), [], "one"),
    ],
    ids=["missing metric", "non-numeric metric", "one segment"],
)
def test_audit_bad_input(tmp_path: Path, mutate, args, needle) -> None:
    path = tmp_path / "t.csv"
    mutate(customer_table_demo(100, seed=1)).to_csv(path, index=False)
    out = tmp_path / "audit"
    base = ["audit", str(path), "--segment", SEG, "--metric", METRIC, "--out", str(out)]
    if args:
        base[base.index("--metric") + 1] = args[1]
    result, text = _invoke(*base)
    assert result.exit_code == 2, text
    assert "Traceback" not in text and needle.lower() in text.lower()
    assert not out.exists()


def test_audit_of_more_anomalies_than_a_chart_holds_writes_its_figures(tmp_path: Path):
    """An order log audited by country flags nearly all of its 5,771 lines (the threshold is
    tiny against the quantities): once Altair refused the chart of every anomaly with a
    traceback."""
    from custlens.datasets import synthetic

    data = tmp_path / "orders.parquet"
    synthetic(200, seed=2).orders.to_parquet(data, index=False)
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(data), "--segment", "Country", "--metric", "Quantity",
                           "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, text
    quantity = pd.read_parquet(data).groupby("Country")["Quantity"]
    rows = int(quantity.size().sum())
    flagged = int(
        ((quantity.transform("mean") - pd.read_parquet(data)["Quantity"]).abs() > 0.15).sum()
    )
    assert flagged > 5000  # more anomalies than the chart's 5,000 points
    assert f"{flagged:,} of {rows:,} rows" in text
    assert (out / "deviation.png").stat().st_size > 10_000
    assert f"5,000 of {rows:,} rows" in (out / "audit.html").read_text()


def test_audit_of_an_audits_rows_csv_and_of_a_metric_beyond_float32(
    table_csv: Path, tmp_path: Path
) -> None:
    """rows.csv of an audit holds derived_* columns, which once clashed with the features the
    second audit derives; a finite 1e39 once reached scikit-learn's float32 trees."""
    first = tmp_path / "one"
    result, text = _invoke("audit", str(table_csv), "--segment", SEG, "--metric", METRIC,
                           "--out", str(first))  # fmt: skip
    assert result.exit_code == 0, text
    again = tmp_path / "two"
    result, text = _invoke("audit", str(first / "rows.csv"), "--segment", "segment",
                           "--metric", "metric", "--out", str(again))  # fmt: skip
    assert result.exit_code == 0, text
    assert "Traceback" not in text and "renamed" in (again / "audit.md").read_text()
    big = tmp_path / "big.csv"
    pd.read_csv(table_csv).assign(**{METRIC: lambda d: d[METRIC].where(d.index != 0, 1e39)}).to_csv(
        big, index=False
    )
    result, text = _invoke("audit", str(big), "--segment", SEG, "--metric", METRIC,
                           "--out", str(tmp_path / "three"))  # fmt: skip
    assert result.exit_code == 0, text
    assert "Traceback" not in text
    assert " of 599 rows" in text  # the 1e39 row is left out, as an infinite one is


# customer_id;segment;retention with decimal commas, as exported with a European locale.
# Segment A: 0.50 0.52 0.48 0.90, mean 2.40 / 4 = 0.60, deviations 0.10 0.08 0.12 0.30;
# segment B: 0.20 0.22 0.18 0.60, mean 1.20 / 4 = 0.30, deviations 0.10 0.08 0.12 0.30.
# With --threshold 0.15 the two rows 0.30 away (c4 and c8) are the anomalies.
EUROPEAN = (
    "customer_id;segment;retention\n"
    "c1;A;0,50\nc2;A;0,52\nc3;A;0,48\nc4;A;0,90\n"
    "c5;B;0,20\nc6;B;0,22\nc7;B;0,18\nc8;B;0,60\n"
)


def test_audit_reads_a_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text(EUROPEAN, encoding="utf-8")
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(path), "--segment", "segment", "--metric", "retention",
                           "--delimiter", ";", "--decimal", ",", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, text
    assert "2 of 8 rows (2 of 8 customers) deviate" in text
    anomalies = pd.read_csv(out / "anomalies.csv")
    assert sorted(anomalies["customer_id"]) == ["c4", "c8"]


def test_audit_of_decimal_commas_without_decimal_says_how_to_read_them(tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text(EUROPEAN, encoding="utf-8")
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(path), "--segment", "segment", "--metric", "retention",
                           "--out", str(out))  # fmt: skip
    assert result.exit_code == 2, text
    assert "Traceback" not in text and "'0,50'" in text and "--decimal ," in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("metric", "separator"),
    [("1.250,50", "'.'"), ("1,250.50", "','")],
    ids=["German", "English"],
)
def test_audit_of_thousands_separators_says_what_they_are(
    tmp_path: Path, metric: str, separator: str
) -> None:
    """A metric such as 1.250,50 was refused with 'fix or remove the non-numeric values'
    (--decimal , does not read it either): the fix names the thousands separator."""
    rows = [f"c{i};{'AB'[i % 2]};{metric if i == 1 else '7,5'}" for i in range(1, 9)]
    path = tmp_path / "kunden.csv"
    path.write_text("customer_id;segment;income\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(path), "--segment", "segment", "--metric", "income",
                           "--delimiter", ";", "--decimal", ",", "--out", str(out))  # fmt: skip
    text = " ".join(text.split())
    assert result.exit_code == 2 and "Traceback" not in text, text
    assert f"row 1 holds '{metric}'" in text, text
    assert f"thousands separators ({separator})" in text, text
    assert not out.exists()


@pytest.mark.parametrize(
    ("column", "needles"),
    [
        ("empty", ("'empty' is empty on every row with a 'retention'",)),
        ("score", ("different value on every usable row", "8 values for 8 rows", "'0.11'")),
    ],
    ids=["all empty", "one value per row"],
)
def test_audit_of_a_segment_column_that_segments_nothing(
    tmp_path: Path, column: str, needles: tuple[str, ...]
) -> None:
    """An empty segment column once said it had 'only one value (none)'; a column with a
    value per row (a score picked by mistake) ran and concluded that 'the segmentation is
    consistent' with the metric, each row being the mean of its own one-row segment."""
    rows = [f"c{i},,0.{i}{i},0.{i}" for i in range(1, 9)]
    path = tmp_path / "t.csv"
    path.write_text("customer_id,empty,score,retention\n" + "\n".join(rows) + "\n")
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(path), "--segment", column, "--metric", "retention",
                           "--out", str(out))  # fmt: skip
    text = " ".join(text.split())
    assert result.exit_code == 2 and "Traceback" not in text, text
    for needle in needles:
        assert needle in text, (needle, text)
    assert "(none)" not in text and "consistent" not in text, text
    assert not out.exists()


def test_audit_of_a_true_false_metric_names_its_first_value_plainly(tmp_path: Path) -> None:
    """The message once showed NumPy's repr of the value, 'np.True_'."""
    rows = [f"c{i},{'AB'[i % 2]},{'true' if i % 3 else 'false'}" for i in range(1, 9)]
    path = tmp_path / "t.csv"
    path.write_text("customer_id,segment,churned\n" + "\n".join(rows) + "\n")
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(path), "--segment", "segment", "--metric", "churned",
                           "--out", str(out))  # fmt: skip
    text = " ".join(text.split())
    assert result.exit_code == 2 and "Traceback" not in text, text
    assert "its type is bool (first value True)" in text and "np." not in text, text
    assert not out.exists()


def test_audit_of_columns_whose_first_value_is_infinite(tmp_path: Path) -> None:
    """DuckDB's sniffer reads a column whose first value is inf as text: the audit then tested
    'visits' as a category with levels 'inf', '3', '4' ... instead of leaving the infinite
    values out of a numeric feature."""
    path = tmp_path / "inf.csv"
    path.write_text(
        "customer_id,segment,spend,visits\n"
        "c1,A,inf,inf\nc2,A,11.0,3\nc3,A,12.5,4\nc4,A,30.0,-Infinity\nc5,A,11.5,2\nc6,A,10.0,5\n"
        "c7,B,20.0,6\nc8,B,21.5,1\nc9,B,19.0,7\nc10,B,45.0,2\nc11,B,20.5,3\nc12,B,22.0,4\n",
        encoding="utf-8",
    )
    out = tmp_path / "audit"
    result, text = _invoke("audit", str(path), "--segment", "segment", "--metric", "spend",
                           "--threshold", "5", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, text
    # A without c1: 11.0 12.5 30.0 11.5 10.0, mean 75 / 5 = 15: only 30.0 is more than 5 away;
    # B: 20.0 21.5 19.0 45.0 20.5 22.0, mean 148 / 6 = 24.67: 45.0 (20.33) and 19.0 (5.67)
    assert "3 of 11 rows (3 of 11 customers) deviate" in text
    md = (out / "audit.md").read_text()
    assert "1 rows with an infinite 'spend' were treated as empty" in md
    # c1 is left out with its metric, so of the audited rows only c4's -Infinity is a gap
    assert "visits (1 infinite)" in md
    assert "No categorical column (segment) is associated" in md
