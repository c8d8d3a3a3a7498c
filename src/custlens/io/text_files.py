"""Delimited text files (CSV, ``;``, tab, ``|``; optionally .gz) read lazily by DuckDB (the
helpers every text reader shares are in ``custlens.io.text_checks``).

The reader creates a DuckDB *view* over the file (nothing is copied or loaded into pandas) and
runs one validation scan that touches every column. That scan counts the rows and makes DuckDB
convert every value, so a value that contradicts a sniffed type, a byte sequence that is not
UTF-8 or a ragged line shows up here, once, as an ``InputError`` rather than later in some
other stage. Recovery is automatic where the intent is clear: non-UTF-8 bytes -> re-read as
Latin-1 (a ``£`` byte 0xA3 survives); a type sniffed from the first rows that a later row
contradicts -> re-sniff over the whole file. Leading lines are never skipped silently.

Dates in a non-ISO layout (``12/1/2010 8:26``) are kept as text here; ``io.load`` chooses their
format with its own documented rule instead of DuckDB's sniffer.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from custlens.errors import InputError, out_of_resources
from custlens.io.sql import sql_ident, sql_literal
from custlens.io.text_checks import (
    TextRead,
    bom_encoding,
    check_delimiter,
    check_duplicate_names,
    check_not_blank,
    check_sql_safe_names,
    first_message_lines,
    gzip_truncated,
    is_unicode_error,
    normalise_encoding,
    open_text,
    scan_one,
    truncated_error,
    view_name,
)
from custlens.io.text_numbers import numbers_read_as_text

log = logging.getLogger(__name__)

_PREFIX_BYTES = 4 << 20  # decompressed bytes sniffed from a .gz file


# --------------------------------------------------------------------------- delimited files


def _sniff_file(con: Any, path: Path, opts: dict[str, str], full: bool) -> dict[str, Any]:
    args = ", ".join(f"{k}={v}" for k, v in opts.items())
    sample = ", sample_size=-1" if full else ""
    sql = (
        "SELECT Delimiter, Quote, Escape, HasHeader, Columns, DateFormat, TimestampFormat, "
        f"SkipRows, Comment FROM sniff_csv({sql_literal(str(path))}{', ' + args if args else ''}{sample})"
    )
    row = con.con.execute(sql).fetchall()[0]
    keys = ("delim", "quote", "escape", "header", "columns", "datefmt", "tsfmt", "skip", "comment")
    return dict(zip(keys, row, strict=True))


def _sniff(con: Any, path: Path, opts: dict[str, str], full: bool) -> dict[str, Any]:
    """DuckDB's sniffer; for a .gz file it reads a decompressed prefix (DuckDB's own gzip sniff
    costs about as much as a full scan). The validation scan that follows checks the types on
    every row and asks for a full sniff if a later row contradicts them."""
    if full or not path.name.lower().endswith(".gz"):
        return _sniff_file(con, path, opts, full)
    try:
        with gzip.open(path, "rb") as fh:
            head = fh.read(_PREFIX_BYTES)
            complete = len(fh.read(1)) == 0
    except EOFError:
        raise truncated_error(path) from None
    if not complete:
        head = head[: head.rfind(b"\n") + 1]
    with tempfile.TemporaryDirectory(prefix="custlens_sniff_") as tmp:
        prefix = Path(tmp) / "prefix.csv"
        prefix.write_bytes(head)
        try:
            return _sniff_file(con, prefix, opts, False)
        except duckdb.Error as exc:
            if out_of_resources(exc):
                raise
            return _sniff_file(con, path, opts, False)


def _iso_format(fmt: str | None) -> bool:
    return fmt is None or fmt.startswith("%Y-%m-%d")


def _header_names(path: Path, sniff: dict[str, Any], encoding: str) -> list[str]:
    delim = sniff["delim"]
    quote = sniff["quote"] if sniff["quote"] not in ("(empty)", "") else None
    with open_text(path, encoding) as fh:
        for _ in range(int(sniff["skip"] or 0)):
            fh.readline()
        head = fh.read(1 << 20)
    head = head.replace("\r\n", "\n").replace("\r", "\n")  # CR-only line endings too
    reader = csv.reader(
        io.StringIO(head),
        delimiter=delim,
        quotechar=quote or '"',
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    )
    return next(reader, [])


def _plain_dialect(
    path: Path, delim: str, no_header: bool, columns: list[str] | None, encoding: str
) -> dict[str, Any]:
    """A dialect for when DuckDB's sniffer gives up: text columns named by the first line."""
    dialect: dict[str, Any] = {
        "delim": delim, "quote": '"', "escape": '"', "header": not no_header,
        "datefmt": None, "tsfmt": None, "skip": 0, "comment": None,
    }  # fmt: skip
    names = list(columns) if columns else _header_names(path, dialect, encoding)
    if no_header and not columns:
        names = [f"column{i}" for i in range(len(names))]
    dialect["columns"] = [{"name": n, "type": "VARCHAR"} for n in names]
    return dialect


def _delimiter_in_first_line(path: Path, encoding: str) -> str | None:
    with open_text(path, encoding) as fh:
        line = fh.readline()
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def _csv_sql(
    path: Path, sniff: dict[str, Any], types: dict[str, str], encoding: str, decimal: str | None
) -> str:
    quote = "" if sniff["quote"] == "(empty)" else sniff["quote"]
    escape = "" if sniff["escape"] == "(empty)" else sniff["escape"]
    cols = ", ".join(f"{sql_literal(n)}: {sql_literal(t)}" for n, t in types.items())
    parts = [
        sql_literal(str(path)),
        "auto_detect=false",
        f"delim={sql_literal(sniff['delim'])}",
        f"quote={sql_literal(quote)}",
        f"escape={sql_literal(escape)}",
        f"header={str(bool(sniff['header'])).lower()}",
        f"skip={int(sniff['skip'] or 0)}",
        f"columns={{{cols}}}",
        f"encoding={sql_literal(encoding)}",
    ]
    if sniff["comment"] not in (None, "(empty)", ""):
        parts.append(f"comment={sql_literal(sniff['comment'])}")
    if decimal is not None:
        parts.append(f"decimal_separator={sql_literal(decimal)}")
    return f"read_csv({', '.join(parts)})"


def read_delimited(
    con: Any,
    path: Path,
    *,
    no_header: bool,
    columns: list[str] | None,
    delimiter: str | None,
    encoding: str | None,
    decimal: str | None = None,
) -> TextRead:
    """A CSV-like file (optionally gzip-compressed) as a lazy DuckDB view; ``decimal`` (``","``
    or ``"."``, default ``"."``) is the decimal separator of its numbers."""
    check_not_blank(path)
    check_delimiter(delimiter)
    user_encoding = normalise_encoding(encoding) or bom_encoding(path)
    enc = user_encoding or "utf-8"
    full_sniff = False
    keep_text = False  # DuckDB refused a column numbers_read_as_text took for numbers
    notes: list[str] = []
    for _attempt in range(6):
        # skip=0: DuckDB may otherwise skip leading lines that break its guess, silently
        opts = {
            "header": "false" if no_header else "true",
            "encoding": sql_literal(enc),
            "skip": "0",
        }
        delim = "\t" if delimiter in ("\\t", "tab") else delimiter
        if delim is not None:
            opts["delim"] = sql_literal(delim)
        if columns:
            opts["names"] = "[" + ", ".join(sql_literal(c) for c in columns) + "]"
        if decimal is not None:
            opts["decimal_separator"] = sql_literal(decimal)
        try:
            sniff = _sniff(con, path, opts, full_sniff)
        except duckdb.Error as exc:
            if out_of_resources(exc):  # the disk or memory ran out, not the file
                raise
            if is_unicode_error(exc) and user_encoding is None and enc == "utf-8":
                enc = "latin-1"
                continue
            if gzip_truncated(path):
                raise truncated_error(path) from None
            if delimiter is None:
                raise InputError(
                    f"Cannot parse the file as delimited text: {first_message_lines(exc)}",
                    where=str(path),
                    fix="pass --delimiter (and --encoding) explicitly, or check the file's format",
                ) from None
            # the sniffer gave up: read text columns; the validation scan names the bad line
            assert delim is not None  # a given delimiter (checked just above)
            sniff = _plain_dialect(path, delim, no_header, columns, enc)
        sniffed = [(c["name"], c["type"]) for c in sniff["columns"]]
        if (
            len(sniffed) == 1
            and delimiter is None
            and (guess := _delimiter_in_first_line(path, enc))
        ):
            delimiter = guess  # a ragged line can defeat the sniffer: use the header's delimiter
            continue
        if columns and len(columns) != len(sniffed):
            raise InputError(
                f"{len(columns)} column names were given but the file has {len(sniffed)} fields per line",
                where=str(path),
                fix="pass exactly one name per field with --columns",
            )
        check_sql_safe_names([c["name"] for c in sniff["columns"]], str(path))
        if not no_header:
            # an empty name (a trailing delimiter on every line of an export) is no name: DuckDB
            # calls each such column column<N> by its position
            named = [n for n in _header_names(path, sniff, enc) if n != ""]
            check_duplicate_names(named, str(path))
        types = {}
        for name, typ in sniffed:
            if typ == "DATE":
                types[name] = "DATE" if _iso_format(sniff["datefmt"]) else "VARCHAR"
            elif typ.startswith("TIMESTAMP"):
                types[name] = typ if _iso_format(sniff["tsfmt"]) else "VARCHAR"
            else:
                types[name] = typ
        retyped = []
        if not keep_text:  # numeric columns the sniffer took for text (custlens.io.text_numbers)
            source = _csv_sql(path, sniff, types, enc, decimal)
            retyped = numbers_read_as_text(con, source, types, decimal, full_sniff)
            types.update(dict.fromkeys(retyped, "DOUBLE"))
        view = view_name()
        # an infinite date ("infinity" in a date column) is no date pandas or Python can hold
        finite = [
            f"CASE WHEN isfinite({sql_ident(n)}) THEN {sql_ident(n)} END AS {sql_ident(n)}"
            for n, typ in types.items()
            if typ == "DATE" or typ.startswith("TIMESTAMP")
        ]
        columns_sql = f"* REPLACE ({', '.join(finite)})" if finite else "*"
        con.con.execute(
            f"CREATE VIEW {sql_ident(view)} AS SELECT {columns_sql} "
            f"FROM {_csv_sql(path, sniff, types, enc, decimal)}"
        )
        counts = ", ".join(f"count({sql_ident(n)})" for n in types)
        try:
            rows = scan_one(con, f"SELECT count(*), {counts} FROM {sql_ident(view)}")[0]
        except duckdb.Error as exc:
            if out_of_resources(exc):  # the disk or memory ran out, not the file
                raise
            con.con.execute(f"DROP VIEW IF EXISTS {sql_ident(view)}")
            if is_unicode_error(exc) and user_encoding is None and enc == "utf-8":
                enc = "latin-1"
                continue
            if isinstance(exc, duckdb.ConversionException) and not full_sniff:
                full_sniff = True
                continue
            if isinstance(exc, duckdb.ConversionException) and retyped:
                keep_text = True  # a value TRY_CAST reads but the CSV reader does not: keep text
                continue
            if gzip_truncated(path):
                raise truncated_error(path) from None
            raise InputError(
                f"Cannot read the file: {first_message_lines(exc, 4)}",
                where=str(path),
                fix="fix that line, or pass --delimiter/--encoding if they were guessed wrong",
            ) from None
        if enc == "latin-1" and user_encoding is None:
            notes.append(f"{path.name} is not valid UTF-8; it was read as Latin-1")
            log.info("%s is not valid UTF-8; read as Latin-1", path)
        return TextRead(con.table(view), int(rows), notes)
    raise InputError(
        "Cannot read the file as delimited text",
        where=str(path),
        fix="pass --delimiter and --encoding explicitly",
    )
