"""Hostile table and column names on every reader that writes SQL: read literally, never run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import ibis
import pytest

from custlens.io import ReadOptions, read_table
from custlens.io.databases import read_duckdb_file

HOSTILE_TABLES = [
    "t\"; COPY (SELECT 'pwned' AS x) TO '{marker}'; --",
    "a.b",
    "x'); COPY (SELECT 1) TO '{marker}'; --",
    'quote"inside',
    "semi;colon",
]


def _duckdb_file(path: Path, table: str) -> None:
    con = duckdb.connect(str(path))
    quoted = '"' + table.replace('"', '""') + '"'
    con.execute(f"CREATE TABLE {quoted} AS SELECT 'c1' AS customer, DATE '2024-01-02' AS d")
    con.execute("CREATE TABLE b AS SELECT 'wrong table' AS customer")  # the "b" of a.b
    con.close()


@pytest.mark.parametrize("template", HOSTILE_TABLES)
@pytest.mark.parametrize("own_connection", [False, True])
def test_duckdb_table_names_are_quoted(template: str, own_connection: bool, tmp_path: Path) -> None:
    marker = tmp_path / "pwned.csv"
    table = template.format(marker=marker)
    path = tmp_path / "shop.duckdb"
    _duckdb_file(path, table)
    con = ibis.duckdb.connect() if own_connection else None
    read, _ = read_duckdb_file(path, table, con)
    assert read.to_pyarrow().column("customer").to_pylist() == ["c1"]
    assert not marker.exists()


@pytest.mark.parametrize("template", HOSTILE_TABLES)
def test_sqlite_table_names_are_quoted(template: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned.csv"
    table = template.format(marker=marker)
    path = tmp_path / "shop.sqlite"
    con = sqlite3.connect(path)
    quoted = '"' + table.replace('"', '""') + '"'
    con.execute(f"CREATE TABLE {quoted} (customer TEXT, d TEXT)")
    con.execute(f"INSERT INTO {quoted} VALUES ('c1', '2024-01-02')")
    con.commit()
    con.close()
    raw = read_table(str(path), ReadOptions(table=table))
    assert raw.table.to_pyarrow().column("customer").to_pylist() == ["c1"]
    assert not marker.exists()


HOSTILE_COLUMNS = [
    "Custo'merID",
    'Custo"merID',
    "x'); COPY (SELECT 1) TO 'PWNED'; --",
    'y"; DROP TABLE t; --',
    "{curly}: 'VARCHAR'",
]


@pytest.mark.parametrize("name", HOSTILE_COLUMNS)
def test_csv_column_names_are_quoted(name: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    header = '"' + name.replace('"', '""') + '",Date,Revenue'
    path = tmp_path / "orders.csv"
    path.write_text(header + "\nc1,2024-01-02,5\nc2,2024-01-03,6\n", encoding="utf-8")
    raw = read_table(str(path))
    assert raw.table.columns[0] == name
    assert raw.table.to_pyarrow().column(0).to_pylist() == ["c1", "c2"]
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("name", HOSTILE_COLUMNS)
def test_headerless_column_names_are_quoted(name: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("c1,2024-01-02,5\nc2,2024-01-03,6\n", encoding="utf-8")
    raw = read_table(str(path), ReadOptions(no_header=True, columns=[name, "Date", "Revenue"]))
    assert raw.table.columns[0] == name
    assert raw.table.to_pyarrow().column(0).to_pylist() == ["c1", "c2"]


@pytest.mark.parametrize("name", HOSTILE_COLUMNS)
@pytest.mark.parametrize("kind", ["parquet", "jsonl", "xlsx", "sqlite"])
def test_hostile_column_names_on_other_readers(name: str, kind: str, tmp_path: Path) -> None:
    import json

    import pandas as pd

    frame = pd.DataFrame({name: ["c1", "c2"], "Date": ["2024-01-02", "2024-01-03"], "Rev": [5, 6]})
    path = tmp_path / f"orders.{kind}"
    options = ReadOptions()
    if kind == "parquet":
        frame.to_parquet(path, index=False)
    elif kind == "jsonl":
        rows = frame.to_dict(orient="records")
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    elif kind == "xlsx":
        pytest.importorskip("openpyxl")
        frame.to_excel(path, index=False)
    else:
        con = sqlite3.connect(path)
        frame.to_sql("orders", con, index=False)
        con.close()
        options = ReadOptions(table="orders")
    raw = read_table(str(path), options)
    assert raw.table.columns[0] == name
    assert raw.table.to_pyarrow().column(0).to_pylist() == ["c1", "c2"]
