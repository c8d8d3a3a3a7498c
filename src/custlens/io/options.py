"""``ReadOptions``: how to read a source (table, sheet, header, delimiter, decimal separator,
encoding, dates).

One frozen object carries the reader options from the CLI flags or the Python API through
``run`` and ``load`` to ``read_table``; it checks the combinations that can never work when it is
made, so every caller gets the same error whatever the source.

>>> ReadOptions(no_header=True, columns=["customer_id", "date", "amount"]).columns
('customer_id', 'date', 'amount')
>>> ReadOptions(no_header=True)
Traceback (most recent call last):
...
custlens.errors.ConfigError: --no-header needs the column names.
Where: --columns.
Fix: add --columns name1,name2,... in file order (columns=[...] in Python).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from custlens.errors import ConfigError

DECIMAL_SEPARATORS = (".", ",")


@dataclass(frozen=True)
class ReadOptions:
    """Reader options; every one is optional and only some apply to a given source.

    * ``table``: the table in a SQLite/DuckDB file or a database URL.
    * ``sheet``: the Excel sheet (default: every sheet with the same header).
    * ``no_header`` / ``columns``: a text file without a header row, and its column names in
      file order (a sequence, or comma-separated text); each needs the other.
    * ``delimiter``: the field separator of a delimited text file (default: sniffed).
    * ``encoding``: the text encoding (default: UTF-8, else Latin-1).
    * ``date_format``: the strptime format of the order date column (default: inferred).
    * ``decimal``: the decimal separator of the numbers in a delimited text file, ``"."`` or
      ``","`` (default ``"."``: ``2,55`` is then read as text, which ``run`` and ``profile``
      still recognise as a number with a decimal comma, but ``audit`` does not).

    An option that does not apply to the source given is an ``InputError`` when it is read.
    """

    table: str | None = None
    sheet: str | None = None
    no_header: bool = False
    columns: Sequence[str] | None = None  # stored as a tuple
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    decimal: str | None = None  # last: positional callers keep their meaning

    def __post_init__(self) -> None:
        columns = self.columns
        if isinstance(columns, str):  # comma-separated, as on the command line
            columns = [c.strip() for c in columns.split(",")] if columns.strip() else None
        columns = tuple(columns) if columns else None
        object.__setattr__(self, "columns", columns)
        if self.no_header and not columns:
            raise ConfigError(
                "--no-header needs the column names",
                where="--columns",
                fix="add --columns name1,name2,... in file order (columns=[...] in Python)",
            )
        if columns and not self.no_header:
            raise ConfigError(
                "--columns names the fields of a file without a header row",
                where="--columns",
                fix="add --no-header, or drop --columns to use the file's own header",
            )
        if self.decimal is not None and self.decimal not in DECIMAL_SEPARATORS:
            raise ConfigError(
                f"--decimal {self.decimal!r} is not a decimal separator",
                where="--decimal",
                fix="pass --decimal , (decimal comma, 2,55) or --decimal . (decimal point, 2.55)",
            )
        if self.decimal is not None and self.decimal == self.delimiter:
            raise ConfigError(
                f"--decimal and --delimiter are both {self.decimal!r}: a field separator cannot "
                "also separate the decimals",
                where="--decimal / --delimiter",
                fix="pass the file's field separator to --delimiter (e.g. --delimiter ';' "
                "--decimal ,), or leave --delimiter unset to sniff it",
            )

    def given(self, *names: str) -> list[str]:
        """The options among ``names`` (all when none are named) that were set."""
        names = names or tuple(f.name for f in fields(self))
        return [n for n in names if getattr(self, n) not in (None, False)]
