"""What the join of the lines rules 5-6 remove costs the customer table's query (issue 16, target 3).

    python bench/bench_removed_join.py                                   # synthetic 10M lines
    python bench/bench_removed_join.py --source /tmp/custlens-bench/synthetic_100m.parquet

On DuckDB, cleaning stores every line once and keeps the few lines the windows of rules 5-6
(exact duplicates, offsetting pairs) remove as a small table of row numbers; the purchases are
the stored lines left-joined with it (``custlens.io.clean``). This script cleans the source with
custlens's defaults, then times the customer table's RFM aggregate (``customer_table_before``:
two ``count(DISTINCT)``, exact sums) over

- ``purchases``: the cleaned purchases, as every query of an RFM-only run reads them (the join);
- ``stored lines, rules 1-3 only``: the same stored lines filtered by known customer, no
  cancellation and a positive price, without the join (a few more lines: duplicates, pairs and
  non-product codes stay). Only the cost is compared, not the rows.

Each query runs ``--repeats`` times in turn, in this process, with the run's DuckDB connection
(``CUSTLENS_MEMORY_LIMIT`` sets its memory cap as in a run). Prints the medians and the number of
lines the join removes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

import ibis.expr.types as ir

from custlens.features.rfm import customer_table_before
from custlens.io import clean, load

DEFAULT = Path("/tmp/custlens-bench/synthetic_10m.parquet")


def _timed(table: ir.Table, day: date) -> tuple[float, int]:
    aggregate = customer_table_before(table, None, day)
    # every column of the aggregate is read (DuckDB drops the aggregates nothing reads)
    summary = aggregate.aggregate(
        n=aggregate.count(),
        f=aggregate.frequency.sum(),
        m=aggregate.monetary.sum(),
        p=aggregate.distinct_products.sum(),
        first=aggregate.first_order.min(),
        last=aggregate.last_order.max(),
    )
    start = time.perf_counter()
    row = summary.to_pyarrow().to_pylist()[0]
    return time.perf_counter() - start, int(row["n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not args.source.exists():
        raise SystemExit(f"{args.source} is missing: python bench/bench_scale.py generates it")
    start = time.perf_counter()
    cleaned = clean(load(args.source).table)
    print(f"cleaned {args.source.name} in {time.perf_counter() - start:.1f} s")
    span = cleaned.span
    assert span is not None and span.last is not None
    day = span.last.date() + timedelta(days=1)
    lines = cleaned.lines
    assert lines is not None
    known = lines.filter(
        lines.customer_id.notnull(),
        lines.quantity > 0,
        ~lines.order_id.startswith("C"),
        lines.unit_price > 0,
    )
    tables = {"purchases (stored lines joined with the removed ones)": cleaned.purchases,
              "stored lines, rules 1-3 only (no join)": known}  # fmt: skip
    seconds: dict[str, list[float]] = {k: [] for k in tables}
    customers: dict[str, int] = {}
    for _ in range(args.repeats):
        for label, table in tables.items():
            took, n = _timed(table, day)
            seconds[label].append(took)
            customers[label] = n
    removed = sum(cleaned.report.rule(r).rows for r in ("exact_duplicates", "offsetting_pairs"))
    print(f"lines removed by rules 5-6 (the join's table, about): {removed:,}")
    print("| customer table's RFM aggregate over | median s | runs (s) | customers |")
    print("|---|---|---|---|")
    for label, runs in seconds.items():
        text = ", ".join(f"{s:.2f}" for s in runs)
        print(f"| {label} | {statistics.median(runs):.2f} | {text} | {customers[label]:,} |")


if __name__ == "__main__":
    main()
