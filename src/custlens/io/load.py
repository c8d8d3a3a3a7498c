"""``load``: any source -> canonical transactions (see docs/DEVELOPING.md, "Canonical transactions").

One call reads the source (``io.readers``), maps its columns (``io.schema``), types them
(``io.coerce``) and derives what is missing:

* ``order_id``   absent -> ``customer_id || '|' || order date`` (one order per customer per day)
* ``quantity``   absent -> 1.0
* ``unit_price`` absent -> ``amount / quantity`` (null when quantity is 0)
* ``amount``     absent -> ``quantity * unit_price``

Text columns that must become numbers or timestamps are checked in one aggregate scan, which
also counts the rows when the reader did not; a value that cannot be read is an ``InputError``
naming the column, the 1-based data row and the value. Everything stays a lazy Ibis expression
on the source's engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import ibis

from custlens.config import MappingConfig
from custlens.errors import InputError, MappingError
from custlens.io import coerce
from custlens.io.canonical import CANONICAL_COLUMNS, CANONICAL_TYPES
from custlens.io.options import ReadOptions
from custlens.io.readers import RawTable, read_table
from custlens.io.schema import resolve_mapping

log = logging.getLogger(__name__)

_SAMPLE_SIZE = 2000
_ROW = "__custlens_row"


@dataclass(frozen=True)
class Source:
    """Canonical transactions and where they came from."""

    table: ibis.Table
    con: Any
    origin: str
    sha256: str | None
    mapping: dict[str, str]  # canonical -> source column
    counted_rows: int | None  # None when counting would have needed a scan of its own
    notes: list[str] = field(default_factory=list)

    @cached_property
    def rows(self) -> int:
        """Lines in the source (counted on first use when loading did not need to count them)."""
        if self.counted_rows is not None:
            return self.counted_rows
        return int(self.table.count().execute())


def _sample(raw: ibis.Table, text: ibis.Value) -> list[str]:
    expr = raw.select(v=text).filter(ibis._.v.notnull()).limit(_SAMPLE_SIZE)
    return [r["v"] for r in expr.to_pyarrow().to_pylist()]


def _wide_sample(raw: ibis.Table, text: ibis.Value, rows: int) -> list[str]:
    fraction = min(1.0, 4 * _SAMPLE_SIZE / max(rows, 1))
    expr = (
        raw.select(v=text).filter(ibis._.v.notnull()).sample(fraction, seed=7).limit(_SAMPLE_SIZE)
    )
    return [r["v"] for r in expr.to_pyarrow().to_pylist()]


def _first_bad_row(
    raw: ibis.Table, pending: coerce.Pending, reading: coerce.Reading
) -> tuple[int, str]:
    numbered = raw.select(
        **{_ROW: ibis.row_number() + 1, "bad": reading.bad, "value": pending.raw_text}
    )
    expr = numbered.filter(numbered.bad).order_by(_ROW).limit(1)
    rows = expr.to_pyarrow().to_pylist()
    if not rows:  # the failure did not repeat (an engine without a stable scan order)
        return 0, "?"
    return int(rows[0][_ROW]), rows[0]["value"]


def _resolve_pending(
    raw: RawTable, pendings: list[coerce.Pending], date_format: str | None
) -> tuple[int | None, dict[str, ibis.Value], list[str]]:
    """Count rows and every reading's failures in one scan; pick readings or raise.

    The count is None when no column needed checking (the rows are then counted by cleaning).
    """
    table = raw.table
    metrics: dict[str, ibis.Value] = {}
    if not pendings and raw.rows is None:
        # Nothing to validate: do not scan the whole source just to count it (cleaning counts
        # every line anyway); reading one row tells an empty source apart.
        return (0 if table.limit(1).count().execute() == 0 else None), {}, []
    if raw.rows is None:
        metrics["n"] = table.count()
    for i, pending in enumerate(pendings):
        for j, reading in enumerate(pending.readings):
            metrics[f"f{i}_{j}"] = reading.bad.cast("int64").sum().fill_null(0)
        metrics[f"nn{i}"] = pending.raw_text.count()
    if not metrics:
        return int(raw.rows or 0), {}, []
    result = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    rows = int(result["n"]) if raw.rows is None else int(raw.rows)
    values: dict[str, ibis.Value] = {}
    notes: list[str] = []
    if rows == 0:
        return rows, values, notes
    for i, pending in enumerate(pendings):
        if pending.kind == "date" and int(result[f"nn{i}"]) == 0:
            raise InputError(
                f"Column {pending.source!r} (mapped to order_ts) is empty on every row",
                where=raw.origin,
                fix="map the column that holds order dates with --map order_ts=<column>",
            )
        failures = [int(result[f"f{i}_{j}"]) for j in range(len(pending.readings))]
        chosen, why = coerce.choose(pending, failures)
        if chosen is None:
            reading, count = coerce.worst_reading(pending, failures)
            row, value = _first_bad_row(table, pending, reading)
            raise coerce.failure_error(
                pending, reading, count, row, value, raw.origin, date_format, int(result[f"nn{i}"])
            )
        values[pending.canonical] = chosen.value
        notes.extend(why)
    return rows, values, notes


def _typed_columns(
    raw: RawTable, mapping: dict[str, str], date_format: str | None, notes: list[str]
) -> tuple[dict[str, ibis.Value], list[coerce.Pending]]:
    table = raw.table
    values: dict[str, ibis.Value] = {}
    pendings: list[coerce.Pending] = []
    for canonical, source in mapping.items():
        col = table[source]
        if col.type().is_nested() or col.type().is_binary():
            raise MappingError(
                f"The column {source!r} mapped to {canonical} holds {col.type()} values "
                "(a struct, list, map or bytes), not single values",
                where=f"{raw.origin}, column {source!r}",
                fix=f"map {canonical} to a column of plain values (text, numbers or dates), "
                "e.g. flatten the field when exporting",
            )
        kind = CANONICAL_TYPES[canonical]
        if canonical == "order_ts":
            text, is_text = coerce.date_text(col, canonical, source, raw.origin)
            if not is_text:
                values[canonical] = text
                if col.type().is_timestamp() and col.type().timezone:
                    notes.append(_time_zone_note(raw, source))
                if date_format is not None:
                    coerce.candidate_layouts([], date_format)  # an unusable format is an error
                    notes.append(f"--date-format ignored: {source!r} already holds dates")
                continue
            sample = _sample(table, text)
            layouts = coerce.candidate_layouts(sample, date_format)
            if len(layouts) > 1 and coerce.day_month_undecided(layouts) and raw.rows:
                # the first rows often share one day ("12/1/2010"): look across the whole column
                sample = sample + _wide_sample(table, text, raw.rows)
                layouts = coerce.candidate_layouts(sample, date_format)
            pendings.append(
                coerce.date_readings(
                    text,
                    layouts,
                    sample,
                    canonical=canonical,
                    source=source,
                    duckdb=getattr(raw.con, "name", "") == "duckdb",
                )
            )
        elif kind.is_floating():
            value = coerce.number_value(col, canonical, source, raw.origin)
            if isinstance(value, coerce.Pending):
                pendings.append(value)
            else:
                values[canonical] = value
        elif canonical in ("customer_id", "order_id", "product_id"):
            values[canonical] = coerce.id_value(col, whole_float_text=canonical != "product_id")
        else:
            values[canonical] = coerce.text_value(col)
    return values, pendings


def _time_zone_note(raw: RawTable, source: str) -> str:
    """What became of time-zone-aware order times: the engine's session time zone (DuckDB:
    UTC unless set) gives their clock times, so hours of day are that zone's, not the shop's."""
    session = "its session time zone"
    if getattr(raw.con, "name", None) == "duckdb":
        [(session,)] = raw.con.raw_sql("SELECT current_setting('TimeZone')").fetchall()
    return (
        f"{source!r} holds time-zone-aware timestamps; they were converted to "
        f"{session} time, so hours of day and weekdays are {session}'s, not the shop's local "
        "time: to analyse local hours, export the times as local times without a time zone"
    )


def _derive(values: dict[str, ibis.Value], notes: list[str]) -> dict[str, ibis.Value]:
    out = dict(values)
    if "quantity" not in out:
        # a cast, not a typed literal: Ibis prints a float literal as ``1.0``, which DuckDB and
        # Spark read as DECIMAL(2,1), and every item feature would then arrive as Decimals
        out["quantity"] = ibis.literal(1, type="int64").cast("float64")
        notes.append("no quantity column: every line counts as quantity 1")
    qty = out["quantity"]
    if "amount" in out and "unit_price" not in out:
        out["unit_price"] = ibis.ifelse(qty == 0.0, ibis.null("float64"), out["amount"] / qty)
        notes.append("unit_price derived as amount / quantity")
    elif "unit_price" in out and "amount" not in out:
        out["amount"] = qty * out["unit_price"]
        notes.append("amount derived as quantity * unit_price")
    if "order_id" not in out:
        out["order_id"] = out["customer_id"] + "|" + out["order_ts"].date().cast("string")
        notes.append(
            "no order id column: order_id derived as customer_id|date (all of a customer's lines "
            "on one day form one order)"
        )
    return {c: out[c].cast(CANONICAL_TYPES[c]).name(c) for c in CANONICAL_COLUMNS if c in out}


def load(
    source: Any,
    *,
    mapping: MappingConfig | None = None,
    con: Any | None = None,
    options: ReadOptions | None = None,
) -> Source:
    """Read ``source`` and return its lines as canonical transactions.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame, pyarrow.Table or ibis.Table
        A file (CSV/TSV, ``.csv.gz``, Parquet, XLSX, JSON lines, a headerless text log), a
        SQLite/DuckDB file, an Ibis connection URL, or a table in memory.
    mapping : MappingConfig, optional
        Column mapping (preset and ``canonical -> source column`` overrides); by default the
        layout is recognised from presets and common synonyms.
    con : ibis connection, optional
        The engine to read into (default: a private in-process DuckDB).
    options : ReadOptions, optional
        How to read the source: table, sheet, header, delimiter, encoding, date format.

    Returns
    -------
    Source
        ``.table`` is an Ibis table with the canonical columns (``customer_id``, ``order_id``,
        ``order_ts``, ``quantity``, ``unit_price``, ``amount`` and the optional ones the source
        has); ``.mapping``, ``.origin``, ``.sha256`` and ``.notes`` say how it was read.

    Raises
    ------
    InputError
        The source cannot be read or its values cannot be understood (file, row, value named).
    MappingError
        A required column is missing or ambiguous (the columns found are listed).
    ConfigError
        Reader options that can never work together.

    Examples
    --------
    >>> import pandas as pd
    >>> from custlens.io import load
    >>> lines = pd.DataFrame({"Customer": ["a", "a", "b"],
    ...                       "Date": ["2024-01-05", "2024-02-01", "2024-01-09"],
    ...                       "Revenue": [10.0, 5.5, 7.0]})
    >>> src = load(lines)
    >>> src.mapping
    {'customer_id': 'Customer', 'order_ts': 'Date', 'amount': 'Revenue'}
    >>> src.table.amount.sum().execute()
    22.5
    """
    options = options or ReadOptions()
    date_format = options.date_format
    raw = read_table(source, options, con=con)
    if raw.rows == 0:
        raise _no_rows(raw)
    resolved = resolve_mapping(list(raw.table.columns), mapping, where=raw.origin)
    notes = list(raw.notes) + list(resolved.notes)
    values, pendings = _typed_columns(raw, resolved.columns, date_format, notes)
    rows, chosen, choice_notes = _resolve_pending(raw, pendings, date_format)
    if rows == 0:
        raise _no_rows(raw)
    values.update(chosen)
    notes.extend(choice_notes)
    exprs = _derive(values, notes)
    canonical = raw.table.select(**exprs)
    for note in notes:
        log.info("%s: %s", raw.origin, note)
    return Source(canonical, raw.con, raw.origin, raw.sha256, dict(resolved.columns), rows, notes)


def _no_rows(raw: RawTable) -> InputError:
    return InputError(
        "The source has no data rows (only a header, or an empty table)",
        where=raw.origin,
        fix="export the data again, or point custlens at the file or table that holds the orders",
    )
