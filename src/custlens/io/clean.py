"""Cleaning canonical transactions into purchases and returns, with a quality report.

Rules, applied in this order (each can be switched off in :class:`CleaningConfig`;
``mode="minimal"`` keeps only the first three, the convention of most published analyses):

1. ``missing_customer``: no customer id (null or blank).
2. ``cancellations_and_returns``: order id starting with ``cancellation_prefix`` or quantity < 0.
   These leave the purchases; those of known customers that no later rule removes are kept
   in ``Cleaned.returns`` (negative amounts) for each customer's return rate.
3. ``nonpositive_price``: unit price zero, negative or missing, or a quantity of 0 (nothing was
   sold: with an amount instead of a price such a line has no unit price either).
4. ``non_product``: product id in ``non_product_codes`` (case-insensitive) or starting with one of
   ``non_product_prefixes`` (case-insensitive). Needs ``product_id``.
5. ``exact_duplicates``: lines identical in every column; one copy is kept.
6. ``offsetting_pairs``: a purchase and a later cancellation/return of the same customer and
   product with exactly the opposite quantity, at most ``offsetting_window_days`` days apart
   (e.g. Online Retail's 581483 / C581484, +-80,995 units). Both lines are dropped. Pairing is
   deterministic: within one customer, product and absolute quantity, lines are ordered by
   time (purchases before cancellations at the same instant, then order id) and a cancellation
   is paired with the line just before it when that line is a purchase. So each cancellation
   offsets at most one purchase (the nearest earlier one) and each purchase at most one
   cancellation. Only lines of known customers that rules 3-5 do not remove take part
   (cancellations included, although rule 2 already removed them from the purchases): the
   purchase counts under this rule and the cancellation leaves the returns (when rule 2 is
   off, both count here). Needs ``product_id``.
7. ``date_range``: order date before ``date_from`` or after ``date_to`` (both inclusive).
8. ``country_filter``: country not in ``countries`` (case-insensitive). Needs ``country``.
9. ``implausible_date``: no order date, or one outside ``plausible_from`` .. ``plausible_to``
   (default 1970-01-01 .. a year after today): a year-1 or year-9999 date is a typo or a
   placeholder, and would otherwise give tenures of 700,000 days or overflow. On in every mode.
10. ``invalid_numbers``: quantity, unit price or amount that is missing, NaN, infinite or beyond
    +-1e15 in size (``1e308``): such a line would turn every sum into infinity. On in every mode.

Rules 9-10 come last in the numbering (rows removed by an earlier rule count there). Rules 3-10
also apply to the return lines. Counting (rows, revenue, customers) is defined in
:mod:`custlens.io.quality`. On DuckDB the input lines are stored once, with one column per rule
that looks at the line alone and each line's row number (its position in the stored file,
:func:`custlens.io.materialize.materialize_numbered`). Rules 5 and 6 need windows (sorts) over
the lines: two small hash tables first pick the few lines that can be duplicates or pairs, only
those go through the windows, and the lines the windows remove (a small table of row numbers)
are joined back to the stored lines, which are not written again; the report takes two
aggregate queries. Other engines cache the flagged lines instead (no stable row numbers).
"""

from __future__ import annotations

import functools
import logging
import operator
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from custlens._validation import require_columns
from custlens.config import CleaningConfig
from custlens.errors import DataError
from custlens.io.canonical import ALWAYS_PRESENT, CANONICAL_TYPES
from custlens.io.materialize import compiled_view, materialize, materialize_numbered
from custlens.io.quality import QualityReport, RuleResult
from custlens.io.strings import strip

log = logging.getLogger(__name__)

_STAGE, _RETURN, _PAIR, _CANCEL = "_cl_stage", "_cl_return", "_cl_pair", "_cl_cancel"
_ROW = "_cl_row"  # a line's position in the stored lines (DuckDB)
_ROW_RULES = ("nonpositive_price", "non_product")  # rules 3-4: removal by the line alone
_KEPT_LEVEL = 99  # "survived every rule" in the customers-lost computation

# rule name -> (number, description, how to keep the lines it removes: the fix when cleaning
# leaves nothing; {details} is filled in for the filters, from the lines)
RULES: dict[str, tuple[int, str, str]] = {
    "missing_customer": (
        1,
        "lines without a customer id",
        "map the column that holds the customer ids (--map customer_id=<column>, or "
        "[mapping.columns] in custlens.toml): the one mapped is empty on these lines",
    ),
    "cancellations_and_returns": (
        2,
        "cancelled orders and returns (negative quantity), kept apart as returns",
        "check the quantity and order id mapping (cancellations have a negative quantity or an "
        "order id starting with the cancellation prefix); if these lines are purchases, set "
        "`cancellations_and_returns = false` under [cleaning] in custlens.toml",
    ),
    "nonpositive_price": (
        3,
        "lines with a zero, negative or missing unit price, or a quantity of 0",
        "check the unit price and quantity mapping (--map unit_price=<column>); or set "
        "`nonpositive_price = false` under [cleaning] in custlens.toml",
    ),
    "non_product": (
        4,
        "non-product lines (postage, fees, discounts, manual adjustments, ...)",
        "shorten non_product_codes / non_product_prefixes, or set `non_product = false`, under "
        "[cleaning] in custlens.toml",
    ),
    "exact_duplicates": (
        5,
        "exact duplicate lines (one copy kept)",
        "set `exact_duplicates = false` under [cleaning] in custlens.toml",
    ),
    "offsetting_pairs": (
        6,
        "purchases offset by an exactly opposite cancellation/return (both dropped)",
        "set `offsetting_pairs = false` under [cleaning] in custlens.toml",
    ),
    "date_range": (
        7,
        "lines dated outside date_from..date_to",
        "widen --date-from / --date-to (date_from / date_to under [cleaning]){details}",
    ),
    "country_filter": (
        8,
        "lines from countries not selected",
        "widen or drop --country (countries under [cleaning]){details}",
    ),
    "implausible_date": (
        9,
        "lines without an order date or dated outside the plausible window",
        "check the order date's mapping and --date-format; or widen plausible_from / "
        "plausible_to under [cleaning] in custlens.toml",
    ),
    "invalid_numbers": (
        10,
        "lines whose quantity, price or amount is missing, NaN, infinite or beyond 1e15",
        "fix the quantities and prices in the source, or check their mapping",
    ),
}
_MINIMAL = (
    "missing_customer",
    "cancellations_and_returns",
    "nonpositive_price",
    "implausible_date",
    "invalid_numbers",
)
_LIMIT = 1e15  # larger quantities, prices or amounts are errors in the source
_NEEDS = {
    "non_product": "product_id",
    "offsetting_pairs": "product_id",
    "country_filter": "country",
}


@dataclass(frozen=True)
class Cleaned:
    """Purchase lines, return lines of known customers, and the quality report.

    ``lines`` are the input lines (every line, the input's columns) as cleaning stored them: read
    them rather than the input to avoid computing it again.
    """

    purchases: ir.Table
    returns: ir.Table
    report: QualityReport
    lines: ir.Table | None = None
    span: PurchaseSpan | None = None  # of ``purchases``, from the report's query


@dataclass(frozen=True)
class PurchaseSpan:
    """The first and last order time of the purchase lines and their number, which cleaning
    counts anyway: ``custlens.features.rfm.resolve_as_of`` takes it instead of another pass
    over the purchases."""

    first: datetime | None
    last: datetime | None
    rows: int


def _resolve_rules(table: ir.Table, config: CleaningConfig) -> tuple[dict[str, bool], dict]:
    active = config.active_rules()
    enabled: dict[str, bool] = {}
    notes: dict[str, str] = {}
    for name in RULES:
        on = bool(active.get(name, False))
        needed = _NEEDS.get(name)
        if on and needed is not None and needed not in table.columns:
            on = False
            notes[name] = f"skipped: the table has no {needed} column"
        elif not on and config.mode == "minimal" and name not in _MINIMAL:
            notes[name] = "off in minimal mode"
        elif not on and name in ("date_range", "country_filter"):
            notes[name] = "no filter set"
        elif not on:
            notes[name] = "switched off"
        enabled[name] = on
    if enabled["offsetting_pairs"]:
        notes["offsetting_pairs"] = f"window {config.offsetting_window_days} days"
    return enabled, notes


def _row_flags(t: ir.Table, config: CleaningConfig, on: dict[str, bool]) -> dict[str, ir.Value]:
    """One boolean (never null) per rule that depends only on the line itself."""
    false = ibis.literal(False)
    flags: dict[str, ir.Value] = {}
    cid = t.customer_id
    flags["missing_customer"] = (cid.isnull() | (strip(cid) == "")).fill_null(True)
    cancel = t.quantity < 0
    if config.cancellation_prefix:
        cancel = cancel | t.order_id.startswith(config.cancellation_prefix)
    flags["cancellations_and_returns"] = cancel.fill_null(False)
    price = t.unit_price
    nothing_sold = (t.quantity == 0).fill_null(False)  # a missing quantity is rule 10's
    flags["nonpositive_price"] = (price.isnull() | (price <= 0.0)).fill_null(True) | nothing_sold
    if on["non_product"]:
        code = strip(t.product_id).lower()
        # an array, not ``isin``: DuckDB joins every line to a list of more than a few values
        codes = [c.strip().lower() for c in config.non_product_codes] or [""]
        cond = ibis.array(codes).contains(code)
        for prefix in config.non_product_prefixes:
            if prefix:
                cond = cond | code.startswith(prefix.lower())
        flags["non_product"] = cond.fill_null(False)
    else:
        flags["non_product"] = false
    if on["date_range"]:
        day = t.order_ts.date()
        cond = false
        if config.date_from is not None:
            cond = cond | (day < ibis.literal(config.date_from, type="date"))
        if config.date_to is not None:
            cond = cond | (day > ibis.literal(config.date_to, type="date"))
        flags["date_range"] = cond.fill_null(True)
    else:
        flags["date_range"] = false
    if on["country_filter"]:
        wanted = [c.strip().lower() for c in config.countries or []]
        flags["country_filter"] = (~strip(t.country).lower().isin(wanted)).fill_null(True)
    else:
        flags["country_filter"] = false
    day = t.order_ts.date()
    first, last = config.plausible_window()
    flags["implausible_date"] = (
        (day < ibis.literal(first, type="date")) | (day > ibis.literal(last, type="date"))
    ).fill_null(True)
    flags["invalid_numbers"] = invalid_numbers(t)
    return flags


def invalid_numbers(t: ir.Table) -> ir.BooleanValue:
    """Rule 10 on each line: its quantity, unit price or amount (those of them ``t`` has) is
    missing, NaN, infinite or beyond 1e15 in size. Also read by the order anomalies, which see
    lines cleaning removes."""
    bad = ibis.literal(False)
    for col in ("quantity", "unit_price", "amount"):
        if col in t.columns:
            value = t[col] if t[col].type().is_floating() else t[col].cast("float64")
            bad = bad | (value.isnan() | value.isinf() | (value.abs() > _LIMIT)).fill_null(True)
    return bad


def _duplicate_key(t: ir.Table) -> list[str]:
    """The columns hashed to find candidate duplicates: identical lines agree on every column,
    so they agree on these. The order, product and quantity rarely repeat without the rest
    (hashing the customer, time, price and amount too cost a third more in this pass over every
    line); lines that agree only on these go through the window, which compares every column,
    so a looser key costs time, never a wrong flag. Without a product column, every always-present
    column is hashed (the order and quantity alone repeat often)."""
    if "product_id" in t.columns:
        return ["order_id", "product_id", "quantity"]
    return list(ALWAYS_PRESENT)


def _hash(t: ir.Table, columns: list[str]) -> ir.IntegerValue:
    return ibis.struct({c: t[c] for c in columns}).hash()


def _pair_key(t: ir.Table) -> ir.IntegerValue:
    """Hash of (customer, product, absolute quantity): the lines that may pair share it."""
    parts = {"customer_id": t.customer_id, "product_id": t.product_id, "absq": t.quantity.abs()}
    return ibis.struct(parts).hash()


def _with_row_flags(table: ir.Table, config: CleaningConfig, on: dict[str, bool]) -> ir.Table:
    t = _row_flag_columns(table, config, on)
    return t.mutate(**{_CANCEL: t["_f_cancellations_and_returns"], "_cl_absq": t.quantity.abs()})


def _window_rows(
    table: ir.Table, flags: ir.Table, config: CleaningConfig, on: dict[str, bool]
) -> ir.BooleanValue | None:
    """Lines that may be exact duplicates or in an offsetting pair (None: no such rule is on).

    Two small tables, each from one pass over the lines, narrow the search: the hashes (of the
    line's customer, order, time, product and numbers) that occur more than once, and the
    hashes of (customer, product, absolute quantity) of the cancellations that may offset a
    purchase. A line whose hash is in neither has no identical copy and no cancellation to pair
    with, so the windows of rules 5 and 6 run on the few others. Hash collisions only add lines to those windows: they cost time, never a
    wrong flag.
    """
    marks = []
    if on["exact_duplicates"]:
        key = _duplicate_key(table)
        h = table.mutate(_h=_hash(table, key))
        counts = h.group_by("_h").aggregate(_n=h.count())
        repeated = counts.filter(counts._n > 1).select("_h").cache()
        marks.append(_hash(table, key).isin(repeated._h))
    if on["offsetting_pairs"]:
        t = flags  # ``table`` with the row-level flags
        c = t.filter(t[_CANCEL], t.quantity < 0.0, t.product_id.notnull(), ~_blocked(t, on))
        keys = c.select(_k=_pair_key(c)).distinct().cache()
        marks.append(_pair_key(table).isin(keys._k))
    if not marks:
        return None
    return functools.reduce(operator.or_, marks)


def _blocked(t: ir.Table, on: dict[str, bool], rules: tuple[str, ...] = _ROW_RULES) -> ir.Value:
    """True when rule 1 or an enabled rule of ``rules`` removes the line."""
    out = t["_f_missing_customer"]
    for name in rules:
        if on[name]:
            out = out | t[f"_f_{name}"]
    return out


def _with_window_flags(t: ir.Table, original: list[str], on: dict, config: CleaningConfig):
    """``_f_exact_duplicates`` (rule 5) and ``_f_offsetting_pairs`` (rule 6) by windows."""
    false = ibis.literal(False)
    if on["exact_duplicates"]:
        # copies are identical in every column, so which one is kept needs no ordering
        t = t.mutate(_f_exact_duplicates=ibis.row_number().over(group_by=original) > 0)
    else:
        t = t.mutate(_f_exact_duplicates=false)
    if on["offsetting_pairs"]:
        return _with_pair_flag(t, config, on)
    return t.mutate(_f_offsetting_pairs=false)


def _with_pair_flag(t: ir.Table, config: CleaningConfig, on: dict[str, bool]) -> ir.Table:
    """``_f_offsetting_pairs``: true on both lines of an offsetting pair (see rule 6)."""
    blocked = _blocked(t, on, (*_ROW_RULES, "exact_duplicates"))
    t = t.mutate(_cl_cand=~blocked & t.product_id.notnull())
    w = ibis.window(
        group_by=[t.customer_id, t.product_id, t._cl_absq, t._cl_cand],
        order_by=[t.order_ts, t[_CANCEL], t.order_id, t.unit_price, t.amount],
    )
    day = t.order_ts.date()
    limit = config.offsetting_window_days
    nxt_cancel, nxt_q = t[_CANCEL].lead().over(w), t.quantity.lead().over(w)
    nxt_day = t.order_ts.lead().over(w).date()
    prv_cancel, prv_q = t[_CANCEL].lag().over(w), t.quantity.lag().over(w)
    prv_day = t.order_ts.lag().over(w).date()
    purchase_side = (
        ~t[_CANCEL]
        & (t.quantity > 0.0)
        & nxt_cancel
        & (nxt_q == -t.quantity)
        & (nxt_day.delta(day, unit="day") <= limit)
    )
    cancel_side = (
        t[_CANCEL]
        & (t.quantity < 0.0)
        & ~prv_cancel
        & (prv_q == -t.quantity)
        & (day.delta(prv_day, unit="day") <= limit)
    )
    pair = (t._cl_cand & (purchase_side | cancel_side)).fill_null(False)
    return t.mutate(_f_offsetting_pairs=pair).drop("_cl_cand")


def _flag(table: ir.Table, config: CleaningConfig, on: dict[str, bool]) -> ir.Table:
    """The input plus the stage that removes each line (0 = kept) and the return flag.

    The lines that need the windows of rules 5-6 and the others are filtered from the input
    before anything is added, so each part is one pass over the input (no shared intermediate
    result for the engine to hold).
    """
    original = list(table.columns)
    near = _window_rows(table, _with_row_flags(table, config, on), config, on)
    if near is None:
        t = _with_row_flags(table, config, on)
        false = ibis.literal(False)
        return _stages(t.mutate(_f_exact_duplicates=false, _f_offsetting_pairs=false), original, on)
    windowed = _with_window_flags(
        _with_row_flags(table.filter(near), config, on), original, on, config
    )
    rest = _with_row_flags(table.filter(~near), config, on).mutate(
        _f_exact_duplicates=ibis.literal(False), _f_offsetting_pairs=ibis.literal(False)
    )
    return _stages(windowed, original, on).union(_stages(rest, original, on))


def _row_flag_columns(table: ir.Table, config: CleaningConfig, on: dict[str, bool]) -> ir.Table:
    """``table`` plus one column per rule that looks at the line alone (``_f_<rule>``)."""
    return table.mutate(**{f"_f_{k}": v for k, v in _row_flags(table, config, on).items()})


def _flag_stored(
    t: ir.Table, original: list[str], config: CleaningConfig, on: dict[str, bool]
) -> ir.Table:
    """:func:`_flag` on the stored lines (``original`` columns, the row-level flags and the row
    numbers).

    The windows of rules 5-6 run on the few lines that may need them, and only the lines they
    remove are kept (a small table of row numbers) and joined back by row number: every line is
    stored once, by :func:`clean`, and never with hashes of its own.
    """
    t = t.mutate(**{_CANCEL: t["_f_cancellations_and_returns"], "_cl_absq": t.quantity.abs()})
    near = _window_rows(t, t, config, on)
    false = ibis.literal(False)
    if near is None:
        return _stages(t.mutate(_f_exact_duplicates=false, _f_offsetting_pairs=false), original, on)
    w = _with_window_flags(t.filter(near), original, on, config)
    removed = (
        w.filter(w._f_exact_duplicates | w._f_offsetting_pairs)
        .select(_cl_wrow=w[_ROW], _cl_dup=w._f_exact_duplicates, _cl_off=w._f_offsetting_pairs)
        .cache()
    )
    joined = t.left_join(removed, t[_ROW] == removed._cl_wrow)
    return _stages(
        joined.mutate(
            _f_exact_duplicates=joined._cl_dup.fill_null(False),
            _f_offsetting_pairs=joined._cl_off.fill_null(False),
        ),
        original,
        on,
    )


def _stages(t: ir.Table, original: list[str], on: dict[str, bool]) -> ir.Table:
    """The original columns plus the stage number, the return flag and the paired-return flag."""
    branches = [(t[f"_f_{name}"], number) for name, (number, _, _) in RULES.items() if on[name]]
    stage = ibis.cases(*branches, else_=0) if branches else ibis.literal(0)
    later = ibis.literal(False)
    for name in RULES:
        if on[name] and RULES[name][0] >= 3:
            later = later | t[f"_f_{name}"]
    is_return = (
        t[_CANCEL] & ~t["_f_missing_customer"] & ~later
        if on["cancellations_and_returns"]
        else ibis.literal(False)
    )
    return t.select(
        *original,
        **{
            _STAGE: stage.cast("int64"),
            _RETURN: is_return,
            _PAIR: t["_f_offsetting_pairs"] & t[_CANCEL],
        },
    )


def clean(table: ir.Table, config: CleaningConfig | None = None) -> Cleaned:
    """Apply the cleaning rules in their documented order.

    Parameters
    ----------
    table : ibis.Table
        Canonical transactions, e.g. ``custlens.load(...).table``.
    config : CleaningConfig, optional
        Which rules run and their settings (default: every default rule).

    Returns
    -------
    Cleaned
        ``purchases`` (Ibis table of purchase lines), ``returns`` (cancellation and return lines
        of known customers, kept for the return rate) and ``report`` (a ``QualityReport``: rows,
        revenue and customers removed by each rule).

    Raises
    ------
    MappingError
        The table lacks a canonical column.
    DataError
        No purchase line is left after cleaning (the report says which rule removed them).

    Examples
    --------
    >>> import pandas as pd
    >>> from custlens.io import clean, load
    >>> lines = pd.DataFrame({
    ...     "InvoiceNo": ["1", "2", "C3", "4"],
    ...     "CustomerID": ["a", "b", "a", None],
    ...     "InvoiceDate": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"],
    ...     "Quantity": [2, 1, -1, 3],
    ...     "UnitPrice": [5.0, 4.0, 5.0, 1.0],
    ... })
    >>> cleaned = clean(load(lines).table)
    >>> cleaned.report.rule("missing_customer").rows, cleaned.report.rows_out
    (1, 2)
    >>> float(cleaned.purchases.amount.sum().execute())
    14.0
    """
    config = config or CleaningConfig()
    lines, flagged, on, notes = _flagged(table, config)
    # compiled once: the report's queries and every query on the purchases and returns read it
    flagged = compiled_view(flagged, "flagged")
    helpers = [_STAGE, _RETURN, _PAIR]
    stats = _stage_stats(flagged)
    span = PurchaseSpan(stats["first_0"], stats["last_0"], int(stats["rows_0"]))
    lost = _customers_lost(flagged)
    report = _build_report(stats, lost, on, notes)
    if report.rows_out == 0:
        _raise_empty(report, flagged)
    log.info("cleaning: %s", " | ".join(report.summary_lines()))
    purchases = flagged.filter(flagged[_STAGE] == 0).drop(*helpers)
    returns = flagged.filter(flagged[_RETURN]).drop(*helpers)
    return Cleaned(purchases=purchases, returns=returns, report=report, lines=lines, span=span)


def clean_purchases(table: ir.Table, config: CleaningConfig | None = None) -> ir.Table:
    """The purchase lines of ``clean(table, config)`` without its quality report: two queries
    fewer, and an empty table where ``clean`` raises a DataError because none is left."""
    _, flagged, _, _ = _flagged(table, config or CleaningConfig())
    return flagged.filter(flagged[_STAGE] == 0).drop(_STAGE, _RETURN, _PAIR)


def _flagged(
    table: ir.Table, config: CleaningConfig
) -> tuple[ir.Table, ir.Table, dict[str, bool], dict[str, str]]:
    """The lines (stored on DuckDB), every line with its stage number, return flag and
    paired-return flag, the rules that run and the notes on the others."""
    require_columns(
        table,
        ALWAYS_PRESENT,
        what="the transactions",
        fix="load the source with custlens.io.load (it maps and derives these columns)",
    )
    on, notes = _resolve_rules(table, config)
    # DuckDB: the lines are stored once, with their row-level flags and row numbers
    stored = materialize_numbered(_row_flag_columns(table, config, on), "lines", _ROW)
    if stored is None:  # other engines: the flagged lines are cached
        flagged = _canonical_numbers(materialize(_flag(table, config, on), "cleaned_lines"))
        return table, flagged, on, notes
    flagged = _canonical_numbers(_flag_stored(stored, list(table.columns), config, on))
    return stored.select(*table.columns), flagged, on, notes


def _stage_stats(f: ir.Table) -> dict:
    """One aggregate per stage: rows and positive revenue, orders out, return lines, and the
    first and last order time of the lines kept (stage 0)."""
    # summed as decimals: exact and independent of the engine's order (byte-identical reports);
    # grouped by stage rather than a filtered sum per stage (one decimal cast per line)
    ok = (f.amount > 0.0) & ~f.amount.isnan() & (f.amount <= _LIMIT)
    positive = ibis.ifelse(ok.fill_null(False), f.amount, 0.0).cast("decimal(38, 6)")
    per_stage = f.group_by(_stage=f[_STAGE]).aggregate(
        rows=f.count(),
        rev=positive.sum().cast("float64"),
        orders=f.order_id.nunique(where=f[_STAGE] == 0),
        returns_rows=f.count(where=f[_RETURN]),
        paired_returns=f.count(where=f[_PAIR]),
        first=f.order_ts.min(),
        last=f.order_ts.max(),
    )
    stats: dict = {f"{k}_{stage}": 0 for k in ("rows", "rev") for stage in range(len(RULES) + 1)}
    stats.update(orders_out=0, returns_rows=0, paired_returns=0, first_0=None, last_0=None)
    for row in per_stage.to_pyarrow().to_pylist():
        stage = int(row["_stage"])
        stats[f"rows_{stage}"] = row["rows"]
        stats[f"rev_{stage}"] = row["rev"] if row["rev"] is not None else 0
        stats["returns_rows"] += row["returns_rows"]
        stats["paired_returns"] += row["paired_returns"]
        if stage == 0:
            stats["orders_out"] = row["orders"]
            stats["first_0"], stats["last_0"] = row["first"], row["last"]
    return stats


def _canonical_numbers(t: ir.Table) -> ir.Table:
    """Every canonical numeric column as float64, whatever the source gave (decimals, integers)."""
    wrong = {
        c: CANONICAL_TYPES[c]
        for c in t.columns
        if c in CANONICAL_TYPES
        and CANONICAL_TYPES[c].is_floating()
        and not isinstance(t[c].type(), dt.Float64)
    }
    return t.cast(wrong) if wrong else t


def _customers_lost(f: ir.Table) -> dict[int, int]:
    """One aggregate: customers by the last stage at which they still had lines."""
    known = f.filter(f.customer_id.notnull() & (strip(f.customer_id) != ""))
    level = ibis.ifelse(known[_STAGE] == 0, _KEPT_LEVEL, known[_STAGE])
    per_customer = known.group_by("customer_id").aggregate(level=level.max())
    counts = per_customer.group_by("level").aggregate(n=per_customer.count())
    return {int(r["level"]): int(r["n"]) for r in counts.to_pyarrow().to_pylist()}


def _build_report(stats: dict, lost: dict[int, int], on: dict, notes: dict) -> QualityReport:
    results = []
    for name, (number, description, _) in RULES.items():
        note = notes.get(name, "")
        if name == "cancellations_and_returns" and on[name]:
            note = f"{int(stats['returns_rows']):,} kept as returns"
        if name == "offsetting_pairs" and on[name] and on["cancellations_and_returns"]:
            note += f"; also removed {int(stats['paired_returns']):,} paired lines from returns"
        results.append(
            RuleResult(
                rule=name,
                description=description,
                enabled=on[name],
                rows=int(stats[f"rows_{number}"]),
                revenue=float(stats[f"rev_{number}"]),
                customers=int(lost.get(number, 0)),
                note=note,
            )
        )
    return QualityReport(
        rows_in=int(sum(stats[f"rows_{s}"] for s in range(len(RULES) + 1))),
        revenue_in=float(sum(stats[f"rev_{s}"] for s in range(len(RULES) + 1))),
        customers_in=int(sum(lost.values())),
        rules=tuple(results),
        rows_out=int(stats["rows_0"]),
        orders_out=int(stats["orders_out"]),
        customers_out=int(lost.get(_KEPT_LEVEL, 0)),
        revenue_out=float(stats["rev_0"]),
        returns_rows=int(stats["returns_rows"]),
    )


def _raise_empty(report: QualityReport, lines: ir.Table) -> None:
    if report.rows_in == 0:
        raise DataError(
            "The transactions are empty: there is nothing to clean",
            where="input table (0 lines)",
            fix="check the source file or table and any filter applied before loading",
        )
    last = [r for r in report.rules if r.rows > 0][-1]
    counts = ", ".join(f"{r.rule} {r.rows:,}" for r in report.rules if r.rows)
    raise DataError(
        f"Cleaning left no purchase lines: rule {last.rule!r} ({last.description}) removed "
        f"the last {last.rows:,} of {report.rows_in:,} lines (removed per rule: {counts})",
        where="io.clean",
        fix=RULES[last.rule][2].format(details=_filter_details(last.rule, lines)),
    )


def _filter_details(rule: str, lines: ir.Table) -> str:
    """What the lines a filter rule removed hold: their dates, their largest countries."""
    lines = lines.filter(lines[_STAGE] == RULES[rule][0])
    if rule == "date_range":
        span = lines.aggregate(first=lines.order_ts.min(), last=lines.order_ts.max())
        row = span.to_pyarrow().to_pylist()[0]
        if row["first"] is None:
            return ""
        return f"; the orders run from {row['first']:%Y-%m-%d} to {row['last']:%Y-%m-%d}"
    if rule == "country_filter":
        named = lines.filter(lines.country.notnull())
        top = (
            named.group_by("country")
            .aggregate(n=named.count())
            .order_by([ibis.desc("n"), "country"])
            .limit(8)
        )
        found = [str(r["country"]) for r in top.to_pyarrow().to_pylist()]
        return f"; the lines' countries include {', '.join(found)}" if found else ""
    return ""
