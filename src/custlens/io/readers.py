"""Read any supported source into an Ibis table that keeps the source's own column names.

``read_table`` knows nothing about transactions: it is also how customer-level tables get in.
Files are read by an in-memory DuckDB (``ibis.duckdb.connect()``) unless ``con`` names another
DuckDB connection; CSV, Parquet and JSON stay lazy (DuckDB views over the file). Excel and SQLite
go through Arrow. Database tables and Ibis tables stay on their own engine. The input is never
modified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from custlens.errors import InputError, out_of_resources
from custlens.io import databases, json_lines, spreadsheets, text_checks, text_files, text_logs
from custlens.io.materialize import register_workdir
from custlens.io.options import ReadOptions
from custlens.io.pycolumns import to_arrow_array
from custlens.outputs import private_temp_dir

DELIMITED = (".csv", ".tsv", ".psv")
TEXT_LOGS = (".txt", ".dat", ".log")
JSON_LINES = (".jsonl", ".ndjson")
EXCEL = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
PARQUET = (".parquet", ".pq")
SQLITE = (".sqlite", ".sqlite3", ".db")
DUCKDB = (".duckdb", ".ddb")
SUPPORTED = DELIMITED + TEXT_LOGS + JSON_LINES + (".json",) + EXCEL + PARQUET + SQLITE + DUCKDB


@dataclass(frozen=True)
class RawTable:
    """A source as read: its table (source column names), engine, origin and fingerprint."""

    table: ibis.Table
    con: Any
    origin: str
    sha256: str | None
    # csv | text | json | parquet | excel | sqlite | duckdb | database | dataframe | arrow | ibis | spark
    kind: str
    rows: int | None = None  # known when reading already counted them (text files, Arrow data)
    notes: tuple[str, ...] = ()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _suffix(path: Path) -> tuple[str, bool]:
    """The format suffix (ignoring a trailing ``.gz``) and whether the file is gzip-compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gz


def default_engine() -> Any:
    """An in-memory DuckDB whose working memory is capped; beyond the cap it spills to a private
    temporary folder (removed with the connection). ``CUSTLENS_MEMORY_LIMIT`` (e.g. ``4GB``)
    overrides the cap, by default a quarter of the machine's memory. ``CUSTLENS_THREADS`` (e.g.
    ``1``) sets DuckDB's threads (default: one per core); the outputs are the same with any
    number (the sums custlens relies on are exact: ``custlens.io.sums``)."""
    limit = os.environ.get("CUSTLENS_MEMORY_LIMIT") or _quarter_of_memory()
    spill = private_temp_dir("custlens-duckdb-")
    options: dict[str, Any] = {"memory_limit": limit, "temp_directory": spill}
    threads = os.environ.get("CUSTLENS_THREADS", "").strip()
    if threads:
        if not threads.isdigit() or not 1 <= int(threads) <= 1024:
            raise InputError(
                f"CUSTLENS_THREADS={threads!r} is not a number of threads",
                where="CUSTLENS_THREADS",
                fix="set it to a whole number such as 1 or 4, or unset it",
            )
        options["threads"] = int(threads)
    con = ibis.duckdb.connect(**options)
    weakref.finalize(con, shutil.rmtree, spill, True)
    register_workdir(con, spill)
    return con


def _quarter_of_memory() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(1, total // 4 // 2**20)}MB"


def _engine(con: Any | None, origin: str) -> Any:
    if con is None:
        return default_engine()
    if getattr(con, "name", None) != "duckdb":
        raise InputError(
            f"Files and in-memory data are read with DuckDB, but con is a "
            f"{getattr(con, 'name', type(con).__name__)!r} connection",
            where=origin,
            fix="leave con unset (or pass a DuckDB connection); to analyse data that lives on "
            "another engine, pass its table, e.g. ibis.pyspark.connect(spark).table('orders')",
        )
    return con


def _register(con: Any, data: pa.Table) -> ibis.Table:
    name = f"custlens_src_{uuid.uuid4().hex[:12]}"
    con.con.register(name, data)
    return con.table(name)


_TEXT_OPTIONS = ("no_header", "columns", "delimiter", "encoding", "decimal")
_READER_OPTIONS = ("table", "sheet", *_TEXT_OPTIONS)  # date_format is for io.load


_OPTIONS_FIX = (
    "--table is for database sources, --sheet for Excel, --no-header/--columns/--delimiter/"
    "--encoding/--decimal for text files; drop the others"
)

_WHITESPACE_DECIMAL_FIX = (
    "the fields of this file are separated by spaces and kept as text, so no decimal separator "
    "applies: drop --decimal"
)


def reject_options(
    origin: str, options: ReadOptions, *names: str, on: str = "", fix: str = _OPTIONS_FIX
) -> None:
    """Refuse the options among ``names`` that were given: they do not apply to this source
    (``on``: the engine, e.g. " on Spark", named in the message)."""
    used = options.given(*names)
    if used:
        raise InputError(f"Option(s) {used} do not apply to this source{on}", where=origin, fix=fix)


def dataframe_to_arrow(frame: Any) -> pa.Table:
    """A pandas DataFrame as Arrow (no index); mixed-type object columns become text."""
    names = [str(c) for c in frame.columns]
    text_checks.check_duplicate_names(names, "the DataFrame")
    arrays = []
    for i, _name in enumerate(names):
        column = frame.iloc[:, i]
        try:
            arrays.append(pa.Array.from_pandas(column))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(to_arrow_array(column.tolist()))
    return pa.Table.from_arrays(arrays, names=names)


def _read_parquet(con: Any, path: Path) -> tuple[ibis.Table, int]:
    try:
        meta = pq.ParquetFile(path).metadata
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"Cannot read the file as Parquet: {exc}",
            where=str(path),
            fix="check that the file is a complete Parquet file",
        ) from None
    text_checks.check_duplicate_names(names, str(path))
    name = f"custlens_src_{uuid.uuid4().hex[:12]}"
    literal = str(path).replace("'", "''")
    try:
        con.con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{literal}')")
    except duckdb.Error as exc:
        if out_of_resources(exc):  # the disk or memory ran out, not the file
            raise
        raise InputError(
            f"Cannot read the Parquet file: {exc}",
            where=str(path),
            fix="check that the file is a complete Parquet file",
        ) from None
    return con.table(name), int(meta.num_rows)


def _looks_delimited(path: Path) -> bool:
    """Whether a ``.txt``-like file's first line uses a delimiter rather than runs of spaces."""
    with text_checks.open_text(path, "latin-1") as fh:
        for line in fh:
            if line.strip():
                return any(ch in line for ch in ",;|\t")
    return False


def _read_file(path: Path, con: Any | None, opts: ReadOptions) -> RawTable:
    origin = str(path)
    if not path.exists():
        raise InputError(
            "The file does not exist",
            where=origin,
            fix="check the path (relative paths start from the current directory)",
        )
    if path.is_dir():
        raise InputError(
            "The path is a directory, not a file",
            where=origin,
            fix="pass the path of one data file inside it",
        )
    suffix, gz = _suffix(path)
    if suffix not in SUPPORTED or (
        gz and suffix not in DELIMITED + TEXT_LOGS + JSON_LINES + (".json",)
    ):
        raise InputError(
            f"Unsupported file type {''.join(path.suffixes) or '(no extension)'!r}",
            where=origin,
            fix=f"use one of {', '.join(SUPPORTED)} (text formats may be .gz-compressed)",
        )
    if suffix in SQLITE or suffix in DUCKDB:
        reject_options(origin, opts, "sheet", *_TEXT_OPTIONS)
        if suffix in SQLITE:
            engine = _engine(con, origin)
            data = databases.read_sqlite(path, opts.table)
            return RawTable(
                _register(engine, data),
                engine,
                f"{origin}, table {opts.table}",
                None,
                "sqlite",
                data.num_rows,
            )
        if con is not None:
            _engine(con, origin)
        table, engine = databases.read_duckdb_file(path, opts.table, con)
        return RawTable(table, engine, f"{origin}, table {opts.table}", None, "duckdb")
    reject_options(origin, opts, "table")
    engine = _engine(con, origin)
    sha = file_sha256(path)
    if suffix in EXCEL:
        reject_options(origin, opts, *_TEXT_OPTIONS)
        data, notes = spreadsheets.read_excel(path, opts.sheet)
        return RawTable(
            _register(engine, data), engine, origin, sha, "excel", data.num_rows, tuple(notes)
        )
    reject_options(origin, opts, "sheet")
    if suffix in PARQUET:
        reject_options(origin, opts, *_TEXT_OPTIONS)
        table, rows = _read_parquet(engine, path)
        return RawTable(table, engine, origin, sha, "parquet", rows)
    if suffix in JSON_LINES or suffix == ".json":
        reject_options(origin, opts, *_TEXT_OPTIONS)
        read = json_lines.read_json_lines(engine, path, lines_only=suffix != ".json")
        return RawTable(read.table, engine, origin, sha, "json", read.rows, tuple(read.notes))
    if suffix in TEXT_LOGS and opts.delimiter is None and not _looks_delimited(path):
        reject_options(origin, opts, "decimal", fix=_WHITESPACE_DECIMAL_FIX)
        read = text_logs.read_whitespace(
            engine,
            path,
            no_header=opts.no_header,
            columns=list(opts.columns) if opts.columns else None,
            encoding=opts.encoding,
        )
        return RawTable(read.table, engine, origin, sha, "text", read.rows, tuple(read.notes))
    delimiter = opts.delimiter
    if delimiter is None and suffix == ".tsv":
        delimiter = "\t"
    elif delimiter is None and suffix == ".psv":
        delimiter = "|"
    read = text_files.read_delimited(
        engine,
        path,
        no_header=opts.no_header,
        columns=list(opts.columns) if opts.columns else None,
        delimiter=delimiter,
        encoding=opts.encoding,
        decimal=opts.decimal,
    )
    return RawTable(read.table, engine, origin, sha, "csv", read.rows, tuple(read.notes))


def read_table(
    source: Any, options: ReadOptions | None = None, *, con: Any | None = None
) -> RawTable:
    """Read ``source`` (a path, a connection URL, a DataFrame, an Arrow table or an Ibis table).

    ``options`` says how (``ReadOptions``; its ``date_format`` is for :func:`custlens.io.load`).
    Raises ``InputError`` for anything that cannot be read, saying where and how to fix it.
    """
    opts = options or ReadOptions()
    if isinstance(source, RawTable):  # already read (e.g. by Spark: custlens.io.spark_session)
        return source
    if isinstance(source, ibis.Table):
        reject_options("the Ibis table", opts, *_READER_OPTIONS)
        try:
            backend = source.get_backend()
        except Exception:  # noqa: BLE001 - an unbound table has no engine to run on
            raise InputError(
                "The Ibis table is not bound to a connection",
                fix="pass a table from a connection, e.g. ibis.duckdb.connect().table('orders')",
            ) from None
        return RawTable(source, backend, "an Ibis table", None, "ibis")
    if isinstance(source, pa.Table):
        reject_options("the Arrow table", opts, *_READER_OPTIONS)
        text_checks.check_duplicate_names(list(source.column_names), "the Arrow table")
        engine = _engine(con, "the Arrow table")
        return RawTable(
            _register(engine, source), engine, "an Arrow table", None, "arrow", source.num_rows
        )
    if type(source).__name__ == "DataFrame" and hasattr(source, "iloc"):
        reject_options("the DataFrame", opts, *_READER_OPTIONS)
        data = dataframe_to_arrow(source)
        engine = _engine(con, "the DataFrame")
        return RawTable(
            _register(engine, data), engine, "a pandas DataFrame", None, "dataframe", data.num_rows
        )
    if isinstance(source, str) and "://" in source:
        reject_options(databases.redact_url(source), opts, "sheet", *_TEXT_OPTIONS)
        scheme = source.split("://", 1)[0].lower()
        if scheme == "sqlite":
            path = databases.sqlite_url_path(source)
            return (
                _read_file(path, con, opts)
                if path.suffix.lower() in SQLITE
                else _read_sqlite_any(path, con, opts)
            )
        if scheme == "duckdb" and source[len("duckdb://") :].split("?")[0]:
            path = Path(source[len("duckdb://") :].split("?")[0])
            if path.is_file():
                if con is not None:
                    _engine(con, str(path))
                tbl, engine = databases.read_duckdb_file(path, opts.table, con)
                return RawTable(tbl, engine, f"{path}, table {opts.table}", None, "duckdb")
        tbl, backend = databases.read_url(source, opts.table)
        return RawTable(
            tbl, backend, f"{databases.redact_url(source)}, table {opts.table}", None, "database"
        )
    if isinstance(source, str | Path):
        return _read_file(Path(source).expanduser(), con, opts)
    raise InputError(
        f"Cannot read a {type(source).__name__} as a source",
        fix="pass a file path, a connection URL, a pandas DataFrame, a pyarrow Table or an Ibis table",
    )


def _read_sqlite_any(path: Path, con: Any | None, opts: ReadOptions) -> RawTable:
    """A SQLite file named by a ``sqlite://`` URL, whatever its extension."""
    if not path.is_file():
        raise InputError(
            "The SQLite database file does not exist",
            where=str(path),
            fix="check the path in the sqlite:// URL",
        )
    engine = _engine(con, str(path))
    data = databases.read_sqlite(path, opts.table)
    return RawTable(
        _register(engine, data),
        engine,
        f"{path}, table {opts.table}",
        None,
        "sqlite",
        data.num_rows,
    )
