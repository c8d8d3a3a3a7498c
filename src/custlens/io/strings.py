"""Text expressions that engines run row by row on every line, written to be cheap.

``strip`` gives exactly ``col.strip()`` (spaces, tabs, line breaks, ``\\v`` and ``\\f`` removed at
both ends) but trims only the values that start or end with one of them: DuckDB's ``TRIM`` with
a set of characters costs about 0.15 CPU seconds per million values, while reading the first
character and testing six endings costs a fifth of that, and almost no identifier has spaces
around it.
"""

from __future__ import annotations

import functools
import operator

import ibis.expr.types as ir

__all__ = ["WHITESPACE", "strip"]

WHITESPACE = " \t\n\r\x0b\x0c"  # what Ibis's ``strip()`` removes


def strip(col: ir.StringValue) -> ir.StringValue:
    """``col.strip()``, trimming only the values that need it (same result, nulls included)."""
    first = col.ascii_str()  # code of the first character (0 for an empty text)
    padded = (first == 32) | first.between(9, 13)
    padded = functools.reduce(operator.or_, [col.endswith(c) for c in WHITESPACE], padded)
    return padded.ifelse(col.strip(), col)
