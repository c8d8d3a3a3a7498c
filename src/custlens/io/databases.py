"""Database tables: SQLite files, DuckDB files and any Ibis connection URL.

* SQLite files are opened read-only with Python's ``sqlite3`` (DuckDB's sqlite extension would
  need a download); the table becomes Arrow and is scanned by DuckDB.
* DuckDB files are opened read-only and the table is used in place.
* Other URLs (``postgres://...``) go to ``ibis.connect`` and the table stays on that engine.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import duckdb
import ibis
import pyarrow as pa

from custlens.errors import InputError, out_of_resources
from custlens.io.pycolumns import rows_to_arrow
from custlens.io.sql import sql_ident, sql_literal
from custlens.io.text_checks import check_duplicate_names


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _redact_text(text: str, url: str) -> str:
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _missing_table(table: str | None, tables: list[str], where: str) -> InputError:
    if table is None:
        what = f"A database source needs a table name; the database has {sorted(tables)}"
    else:
        what = f"The database has no table {table!r}; its tables are {sorted(tables)}"
    return InputError(what, where=where, fix="pass one of those names with --table")


def read_sqlite(path: Path, table: str | None) -> pa.Table:
    """A SQLite table (opened read-only) as Arrow; cells typed column by column."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise InputError(
            f"Cannot open the SQLite database: {exc}",
            where=str(path),
            fix="check that the file is a SQLite database",
        ) from None
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        if table is None or table not in tables:
            raise _missing_table(table, tables, str(path))
        cursor = conn.execute(f"SELECT * FROM {sql_ident(table)}")
        names = [d[0] for d in cursor.description]
        check_duplicate_names(names, f"{path}, table {table!r}")
        rows = cursor.fetchall()
    except sqlite3.Error as exc:
        raise InputError(
            f"Cannot read the SQLite database: {exc}",
            where=str(path),
            fix="check that the file is a SQLite database and not corrupted",
        ) from None
    finally:
        conn.close()
    return rows_to_arrow(names, rows)


def _duckdb_table_names(raw: Any, catalog: str | None = None) -> dict[str, tuple[str, str]]:
    """Display name (``name``, or ``schema.name`` outside ``main``) -> (schema, name)."""
    where = f"WHERE table_catalog = {sql_literal(catalog)}" if catalog else ""
    rows = raw.execute(
        f"SELECT table_schema, table_name FROM information_schema.tables {where}"
    ).fetchall()
    names: dict[str, tuple[str, str]] = {}
    for schema, name in rows:  # a table literally named ``a.b`` in main keeps its name
        names.setdefault(name if schema == "main" else f"{schema}.{name}", (schema, name))
    return names


def _duckdb_tables(raw: Any, catalog: str | None = None) -> list[str]:
    return list(_duckdb_table_names(raw, catalog))


def read_duckdb_file(path: Path, table: str | None, con: Any | None) -> tuple[ibis.Table, Any]:
    """A table of a DuckDB file, read-only and in place (attached to ``con`` when one is given)."""
    try:
        if con is None:
            con = ibis.duckdb.connect(str(path), read_only=True)
            catalog = None
            tables = _duckdb_table_names(con.con)
        else:
            catalog = f"custlens_db_{uuid.uuid4().hex[:10]}"
            con.con.execute(f"ATTACH {sql_literal(str(path))} AS {sql_ident(catalog)} (READ_ONLY)")
            tables = _duckdb_table_names(con.con, catalog)
    except (duckdb.Error, OSError) as exc:
        if out_of_resources(exc):  # the disk or memory ran out, not the file
            raise
        raise InputError(
            f"Cannot open the DuckDB database read-only: {exc}",
            where=str(path),
            fix="check that it is a DuckDB file and that no other program holds it open for writing",
        ) from None
    if table is None or table not in tables:
        raise _missing_table(table, list(tables), str(path))
    schema, name = tables[table]
    view = f"custlens_src_{uuid.uuid4().hex[:12]}"
    source = ".".join(sql_ident(part) for part in (catalog, schema, name) if part is not None)
    con.con.execute(f"CREATE TEMP VIEW {sql_ident(view)} AS SELECT * FROM {source}")
    return con.table(view), con


def sqlite_url_path(url: str) -> Path:
    rest = re.sub(r"^sqlite:/{2}", "", url)
    return Path(rest)


def read_url(url: str, table: str | None) -> tuple[ibis.Table, Any]:
    """A table behind an Ibis connection URL, on its own engine."""
    where = redact_url(url)
    try:
        backend = ibis.connect(url)
    except Exception as exc:  # noqa: BLE001 - any driver error means: cannot connect
        raise InputError(
            f"Cannot connect to {where}: {type(exc).__name__}: {_redact_text(str(exc), url)}",
            where=where,
            fix="check the URL, the credentials and that the database is reachable",
        ) from None
    try:
        if getattr(backend, "name", "") == "duckdb":
            tables = _duckdb_tables(backend.con)
        else:
            tables = list(backend.list_tables())
    except Exception as exc:  # noqa: BLE001
        raise InputError(
            f"Cannot list the tables of {where}: {_redact_text(str(exc), url)}",
            where=where,
            fix="check the database name in the URL and your permissions",
        ) from None
    if table not in tables:
        raise _missing_table(table, tables, where)
    return backend.table(table), backend
