"""Column roles of a customer table, inferred from names and values, overridable.

Each column gets one role (``custlens.config.profile.ROLES``), decided in this order:

1. an explicit override (``--role col=role``, ``[profile.roles]``);
2. values: entirely missing -> ``ignored``; one distinct value -> ``constant`` (reported and
   dropped); text is parsed as numbers when ``parse_share`` of it reads as numbers (decimal
   commas and thousands points of German exports included) and no value is a whole number
   with a leading zero (``01234``: a code such as a postcode), else as dates (the day-first or
   month-first layout that parses most values; ``01/02/2020`` is ambiguous until a value like
   ``13/02/2020`` decides, and day-first is assumed and noted when none does);
3. names (regular expressions on the lower-case alphanumeric name, data in
   ``ProfileConfig.role_patterns``): the id (must be unique; else the first column named like
   a key, ``*_ref``, ``*_key``, ``*id``, whose values are all present and unique), birth
   years (values 1880..2030), spend families (``Mnt*``, ``spend_*``, ``*_revenue``), purchase counts per channel
   (``Num*Purchases``);
4. values again: numbers that are only 0/1 (or yes/no/true/false text) -> ``flag``; other
   numbers -> ``numeric``; text with at most ``max_categories`` distinct values -> ``categorical``;
   other text -> ``text`` (ignored with a note);
5. a spend or numeric column that is the sum of other spend columns on (nearly) every row (e.g.
   ``MntTotal``) is a total, not a spend column: role ``numeric``, listed in ``totals`` and noted
   (:mod:`custlens.profile.totals`), so that the spend is not counted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custlens.config.profile import DEFAULT_ROLE_PATTERNS, ProfileConfig
from custlens.errors import DataError, MappingError
from custlens.profile.totals import find_totals

__all__ = ["RoleAssignment", "assign_roles", "looks_like_customer_table", "norm_name"]

_TRUE = {"1", "yes", "y", "true", "t", "ja", "j", "wahr"}
_FALSE = {"0", "no", "n", "false", "f", "nein", "falsch"}
_DATE_FORMATS = (
    ("%Y-%m-%d", None),
    ("%Y/%m/%d", None),
    ("%d.%m.%Y", "day"),
    ("%d/%m/%Y", "day"),
    ("%m/%d/%Y", "month"),
    ("%d-%m-%Y", "day"),
    ("%m-%d-%Y", "month"),
    ("%Y-%m-%d %H:%M:%S", None),
    ("%d.%m.%y", "day"),
    ("%d/%m/%y", "day"),
    ("%m/%d/%y", "month"),
)
_GERMAN_NUMBER = r"[+-]?\d{1,3}(?:\.\d{3})*(?:,\d+)?|[+-]?\d+,\d+"
_PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
# numbers, though not finite ones (the features set them missing with a note, as DuckDB's reader
# and cleaning's invalid_numbers rule read them): inf, -Infinity, NaN ...
_NON_FINITE = r"(?i:[+-]?(?:inf|infinity|nan))"


def norm_name(name: object) -> str:
    """Lower case, only letters and digits: ``"Kunde seit"`` -> ``"kundeseit"``."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower().replace("ä", "ae").replace("ö", "oe"))


@dataclass(frozen=True)
class RoleAssignment:
    """The parsed table and every column's role with the reason."""

    frame: pd.DataFrame  # parsed values: numbers float64, dates datetime64, flags 0/1 floats
    table: pd.DataFrame  # column, role, reason, overridden, dtype, missing, distinct
    id_column: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    totals: dict[str, list[str]] = field(default_factory=dict)  # total column -> its parts

    def columns(self, role: str) -> list[str]:
        """The columns with ``role``, in table order."""
        return self.table.loc[self.table["role"] == role, "column"].tolist()

    def to_json(self) -> dict[str, Any]:
        """``roles.json``: the role of every column and why."""
        return {
            "id_column": self.id_column,
            "columns": {
                str(r.column): {
                    "role": r.role,
                    "reason": r.reason,
                    "overridden": bool(r.overridden),
                }
                for r in self.table.itertuples(index=False)
            },
            "totals": {k: list(v) for k, v in self.totals.items()},
            "notes": list(self.notes),
        }


def patterns(config: ProfileConfig) -> dict[str, list[str]]:
    """The role patterns: the defaults, with every key the config sets replaced."""
    return {**DEFAULT_ROLE_PATTERNS, **config.role_patterns}


def matches(name: object, key: str, config: ProfileConfig) -> bool:
    """True when the normalised ``name`` matches a pattern of ``key``."""
    n = norm_name(name)
    return any(re.search(p, n) for p in patterns(config).get(key, []))


def parse_numbers(values: pd.Series, share: float) -> pd.Series | None:
    """Text -> float64 when at least ``share`` of the non-missing values are numbers, else None.

    German numbers (``1.234,5``) are read when every parsed value fits that layout better.
    ``inf``, ``-Infinity`` and ``NaN`` are numbers too (not finite ones), when some value is an
    ordinary number.

    >>> parse_numbers(pd.Series(["58.138,50", "11,2", None]), 0.95).tolist()
    [58138.5, 11.2, nan]
    >>> parse_numbers(pd.Series(["1,234.5", "7"]), 0.95).tolist()
    [1234.5, 7.0]
    >>> parse_numbers(pd.Series(["-Infinity", "3", "inf"]), 0.95).tolist()
    [-inf, 3.0, inf]
    """
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return None
    special = text.str.fullmatch(_NON_FINITE)
    if special.all():
        return None
    plain = text.str.fullmatch(_PLAIN_NUMBER) | special
    german = text.str.fullmatch(_GERMAN_NUMBER) | special
    use_german = german.mean() >= share and german.mean() > plain.mean()
    if use_german:
        cleaned = values.astype("string").str.strip().str.replace(".", "", regex=False)
        cleaned = cleaned.str.replace(",", ".", regex=False)
    elif plain.mean() >= share:
        cleaned = values.astype("string").str.strip().str.replace(",", "", regex=False)
    else:
        return None
    out = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    return out


def _zero_padded(values: pd.Series) -> str | None:
    """The first value written as a whole number with a leading zero (``'01234'``, ``'007'``),
    or None: such a column holds codes (postcodes, account numbers), whose zeros a number would
    lose and whose size means nothing."""
    text = values.dropna().astype(str).str.strip()
    hits = text[text.str.fullmatch(r"[+-]?0\d+")]
    return None if hits.empty else str(hits.iloc[0])


def parse_dates(values: pd.Series, share: float) -> tuple[pd.Series, str, str | None] | None:
    """Text -> datetime64 with the format that parses most values; None below ``share``.

    Returns the dates, the format and a note when day-first was assumed without evidence.

    >>> dates, fmt, note = parse_dates(pd.Series(["04/09/2012", "13/03/2014"]), 0.95)
    >>> fmt, dates.dt.month.tolist()
    ('%d/%m/%Y', [9, 3])
    """
    text = values.dropna().astype(str).str.strip()
    if text.empty or not text.str.contains(r"\d", regex=True).all():
        return None
    uniq = pd.Series(text.unique())
    scores = []
    for fmt, _ in _DATE_FORMATS:
        parsed = pd.to_datetime(uniq, format=fmt, errors="coerce")
        scores.append(float(parsed.notna().mean()))
    best = max(scores)
    if best < share:
        return None
    candidates = [f for (f, _), s in zip(_DATE_FORMATS, scores, strict=True) if s == best]
    fmt = candidates[0]
    note = None
    kinds = {dict(_DATE_FORMATS)[f] for f in candidates}
    if {"day", "month"} <= kinds:
        fmt = next(f for f in candidates if dict(_DATE_FORMATS)[f] == "day")
        note = f"day and month cannot be told apart in any value; day-first ({fmt}) assumed"
    parsed = pd.to_datetime(values.astype("string").str.strip(), format=fmt, errors="coerce")
    return parsed, fmt, note


def _flag_values(values: pd.Series) -> pd.Series | None:
    """0/1 floats when every value is a yes/no value, else None."""
    nonnull = values.dropna()
    if nonnull.empty:
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        if set(np.unique(nonnull.astype(float))) <= {0.0, 1.0}:
            return values.astype("float64")
        return None
    low = nonnull.astype(str).str.strip().str.lower()
    if low.isin(_TRUE | _FALSE).all() and low.nunique() == 2:
        mapped = values.astype("string").str.strip().str.lower()
        return mapped.map(lambda v: np.nan if pd.isna(v) else float(v in _TRUE)).astype("float64")
    return None


def _duplicated_ids(values: pd.Series) -> list[str]:
    dup = values[values.duplicated(keep=False) & values.notna()]
    return [str(v) for v in pd.unique(dup)[:5]]


def _check_ids(ids: pd.Series, id_column: str) -> None:
    """Every row has an id and no id is on two rows; else a ``DataError`` saying which."""
    missing = ids.isna()
    present = ids[~missing]
    repeated = int(present.duplicated().sum())
    if not missing.any() and not repeated:
        return
    problems, fixes = [], []
    if missing.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(missing.to_numpy())[:5])
        problems.append(
            f"{int(missing.sum())} rows have no id in column {id_column!r} (data rows {rows}"
            + (", ..." if missing.sum() > 5 else "")
            + ")"
        )
        fixes.append("drop the rows without an id")
    if repeated:
        problems.append(
            f"the id column {id_column!r} is not unique: duplicated ids include "
            f"{', '.join(_duplicated_ids(present))} ({repeated} duplicate rows)"
        )
        fixes.append("keep one row per customer (e.g. the latest snapshot)")
    what = "; ".join(problems)
    raise DataError(
        what[0].upper() + what[1:],
        where=f"column {id_column!r}",
        fix=", or ".join(fixes) + ", or choose another id column with --role COLUMN=id",
    )


def _find_id(frame: pd.DataFrame, config: ProfileConfig, overrides: dict[str, str]) -> str | None:
    forced = [c for c, r in overrides.items() if r == "id"]
    if forced:
        return forced[0]
    for column in frame.columns:
        if column in overrides:
            continue
        if matches(column, "id", config):
            return str(column)
    for column in frame.columns:
        if column in overrides or not matches(column, "id_unique", config):
            continue
        values = frame[column]
        if values.notna().all() and values.is_unique:
            return str(column)
    return None


def assign_roles(raw: pd.DataFrame, config: ProfileConfig | None = None) -> RoleAssignment:
    """Give every column of ``raw`` a role; parse text numbers, dates and flags.

    Raises
    ------
    MappingError
        An override names a column the table lacks.
    DataError
        The id column is not unique (the error names duplicated ids).

    Examples
    --------
    >>> table = pd.DataFrame({"ID": [1, 2, 3], "MntWines": [10, 0, 5], "Education": ["a", "b", "a"],
    ...                       "Z_Cost": [3, 3, 3], "AcceptedCmp1": [0, 1, 0]})
    >>> roles = assign_roles(table)
    >>> dict(zip(roles.table["column"], roles.table["role"]))  # doctest: +NORMALIZE_WHITESPACE
    {'ID': 'id', 'MntWines': 'spend', 'Education': 'categorical', 'Z_Cost': 'constant',
     'AcceptedCmp1': 'flag'}
    """
    config = config or ProfileConfig()
    overrides = dict(config.roles)
    missing = [c for c in overrides if c not in raw.columns]
    if missing:
        raise MappingError(
            f"Role override for column(s) {', '.join(map(repr, missing))} that the table lacks",
            where=f"columns found: {', '.join(map(str, raw.columns))}",
            fix="use a column name from the table in --role / [profile.roles]",
        )
    notes: list[str] = []
    parsed: dict[str, pd.Series] = {}
    rows: list[dict[str, Any]] = []
    id_column = _find_id(raw, config, overrides)
    for column in raw.columns:
        values = raw[column]
        role, reason, out = _infer(str(column), values, config, id_column, notes)
        overridden = column in overrides
        if overridden:
            role, out = overrides[column], _coerce_for(overrides[column], values, config, out)
            reason = "set by the user"
        parsed[str(column)] = out
        rows.append(
            {
                "column": str(column),
                "role": role,
                "reason": reason,
                "overridden": overridden,
                "dtype": str(values.dtype),
                "missing": int(values.isna().sum()),
                "distinct": int(values.nunique(dropna=True)),
            }
        )
    table = pd.DataFrame(rows)
    totals = _spend_totals(table, parsed, notes)
    if id_column is None:
        id_column = "row_id"
        parsed = {"row_id": pd.Series(np.arange(1, len(raw) + 1), index=raw.index), **parsed}
        notes.append("no id column recognised: customers are numbered by row (row_id)")
    ids = parsed[id_column]
    _check_ids(ids, id_column)
    frame = pd.DataFrame(parsed, index=raw.index)
    frame[id_column] = ids.astype(str).str.replace(r"\.0$", "", regex=True)
    return RoleAssignment(
        frame=frame, table=table, id_column=id_column, notes=tuple(notes), totals=totals
    )


def _spend_totals(
    table: pd.DataFrame, parsed: dict[str, pd.Series], notes: list[str]
) -> dict[str, list[str]]:
    """Give every inferred spend or numeric column that totals other spend columns the role
    ``numeric`` (in place in ``table``) with a note; return total -> parts."""
    spend = table.loc[table["role"] == "spend", "column"].tolist()
    inferred = table.loc[~table["overridden"] & table["role"].isin(["spend", "numeric"]), "column"]
    if len(spend) < 2:
        return {}
    columns = list(dict.fromkeys([*spend, *inferred]))
    totals = find_totals(pd.DataFrame({c: parsed[c] for c in columns}), spend, inferred.tolist())
    for column, parts in totals.items():
        where = table["column"] == column
        was = table.loc[where, "role"].iloc[0]
        table.loc[where, "role"] = "numeric"
        table.loc[where, "reason"] = f"the sum of {', '.join(parts)}: a total, not summed again" + (
            " (named like spend)" if was == "spend" else ""
        )
        notes.append(
            f"column {column!r} equals {' + '.join(parts)} on (nearly) every row: kept as a "
            "total (role numeric), not added to total_spend, not clustered or tested (set "
            f"--role {column}=spend if it is a separate spend)"
        )
    return totals


def _coerce_for(role: str, values: pd.Series, config: ProfileConfig, inferred: pd.Series) -> Any:
    if role in ("numeric", "spend", "purchases", "birth_year"):
        if pd.api.types.is_numeric_dtype(inferred.dtype):
            return inferred.astype("float64")
        nums = parse_numbers(values, config.parse_share)
        if nums is None:
            raise MappingError(
                f"Column {values.name!r} was given role {role!r} but its values are not numbers",
                where=f"column {values.name!r}",
                fix="give it a role that fits its values (categorical, text, date...)",
            )
        return nums
    if role == "flag":
        flags = _flag_values(inferred)
        if flags is None:
            raise MappingError(
                f"Column {values.name!r} was given role 'flag' but has values other than 0/1, "
                "yes/no, true/false",
                where=f"column {values.name!r}",
                fix="give it another role (numeric or categorical)",
            )
        return flags
    if role == "categorical":
        return values.astype("string")
    return inferred


def _infer(
    column: str,
    values: pd.Series,
    config: ProfileConfig,
    id_column: str | None,
    notes: list[str],
) -> tuple[str, str, pd.Series]:
    if values.isna().all():
        return "ignored", "every value is missing", values
    if column == id_column:
        return "id", "name looks like a customer id", values
    out = values
    parsed_from = ""
    code = ""  # why text that reads as numbers is kept as text
    if not pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_datetime64_any_dtype(
        values.dtype
    ):
        padded = _zero_padded(values)
        if padded is not None:
            code = f"; codes with leading zeros such as {padded!r}, not numbers"
        nums = None if padded is not None else parse_numbers(values, config.parse_share)
        if nums is not None:
            out, parsed_from = nums, " (parsed from text)"
        else:
            dates = parse_dates(values, config.parse_share)
            if dates is not None:
                out, fmt, note = dates
                if note:
                    notes.append(f"column {column!r}: {note}")
                return "date", f"dates in the format {fmt}", out
    if pd.api.types.is_datetime64_any_dtype(out.dtype):
        return "date", "date values", out
    if out.nunique(dropna=True) <= 1:
        return "constant", f"one value only ({out.dropna().iloc[0]}): dropped", out
    if pd.api.types.is_bool_dtype(out.dtype):
        return "flag", "true/false values", out.astype("float64")
    if pd.api.types.is_numeric_dtype(out.dtype):
        out = out.astype("float64")
        if matches(column, "birth_year", config) and out.dropna().between(1880, 2030).all():
            return "birth_year", "name says birth year; values are years", out
        flags = _flag_values(out)
        if flags is not None:
            return "flag", "only 0 and 1" + parsed_from, flags
        if matches(column, "purchases", config):
            return "purchases", "name of a purchase-count family" + parsed_from, out
        if matches(column, "spend", config):
            return "spend", "name of a spend family" + parsed_from, out
        return "numeric", "numbers" + parsed_from, out
    flags = _flag_values(out)
    if flags is not None:
        return "flag", "yes/no values", flags
    distinct = out.nunique(dropna=True)
    if distinct <= config.max_categories:
        return "categorical", f"{distinct} distinct text values{code}", out.astype("string")
    notes.append(f"column {column!r} ignored: free text ({distinct:,} distinct values{code})")
    return "text", f"free text ({distinct:,} distinct values{code}): ignored", out


def looks_like_customer_table(raw: pd.DataFrame, config: ProfileConfig | None = None) -> str | None:
    """Why ``raw`` is clearly one row per customer (a unique id, no date/order columns), or None.

    >>> looks_like_customer_table(pd.DataFrame({"ID": [1, 2], "Income": [5.0, 6.0]}))
    "unique id column 'ID' and no order or date columns"
    """
    config = config or ProfileConfig()
    id_column = _find_id(raw, config, {})
    if id_column is None or raw[id_column].duplicated().any() or raw[id_column].isna().any():
        return None
    names = [norm_name(c) for c in raw.columns]
    orderish = re.compile(r"invoice|orderid|orderno|transaction|stockcode|orderdate|invoicedate")
    if any(orderish.search(n) for n in names):
        return None
    for column in raw.columns:
        if column == id_column or matches(column, "since", config):
            continue
        if matches(column, "birth_date", config):
            continue
        values = raw[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            return None
        if not pd.api.types.is_numeric_dtype(values.dtype) and re.search(
            r"date|time|ts$|datum", norm_name(column)
        ):
            return None
    return f"unique id column {id_column!r} and no order or date columns"
