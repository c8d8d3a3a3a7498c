"""Date layouts: recognising and parsing date/time text portably (DuckDB, PySpark, ...).

A layout is a regular expression whose groups have roles (year, month, day, hour, ...). Parsing
uses only ``re_search``/``re_extract``, integer casts, range checks and ``ibis.timestamp``, so the
same expression works on every engine and an impossible date (``31/02/2011``) is *detected*
instead of raising an engine error. The same regex and checks also run in Python on a sample to
narrow the candidates cheaply.

Built-in layouts accept an optional time after the date: ``[ T]H:MM[:SS[.fff]][ AM|PM]``, then an
optional ``Z``/``+hh:mm`` offset which is ignored (the wall-clock time as written is kept;
fractional seconds are dropped). ``--date-format`` takes a strftime pattern (``%d/%m/%Y %H:%M``)
with the directives ``%Y %y %m %d %b %B %H %I %M %S %f %p %%``.

Day-first vs month-first: both ``%d/%m/%Y`` and ``%m/%d/%Y`` are tried. The layout that parses
every value wins; if both do (no day above 12 anywhere), day-first is chosen and a note says so
(pass ``--date-format`` to decide). Month-first is therefore used only when some value has a
number above 12 in second position, like the UCI export's ``12/13/2010 8:26``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TIME_TAIL = (
    r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?(?: ?([AaPp][Mm]))?)?"
    r"(?: ?(?:Z|[+-][0-9]{2}:?[0-9]{2}))?"
)
_TAIL_ROLES = ("H", "M", "S", "p")


@dataclass(frozen=True)
class Layout:
    """A date layout: ``label`` for people, an anchored ``regex``, one role per group."""

    label: str
    regex: str
    roles: tuple[str, ...]
    day_first: bool | None = None  # True/False for the ambiguous d/m layouts
    strptime: tuple[str, ...] = ()  # the same layout as DuckDB strptime formats (fast path)

    def parses(self, text: str) -> bool:
        """Whether ``text`` is a valid date in this layout (Python-side, for sampling)."""
        match = re.match(self.regex, text)
        if match is None:
            return False
        parts = dict(zip(self.roles, match.groups(), strict=True))
        try:
            year, month, day, hour, minute, second = _python_parts(parts)
            _dt.datetime(year, month, day, hour, minute, second)
        except (ValueError, TypeError):
            return False
        return year >= 1000


def _python_parts(found: dict[str, str | None]) -> tuple[int, int, int, int, int, int]:
    parts = {k: v for k, v in found.items() if v is not None}
    if parts.get("Y"):
        year = int(parts["Y"])
    else:
        yy = int(parts["y"])
        year = 2000 + yy if yy < 69 else 1900 + yy
    month = _MONTHS.index(parts["b"][:3].lower()) + 1 if parts.get("b") else int(parts["m"])
    hour_text = parts.get("H") or parts.get("I")
    hour = int(hour_text) if hour_text else 0
    ampm = (parts.get("p") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("12-hour clock out of range")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    minute = int(parts["M"]) if parts.get("M") else 0
    second = int(parts["S"]) if parts.get("S") else 0
    return year, month, int(parts["d"]), hour, minute, second


_STRPTIME_TAILS = (
    "", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f",
    " %I:%M %p", " %I:%M:%S %p", " %I:%M%p", " %I:%M:%S%p",
)  # fmt: skip


def _builtin(
    label: str, date_regex: str, roles: str, day_first: bool | None = None, time: bool = True
) -> Layout:
    tail = _TIME_TAIL if time else ""
    return Layout(
        f"{label} [%H:%M[:%S]]" if time else label,
        f"^{date_regex}{tail}$",
        tuple(roles) + (_TAIL_ROLES if time else ()),
        day_first,
        tuple(
            d + t for d in dict.fromkeys([label, label.replace(",", "")]) for t in _STRPTIME_TAILS
        )
        if time
        else (label,),
    )


_D = r"([0-9]{1,2})"
_Y = r"([0-9]{4})"
_Y2 = r"([0-9]{2})"
_B = r"([A-Za-z]{3,9})"

# Order matters only between layouts that can both parse a whole column: day-first first.
BUILTIN_LAYOUTS: tuple[Layout, ...] = (
    _builtin("%Y-%m-%d", rf"{_Y}-{_D}-{_D}", "Ymd"),
    _builtin("%Y/%m/%d", rf"{_Y}/{_D}/{_D}", "Ymd"),
    _builtin("%Y.%m.%d", rf"{_Y}\.{_D}\.{_D}", "Ymd"),
    _builtin("%Y%m%d", r"([0-9]{4})([0-9]{2})([0-9]{2})", "Ymd", time=False),
    _builtin("%d/%m/%Y", rf"{_D}/{_D}/{_Y}", "dmY", True),
    _builtin("%m/%d/%Y", rf"{_D}/{_D}/{_Y}", "mdY", False),
    _builtin("%d.%m.%Y", rf"{_D}\.{_D}\.{_Y}", "dmY", True),
    _builtin("%d-%m-%Y", rf"{_D}-{_D}-{_Y}", "dmY", True),
    _builtin("%m-%d-%Y", rf"{_D}-{_D}-{_Y}", "mdY", False),
    _builtin("%d/%m/%y", rf"{_D}/{_D}/{_Y2}", "dmy", True),
    _builtin("%m/%d/%y", rf"{_D}/{_D}/{_Y2}", "mdy", False),
    _builtin("%d.%m.%y", rf"{_D}\.{_D}\.{_Y2}", "dmy", True),
    _builtin("%d-%b-%Y", rf"{_D}-{_B}-{_Y}", "dbY"),
    _builtin("%d %b %Y", rf"{_D} {_B} {_Y}", "dbY"),
    _builtin("%b %d, %Y", rf"{_B} {_D},? {_Y}", "bdY"),
)

_DIRECTIVES = {
    "Y": (r"([0-9]{4})", "Y"),
    "y": (r"([0-9]{2})", "y"),
    "m": (r"([0-9]{1,2})", "m"),
    "d": (r"([0-9]{1,2})", "d"),
    "b": (r"([A-Za-z]{3})", "b"),
    "B": (r"([A-Za-z]{3,9})", "b"),
    "H": (r"([0-9]{1,2})", "H"),
    "I": (r"([0-9]{1,2})", "I"),
    "M": (r"([0-9]{1,2})", "M"),
    "S": (r"([0-9]{1,2})", "S"),
    "p": (r"([AaPp][Mm])", "p"),
    "f": (r"[0-9]{1,9}", None),
}
_COMPACT = {
    "Y": r"([0-9]{4})",
    "m": r"([0-9]{2})",
    "d": r"([0-9]{2})",
    "H": r"([0-9]{2})",
    "M": r"([0-9]{2})",
    "S": r"([0-9]{2})",
}


def layout_from_strftime(fmt: str) -> Layout:
    """A layout for a strftime pattern; ``ValueError`` for an unsupported directive."""
    pieces: list[str] = []
    roles: list[str] = []
    i = 0
    compact = "%" in fmt and not re.search(r"[^%A-Za-z]", fmt.replace("%", ""))
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            pieces.append(ch if ch.isalnum() or ch in " /:,-_" else re.escape(ch))
            i += 1
            continue
        if i + 1 >= len(fmt):
            raise ValueError("the pattern ends with a lone '%'")
        code = fmt[i + 1]
        i += 2
        if code == "%":
            pieces.append("%")
            continue
        if code not in _DIRECTIVES:
            raise ValueError(f"directive %{code} is not supported")
        regex, role = _DIRECTIVES[code]
        if compact and code in _COMPACT:
            regex = _COMPACT[code]
        pieces.append(regex)
        if role is not None:
            roles.append(role)
    needed = {"d"} | ({"m"} if "b" not in roles else set())
    if not needed <= set(roles) or not ({"Y", "y"} & set(roles)):
        raise ValueError("the pattern needs a year (%Y or %y), a month (%m or %b) and a day (%d)")
    return Layout(fmt, "^" + "".join(pieces) + "$", tuple(roles), strptime=(fmt,))


# A UTC offset or "Z" after a time is dropped before DuckDB's strptime (wall-clock time kept).
_OFFSET = r" ?(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
_HAS_OFFSET = re.compile(
    r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)? ?(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
)


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(text: str, formats: dt.Array(dt.string)) -> dt.Timestamp(scale=6):  # type: ignore[valid-type]
    """DuckDB's try_strptime with a list of formats (null when none fits)."""


def strptime_order(layout: Layout, sample: list[str]) -> tuple[tuple[str, ...], bool]:
    """The layout's strptime formats, most frequent in ``sample`` first (DuckDB tries them in
    order, and a miss costs about ten times a hit), and whether the sample has UTC offsets."""
    counts = Counter(sample)
    offsets = any(_HAS_OFFSET.search(v) for v in counts)
    hits = dict.fromkeys(layout.strptime, 0)
    for value, n in counts.items():
        text = re.sub(_OFFSET, "", value) if offsets else value
        for fmt in layout.strptime:
            try:
                _dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            hits[fmt] += n
            break
    ordered = sorted(layout.strptime, key=lambda f: -hits[f])  # stable: ties keep their order
    return tuple(ordered), offsets


def parse_expr_duckdb(
    text: ibis.StringValue, layout: Layout, sample: list[str]
) -> tuple[ibis.Value, ibis.BooleanValue]:
    """Like ``parse_expr`` but with DuckDB's native ``try_strptime`` (much faster than regexes).

    UTC offsets are stripped only when the sample shows them (the strip costs a regex per row)."""
    formats, offsets = strptime_order(layout, sample)
    stripped = text.re_replace(_OFFSET, "") if offsets else text
    stamp = _try_strptime(stripped, ibis.literal(list(formats), type=dt.Array(dt.string)))
    valid = (stamp.notnull() & (stamp.year() >= 1000)).fill_null(False)
    return ibis.ifelse(valid, stamp, ibis.null("timestamp")), valid


def _int(text: ibis.Value) -> ibis.Value:
    return text.try_cast("int64")


def parse_expr(text: ibis.StringValue, layout: Layout) -> tuple[ibis.Value, ibis.BooleanValue]:
    """(timestamp or null, is-valid) for a trimmed, null-for-empty string column."""
    group = {role: idx + 1 for idx, role in enumerate(layout.roles)}

    def part(role: str) -> ibis.Value:
        return text.re_extract(layout.regex, group[role])

    if "Y" in group:
        year = _int(part("Y"))
    else:
        yy = _int(part("y"))
        year = ibis.ifelse(yy < 69, yy + 2000, yy + 1900)
    if "b" in group:  # position of the 3-letter abbreviation in "janfeb...": 0, 3, 6 ...
        pos = ibis.literal("".join(_MONTHS)).find(part("b").lower().substr(0, 3))
        month = ibis.ifelse((pos >= 0) & (pos % 3 == 0), pos // 3 + 1, 0)
    else:
        month = _int(part("m"))
    day = _int(part("d"))
    hour_role = "H" if "H" in group else ("I" if "I" in group else None)
    raw_hour = _int(part(hour_role)).fill_null(0) if hour_role else ibis.literal(0)
    minute = _int(part("M")).fill_null(0) if "M" in group else ibis.literal(0)
    second = _int(part("S")).fill_null(0) if "S" in group else ibis.literal(0)
    if "p" in group:
        ampm = part("p").lower()
        has_ampm = ampm.isin(["am", "pm"])
        hour = ibis.ifelse(has_ampm, raw_hour % 12 + ibis.ifelse(ampm == "pm", 12, 0), raw_hour)
        hour_ok = ibis.ifelse(has_ampm, raw_hour.between(1, 12), raw_hour.between(0, 23))
    else:
        hour, hour_ok = raw_hour, raw_hour.between(0, 23)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days_in_month = ibis.cases(
        (month == 2, ibis.ifelse(leap, 29, 28)), (month.isin([4, 6, 9, 11]), 30), else_=31
    )
    valid = (
        text.re_search(layout.regex)
        & year.between(1000, 9999)
        & month.between(1, 12)
        & (day >= 1)
        & (day <= days_in_month)
        & hour_ok
        & minute.between(0, 59)
        & second.between(0, 59)
    ).fill_null(False)
    # ISO text then a cast: portable (PySpark has no make_timestamp rule in Ibis). Invalid rows
    # cast a harmless constant, for engines that evaluate both branches of a CASE.
    parts = (year, month, day, hour, minute, second)
    y, mo, d, h, mi, sec = (
        v.fill_null(0).cast("string").lpad(n, "0")
        for v, n in zip(parts, (4, 2, 2, 2, 2, 2), strict=True)
    )
    iso = y + "-" + mo + "-" + d + " " + h + ":" + mi + ":" + sec
    stamp = ibis.ifelse(valid, iso, "2000-01-01 00:00:00").cast("timestamp")
    return ibis.ifelse(valid, stamp, ibis.null("timestamp")), valid
