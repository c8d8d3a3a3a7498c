"""Whitespace-separated text logs (``.txt``/``.dat``/``.log``), read lazily by DuckDB.

CDNOW's original file is the model: ``00001 19970101  1  11.77``, fields separated by runs of
spaces, no header (pass the names with ``columns``). DuckDB hands over whole lines, which are
split on whitespace inside the engine; every field stays text (ids keep their leading zeros)
and ``io.load`` converts the mapped columns. A line with the wrong number of fields is an
``InputError`` naming the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from custlens.errors import InputError, out_of_resources
from custlens.io.sql import sql_ident, sql_literal
from custlens.io.text_checks import (
    TextRead,
    check_duplicate_names,
    check_not_blank,
    first_message_lines,
    is_unicode_error,
    normalise_encoding,
    open_text,
    scan_one,
    view_name,
)

_FIELD_SEPARATOR = chr(1)  # never in a text log: lets read_csv hand over whole lines


def _whitespace_header(path: Path, encoding: str) -> tuple[list[str], int]:
    """The first non-blank line split on whitespace, and how many lines to skip past it."""
    with open_text(path, encoding) as fh:
        for i, line in enumerate(fh, start=1):
            if line.strip():
                return line.split(), i
    return [], 0


def read_whitespace(
    con: Any, path: Path, *, no_header: bool, columns: list[str] | None, encoding: str | None
) -> TextRead:
    """A log with fields separated by runs of spaces/tabs (e.g. CDNOW's ``00001 19970101 1 11.77``).

    Every field is kept as text; ``io.load`` converts the mapped columns (ids keep leading zeros).
    """
    check_not_blank(path)
    user_encoding = normalise_encoding(encoding)
    enc = user_encoding or "utf-8"
    for _attempt in range(2):
        if no_header:
            names, skip = list(columns or []), 0
            if not names:
                raise InputError(
                    "A headerless text log needs its column names",
                    where=str(path),
                    fix="pass --columns, e.g. --columns customer_id,date,quantity,amount",
                )
        else:
            names, skip = _whitespace_header(path, enc)
            check_duplicate_names(names, str(path))
        lines = (
            f"read_csv({sql_literal(str(path))}, columns={{'line': 'VARCHAR'}}, delim={sql_literal(_FIELD_SEPARATOR)}, "
            f"header=false, quote='', escape='', auto_detect=false, skip={skip}, encoding={sql_literal(enc)})"
        )
        inner = view_name()
        con.con.execute(
            f"CREATE VIEW {sql_ident(inner)} AS SELECT regexp_split_to_array(trim(line), '\\s+') AS parts "
            f"FROM {lines} WHERE line IS NOT NULL AND trim(line) <> ''"
        )
        try:
            rows, ragged = scan_one(
                con,
                f"SELECT count(*), count(*) FILTER (WHERE len(parts) <> {len(names)}) FROM {sql_ident(inner)}",
            )
        except duckdb.Error as exc:
            if out_of_resources(exc):  # the disk or memory ran out, not the file
                raise
            con.con.execute(f"DROP VIEW IF EXISTS {sql_ident(inner)}")
            if is_unicode_error(exc) and user_encoding is None and enc == "utf-8":
                enc = "latin-1"
                continue
            raise InputError(
                f"Cannot read the file: {first_message_lines(exc)}",
                where=str(path),
                fix="check the file's format and encoding",
            ) from None
        if ragged:
            row, text = scan_one(
                con,
                f"SELECT rn, array_to_string(parts, ' ') FROM (SELECT row_number() OVER () AS rn, parts "
                f"FROM {sql_ident(inner)}) WHERE len(parts) <> {len(names)} ORDER BY rn LIMIT 1",
            )
            raise InputError(
                f"{ragged} line(s) do not have {len(names)} whitespace-separated fields "
                f"({', '.join(names)}); the first is data row {row}: {text!r}",
                where=str(path),
                fix="pass the right --columns, or use --delimiter if fields contain spaces",
            )
        view = view_name()
        select = ", ".join(f"parts[{i + 1}] AS {sql_ident(n)}" for i, n in enumerate(names))
        con.con.execute(f"CREATE VIEW {sql_ident(view)} AS SELECT {select} FROM {sql_ident(inner)}")
        notes = []
        if enc == "latin-1" and user_encoding is None:
            notes.append(f"{path.name} is not valid UTF-8; it was read as Latin-1")
        return TextRead(con.table(view), int(rows), notes)
    raise InputError("Cannot read the text log", where=str(path), fix="check its encoding")
