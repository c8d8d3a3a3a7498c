"""Numeric columns of a delimited file that DuckDB's sniffer took for text.

DuckDB's sniffer reads a column as text when its *first* value is ``inf``, ``-inf`` or
``Infinity``, while the same value on any later line gives a number (a column starting with
``NaN`` is read as numbers). Such a column is a numeric column holding an invalid number, and is
read as DOUBLE, so that every command treats the value as it treats infinite numbers anywhere
else: cleaning's rule 10 (``invalid_numbers``) removes and counts the line, the profile and the
audit set the value missing with a note. A column is taken for numbers only when every value of
the sniffer's sample (the whole file after a full sniff) is empty or a number and at least one
is infinite or NaN; the validation scan of :func:`custlens.io.text_files.read_delimited` then
checks every line, and a column DuckDB's reader still refuses stays text.
"""

from __future__ import annotations

from typing import Any

import duckdb

from custlens.errors import out_of_resources
from custlens.io.sql import sql_ident

SNIFF_ROWS = 20480  # the rows DuckDB's sniffer samples by default


def _number(name: str, decimal: str | None) -> str:
    value = f"trim({sql_ident(name)})"
    if decimal == ",":
        value = f"replace({value}, ',', '.')"
    return f"TRY_CAST({value} AS DOUBLE)"


def numbers_read_as_text(
    con: Any, source: str, types: dict[str, str], decimal: str | None, full: bool
) -> list[str]:
    """The VARCHAR columns of ``types`` that hold numbers, at least one infinite or NaN, and the
    date columns that hold nothing but infinite dates (``inf`` read as a date).

    ``source`` is the ``read_csv(...)`` expression with ``types``; ``decimal`` the decimal
    separator it reads; ``full``: look at every line, not only the sniffer's sample.
    """
    text = [name for name, typ in types.items() if typ == "VARCHAR"]
    # a column of nothing but inf / -inf is sniffed as dates (DuckDB's infinite dates), which
    # no date type of pandas holds: numbers too
    dates = [name for name, typ in types.items() if typ == "DATE" or typ.startswith("TIMESTAMP")]
    if not text and not dates:
        return []
    checks = ", ".join(
        [
            f"coalesce(bool_and({sql_ident(n)} IS NULL OR {_number(n, decimal)} IS NOT NULL) "
            f"AND bool_or(NOT isfinite({_number(n, decimal)})), false)"
            for n in text
        ]
        + [
            f"coalesce(bool_and({sql_ident(n)} IS NULL OR NOT isfinite({sql_ident(n)})) "
            f"AND bool_or({sql_ident(n)} IS NOT NULL), false)"
            for n in dates
        ]
    )
    text = text + dates
    names = ", ".join(sql_ident(n) for n in text)
    rows = "" if full else f" LIMIT {SNIFF_ROWS}"
    try:
        found = con.con.execute(f"SELECT {checks} FROM (SELECT {names} FROM {source}{rows})")
        numeric = found.fetchall()[0]
    except duckdb.Error as exc:
        if out_of_resources(exc):  # the disk or memory ran out, not the file
            raise
        return []  # the validation scan says what is wrong with the file
    return [name for name, is_number in zip(text, numeric, strict=True) if is_number]
