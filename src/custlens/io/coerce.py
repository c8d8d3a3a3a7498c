"""Typing mapped source columns as canonical ones, inside the engine.

Columns whose source type already fits (numbers, timestamps, dates) are cast directly. Text
columns that must become numbers or timestamps get one or more *readings* (decimal point vs
decimal comma; one date layout per candidate); ``io.load`` counts each reading's failures in a
single scan and keeps the first reading without failures, or reports the first bad row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt

from custlens.errors import InputError
from custlens.io.date_formats import (
    BUILTIN_LAYOUTS,
    Layout,
    layout_from_strftime,
    parse_expr,
    parse_expr_duckdb,
)
from custlens.io.strings import strip

_DECIMAL_COMMA = r"^[+-]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?$"
_WHOLE_FLOAT_TEXT = r"^-?[0-9]+\.0+$"


@dataclass(frozen=True)
class Reading:
    """One way to read a text column: the value, and which rows it cannot read."""

    label: str
    value: ibis.Value
    bad: ibis.BooleanValue
    note: str | None = None
    layout: Layout | None = None


@dataclass(frozen=True)
class Pending:
    """A column whose reading is decided by counting failures over the whole column."""

    canonical: str
    source: str
    kind: str  # "number" | "date"
    readings: tuple[Reading, ...]
    raw_text: ibis.Value  # the text shown in error messages


def _clean_text(col: ibis.Value) -> ibis.StringValue:
    return strip(col.cast("string")).nullif("")


def _float_text(col: ibis.Value) -> ibis.StringValue:
    """A float column as text, whole numbers without ``.0`` (17850.0 -> "17850")."""
    col = col.cast("float64")
    # (Ibis's floor() returns int64, so test the fraction; the bound guards the cast and inf)
    whole = (col.abs() < 1e15) & (col % 1.0 == 0.0)
    text = ibis.ifelse(whole, col.cast("int64").cast("string"), col.cast("string"))
    return ibis.ifelse(col.isnan(), ibis.null("string"), text)


def id_value(col: ibis.Value, *, whole_float_text: bool = True) -> ibis.StringValue:
    """An identifier as text: trimmed, empty -> null, ``17850`` whether stored as int, float or text."""
    dtype = col.type()
    if dtype.is_floating() or dtype.is_decimal():
        return _float_text(col)
    if dtype.is_string():
        text = strip(col).nullif("")
        if not whole_float_text:
            return text
        # the cheap "contains a dot" test first: engines then run the regex on those rows only
        whole_float = text.contains(".") & text.re_search(_WHOLE_FLOAT_TEXT)
        return ibis.ifelse(whole_float, text.re_extract(r"^(-?[0-9]+)\.", 1), text)
    return col.cast("string")


def text_value(col: ibis.Value) -> ibis.StringValue:
    """Free text (description, country ...): kept as written, empty -> null."""
    dtype = col.type()
    if dtype.is_string():
        return col.nullif("")
    return id_value(col)


def number_value(col: ibis.Value, canonical: str, source: str, where: str) -> ibis.Value | Pending:
    """A float64 column, or a ``Pending`` choice between decimal point and decimal comma."""
    dtype = col.type()
    if dtype.is_numeric() and not dtype.is_boolean():
        return col.cast("float64")
    if not dtype.is_string():
        raise InputError(
            f"Column {source!r} (mapped to {canonical}) has type {dtype}, not numbers",
            where=where,
            fix=f"map a numeric column with --map {canonical}=<column>",
        )
    text = _clean_text(col)
    point = text.try_cast("float64")
    comma = text.replace(".", "").replace(",", ".").try_cast("float64")
    readings = (
        Reading("decimal point", point, text.notnull() & point.isnull()),
        Reading(
            "decimal comma",
            comma,
            text.notnull() & ~text.re_search(_DECIMAL_COMMA).fill_null(False),
            note=f"column {source!r} uses decimal commas (2,55 read as 2.55)",
        ),
    )
    return Pending(canonical, source, "number", readings, text)


def date_text(col: ibis.Value, canonical: str, source: str, where: str) -> tuple[ibis.Value, bool]:
    """(already a timestamp | text to parse, is_text). Integers like 19970101 become text."""
    dtype = col.type()
    if dtype.is_timestamp():
        return (col.cast(dt.Timestamp()) if dtype.timezone else col), False
    if dtype.is_date():
        return col.cast("timestamp"), False
    if dtype.is_integer():
        return col.cast("string"), True
    if dtype.is_floating() or dtype.is_decimal():
        return _float_text(col), True
    if dtype.is_string():
        return _clean_text(col), True
    raise InputError(
        f"Column {source!r} (mapped to {canonical}) has type {dtype}, not dates",
        where=where,
        fix=f"map the order date column with --map {canonical}=<column>",
    )


def candidate_layouts(sample: Sequence[str], date_format: str | None) -> list[Layout]:
    """The layouts that read every sampled value (``--date-format`` alone when given); when none
    does, the one reading most of them, so that the error can name a value it cannot read."""
    if date_format is not None:
        try:
            return [layout_from_strftime(date_format)]
        except ValueError as exc:
            raise InputError(
                f"Cannot use --date-format {date_format!r}: {exc}",
                where="--date-format",
                fix="write it with strftime codes, e.g. --date-format '%d/%m/%Y %H:%M'",
            ) from None
    distinct = list(dict.fromkeys(sample))
    layouts = [lay for lay in BUILTIN_LAYOUTS if all(lay.parses(v) for v in distinct)]
    if layouts:
        return layouts
    return [max(BUILTIN_LAYOUTS, key=lambda lay: sum(lay.parses(v) for v in distinct))]


def day_month_undecided(layouts: Sequence[Layout]) -> bool:
    """Whether both a day-first and a month-first layout are still candidates."""
    return {True, False} <= {lay.day_first for lay in layouts}


def date_readings(
    text: ibis.StringValue,
    layouts: Sequence[Layout],
    sample: Sequence[str],
    *,
    canonical: str,
    source: str,
    duckdb: bool = False,
) -> Pending:
    """One reading per candidate layout (DuckDB's strptime when the engine is DuckDB)."""
    readings = []
    for lay in layouts:
        if duckdb and lay.strptime:
            value, valid = parse_expr_duckdb(text, lay, list(sample))
        else:
            value, valid = parse_expr(text, lay)
        readings.append(Reading(lay.label, value, text.notnull() & ~valid, layout=lay))
    return Pending(canonical, source, "date", tuple(readings), text)


def choose(pending: Pending, failures: Sequence[int]) -> tuple[Reading | None, list[str]]:
    """The reading to use (None when every reading fails somewhere) and notes on the choice."""
    ok = [r for r, n in zip(pending.readings, failures, strict=True) if n == 0]
    if not ok:
        return None, []
    chosen = ok[0]
    notes = [chosen.note] if chosen.note else []
    if pending.kind == "date":
        notes.append(f"dates in {pending.source!r} read as {chosen.label}")
        flipped = [r for r in ok[1:] if r.layout is not None and r.layout.day_first is False]
        if chosen.layout is not None and chosen.layout.day_first and flipped:
            notes.append(
                f"every date in {pending.source!r} also fits {flipped[0].label} (no day above 12); "
                f"day-first was assumed; pass --date-format '{flipped[0].label.split(' [')[0]} %H:%M' "
                "if the dates are month-first"
            )
    return chosen, notes


def worst_reading(pending: Pending, failures: Sequence[int]) -> tuple[Reading, int]:
    """The reading with the fewest failures, used to name the first bad row."""
    index = min(range(len(failures)), key=lambda i: failures[i])
    return pending.readings[index], failures[index]


def failure_error(
    pending: Pending,
    reading: Reading,
    count: int,
    row: int,
    value: str,
    where: str,
    date_format: str | None,
    present: int,
) -> InputError:
    """The error for an unreadable value, naming column, row and value."""
    if pending.kind == "date":
        if date_format is not None:
            what = f"does not match --date-format {date_format!r}"
            fix = "correct that value, or pass the --date-format that matches the column"
        else:
            if count < present:
                what = (
                    f"does not fit {reading.label}, the layout of most other values in the column"
                )
            else:
                what = "is not a date in any layout custlens recognises"
            fix = (
                "pass the layout with --date-format, e.g. --date-format '%d/%m/%Y %H:%M', "
                "or correct that value"
            )
            if (serial := _excel_serial_day(value)) is not None:
                fix = (
                    f"the column holds numbers such as {value.strip()!r}, which look like Excel "
                    f"serial dates (days since 1899-12-30: {value.strip()!r} is {serial}); "
                    "--date-format cannot read those: format the column as dates in Excel "
                    "before exporting, or convert it in pandas: "
                    "pd.to_datetime(df[column], unit='D', origin='1899-12-30')"
                )
            if _looks_like_epoch(value):
                fix = (
                    "the column holds whole numbers of 9 or more digits, which look like Unix "
                    "timestamps (seconds or milliseconds since 1970); --date-format cannot read "
                    "those: convert them to dates before loading, e.g. in pandas "
                    "pd.to_datetime(df[column], unit='s') (unit='ms' for milliseconds)"
                )
    else:
        what = (
            "is not a number"
            if reading.label == "decimal point"
            else "is not a decimal-comma number"
        )
        fix = (
            f"correct or remove the value (no currency signs or thousands separators), or map "
            f"another column with --map {pending.canonical}=<column>"
        )
    return InputError(
        f"Column {pending.source!r} (mapped to {pending.canonical}): data row {row} has {value!r}, "
        f"which {what} ({count} value(s) like this)",
        where=where,
        fix=fix,
    )


def _looks_like_epoch(value: str) -> bool:
    """A whole number of 9-13 digits: seconds or milliseconds since 1970 (1973-2286), not a
    compact layout such as 20240105 (8 digits), which --date-format '%Y%m%d' reads."""
    digits = value.strip().removesuffix(".0")
    return digits.isdigit() and 9 <= len(digits) <= 13


def _excel_serial_day(value: str) -> date | None:
    """The day an Excel serial date means (days since 1899-12-30, the fraction the time of
    day) when ``value`` is one of 20000-79999 (1954-10-03 .. 2119-01-10): a five-digit
    number, which no date layout --date-format reads produces."""
    whole, _, fraction = value.strip().partition(".")
    if not (whole.isdigit() and len(whole) == 5 and (fraction == "" or fraction.isdigit())):
        return None
    days = int(whole)
    return date(1899, 12, 30) + timedelta(days=days) if 20000 <= days < 80000 else None
