"""Bad input to ``io.load`` gives the right ``CustlensError`` naming file, column, row and fix."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from custlens.config import MappingConfig
from custlens.errors import ConfigError, CustlensError, InputError, MappingError
from custlens.io import ReadOptions
from custlens.io.load import load
from custlens.io.readers import read_table


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_unparseable_date_names_file_column_row_value(tmp_path: Path) -> None:
    path = write(
        tmp_path / "o.csv",
        "customer_id,date,amount\na,2021-01-05,1\nb,2021-01-06,2\nc,yesterday,3\nd,2021-01-07,4\n",
    )
    with pytest.raises(InputError) as info:
        load(path)
    text = str(info.value)
    assert str(path) in text
    assert "'date'" in text and "data row 3" in text and "'yesterday'" in text
    assert "--date-format" in text


def test_impossible_calendar_date_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer_id,date,amount\na,30/01/2011,1\nb,31/02/2011,2\n")
    with pytest.raises(InputError, match=r"data row 2 has '31/02/2011'"):
        load(path)


def test_date_format_that_does_not_match(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer_id,date,amount\na,05/01/2021,1\nb,06.01.2021,1\n")
    with pytest.raises(InputError, match=r"data row 2 .*does not match --date-format '%d/%m/%Y'"):
        load(path, options=ReadOptions(date_format="%d/%m/%Y"))


def test_unsupported_date_format_directive(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer_id,date,amount\na,05/01/2021,1\n")
    with pytest.raises(InputError, match=r"directive %Q is not supported"):
        load(path, options=ReadOptions(date_format="%d/%m/%Q"))


def test_late_bad_date_is_found_past_the_sample(tmp_path: Path) -> None:
    body = "".join(f"c{i},2021-01-05 10:00,1\n" for i in range(5000))
    path = write(tmp_path / "o.csv", "customer_id,date,amount\n" + body + "x,2021-13-01 10:00,1\n")
    with pytest.raises(InputError, match=r"data row 5001 has '2021-13-01 10:00'"):
        load(path)


def test_text_in_a_price_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "o.csv",
        "customer_id,date,quantity,price\na,2021-01-05,1,2.5\nb,2021-01-05,1,abc\nc,2021-01-05,1,3\n",
    )
    with pytest.raises(InputError) as info:
        load(path)
    text = str(info.value)
    assert "'price'" in text and "unit_price" in text
    assert "data row 2" in text and "'abc'" in text and str(path) in text


def test_text_in_a_numeric_column_after_many_rows(tmp_path: Path) -> None:
    body = "".join(f"c{i},2021-01-05,{i % 9 + 1}.25\n" for i in range(25_000))
    path = write(tmp_path / "o.csv", "customer_id,date,amount\n" + body + "z,2021-01-05,n/a\n")
    with pytest.raises(InputError, match=r"'amount'.*data row 25001 has 'n/a'"):
        load(path)


def test_mixed_decimal_styles_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path / "o.csv", "customer_id;date;amount\na;2021-01-05;2,55\nb;2021-01-05;1.5\n"
    )
    with pytest.raises(InputError, match=r"'amount'.*data row"):
        load(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path / "o.csv", ""))
    with gzip.open(tmp_path / "o.csv.gz", "wb") as fh:
        fh.write(b"")
    with pytest.raises(InputError, match="empty"):
        load(tmp_path / "o.csv.gz")


def test_header_only_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no data rows"):
        load(write(tmp_path / "o.csv", "customer_id,date,amount\n"))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist") as info:
        load(tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)
    with pytest.raises(InputError, match="directory"):
        load(tmp_path)


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"Unsupported file type '\.docx'"):
        load(write(tmp_path / "o.docx", "x"))


def test_unknown_excel_sheet_lists_the_sheets(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Year 2009-2010"
    wb.active.append(["customer_id", "date", "amount"])
    wb.create_sheet("Year 2010-2011")
    wb.save(tmp_path / "o.xlsx")
    with pytest.raises(InputError) as info:
        load(tmp_path / "o.xlsx", options=ReadOptions(sheet="2011"))
    text = str(info.value)
    assert "'2011'" in text and "Year 2009-2010" in text and "Year 2010-2011" in text
    assert "--sheet" in text


def _workbook_with_rows(path: Path, rows: list[list], merge: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    if merge:
        wb.active.merge_cells(merge)
    wb.save(path)
    return path


_NAMES = ["customer_id", "segment", "retention", "spend"]
_DATA = [[f"{i:05d}", "AB"[i % 2], i / 20, 10.0 * i] for i in range(12)]


@pytest.mark.parametrize(
    ("title", "merge", "named"),
    [
        (["Customer info", None, "Metrics", None], "C1:D1", "2 of 4"),  # group header
        (["Export of 2024-03-01", None, None, None], "A1:D1", "1 of 4"),  # a title over the table
    ],
)
def test_a_title_row_above_the_column_names_is_refused(
    tmp_path: Path, title: list, merge: str, named: str
) -> None:
    path = _workbook_with_rows(tmp_path / "t.xlsx", [title, _NAMES, *_DATA], merge)
    for read in (lambda: read_table(path), lambda: load(path)):
        with pytest.raises(InputError) as info:
            read()
        text = str(info.value)
        assert "title or a merged group header" in text and named in text, text
        assert "'retention'" in text and "t.xlsx" in text and "sheet 'Sheet'" in text, text
        assert "delete the rows above the column names" in text, text


def test_a_column_without_a_name_over_numbers_is_not_a_title(tmp_path: Path) -> None:
    # the row below the blank name holds a number, not a name: the first row is the header
    rows = [["customer_id", "segment", None, "spend"], *_DATA]
    table = read_table(_workbook_with_rows(tmp_path / "t.xlsx", rows)).table.to_pandas()
    assert list(table.columns) == ["customer_id", "segment", "column_3", "spend"]
    assert len(table) == 12


def test_sqlite_table_that_does_not_exist_lists_tables(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (a INTEGER)")
        db.execute("CREATE TABLE customers (b INTEGER)")
    db.close()
    with pytest.raises(InputError) as info:
        load(path, options=ReadOptions(table="sales"))
    text = str(info.value)
    assert "'sales'" in text and "customers" in text and "orders" in text and "--table" in text
    with pytest.raises(InputError, match="needs a table name"):
        load(path)


def test_duckdb_table_that_does_not_exist_lists_tables(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE orders (a INTEGER)")
    db.close()
    with pytest.raises(InputError, match=r"no table 'sales'.*\['orders'\]"):
        load(path, options=ReadOptions(table="sales"))


def test_not_a_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="SQLite"):
        load(write(tmp_path / "x.sqlite", "this is text"), options=ReadOptions(table="t"))


def test_duplicate_column_names(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"duplicate column names: \['date'\]"):
        load(write(tmp_path / "o.csv", "customer_id,date,date,amount\na,2021-01-01,2021-01-02,1\n"))
    wb = openpyxl.Workbook()
    wb.active.append(["customer_id", "amount", "amount"])
    wb.active.append(["a", 1, 2])
    wb.save(tmp_path / "o.xlsx")
    with pytest.raises(InputError, match="duplicate column names"):
        read_table(tmp_path / "o.xlsx")


def test_missing_mapping_names_columns_and_flag(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "Kunde,Zeitpunkt,Umsatz\na,2021-01-05,1\n")
    with pytest.raises(MappingError) as info:
        load(path)
    text = str(info.value)
    assert "'Kunde'" in text and "'Zeitpunkt'" in text and "'Umsatz'" in text
    assert "--map order_ts=<column>" in text
    assert str(path) in text


def test_ambiguous_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer,date,order_date,amount\na,2021-01-05,2021-01-05,1\n")
    with pytest.raises(MappingError, match=r"(?s)'date', 'order_date'.*--map order_ts="):
        load(path)


def test_override_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer,date,amount\na,2021-01-05,1\n")
    with pytest.raises(MappingError, match="Unknown canonical column 'revenue'"):
        load(path, mapping=MappingConfig(columns={"revenue": "amount"}))
    with pytest.raises(MappingError, match="'Betrag'"):
        load(path, mapping=MappingConfig(columns={"amount": "Betrag"}))


def test_wrong_number_of_names_for_a_whitespace_log(tmp_path: Path) -> None:
    path = write(tmp_path / "cd.txt", "00001 19970101 1 11.77\n00002 19970102 2 10.00\n")
    with pytest.raises(InputError, match=r"do not have 3 whitespace-separated fields.*data row 1"):
        load(path, options=ReadOptions(no_header=True, columns=["customer_id", "date", "amount"]))
    with pytest.raises(ConfigError, match="--no-header needs the column names"):
        load(path, options=ReadOptions(no_header=True))


def test_ragged_whitespace_line(tmp_path: Path) -> None:
    path = write(tmp_path / "cd.txt", "00001 19970101 1 11.77\n00002 19970102 2\n")
    with pytest.raises(InputError, match=r"data row 2: '00002 19970102 2'"):
        load(
            path,
            options=ReadOptions(
                no_header=True, columns=["customer_id", "date", "quantity", "amount"]
            ),
        )


def test_options_that_do_not_apply(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer,date,amount\na,2021-01-05,1\n")
    with pytest.raises(InputError, match="do not apply"):
        load(path, options=ReadOptions(table="orders"))
    with pytest.raises(ConfigError, match="--no-header"):
        load(path, options=ReadOptions(columns=["a", "b", "c"]))


def test_unsupported_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "customer,date,amount\na,2021-01-05,1\n")
    with pytest.raises(InputError, match="Unsupported encoding 'klingon'"):
        load(path, options=ReadOptions(encoding="klingon"))


def test_all_empty_date_column(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty on every row"):
        load(write(tmp_path / "o.csv", "customer,date,amount\na,,1\nb,,2\n"))


def test_not_a_source_object() -> None:
    with pytest.raises(CustlensError, match="Cannot read a int"):
        load(42)


def test_bad_url_does_not_leak_the_password() -> None:
    with pytest.raises(InputError) as info:
        load("nosuchdb://user:secret@localhost/db", options=ReadOptions(table="t"))
    assert "secret" not in str(info.value)


def test_files_need_a_duckdb_engine(tmp_path: Path) -> None:
    import ibis

    path = write(tmp_path / "o.csv", "customer,date,amount\na,2021-01-05,1\n")
    with pytest.raises(InputError, match="read with DuckDB"):
        load(path, con=ibis.sqlite.connect())


def test_ragged_csv_line_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "o.csv", "customer,date,amount\na,2021-01-05,1\nb,2021-01-06\nc,2021-01-07,3\n"
    )
    with pytest.raises(
        InputError, match=r"(?s)Line: 3.*b,2021-01-06.*Expected Number of Columns: 3"
    ):
        load(path)


def test_malformed_json(tmp_path: Path) -> None:
    path = write(
        tmp_path / "o.jsonl",
        '{"customer": "a", "date": "2021-01-05", "amount": 1}\n{"customer": \n',
    )
    with pytest.raises(InputError, match="Cannot read the file as JSON records") as info:
        load(path)
    assert "LINE 1" not in str(info.value)  # no SQL excerpt in the message


def test_read_options_check_their_combinations_once() -> None:
    with pytest.raises(ConfigError, match="--no-header needs the column names") as info:
        ReadOptions(no_header=True)
    assert info.value.where == "--columns" and "--columns" in info.value.fix
    with pytest.raises(ConfigError, match="without a header row"):
        ReadOptions(columns="a,b")
    options = ReadOptions(no_header=True, columns=" a, b ,c")  # comma-separated, as on the CLI
    assert options.columns == ("a", "b", "c")
    assert ReadOptions(no_header=True, columns=["a", "b"]).columns == ("a", "b")
    assert ReadOptions(columns="").columns is None
    with pytest.raises(AttributeError):
        options.table = "t"  # type: ignore[misc]
    assert options.given() == ["no_header", "columns"]


def test_date_format_applies_to_in_memory_data_too() -> None:
    frame = pd.DataFrame(
        {"customer": ["a", "b"], "date": ["05/01/2021", "06/01/2021"], "amount": [1.0, 2.0]}
    )
    src = load(frame, options=ReadOptions(date_format="%d/%m/%Y"))
    days = src.table.order_by("customer_id").order_ts.execute().dt.strftime("%Y-%m-%d")
    assert days.tolist() == ["2021-01-05", "2021-01-06"]
