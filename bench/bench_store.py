"""What storing the canonical lines costs cleaning: computing, writing and reading them back.

    python bench/bench_store.py                                          # synthetic 10M lines
    python bench/bench_store.py --source /tmp/custlens-bench/synthetic_100m.parquet --repeats 1
    python bench/bench_store.py --options "WRITE_BLOOM_FILTER false" "COMPRESSION uncompressed"

On DuckDB, ``custlens.io.clean`` stores every line once, with its row-level flags, as Parquet
(``materialize_numbered``), and every later query of the run reads that file. This script loads
the source with custlens's defaults, builds the same query (canonical columns plus one flag per
rule that looks at the line alone) and times, in this process, with the run's DuckDB settings:

- ``compute``: the query without writing (an aggregate that reads every column);
- ``write``: ``COPY ... (FORMAT parquet)`` as cleaning runs it, and once per ``--options``
  entry with those writer options added (e.g. ``WRITE_BLOOM_FILTER false``), in turn;
- ``read back``: an aggregate over every column of the file written with the defaults.

Prints the median of each (issue 16, target 3; docs/benchmarks.md, nineteenth session).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from custlens.config import CleaningConfig
from custlens.io import load
from custlens.io.clean import _resolve_rules, _row_flag_columns
from custlens.io.sql import sql_ident, sql_literal

DEFAULT = Path("/tmp/custlens-bench/synthetic_10m.parquet")


def _every_column(columns: list[str], source: str) -> str:
    """An aggregate that needs every column's values (DuckDB drops columns nothing reads)."""
    parts = [f"count({sql_ident(c)})" for c in columns]
    parts += [f"max({sql_ident(c)})" for c in columns]
    return f"SELECT {', '.join(parts)} FROM {source}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--options", nargs="*", default=[], help="writer options to compare")
    args = parser.parse_args()
    if not args.source.exists():
        raise SystemExit(f"{args.source} not found: run bench/bench_scale.py once to generate it")
    src = load(args.source)
    config = CleaningConfig()
    on, _ = _resolve_rules(src.table, config)
    flagged = _row_flag_columns(src.table, config, on)
    con = src.table._find_backend()
    sql = con.compile(flagged)
    columns = list(flagged.columns)
    con.raw_sql("SET preserve_insertion_order = false")  # as materialize's writes run
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="custlens-bench-store-") as folder:
        target = Path(folder) / "lines.parquet"

        def timed(label: str, statement: str) -> None:
            start = time.perf_counter()
            con.raw_sql(statement).fetchall()
            times.setdefault(label, []).append(time.perf_counter() - start)

        for _ in range(args.repeats):
            timed("compute", _every_column(columns, f"({sql})"))
            for options in [*args.options, ""]:  # the defaults last: their file is read back
                extra = f", {options}" if options else ""
                label = f"write ({options})" if options else "write (defaults)"
                timed(label, f"COPY ({sql}) TO {sql_literal(str(target))} (FORMAT parquet{extra})")
            timed("read back", _every_column(columns, f"read_parquet({sql_literal(str(target))})"))
        size = target.stat().st_size
    print(f"source {args.source} ({src.rows:,} lines); stored file {size / 1e6:,.0f} MB")
    print("| what | median s | runs (s) |")
    print("|---|---|---|")
    for label, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {label} | {statistics.median(values):.2f} | {runs} |")


if __name__ == "__main__":
    main()
