"""Compute an intermediate table once so that several queries can read it.

On DuckDB the rows are written to a Parquet file in a private temporary folder of the connection
(removed with the connection; each file also goes when its table is no longer referenced).
Compressed on disk, 30 million order lines take a few hundred MB there, where a DuckDB temporary
table holds them uncompressed in memory (about 4 GB) and pushes the queries that follow into
spilling. Reading them back is as fast as reading the table. Other engines use Ibis's ``cache()``
(Spark persists the data).

:func:`compiled_view` stores nothing: it compiles a table once into a temporary view, so that the
queries built on it compile the view's name instead of the whole expression again.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
import weakref
from pathlib import Path
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir

from custlens.io.sql import sql_ident
from custlens.outputs import private_temp_dir

_FILE_ROW = "file_row_number"  # DuckDB's read_parquet option and column
_WORKDIRS: weakref.WeakKeyDictionary[Any, Path] = weakref.WeakKeyDictionary()
# the SQL each compiled view was made from, by the view's table node
_VIEW_SOURCES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def register_workdir(con: Any, folder: str | Path) -> None:
    """Use ``folder`` (already private to ``con`` and removed with it) for ``con``'s files."""
    _WORKDIRS[con] = Path(folder)


def workdir(con: Any) -> Path:
    """The private temporary folder of ``con``, created on first use and removed with it."""
    folder = _WORKDIRS.get(con)
    if folder is None:
        folder = Path(private_temp_dir("custlens-work-"))
        weakref.finalize(con, shutil.rmtree, folder, True)
        _WORKDIRS[con] = folder
    return folder


def materialize(table: ir.Table, name: str) -> ir.Table:
    """``table`` computed now; the returned table reads the stored rows (same columns).

    Row order is not kept (DuckDB writes faster without it): callers order explicitly.
    """
    con = table._find_backend(use_default=True)
    if getattr(con, "name", None) != "duckdb":
        return table.cache()
    return read_stored(con, _store(con, table, name))


def materialize_numbered(table: ir.Table, name: str, row: str) -> ir.Table | None:
    """On DuckDB, :func:`materialize` plus the int64 column ``row``: each row's position in the
    stored file, the same in every query that reads it (so that a few rows picked by one query
    can be joined back by the next ones). None on other engines (no stable row numbers), and
    when ``table`` has a column named like DuckDB's row numbers."""
    con = table._find_backend(use_default=True)
    if getattr(con, "name", None) != "duckdb" or _FILE_ROW in table.columns:
        return None
    return read_stored(con, _store(con, table, name), row_number=row)


def _store(con: Any, table: ir.Table, name: str) -> Path:
    path = stored_file(con, name)
    setting = "preserve_insertion_order"
    [(before,)] = con.raw_sql(f"SELECT current_setting('{setting}')").fetchall()
    con.raw_sql(f"SET {setting} = false")
    try:
        con.to_parquet(table, path)
    finally:
        con.raw_sql(f"SET {setting} = {bool(before)}")
    return path


def stored_file(con: Any, name: str) -> Path:
    """A new Parquet path named after ``name`` in ``con``'s private folder."""
    return workdir(con) / f"{name}_{uuid.uuid4().hex[:12]}.parquet"


def read_stored(con: Any, path: Path, row_number: str | None = None) -> ir.Table:
    """The Parquet file ``path`` (written to :func:`stored_file`; or a folder of Parquet files
    written there, e.g. by Spark) as a table of ``con``; the file or folder is removed when the
    table is no longer referenced. ``row_number``: also each row's position in the file, as a
    column of that name."""
    options = {_FILE_ROW: True} if row_number else {}
    source = f"{path}/*.parquet" if path.is_dir() else path
    stored = con.read_parquet(source, table_name=path.stem, **options)
    weakref.finalize(stored.op(), _remove, path)
    return stored.rename({row_number: _FILE_ROW}) if row_number else stored


def compiled_view(table: ir.Table, name: str) -> ir.Table:
    """On DuckDB, ``table`` compiled once into a temporary view; the returned table reads the
    view (same columns and rows, computed by each query that reads it, as before). Elsewhere
    ``table`` itself.

    Compiling an Ibis expression costs time in Python that grows with the expression (the
    cleaned lines of a backtest date are a few hundred nodes: 20-100 ms each time). The queries
    built on the returned table compile only the view's name. The view is dropped, and
    ``table`` (with any stored file it reads) let go, when the returned table is no longer
    referenced; :func:`source_sql` gives the SQL it was made from.
    """
    con = table._find_backend(use_default=True)
    if getattr(con, "name", None) != "duckdb":
        return table
    sql = con.compile(table)
    view = f"custlens_{name}_{uuid.uuid4().hex[:12]}"
    con.raw_sql(f"CREATE OR REPLACE TEMPORARY VIEW {sql_ident(view)} AS {sql}")
    node = ops.DatabaseTable(view, schema=table.schema(), source=con, namespace=ops.Namespace())
    _VIEW_SOURCES[node] = sql
    # ``table`` stays referenced by the finalizer while the view can be read
    dropper = weakref.finalize(node, _drop_view, weakref.ref(con), view, table)
    dropper.atexit = False
    return node.to_expr()


def source_sql(con: Any, table: ir.Table) -> str:
    """The SQL of ``table`` in ``con``: for a :func:`compiled_view`, that of the table it was
    made from (so that it identifies the same rows as before)."""
    found = _VIEW_SOURCES.get(table.op())
    return found if found is not None else con.compile(table)


def drop_views(con_ref: weakref.ref, names: tuple[str, ...]) -> None:
    """Drop the views ``names`` of the connection ``con_ref`` refers to, if it is still open."""
    con = con_ref()
    if con is None:
        return
    for name in names:
        with contextlib.suppress(Exception):  # the connection may be closing
            con.drop_view(name, force=True)


def _drop_view(con_ref: weakref.ref, view: str, _table: ir.Table) -> None:
    drop_views(con_ref, (view,))  # ``_table``: kept alive by the finalizer until now


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
        return
    with contextlib.suppress(OSError):
        path.unlink()
