"""Input checks and snapshot handling for the segmentation audit.

Validation happens once here; the other modules of :mod:`custlens.audit` trust what this returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from custlens._validation import require_columns
from custlens.config import CleaningConfig
from custlens.errors import ConfigError, DataError, InputError
from custlens.features.limits import FLOAT32_MAX, beyond_float32, outside_window

# Normalised column names (lowercase, non-alphanumerics removed) recognised as a customer id,
# in order of preference.
CUSTOMER_ID_NAMES = (
    "customerid",
    "custid",
    "customerno",
    "customernumber",
    "customerkey",
    "clientid",
    "accountid",
    "customer",
    "id",
)
# 2,55 or -0,5: a number written with a decimal comma (what --decimal , reads)
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
# 65.125,00 or 1,234.56 (or 1 234,5 / 1'234.5): digits grouped by thousands separators
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:([.,\s'])\d{3})(?:\1\d{3})*(?:[.,]\d+)?")


def unusable_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Masks of the infinite values and of the finite ones beyond float32's range (|x| > about
    3.4e38) in a float64 series."""
    infinite = pd.Series(np.isinf(values.to_numpy()), index=values.index)
    huge = pd.Series(beyond_float32(values.to_numpy()), index=values.index)
    return infinite, huge


def blank_unusable(frame: pd.DataFrame, columns: list, notes: list[str]) -> pd.DataFrame:
    """``frame`` with infinite values and values beyond float32's range (which scikit-learn's
    trees cannot read) in ``columns`` set to NaN before anything is derived from them, as the
    metric's are; a note names the columns and counts."""
    fixed: dict = {}
    counts: list[str] = []
    for c in columns:
        if not pd.api.types.is_float_dtype(frame[c]):
            continue  # integers (int64 <= 9.2e18) always fit float32's range
        values = pd.Series(frame[c].to_numpy(dtype="float64", na_value=np.nan), index=frame.index)
        infinite, huge = unusable_numbers(values)
        if infinite.any() or huge.any():
            fixed[c] = values.where(~(infinite | huge))
            kinds = ((int(infinite.sum()), "infinite"), (int(huge.sum()), "beyond the range"))
            counts.append(f"{c} ({', '.join(f'{n} {kind}' for n, kind in kinds if n)})")
    if not fixed:
        return frame
    notes.append(
        "Values that are infinite or too large for the decision trees' float32 (beyond "
        f"+/-{FLOAT32_MAX:.3g}) were treated as empty: " + "; ".join(counts) + "."
    )
    frame = frame.copy(deep=False)
    for c, v in fixed.items():
        frame[c] = v
    return frame


def norm_name(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


@dataclass(frozen=True)
class PreparedInput:
    """The validated table (one row per analysed unit) and what was decided on the way."""

    frame: pd.DataFrame  # original row order kept; index = 0-based position in the input
    metric: pd.Series  # float64, aligned with frame
    segment: pd.Series  # str, aligned with frame
    customer_col: str | None
    rows_in: int
    snapshot_mode: str  # "one row per customer", "all rows", "latest by <col>", "no customer id"
    notes: tuple[str, ...]


def prepare_input(
    df: object,
    *,
    segment: str,
    metric: str,
    threshold: float,
    latest_by: str | None,
    customer_col: str | None,
    tie_break: str | None = None,
    plausible: tuple[date, date] | None = None,
) -> PreparedInput:
    """Check the table and settings; drop underscore columns and unusable rows; dedupe snapshots.

    ``plausible`` is the window of plausible ``latest_by`` dates (default: cleaning's,
    ``CleaningConfig().plausible_window()``); a date outside it counts as no date, so a typo
    such as 2104 cannot make a snapshot the latest.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The audit needs a pandas DataFrame, got {type(df).__name__}",
            where="audit_segmentation(df=...)",
            fix="load the table first (custlens.io.readers.read_table(...).to_pandas())",
        )
    if not isinstance(threshold, int | float) or isinstance(threshold, bool):
        raise ConfigError(
            f"The threshold must be a number, got {threshold!r}",
            where="--threshold",
            fix="pass a positive number such as 0.15",
        )
    if not np.isfinite(threshold) or threshold <= 0:
        raise ConfigError(
            f"The threshold must be a positive number, got {threshold}",
            where="--threshold",
            fix="pass a positive number such as 0.15 (with --relative, a share such as 0.2)",
        )
    notes: list[str] = []
    dropped = [c for c in df.columns if str(c).startswith("_")]
    if dropped:
        notes.append(
            "Underscore-prefixed columns are never analysed and were dropped: "
            + ", ".join(map(str, dropped))
        )
    frame = df.drop(columns=dropped).reset_index(drop=True)  # labels = 0-based row positions
    columns = [str(c) for c in frame.columns]
    for role, col in (("metric", metric), ("segment", segment)):
        hint = _closest(col, columns)
        require_columns(
            frame,
            [col],
            what=f"the rows (looking for the {role})",
            fix=f"pass --{role} with one of the columns found"
            + (f" (did you mean {hint!r}?)" if hint else ""),
        )
    if segment == metric:
        raise ConfigError(
            f"The segment and the metric are the same column {metric!r}",
            where="--segment / --metric",
            fix="pass the column holding segment labels to --segment and a numeric column to --metric",
        )
    if frame.empty:
        raise DataError("The table has no rows", where="input table", fix="audit a non-empty table")
    rows_in = len(frame)
    values = _numeric_metric(frame[metric], metric)
    infinite, huge = unusable_numbers(values)
    if infinite.any():
        notes.append(
            f"{int(infinite.sum())} rows with an infinite {metric!r} were treated as empty."
        )
    if huge.any():
        notes.append(
            f"{int(huge.sum())} rows with a {metric!r} beyond +/-{FLOAT32_MAX:.3g} (too large "
            "for the decision trees' float32) were treated as empty, as infinite values are."
        )
    values = values.where(~(infinite | huge))
    if values.notna().sum() == 0:
        raise DataError(
            f"The metric column {metric!r} has no values (all null)",
            where=f"column {metric!r}",
            fix="choose a metric column that is filled in",
        )

    cust = _resolve_customer_col(frame, customer_col, exclude={segment, metric, latest_by})
    if latest_by is not None:
        window = plausible or CleaningConfig().plausible_window()
        frame, values = _latest_rows(frame, values, latest_by, cust, notes, tie_break, window)
        mode = f"latest by {latest_by}"
    elif cust is None:
        mode = "no customer id"
        notes.append("No customer id column was found: every row is treated as one customer.")
    else:
        n_cust = frame[cust].nunique(dropna=True)
        if n_cust < len(frame):
            mode = "all rows"
            notes.append(
                f"{len(frame)} rows for {n_cust} customers in {cust!r}: all rows are used, each "
                f"snapshot counts once (pass --latest-by DATE_COL to keep one row per customer)."
            )
        else:
            mode = "one row per customer"

    seg = frame[segment]
    keep = values.notna() & seg.notna()
    n_drop_metric = int(values.isna().sum())
    n_drop_seg = int((seg.isna() & values.notna()).sum())
    if n_drop_metric:
        notes.append(f"{n_drop_metric} rows with an empty {metric!r} were left out.")
    if n_drop_seg:
        notes.append(f"{n_drop_seg} rows with an empty {segment!r} were left out.")
    frame, values = frame.loc[keep], values.loc[keep]
    seg_str = frame[segment].astype(str)
    levels = seg_str.unique()
    if not len(levels):
        raise DataError(
            f"The segment column {segment!r} is empty on every row with a {metric!r}, so there "
            "is no segmentation to audit",
            where=f"column {segment!r}",
            fix="pass --segment with the column that holds the segment labels",
        )
    if len(levels) < 2:
        raise DataError(
            f"The segment column {segment!r} has only one value ({levels[0]!r}) among usable "
            "rows, so there is no segmentation to audit",
            where=f"column {segment!r}",
            fix="pass --segment with a column that assigns customers to at least two segments",
        )
    if len(levels) == len(seg_str):
        raise DataError(
            f"The segment column {segment!r} has a different value on every usable row "
            f"({len(levels):,} values for {len(seg_str):,} rows, e.g. {levels[0]!r}, "
            f"{levels[1]!r}), so no row has a segment to be compared with",
            where=f"column {segment!r}",
            fix="pass --segment with the column that holds the segment labels (an id or a "
            "measurement is not one)",
        )
    return PreparedInput(
        frame=frame,
        metric=values.astype("float64"),
        segment=seg_str,
        customer_col=cust,
        rows_in=rows_in,
        snapshot_mode=mode,
        notes=tuple(notes),
    )


def _closest(name: str, columns: list[str]) -> str | None:
    target = norm_name(name)
    for c in columns:
        if norm_name(c) == target:
            return c
    return None


def _numeric_metric(col: pd.Series, name: str) -> pd.Series:
    """The metric as float64; raise with the first value that is not a number."""
    if pd.api.types.is_bool_dtype(col) or not (
        pd.api.types.is_numeric_dtype(col)
        or pd.api.types.is_string_dtype(col)
        or col.dtype == object
    ):
        first = col.dropna()
        value = first.iloc[0] if len(first) else None
        value = value.item() if isinstance(value, np.generic) else value  # True, not np.True_
        example = f" (first value {value!r})" if len(first) else ""
        raise InputError(
            f"The metric column {name!r} is not numeric: its type is {col.dtype}{example}",
            where=f"column {name!r}",
            fix="pass --metric with a numeric column (a probability, score or amount)",
        )
    if pd.api.types.is_numeric_dtype(col):
        return col.astype("float64")
    text = col.astype("object")
    stripped = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    empty = stripped.map(lambda v: v is None or (isinstance(v, str) and v == "")) | stripped.isna()
    parsed = pd.to_numeric(stripped.where(~empty), errors="coerce")
    bad = parsed.isna() & ~empty
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        value = col.iloc[pos]
        fix = "fix or remove the non-numeric values, or choose a numeric metric column"
        if isinstance(value, str) and _DECIMAL_COMMA.fullmatch(value.strip()):
            fix = (
                f"{value.strip()!r} looks like a number with a decimal comma: read the file with "
                "--decimal , (ReadOptions(decimal=',') in Python)"
            )
        elif isinstance(value, str) and (match := _THOUSANDS.fullmatch(value.strip())):
            fix = (
                f"{value.strip()!r} looks like a number with thousands separators "
                f"({match.group(1)!r}), which the audit does not read: export the column "
                "without them (a decimal comma is read with --decimal ,)"
            )
        raise InputError(
            f"The metric column {name!r} is not numeric: row {pos + 1} holds {value!r}",
            where=f"column {name!r}, row {pos + 1}",
            fix=fix,
        )
    return parsed.astype("float64")


def _resolve_customer_col(frame: pd.DataFrame, given: str | None, exclude: set) -> str | None:
    if given is not None:
        require_columns(
            frame,
            [given],
            what="the rows (looking for the customer id)",
            fix="pass the column that identifies customers, or omit it to auto-detect",
        )
        return given
    by_norm = {norm_name(c): c for c in frame.columns if c not in exclude}
    for cand in CUSTOMER_ID_NAMES:
        if cand in by_norm:
            return by_norm[cand]
    for c in frame.columns:
        if c not in exclude and norm_name(c).endswith("customerid"):
            return c
    return None


def _latest_rows(
    frame: pd.DataFrame,
    values: pd.Series,
    date_col: str,
    cust: str | None,
    notes: list[str],
    tie_break: str | None = None,
    window: tuple[date, date] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Keep each customer's latest row by ``date_col``; ties on the date go to the largest
    ``tie_break`` value (missing values lose), then to the last row in file order. Dates outside
    ``window`` (both ends inclusive, compared by day) count as missing, with a note."""
    if tie_break is not None:
        require_columns(
            frame,
            [tie_break],
            what="the rows (looking for the --tie-break column)",
            fix="pass --tie-break with a column that orders a customer's rows of one date",
        )
    require_columns(
        frame,
        [date_col],
        what="the rows (looking for the --latest-by date)",
        fix="pass --latest-by with the snapshot date column, or omit it to use all rows",
    )
    if cust is None:
        raise DataError(
            "--latest-by needs a customer id column to know which rows belong together, and none "
            "was found",
            where=f"columns found: {', '.join(map(str, frame.columns))}",
            fix="name the id column customer_id, or pass customer_col=... (the CLI's --customer-col)",
        )
    raw = frame[date_col]
    beyond = pd.Series(False, index=frame.index)  # real dates pandas cannot hold (year > 2262)
    if pd.api.types.is_datetime64_any_dtype(raw):
        dates = raw
    else:
        dates = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = dates.isna() & raw.notna()
        # only the values that failed to parse are tried as calendar dates (one by one)
        beyond[bad] = raw[bad].map(_is_calendar_date).astype(bool)
        bad &= ~beyond
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"The --latest-by column {date_col!r} holds a value that is not a date: "
                f"row {pos + 1} is {raw.iloc[pos]!r}",
                where=f"column {date_col!r}, row {pos + 1}",
                fix="fix the value or choose the snapshot date column",
            )
    dates, implausible = _outside_window(dates, window, beyond)
    order = pd.DataFrame(
        {"cust": frame[cust].to_numpy(), "date": dates.to_numpy(), "pos": np.arange(len(frame))}
    )
    keys = ["date", "pos"]
    if tie_break is not None:
        order.insert(2, "tie", frame[tie_break].to_numpy())
        keys = ["date", "tie", "pos"]
    order = order[order["cust"].notna()]
    # undated rows sort first, so a dated row always wins; among equal dates the later row wins
    order = order.sort_values(keys, na_position="first", kind="mergesort")
    ties = int(order.duplicated(["cust", "date"], keep=False).sum())
    rule = (
        f"ties on the date go to the largest {tie_break} (then the last row in file order)"
        if tie_break is not None
        else "ties on the date go to the last row in file order (pass --tie-break COL to "
        "choose by a column)"
    )
    keep_pos = np.sort(order.drop_duplicates("cust", keep="last")["pos"].to_numpy())
    n_missing_id = int(frame[cust].isna().sum())
    notes.append(
        f"--latest-by {date_col}: kept the latest row of each of {len(keep_pos)} customers out of "
        f"{len(frame)} rows; {ties} rows share their customer's date with another row, and "
        f"{rule}; rows without a date lose to any dated row."
        + (f" {n_missing_id} rows without a customer id were left out." if n_missing_id else "")
    )
    if implausible.any() and window is not None:
        examples = raw[implausible]
        if pd.api.types.is_datetime64_any_dtype(examples):
            examples = examples.dt.strftime("%Y-%m-%d")
        shown = ", ".join(map(str, examples.drop_duplicates().head(3)))
        n_out = int(implausible.sum())
        notes.append(
            f"{n_out} {'row' if n_out == 1 else 'rows'} with a {date_col} outside the plausible "
            f"window {window[0]} .. {window[1]} (e.g. {shown}) {'was' if n_out == 1 else 'were'} "
            "treated as undated, so a typo cannot "
            "make a snapshot the latest (cleaning's plausible_from / plausible_to set the window)."
        )
    return frame.iloc[keep_pos], values.iloc[keep_pos]


def _is_calendar_date(value: object) -> bool:
    """Whether ``value`` is a date pandas cannot hold (e.g. "2304-06-30", beyond 2262): a real
    date, so an implausible one rather than a value that is not a date."""
    if not isinstance(value, str) or not re.search(r"\d{4}", value):
        return False
    from dateutil import parser

    try:
        parser.parse(value)
    except (ValueError, OverflowError):
        return False
    return True


def _outside_window(
    dates: pd.Series, window: tuple[date, date] | None, beyond: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """``dates`` with those outside ``window`` (by day, both ends inclusive) set missing, and
    the mask of the rows set missing (``beyond``: dates too large to parse, outside any window)."""
    if window is None:
        return dates, beyond & False
    outside = outside_window(dates, window) | beyond
    return dates.mask(outside), outside
