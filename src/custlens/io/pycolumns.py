"""Turn columns of plain Python values (Excel cells, SQLite rows, pandas objects) into Arrow.

Spreadsheets and SQLite carry one type per *cell*, not per column, so each column gets the
narrowest Arrow type that holds every non-empty value:

* only numbers (bools excluded)      -> int64 when all are whole ints, else float64
* only datetimes / only dates        -> timestamp[us] / date32
* only bools                          -> bool
* anything else (mixed, text, times)  -> string, where a whole float is written without ``.0``
  (Excel stores every number as a float, so invoice ``536365`` arrives as ``536365.0``)

Empty cells (``None`` or ``""``) become nulls.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa


def cell_text(value: Any) -> str | None:
    """One cell as text: whole floats without ``.0``, empty cells as ``None``."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    text = str(value)
    return text if text != "" else None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def to_arrow_array(values: Sequence[Any]) -> pa.Array:
    """The narrowest Arrow array holding ``values`` (see the module docstring)."""
    kinds = {type(v) for v in values if not _is_empty(v)}
    if not kinds:
        return pa.array([None] * len(values), type=pa.string())
    if kinds <= {int, float}:
        clean = [None if _is_empty(v) else v for v in values]
        if kinds == {int}:
            try:
                return pa.array(clean, type=pa.int64())
            except (OverflowError, pa.ArrowInvalid):
                pass
        clean = [
            None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in clean
        ]
        return pa.array([None if v is None else float(v) for v in clean], type=pa.float64())
    if kinds == {_dt.datetime}:
        return pa.array([None if _is_empty(v) else v for v in values], type=pa.timestamp("us"))
    if kinds == {_dt.date}:
        return pa.array([None if _is_empty(v) else v for v in values], type=pa.date32())
    if kinds == {bool}:
        return pa.array([None if _is_empty(v) else v for v in values], type=pa.bool_())
    return pa.array([cell_text(v) for v in values], type=pa.string())


def rows_to_arrow(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Rows (all of length ``len(names)``, shorter ones padded) into an Arrow table."""
    width = len(names)
    if rows:
        padded = (
            tuple(r) + (None,) * (width - len(r)) if len(r) < width else tuple(r) for r in rows
        )
        columns = list(zip(*padded, strict=True))
    else:
        columns = [() for _ in names]
    arrays = [to_arrow_array(col) for col in columns]
    return pa.Table.from_arrays(arrays, names=list(names))
