"""``io.load`` on every supported format; expected values are written by hand next to the input."""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custlens.config import MappingConfig
from custlens.io import ReadOptions
from custlens.io.load import load
from custlens.io.readers import read_table

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n",
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,,United Kingdom\n",
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n",
]
EXPECTED = [  # by hand from LINES: amount = quantity * unit price
    {"customer_id": "17850", "order_id": "536365", "order_ts": datetime(2010, 12, 1, 8, 26),
     "product_id": "85123A", "quantity": 6.0, "unit_price": 2.55, "amount": 15.3},
    {"customer_id": None, "order_id": "536366", "order_ts": datetime(2010, 12, 1, 8, 28),
     "product_id": "22633", "quantity": 6.0, "unit_price": 1.85, "amount": 11.1},
    {"customer_id": "14527", "order_id": "C536379", "order_ts": datetime(2010, 12, 1, 9, 41),
     "product_id": "D", "quantity": -1.0, "unit_price": 27.5, "amount": -27.5},
]  # fmt: skip


def rows(source, order: str = "order_ts") -> list[dict]:
    return source.table.order_by([order, "order_id"]).to_pyarrow().to_pylist()


def assert_rows(actual: list[dict], expected: list[dict]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value), key
            else:
                assert got[key] == value, key


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_online_retail_layout(tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", HEADER + "".join(LINES))
    before = path.read_bytes()
    src = load(path)
    assert src.rows == 3
    assert src.mapping["customer_id"] == "CustomerID"
    assert any("online_retail" in n for n in src.notes)
    assert_rows(rows(src), EXPECTED)
    assert src.sha256 == hashlib.sha256(before).hexdigest()
    assert path.read_bytes() == before  # never modified
    schema = dict(src.table.schema().items())
    assert str(schema["customer_id"]).startswith("String") or schema["customer_id"].is_string()
    assert schema["order_ts"].is_timestamp()
    assert all(schema[c].is_float64() for c in ("quantity", "unit_price", "amount"))
    assert list(src.table.columns) == [
        "customer_id", "order_id", "order_ts", "product_id", "description", "quantity",
        "unit_price", "amount", "country",
    ]  # fmt: skip


def test_csv_gz(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    with gzip.open(path, "wb") as fh:
        fh.write((HEADER + "".join(LINES)).encode())
    src = load(path)
    assert_rows(rows(src), EXPECTED)


def test_float_customer_ids_become_integers(tmp_path: Path) -> None:
    text = HEADER + "".join(LINES).replace(",17850,", ",17850.0,").replace(",14527,", ",14527.0,")
    src = load(write(tmp_path / "orders.csv", text))
    assert [r["customer_id"] for r in rows(src)] == ["17850", None, "14527"]


@pytest.mark.parametrize(
    ("sep", "name"), [(";", "orders.csv"), ("\t", "orders.tsv"), ("\t", "o.csv"), ("|", "o.csv")]
)
def test_other_delimiters(tmp_path: Path, sep: str, name: str) -> None:
    text = (HEADER + "".join(LINES)).replace(",", sep)
    assert_rows(rows(load(write(tmp_path / name, text))), EXPECTED)


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    text = (
        "Kunde;Datum;Menge;Preis\n"
        "K1;01.03.2021;2;2,55\n"
        "K1;01.03.2021;1;1.234,50\n"
        "K2;15.03.2021;3;10\n"
    )
    src = load(write(tmp_path / "umsatz.csv", text))
    got = rows(src, order="customer_id")
    assert [r["unit_price"] for r in got] == pytest.approx([2.55, 1234.5, 10.0])
    assert [r["amount"] for r in got] == pytest.approx([5.1, 1234.5, 30.0])
    assert got[2]["order_ts"] == datetime(2021, 3, 15)
    assert any("decimal commas" in n for n in src.notes)


def test_latin1_file_keeps_the_pound_sign(tmp_path: Path) -> None:
    line = "536370,GIFT_0001_40,Dotcomgiftshop Gift Voucher £40.00,1,2010-12-01 08:45:00,34.04,12583,France\n"
    path = write(tmp_path / "latin.csv", HEADER + "".join(LINES) + line, encoding="latin-1")
    src = load(path)
    descriptions = {r["description"] for r in rows(src)}
    assert "Dotcomgiftshop Gift Voucher £40.00" in descriptions
    assert any("Latin-1" in n for n in src.notes)


def test_parquet(tmp_path: Path) -> None:
    table = pa.table({
        "customer_id": ["a", "b"], "date": pa.array([datetime(2020, 1, 2), datetime(2020, 1, 3)]),
        "amount": [10.0, 5.5],
    })  # fmt: skip
    pq.write_table(table, tmp_path / "o.parquet")
    src = load(tmp_path / "o.parquet")
    assert src.rows == 2
    assert_rows(rows(src), [
        {"customer_id": "a", "order_ts": datetime(2020, 1, 2), "amount": 10.0, "quantity": 1.0,
         "unit_price": 10.0, "order_id": "a|2020-01-02"},
        {"customer_id": "b", "order_ts": datetime(2020, 1, 3), "amount": 5.5, "quantity": 1.0,
         "unit_price": 5.5, "order_id": "b|2020-01-03"},
    ])  # fmt: skip


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, data in sheets.items():
        ws = wb.create_sheet(name)
        for row in data:
            ws.append(row)
    wb.save(path)
    return path


II_HEADER = [
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
]
SHEET_2009 = [
    II_HEADER,
    [
        489434,
        "85048",
        "15CM CHRISTMAS GLASS BALL",
        12,
        datetime(2009, 12, 1, 7, 45),
        6.95,
        13085,
        "United Kingdom",
    ],
]
SHEET_2010 = [
    II_HEADER,
    [536365, "85123A", "WHITE HANGING HEART", 6, datetime(2010, 12, 1, 8, 26), 2.55, 17850, "United Kingdom"],
    ["C536379", "D", "Discount", -1, datetime(2010, 12, 1, 9, 41), 27.5, None, "United Kingdom"],
]  # fmt: skip


def test_xlsx_sheets_with_the_same_header_are_concatenated(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "online_retail_II.xlsx", {
        "Year 2009-2010": SHEET_2009, "Year 2010-2011": SHEET_2010,
        "Notes": [["about"], ["exported by hand"]],
    })  # fmt: skip
    src = load(path)
    assert src.rows == 3
    assert src.mapping["customer_id"] == "Customer ID"
    assert_rows(rows(src), [
        {"order_id": "489434", "customer_id": "13085", "order_ts": datetime(2009, 12, 1, 7, 45),
         "product_id": "85048", "quantity": 12.0, "unit_price": 6.95, "amount": 83.4},
        {"order_id": "536365", "customer_id": "17850", "amount": 15.3},
        {"order_id": "C536379", "customer_id": None, "amount": -27.5},
    ])  # fmt: skip
    assert any("'Notes'" in n and "skipped" in n for n in src.notes)


def test_xlsx_sheet_option_reads_one_sheet(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "o.xlsx", {"Year 2009-2010": SHEET_2009, "Year 2010-2011": SHEET_2010}
    )
    src = load(path, options=ReadOptions(sheet="Year 2010-2011"))
    assert src.rows == 2
    assert [r["order_id"] for r in rows(src)] == ["536365", "C536379"]


def test_xlsx_text_dates_in_uci_export_layout(tmp_path: Path) -> None:
    data = [
        ["CustomerID", "InvoiceDate", "Sales"],
        [12346, "12/1/2010 8:26", 1.5],
        [12347, "12/13/2010 17:05", 2.0],
    ]
    src = load(_workbook(tmp_path / "o.xlsx", {"Sheet1": data}))
    assert [r["order_ts"] for r in rows(src)] == [
        datetime(2010, 12, 1, 8, 26),
        datetime(2010, 12, 13, 17, 5),
    ]


def test_json_lines(tmp_path: Path) -> None:
    text = (
        '{"user_id": 7, "order_date": "2021-05-01T10:00:00", "order_no": "A1", "revenue": 12.5}\n'
        '{"user_id": 8, "order_date": "2021-05-02T11:30:00", "order_no": "A2", "revenue": 3}\n'
    )
    src = load(write(tmp_path / "o.jsonl", text))
    assert_rows(rows(src), [
        {"customer_id": "7", "order_id": "A1", "order_ts": datetime(2021, 5, 1, 10), "amount": 12.5},
        {"customer_id": "8", "order_id": "A2", "order_ts": datetime(2021, 5, 2, 11, 30), "amount": 3.0},
    ])  # fmt: skip


def test_headerless_whitespace_log_like_cdnow(tmp_path: Path) -> None:
    text = "00001 19970101  1  11.77\n00002 19970112  1  12.00\n   00002   19970112 5  77.00\n\n00003 19970102  2  20.76\n"
    path = write(tmp_path / "CDNOW_master.txt", text)
    src = load(
        path,
        options=ReadOptions(no_header=True, columns=["customer_id", "date", "quantity", "amount"]),
    )
    assert src.rows == 4
    got = rows(src, order="customer_id")
    assert_rows(got, [
        {"customer_id": "00001", "order_ts": datetime(1997, 1, 1), "quantity": 1.0, "amount": 11.77,
         "unit_price": 11.77, "order_id": "00001|1997-01-01"},
        {"customer_id": "00002", "order_ts": datetime(1997, 1, 12), "quantity": 1.0, "amount": 12.0},
        {"customer_id": "00002", "order_ts": datetime(1997, 1, 12), "quantity": 5.0, "amount": 77.0,
         "unit_price": 15.4},
        {"customer_id": "00003", "order_ts": datetime(1997, 1, 2), "quantity": 2.0, "amount": 20.76,
         "unit_price": 10.38},
    ])  # fmt: skip
    assert any("order_id derived" in n for n in src.notes)


def test_integer_dates_in_a_csv(tmp_path: Path) -> None:
    src = load(write(tmp_path / "c.csv", "customer_id,date,amount\n1,19970101,2.5\n2,19971231,3\n"))
    assert [r["order_ts"] for r in rows(src)] == [datetime(1997, 1, 1), datetime(1997, 12, 31)]


def test_sqlite_table(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (client_id INTEGER, created_at TEXT, total REAL)")
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            [(1, "2022-01-05 10:00:00", 9.5), (2, "2022-01-06 11:00:00", 20.0)],
        )
        db.execute("CREATE TABLE other (x INTEGER)")
    db.close()
    before = path.read_bytes()
    src = load(path, options=ReadOptions(table="orders"))
    assert_rows(rows(src), [
        {"customer_id": "1", "order_ts": datetime(2022, 1, 5, 10), "amount": 9.5},
        {"customer_id": "2", "order_ts": datetime(2022, 1, 6, 11), "amount": 20.0},
    ])  # fmt: skip
    assert src.sha256 is None
    assert path.read_bytes() == before
    assert rows(load(f"sqlite://{path}", options=ReadOptions(table="orders")))[1]["amount"] == 20.0


def test_duckdb_file_table(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE sales (customer VARCHAR, ts TIMESTAMP, qty INTEGER, price DOUBLE)")
    db.execute(
        "INSERT INTO sales VALUES ('x', TIMESTAMP '2023-02-01 09:00:00', 2, 1.25), "
        "('y', TIMESTAMP '2023-02-02 09:00:00', 4, 0.5)"
    )
    db.close()
    src = load(path, options=ReadOptions(table="sales"))
    assert_rows(rows(src), [
        {"customer_id": "x", "quantity": 2.0, "unit_price": 1.25, "amount": 2.5},
        {"customer_id": "y", "quantity": 4.0, "unit_price": 0.5, "amount": 2.0},
    ])  # fmt: skip
    assert src.table.count().execute() == 2
    via_url = load(f"duckdb://{path}?read_only=true", options=ReadOptions(table="sales"))
    assert via_url.rows == 2


def test_pandas_dataframe_with_float_ids(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "CustomerID": [17850.0, float("nan"), 13047.0],
        "InvoiceDate": pd.to_datetime(["2010-12-01 08:26", "2010-12-01 08:28", "2010-12-01 08:34"]),
        "Amount": [15.3, 11.1, 54.08],
    })  # fmt: skip
    src = load(frame)
    assert [r["customer_id"] for r in rows(src)] == ["17850", None, "13047"]
    assert src.rows == 3
    odd = pd.DataFrame(
        {"customer": [-3.0, 1.5, 1e20], "date": ["2020-01-01"] * 3, "amount": [1.0, 2.0, 3.0]}
    )
    got = sorted(load(odd).table.to_pyarrow().to_pylist(), key=lambda r: r["amount"])
    assert [r["customer_id"] for r in got[:2]] == ["-3", "1.5"]
    assert got[2]["customer_id"] is not None  # too large for int64: written as a float, no error


def test_arrow_and_ibis_tables() -> None:
    data = pa.table({"customer": ["a"], "date": ["2020-02-03"], "value": [4.0]})
    assert rows(load(data))[0]["order_ts"] == datetime(2020, 2, 3)
    con = ibis.duckdb.connect()
    con.con.register("t_orders", data)
    table = con.table("t_orders")
    src = load(table)
    assert src.con is con
    assert rows(src)[0]["amount"] == 4.0


@pytest.mark.parametrize(
    ("values", "date_format", "expected", "note"),
    [
        # UCI export: month-first, proven by a day above 12 in second position
        (["12/1/2010 8:26", "12/13/2010 17:05"], None, [datetime(2010, 12, 1, 8, 26), datetime(2010, 12, 13, 17, 5)], None),
        # day-first, proven by 13 in first position
        (["13/01/2011", "02/03/2011"], None, [datetime(2011, 1, 13), datetime(2011, 3, 2)], None),
        # ambiguous: day-first by rule, with a note
        (["01/02/2011", "03/04/2011"], None, [datetime(2011, 2, 1), datetime(2011, 4, 3)], "day-first was assumed"),
        # ambiguous, decided by --date-format
        (["01/02/2011", "03/04/2011"], "%m/%d/%Y", [datetime(2011, 1, 2), datetime(2011, 3, 4)], None),
        (["24.12.2020 18:30", "01.01.2021 00:05"], None, [datetime(2020, 12, 24, 18, 30), datetime(2021, 1, 1, 0, 5)], None),
        (["2021-03-04T05:06:07Z", "2021-03-04 05:06"], None, [datetime(2021, 3, 4, 5, 6, 7), datetime(2021, 3, 4, 5, 6)], None),
        (["12/1/2010 8:26 PM", "12/13/2010 12:05 AM"], None, [datetime(2010, 12, 1, 20, 26), datetime(2010, 12, 13, 0, 5)], None),
        (["01-Dec-2010", "02-Jan-2011"], None, [datetime(2010, 12, 1), datetime(2011, 1, 2)], None),
        (["2010/12/01 08:26", "2011/01/02"], None, [datetime(2010, 12, 1, 8, 26), datetime(2011, 1, 2)], None),
    ],
)  # fmt: skip
def test_date_layouts(tmp_path: Path, values, date_format, expected, note) -> None:
    text = "customer_id,date,amount\n" + "".join(f"c{i},{v},1\n" for i, v in enumerate(values))
    src = load(write(tmp_path / "d.csv", text), options=ReadOptions(date_format=date_format))
    got = sorted(src.table.to_pyarrow().to_pylist(), key=lambda r: r["customer_id"])
    assert [r["order_ts"] for r in got] == expected
    if note:
        assert any(note in n for n in src.notes)


def test_amount_only_derives_unit_price_and_zero_quantity_gives_null(tmp_path: Path) -> None:
    text = "customer_id,order_id,date,quantity,amount\na,o1,2020-01-01,4,10\na,o2,2020-01-02,0,5\n"
    got = rows(load(write(tmp_path / "a.csv", text)))
    assert got[0]["unit_price"] == pytest.approx(2.5)
    assert got[1]["unit_price"] is None
    assert [r["order_id"] for r in got] == ["o1", "o2"]


def test_both_amount_and_unit_price_are_kept(tmp_path: Path) -> None:
    text = "customer_id,date,quantity,price,amount\na,2020-01-01,2,3.0,5.0\n"
    got = rows(load(write(tmp_path / "a.csv", text)))[0]
    assert (got["quantity"], got["unit_price"], got["amount"]) == (2.0, 3.0, 5.0)


def test_overrides_map_german_columns(tmp_path: Path) -> None:
    text = "Nr,Kunde,Zeit,Umsatz,Land\n1,K-9,2021-01-01 10:00,99.5,DE\n"
    cfg = MappingConfig(columns={"order_id": "Nr", "order_ts": "Zeit", "amount": "Umsatz"})
    src = load(write(tmp_path / "k.csv", text), mapping=cfg)
    assert src.mapping == {
        "customer_id": "Kunde",
        "order_id": "Nr",
        "order_ts": "Zeit",
        "amount": "Umsatz",
        "country": "Land",
    }
    got = rows(src)[0]
    assert (got["customer_id"], got["order_id"], got["amount"], got["country"]) == (
        "K-9",
        "1",
        99.5,
        "DE",
    )


def test_empty_strings_become_null_ids(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"customer": ["  ", "x", ""], "date": ["2020-01-01"] * 3, "amount": [1.0, 2.0, 3.0]}
    )
    got = sorted(load(frame).table.to_pyarrow().to_pylist(), key=lambda r: r["amount"])
    assert [r["customer_id"] for r in got] == [None, "x", None]


def test_type_sniffed_from_early_rows_is_rechecked(tmp_path: Path) -> None:
    # 30,000 numeric descriptions, then text: DuckDB's sample would call the column BIGINT
    body = "".join(f"c{i % 7},2020-01-01,{i},1.5\n" for i in range(30_000))
    text = "customer_id,date,description,amount\n" + body + "c1,2020-01-02,a text value,2.5\n"
    src = load(write(tmp_path / "late.csv", text))
    assert src.rows == 30_001
    last = src.table.filter(src.table.order_ts == datetime(2020, 1, 2)).to_pyarrow().to_pylist()
    assert last[0]["description"] == "a text value"


def test_read_table_keeps_source_names_for_customer_tables(tmp_path: Path) -> None:
    path = write(tmp_path / "customers.csv", "customer,recency_days,monetary\n1,10,99.5\n2,300,5\n")
    raw = read_table(path)
    assert list(raw.table.columns) == ["customer", "recency_days", "monetary"]
    assert raw.rows == 2 and raw.kind == "csv"
    # independent check with plain DuckDB SQL on the same file
    expected = duckdb.sql(f"SELECT sum(monetary) FROM read_csv('{path}')").fetchall()[0][0]
    assert raw.table.monetary.sum().execute() == pytest.approx(expected)


def test_online_retail_real_data(online_retail_path: Path) -> None:
    src = load(online_retail_path)
    assert src.rows == 541_909
    assert src.table.count().execute() == 541_909
    assert any("preset 'online_retail'" in n for n in src.notes)
    # SOURCE.md: 4,372 customers, 25,900 invoices, 135,080 lines without a customer
    t = src.table
    stats = t.aggregate(
        customers=t.customer_id.nunique(), invoices=t.order_id.nunique(),
        missing=t.customer_id.isnull().sum(),
    ).to_pyarrow().to_pylist()[0]  # fmt: skip
    assert stats == {"customers": 4372, "invoices": 25900, "missing": 135080}
    # an independent computation of total amount with plain DuckDB SQL
    expected = duckdb.sql(
        f"SELECT sum(Quantity * UnitPrice) FROM read_csv('{online_retail_path}')"
    ).fetchall()[0][0]
    assert t.amount.sum().execute() == pytest.approx(expected, rel=1e-9)


PORTABLE_CASES = [  # value, Python strptime formats that define the expected result
    ("12/13/2010 8:26 PM", "%m/%d/%Y", ["%m/%d/%Y %I:%M %p"]),
    ("2/29/2012 12:00:00 AM", "%m/%d/%Y", ["%m/%d/%Y %I:%M:%S %p"]),
    ("2/30/2012", "%m/%d/%Y", ["%m/%d/%Y"]),
    ("1/2/2011", "%d/%m/%Y", ["%d/%m/%Y"]),
    ("31/04/2011 10:00", "%d/%m/%Y", ["%d/%m/%Y %H:%M"]),
    ("2011-03-04T05:06:07", "%Y-%m-%d", ["%Y-%m-%dT%H:%M:%S"]),
    ("2011-03-04 25:06", "%Y-%m-%d", ["%Y-%m-%d %H:%M"]),
    ("19970101", "%Y%m%d", ["%Y%m%d"]),
    ("19971301", "%Y%m%d", ["%Y%m%d"]),
    ("24.12.2020 18:30", "%d.%m.%Y", ["%d.%m.%Y %H:%M"]),
    ("01-Dec-2010 10:00", "%d-%b-%Y", ["%d-%b-%Y %H:%M"]),
    ("29/02/00", "%d/%m/%y", ["%d/%m/%y"]),
]


def test_portable_date_parser_agrees_with_python_strptime() -> None:
    """The regex parser (used on engines without strptime lists, e.g. PySpark) and DuckDB's
    strptime path both give what Python's datetime.strptime gives, or null where it fails."""
    from custlens.io.date_formats import BUILTIN_LAYOUTS, parse_expr, parse_expr_duckdb

    layouts = {lay.label.split(" [")[0]: lay for lay in BUILTIN_LAYOUTS}
    table = ibis.memtable({"s": [value for value, _, _ in PORTABLE_CASES]})
    columns = {}
    for i, (value, label, _) in enumerate(PORTABLE_CASES):
        columns[f"regex{i}"] = parse_expr(table.s, layouts[label])[0]
        columns[f"fast{i}"] = parse_expr_duckdb(table.s, layouts[label], [value])[0]
    result = ibis.duckdb.connect().to_pyarrow(table.select(**columns)).to_pylist()
    for i, (value, _, formats) in enumerate(PORTABLE_CASES):
        expected = None
        for fmt in formats:
            try:
                expected = datetime.strptime(value, fmt)
            except ValueError:
                continue
        assert (result[i][f"regex{i}"], result[i][f"fast{i}"]) == (expected, expected), value


def test_given_duckdb_connection_is_used(tmp_path: Path) -> None:
    con = ibis.duckdb.connect()
    csv = write(tmp_path / "o.csv", "customer_id,date,amount\na,2020-01-01,2\n")
    assert load(csv, con=con).con is con
    path = tmp_path / "wh.duckdb"
    db = duckdb.connect(str(path))
    db.execute(
        "CREATE TABLE o AS SELECT 'a' AS customer, TIMESTAMP '2020-01-01 10:00:00' AS ts, 2.0 AS amount"
    )
    db.close()
    src = load(
        path, con=con, options=ReadOptions(table="o")
    )  # attached read-only to the given connection
    assert src.con is con
    assert rows(src)[0]["order_ts"] == datetime(2020, 1, 1, 10)


def test_whitespace_log_with_a_header_line(tmp_path: Path) -> None:
    path = write(tmp_path / "log.dat", "cust_id  date   value\n1 20200101 3.5\n2   20200102 4\n")
    got = rows(load(path), order="customer_id")
    assert [(r["customer_id"], r["order_ts"], r["amount"]) for r in got] == [
        ("1", datetime(2020, 1, 1), 3.5),
        ("2", datetime(2020, 1, 2), 4.0),
    ]
