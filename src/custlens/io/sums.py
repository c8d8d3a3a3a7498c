"""Sums, means and standard deviations that do not depend on the order the engine adds rows in.

An engine running on several threads adds the rows of a float ``sum`` in a different order on
every run, and float addition is not associative: a total can differ in its last bit, which
changes a value rounded to 9 decimals whenever it lies on a rounding boundary (and the same input
must give byte-identical outputs). Here every term is rounded to a fixed number of decimals and
added as a ``DECIMAL(38, scale)``, an exact integer sum, so the total is the same in any order;
it comes back as float64. Money amounts have at most a few decimals, so ``scale=6`` keeps them
exactly (and the total is closer to the true sum than a float sum).

A term that is not finite, or too large for the decimal type, is added as a float beside the
exact part (NaN and infinities give the same result in any order).

The standard deviation is computed in two passes with exact sums: the group's mean, then the
squared deviations divided by the group's largest absolute value (terms in [0, 4], summed at
18 decimals), so neither a constant group (0, not a rounding residue) nor large values lose
precision or overflow.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = [
    "exact_entropy",
    "exact_mean",
    "exact_std",
    "exact_sum",
    "exact_sum_of_parts",
    "exact_sum_parts",
    "with_exact_std_terms",
]

MONEY_SCALE = 6  # decimals kept per term of a money sum
_UNIT_SCALE = 18  # decimals kept per term in [0, 4] (standard deviations, entropies)
_PRECISION = 38  # the widest decimal DuckDB, Spark and most warehouses add exactly
_HEADROOM = 12  # digits left for the sum of up to 10**12 terms


def exact_sum(
    value: ir.NumericValue, *, where: ir.BooleanValue | None = None, scale: int = MONEY_SCALE
) -> ir.FloatingValue:
    """The sum of ``value`` (float64; null over no non-null value), the same whatever order
    the rows are added in: each term rounded to ``scale`` decimals, added exactly.

    >>> import pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"x": [0.1, 0.2, float("nan"), None], "k": [1, 1, 2, 3]}))
    >>> t.group_by("k").aggregate(s=exact_sum(t.x)).order_by("k").to_pandas().s.tolist()
    [0.3, nan, nan]
    """
    exact, rest = exact_sum_parts(value, where=where, scale=scale)
    return exact_sum_of_parts(exact, rest)


def exact_sum_parts(
    value: ir.NumericValue, *, where: ir.BooleanValue | None = None, scale: int = MONEY_SCALE
) -> tuple[ir.DecimalValue, ir.FloatingValue]:
    """The two aggregates behind :func:`exact_sum`: the exact decimal sum of the terms that fit
    and the float sum of the others. Partial sums (e.g. per customer and month) stored as these
    two columns add up with :func:`exact_sum_of_parts` to exactly the :func:`exact_sum` of all
    the rows, so a total over any range of the parts needs no pass over the rows again."""
    bound = 10.0 ** (_PRECISION - scale - _HEADROOM)
    x = value.cast("float64")
    fits = x.abs() <= bound  # false for NaN and infinities, null for null
    exact = ibis.ifelse(fits, x, None).cast(f"decimal({_PRECISION}, {scale})")
    rest = ibis.ifelse(fits, None, x)
    return exact.sum(where=where), rest.sum(where=where)


def exact_sum_of_parts(exact: ir.DecimalValue, rest: ir.FloatingValue) -> ir.FloatingValue:
    """The float64 total of :func:`exact_sum_parts` (already aggregated, or their columns
    aggregated again with ``sum``)."""
    exact_total = exact.cast("float64")
    return ibis.coalesce(exact_total + rest, exact_total, rest)


def exact_mean(
    value: ir.NumericValue, *, where: ir.BooleanValue | None = None, scale: int = MONEY_SCALE
) -> ir.FloatingValue:
    """The mean of the non-null values of ``value`` from an :func:`exact_sum`."""
    n = value.count(where=where).cast("float64")
    return exact_sum(value, where=where, scale=scale) / n.nullif(0.0)


def with_exact_std_terms(table: ir.Table, column: str, by: str | list[str], name: str) -> ir.Table:
    """``table`` with the columns ``{name}_scale`` (the group's largest absolute value of
    ``column``) and ``{name}_term`` (the squared deviation from the group's exact mean, divided
    by the scale squared) that :func:`exact_std` aggregates, per group of ``by``."""
    keys = [by] if isinstance(by, str) else list(by)
    x = table[column].cast("float64")
    # the group's statistics joined back, not a window over the groups: the engine hashes the
    # groups once instead of partitioning and sorting every row (the same exact values)
    stats = table.group_by(keys).aggregate(
        **{f"{name}_mean": exact_mean(x), f"{name}_scale": x.abs().max()}
    )
    stats = stats.rename({f"_by{i}": key for i, key in enumerate(keys)})
    same = [table[key].identical_to(stats[f"_by{i}"]) for i, key in enumerate(keys)]
    with_stats = table.join(stats, same).select(*table.columns, f"{name}_mean", f"{name}_scale")
    scale = with_stats[f"{name}_scale"]
    deviation = (with_stats[column].cast("float64") - with_stats[f"{name}_mean"]) / scale.nullif(
        0.0
    )
    return with_stats.mutate(**{f"{name}_term": (deviation * deviation).fill_null(0.0)}).drop(
        f"{name}_mean"
    )


def exact_std(table: ir.Table, column: str, name: str) -> ir.FloatingValue:
    """The sample standard deviation of ``column`` per group (an aggregate over a table made by
    :func:`with_exact_std_terms`; null for fewer than two values)."""
    n = table[column].count()
    squares = exact_sum(table[f"{name}_term"], scale=_UNIT_SCALE)
    variance = squares / (n - 1).cast("float64").nullif(0.0)
    return ibis.ifelse(
        n > 1, table[f"{name}_scale"].max() * variance.sqrt(), ibis.null().cast("float64")
    )


def exact_entropy(shares: ir.NumericValue) -> ir.FloatingValue:
    """Shannon entropy ``-sum(p ln p)`` over the shares ``p`` in (0, 1] of one group, exact."""
    term = ibis.ifelse(shares > 0.0, -shares * shares.ln(), 0.0)
    return exact_sum(term, scale=_UNIT_SCALE)
