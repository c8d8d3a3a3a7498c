"""The one place that quotes text for SQL the readers write by hand (DuckDB and SQLite).

Every identifier and every literal built from user text (paths, column and table names) goes
through these two functions; nothing else in the package puts user text into SQL.
"""

from __future__ import annotations


def sql_literal(text: str) -> str:
    """A SQL string literal: ``it's`` -> ``'it''s'``.

    >>> sql_literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier: ``a"b`` -> ``"a""b"`` (a dot stays part of the name).

    >>> sql_ident('a.b"c')
    '"a.b""c"'
    """
    return '"' + name.replace('"', '""') + '"'
