"""Hostile inputs through the CLI: each is read correctly or refused with one clear message
(exit 2, what / where / fix), never a traceback. Every input is generated here."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from custlens.cli import app

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def _rows(n_customers: int = 6, date: str = "2011-01-0{d} 10:00:00") -> list[str]:
    return [
        f"{1000 + c * 10 + d},A{d},Thing,{d},{date.format(d=d)},2.5,{17000 + c},UK"
        for c in range(n_customers)
        for d in range(1, 4)
    ]


def _csv(header: str = HEADER, sep: str = "\n", rows: list[str] | None = None) -> str:
    return sep.join([header, *(rows if rows is not None else _rows())]) + sep


def _invoke(args: list[str]):
    result = CliRunner().invoke(app, args)
    return result, (result.stdout or "") + (result.stderr or "")


def _run(source: str, out: Path, *extra: str):
    return _invoke(
        ["run", source, "--out", str(out), "--analyses", "rfm", "--figures", "none", *extra]
    )


def _refused(result, text: str, out: Path, *needles: str) -> None:
    assert result.exit_code == 2, text + repr(result.exception)
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Where:" in text and "Fix:" in text, text
    for needle in needles:
        assert needle.lower() in text.lower(), (needle, text)
    assert not out.exists()


def _write(tmp: Path, name: str, data: str | bytes) -> str:
    path = tmp / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


def _big_truncated_gzip(tmp: Path) -> str:
    rng = random.Random(0)
    rows = [
        f"{i},A{i % 50},Thing {rng.random():.8f},{i % 7 + 1},2011-01-0{i % 9 + 1} 10:00:00,2.5,"
        f"{17000 + i % 3000},UK"
        for i in range(120_000)
    ]
    data = gzip.compress(_csv(rows=rows).encode())
    return _write(tmp, "big.csv.gz", data[: len(data) * 2 // 3])


# name -> (make the argument list from a folder, words the message must contain)
REFUSED: dict[str, tuple[Callable[[Path], list[str]], tuple[str, ...]]] = {
    "NUL in a header name": (
        lambda p: [_write(p, "nul.csv", _csv(HEADER.replace("CustomerID", "Custo\0merID")))],
        ("NUL", "Custo"),
    ),
    "NUL in another header name": (
        lambda p: [_write(p, "nul2.csv", _csv(HEADER.replace("Country", "\0Country\0")))],
        ("NUL",),
    ),
    "control character in a header name": (
        lambda p: [_write(p, "ctl.csv", _csv(HEADER.replace("Country", "Coun\x01try")))],
        ("control character",),
    ),
    "two-character delimiter": (
        lambda p: [_write(p, "ok.csv", _csv()), "--delimiter", ";;"],
        ("--delimiter", "one character"),
    ),
    "empty delimiter": (
        lambda p: [_write(p, "ok.csv", _csv()), "--delimiter", ""],
        ("--delimiter",),
    ),
    "small truncated gzip": (
        lambda p: [_write(p, "t.csv.gz", gzip.compress(_csv().encode() * 50)[:-60])],
        ("truncated",),
    ),
    "large truncated gzip": (lambda p: [_big_truncated_gzip(p)], ("truncated",)),
    "columns differing only by case": (
        lambda p: [
            _write(p, "case.csv", _csv(HEADER + ",customerid", rows=[r + ",x" for r in _rows()]))
        ],
        ("differ only by case", "customerid"),
    ),
    "columns differing only by a trailing space": (
        lambda p: [
            _write(p, "sp.csv", _csv(HEADER + ",Country ", rows=[r + ",x" for r in _rows()])),
            "--map",
            "country=Country ",
        ],
        ("differ only by case or spaces",),
    ),
    "the same canonical column mapped twice": (
        lambda p: [
            _write(p, "ok.csv", _csv()),
            "--map",
            "customer_id=CustomerID",
            "--map",
            "customer_id=Country",
        ],
        ("customer_id", "twice", "CustomerID", "Country"),
    ),
    "unknown date directive": (
        lambda p: [_write(p, "ok.csv", _csv()), "--date-format", "%Q"],
        ("--date-format", "%Q"),
    ),
    "unknown date directive on a text date column": (
        lambda p: [
            _write(p, "t.csv", _csv(rows=_rows(date="0{d}/01/2011 10:00"))),
            "--date-format",
            "%d/%m/%Q",
        ],
        ("--date-format", "%Q"),
    ),
    "huge horizon": (
        lambda p: [_write(p, "ok.csv", _csv()), "--horizon", "99999999999999999999d"],
        ("--horizon", "3660"),
    ),
    "horizon of eleven years": (
        lambda p: [_write(p, "ok.csv", _csv()), "--horizon", "4000d"],
        ("--horizon",),
    ),
    "struct column mapped as customer id": (
        lambda p: [_parquet(p, "struct", [{"id": "a", "x": 1}, {"id": "b", "x": 2}])],
        ("struct", "cust"),
    ),
    "list column mapped as customer id": (
        lambda p: [_parquet(p, "list", [["a"], ["b"]])],
        ("array", "cust"),
    ),
    "map column mapped as customer id": (
        lambda p: [
            _parquet(p, "map", [[("k", "a")], [("k", "b")]], pa.map_(pa.string(), pa.string()))
        ],
        ("map", "cust"),
    ),
    "bytes column mapped as customer id": (
        lambda p: [_parquet(p, "bytes", [b"a", b"b"])],
        ("binary", "cust"),
    ),
    "only dates in year 9999": (
        lambda p: [_write(p, "y9999.csv", _csv(rows=_rows(date="9999-01-0{d} 10:00:00")))],
        ("implausible_date",),
    ),
    "only dates in year 1": (
        lambda p: [_write(p, "y1.csv", _csv(rows=_rows(date="0001-01-0{d} 10:00:00")))],
        ("implausible_date",),
    ),
    "only NaN prices": (
        lambda p: [_write(p, "nan.csv", _csv(rows=[r.replace(",2.5,", ",nan,") for r in _rows()]))],
        ("invalid_numbers",),
    ),
    "only infinite prices": (
        lambda p: [
            _write(p, "inf.csv", _csv(rows=[r.replace(",2.5,", ",1e400,") for r in _rows()]))
        ],
        ("invalid_numbers",),
    ),
    "markup in a missing path": (lambda p: [str(p / "missing[/x].csv")], ("missing[/x].csv",)),
    "markup in a mapped column": (
        lambda p: [_write(p, "ok.csv", _csv()), "--map", "customer_id=[red]Kunde[/red]"],
        ("[red]Kunde[/red]",),
    ),
    "missing required column: the fix names [mapping.columns]": (
        lambda p: [_write(p, "nocust.csv", _csv(HEADER.replace("CustomerID", "Whatever")))],
        ("[mapping.columns]",),
    ),
    "UTF-16 big-endian": (
        lambda p: [_write(p, "be.csv", b"\xfe\xff" + _csv().encode("utf-16-be"))],
        ("UTF-16", "big-endian"),
    ),
    "UTF-16 big-endian without BOM": (
        lambda p: [_write(p, "be_bare.csv", _csv().encode("utf-16-be"))],
        ("UTF-16", "big-endian"),
    ),
    "markup in a figure format": (
        lambda p: [_write(p, "ok.csv", _csv()), "--figures", "[bold]png"],
        ("[bold]png",),
    ),
}


def _parquet(tmp: Path, name: str, values: list, typ: pa.DataType | None = None) -> str:
    n = 12
    column = pa.array([values[i % len(values)] for i in range(n)], type=typ)
    table = pa.table(
        {
            "cust": column,
            "Date": [f"2011-01-0{i % 9 + 1}" for i in range(n)],
            "Revenue": [10.0] * n,
        }
    )
    path = tmp / f"{name}.parquet"
    pq.write_table(table, path)
    return f"{path}"


@pytest.mark.parametrize("case", list(REFUSED))
def test_hostile_input_is_refused_clearly(case: str, tmp_path: Path) -> None:
    make, needles = REFUSED[case]
    args = make(tmp_path)
    if case.endswith("mapped as customer id"):
        args += ["--map", "customer_id=cust"]
    out = tmp_path / "results"
    result, text = _run(args[0], out, *args[1:])
    _refused(result, text, out, *needles)


# inputs that must be read correctly: name -> bytes of the file
READ: dict[str, Callable[[], bytes]] = {
    "UTF-16 LE with BOM": lambda: _csv().encode("utf-16"),
    "CR-only line endings": lambda: _csv(sep="\r").encode(),
    "CRLF line endings": lambda: _csv(sep="\r\n").encode(),
    "UTF-8 BOM": lambda: b"\xef\xbb\xbf" + _csv().encode(),
    # two trailing delimiters on every line: two columns without a name (column8, column9)
    "two columns without a name": lambda: _csv(
        HEADER + ",,", rows=[r + ",," for r in _rows()]
    ).encode(),
    # NUL at every odd byte of the header: UTF-16 little-endian written without a BOM
    "UTF-16 LE without BOM": lambda: _csv().encode("utf-16-le"),
}


# inputs that must be read correctly with extra flags: name -> (bytes of the file, flags)
READ_WITH: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    # DuckDB reads UTF-16 without a byte-order mark as little-endian; the header names must be
    # read the same way (Python's own UTF-16 decoder refuses such a file)
    "UTF-16 LE without BOM, --encoding utf-16": (
        lambda: _csv().encode("utf-16-le"),
        ("--encoding", "utf-16"),
    ),
    "UTF-16 LE without BOM, gzipped, --encoding utf-16": (
        lambda: gzip.compress(_csv().encode("utf-16-le")),
        ("--encoding", "utf-16"),
    ),
}


@pytest.mark.parametrize("case", [*READ, *READ_WITH])
def test_unusual_encodings_and_line_endings_are_read(case: str, tmp_path: Path) -> None:
    make, flags = READ_WITH[case] if case in READ_WITH else (READ[case], ())
    name = "orders.csv.gz" if "gzipped" in case else "orders.csv"
    source = _write(tmp_path, name, make())
    out = tmp_path / "results"
    result, text = _run(source, out, "-q", *flags)
    assert result.exit_code == 0, text + repr(result.exception)
    import pandas as pd

    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == 6
    assert sorted(customers["frequency"]) == [3] * 6
    assert customers["monetary"].sum() == pytest.approx(6 * 2.5 * (1 + 2 + 3))


def test_generate_refuses_an_absurd_number_of_customers(tmp_path: Path) -> None:
    out = tmp_path / "orders.parquet"
    result, text = _invoke(
        ["generate", "--customers", "99999999999999999999999", "--out", str(out)]
    )
    _refused(result, text, out, "--customers")
    assert list(tmp_path.iterdir()) == []  # no hidden temporary file either


def test_square_brackets_in_a_source_are_printed_literally(tmp_path: Path) -> None:
    (tmp_path / "orders[").mkdir()
    source = _write(tmp_path, "orders[/x].csv", _csv())  # the folder "orders[", file "x].csv"
    out = tmp_path / "res[bold]ults"
    result, text = _run(source, out)
    assert result.exit_code == 0, text + repr(result.exception)
    assert "res[bold]ults" in text
