"""Benchmark ``custlens run`` end to end against baselines; prints medians and peak RSS.

    python bench/bench_run.py                      # Online Retail + synthetic 1M and 10M rows
    python bench/bench_run.py --skip-10m --repeats 3

Each measurement runs in a fresh process (interpreter start-up included). "custlens run" here is
the foundation run (`--analyses rfm --figures none`: load, clean, customer table, segments, CRM
lists); the full run with every analysis is measured once beside it. Targets (issue 2):
Online Retail end to end within 4x a single hand-written DuckDB query computing R, F and M;
at least 20x faster than the notebook-style pandas script; 10M rows under 30 s, peak RSS < 3 GB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from measure import HEADER, measure, python

ROOT = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
WORK = Path("/tmp/custlens-bench")

DUCKDB_RFM = """
import duckdb
duckdb.sql('''
with t as (
  select CustomerID as c, InvoiceNo as o, InvoiceDate as ts, Quantity * UnitPrice as amount
  from read_csv('{path}')
  where CustomerID is not null and Quantity > 0 and UnitPrice > 0
    and not starts_with(InvoiceNo, 'C')
)
select c, date_diff('day', max(ts)::date, (select max(ts)::date + 1 from t)) as recency,
       count(distinct o) as frequency, sum(amount) as monetary
from t group by c
''').fetchall()
"""


def custlens_run(source: Path, out: Path, *extra: str, full: bool = False) -> list[str]:
    """The foundation run (RFM, no figures) unless ``full``: every analysis and figure."""
    scope = [] if full else ["--analyses", "rfm", "--figures", "none"]
    return [sys.executable, "-m", "custlens", "run", str(source), "--out", str(out), "--force",
            "--quiet", *scope, *extra]  # fmt: skip


def ensure_synthetic(customers: int, name: str) -> Path:
    path = WORK / f"{name}.parquet"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        from custlens.datasets import write_synthetic

        info = write_synthetic(path, customers, seed=1)
        print(f"generated {name}: {info['rows']:,} rows, {info['customers']:,} customers")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-10m", action="store_true")
    parser.add_argument("--full-repeats", type=int, default=1)
    parser.add_argument("--customers-1m", type=int, default=33_000)
    parser.add_argument("--customers-10m", type=int, default=330_000)
    args = parser.parse_args()
    rows = []
    out = WORK / "out"
    if ONLINE_RETAIL.exists():
        minimal = custlens_run(ONLINE_RETAIL, out, "--cleaning", "minimal")
        rows.append(measure("custlens run, Online Retail (minimal)", minimal, args.repeats))
        rows.append(
            measure(
                "custlens run, Online Retail (default)",
                custlens_run(ONLINE_RETAIL, out),
                args.repeats,
            )
        )
        full = custlens_run(ONLINE_RETAIL, out, full=True)
        label = "custlens run, Online Retail, every analysis + figures"
        rows.append(measure(label, full, args.full_repeats))
        rows.append(
            measure(
                "python start + import custlens.cli",
                python("import custlens.cli, custlens.pipeline, custlens.exports"),
                args.repeats,
            )
        )
        query = DUCKDB_RFM.replace("{path}", str(ONLINE_RETAIL))
        rows.append(measure("one hand-written DuckDB RFM query", python(query), args.repeats))
        notebook = [
            sys.executable,
            str(ROOT / "bench" / "notebook_rfm_pandas.py"),
            str(ONLINE_RETAIL),
        ]
        rows.append(measure("notebook-style pandas RFM script", notebook, args.repeats))
    else:
        print(f"skipping Online Retail: {ONLINE_RETAIL} not found")
    one_m = ensure_synthetic(args.customers_1m, "synthetic_1m")
    rows.append(
        measure(f"custlens run, synthetic {one_m.name}", custlens_run(one_m, out), args.repeats)
    )
    if not args.skip_10m:
        ten_m = ensure_synthetic(args.customers_10m, "synthetic_10m")
        rows.append(
            measure(f"custlens run, synthetic {ten_m.name}", custlens_run(ten_m, out), args.repeats)
        )
        notebook = [sys.executable, str(ROOT / "bench" / "notebook_rfm_pandas.py"), str(ten_m)]
        rows.append(measure(f"notebook-style pandas RFM script, {ten_m.name}", notebook, 1))
    print(HEADER)
    for m in rows:
        print(m.row())
    by = {m.label: m.median for m in rows}
    if ONLINE_RETAIL.exists():
        run_s = by["custlens run, Online Retail (minimal)"]
        print(
            f"\ncustlens / DuckDB query: {run_s / by['one hand-written DuckDB RFM query']:.2f}x (target <= 4x)"
        )
        print(
            f"pandas notebook / custlens: {by['notebook-style pandas RFM script'] / run_s:.1f}x (target >= 20x)"
        )


if __name__ == "__main__":
    main()
