"""JSON records read lazily by DuckDB: JSON lines (``.jsonl``/``.ndjson``) or a ``.json`` file.

Like the delimited reader, one validation scan touches every column, counts the rows and turns
any type that the sample guessed wrong into a re-read with a full sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from custlens.errors import InputError, out_of_resources
from custlens.io.sql import sql_ident, sql_literal
from custlens.io.text_checks import (
    TextRead,
    check_not_blank,
    first_message_lines,
    scan_one,
    view_name,
)


def read_json_lines(con: Any, path: Path, *, lines_only: bool) -> TextRead:
    """JSON lines (``.jsonl``/``.ndjson``), or ``.json`` holding lines or one array of records."""
    check_not_blank(path)
    fmt = "newline_delimited" if lines_only else "auto"
    for full in (False, True):
        view = view_name()
        sample = ", sample_size=-1" if full else ""
        try:
            con.con.execute(
                f"CREATE VIEW {sql_ident(view)} AS SELECT * FROM "
                f"read_json({sql_literal(str(path))}, format={sql_literal(fmt)}{sample})"
            )
            names = [r[0] for r in con.con.execute(f"DESCRIBE {sql_ident(view)}").fetchall()]
            counts = ", ".join(f"count({sql_ident(n)})" for n in names)
            rows = scan_one(con, f"SELECT count(*), {counts} FROM {sql_ident(view)}")[0]
        except duckdb.Error as exc:
            if out_of_resources(exc):  # the disk or memory ran out, not the file
                raise
            con.con.execute(f"DROP VIEW IF EXISTS {sql_ident(view)}")
            if isinstance(exc, duckdb.ConversionException) and not full:
                continue
            raise InputError(
                f"Cannot read the file as JSON records: {first_message_lines(exc)}",
                where=str(path),
                fix="write one JSON object per line (JSON lines) with the same keys on every line",
            ) from None
        return TextRead(con.table(view), int(rows), [])
    raise InputError("Cannot read the JSON file", where=str(path), fix="check its format")
