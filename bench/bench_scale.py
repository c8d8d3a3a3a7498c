"""RFM-only ``custlens run`` on a large synthetic Parquet file beside one hand-written DuckDB query.

    python bench/bench_scale.py                                   # 10M lines (330,000 customers)
    python bench/bench_scale.py --customers 3300000 --repeats 1   # 100M lines
    python bench/bench_scale.py --before /work/main/src           # also an older checkout

Issue 16, target 3: at 100M lines (about 3.3M customers) ``custlens run FILE --analyses rfm
--figures none`` within 4x of the DuckDB query on the same Parquet file, under 8 GB peak RSS.
Each measurement is a fresh process; with ``--before`` the two checkouts alternate run by run
(same machine load for both). Prints medians, peak RSS, the ratio to the query and the seconds
of each stage from ``run.json`` (median per stage). ``--full`` adds one run of every analysis.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from measure import HEADER, Measurement, measure, python

WORK = Path("/tmp/custlens-bench")
ROOT = Path(__file__).resolve().parents[1]

# The same rules as the foundation run's minimal cleaning: known customer, no cancellation or
# return, positive price; recency from the day after the last order.
DUCKDB_RFM = """
import duckdb
duckdb.sql('''
with t as (
  select CustomerID as c, InvoiceNo as o, InvoiceDate as ts, Quantity * UnitPrice as amount
  from read_parquet('{path}')
  where CustomerID is not null and Quantity > 0 and UnitPrice > 0
    and not starts_with(InvoiceNo, 'C')
)
select c, date_diff('day', max(ts)::date, (select max(ts)::date + 1 from t)) as recency,
       count(distinct o) as frequency, sum(amount) as monetary
from t group by c
''').fetchall()
"""


def synthetic(customers: int) -> Path:
    name = "synthetic_10m" if customers == 330_000 else f"synthetic_{customers}c"
    if customers == 3_300_000:
        name = "synthetic_100m"
    path = WORK / f"{name}.parquet"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        from custlens.datasets import write_synthetic

        info = write_synthetic(path, customers, seed=1)
        print(f"generated {path}: {info['rows']:,} rows, {info['customers']:,} customers")
    return path


def run_argv(source: Path, out: Path, full: bool) -> list[str]:
    scope = [] if full else ["--analyses", "rfm", "--figures", "none"]
    return [sys.executable, "-m", "custlens", "run", str(source), "--out", str(out), "--force",
            "--quiet", *scope]  # fmt: skip


def with_src(src: str) -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = src
    return env


def stage_seconds(out: Path) -> dict[str, float]:
    return dict(json.loads((out / "run.json").read_text())["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=330_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", metavar="SRC", help="src folder of a checkout to compare")
    parser.add_argument("--full", action="store_true", help="also one run of every analysis")
    args = parser.parse_args()
    source = synthetic(args.customers)
    print(f"source {source} ({source.stat().st_size / 1e6:,.0f} MB); load {os.getloadavg()}")
    checkouts = {"after": str(ROOT / "src")}
    if args.before:
        checkouts = {"before": args.before, **checkouts}
    times: dict[str, list[float]] = {k: [] for k in checkouts}
    peaks: dict[str, float] = dict.fromkeys(checkouts, 0.0)
    stages: dict[str, list[dict[str, float]]] = {k: [] for k in checkouts}
    for _ in range(args.repeats):  # alternate the checkouts: both see the same machine load
        for name, src in checkouts.items():
            out = WORK / f"scale_{source.stem}_{name}"
            m = measure(name, run_argv(source, out, False), 1, env=with_src(src))
            times[name] += m.seconds
            peaks[name] = max(peaks[name], m.peak_rss_mb)
            stages[name].append(stage_seconds(out))
    rows = [
        Measurement(f"custlens run --analyses rfm ({name})", times[name], peaks[name])
        for name in checkouts
    ]
    query = measure("one hand-written DuckDB RFM query", python(DUCKDB_RFM.replace("{path}", str(source))), args.repeats)  # fmt: skip
    rows.append(query)
    if args.full:
        out = WORK / f"scale_{source.stem}_full"
        full = measure("custlens run, every analysis + figures (after)", run_argv(source, out, True), 1, env=with_src(checkouts["after"]))  # fmt: skip
        rows.append(full)
        stages["after (full run)"] = [stage_seconds(out)]
    print(HEADER)
    for m in rows:
        print(m.row())
    for m in rows[: len(checkouts)]:
        print(f"{m.label}: {m.median / query.median:.1f}x the DuckDB query (target <= 4x)")
    for name, runs in stages.items():
        keys = list(runs[0])
        medians = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}
        print(f"stage seconds ({name}, median):", ", ".join(f"{k} {v:.1f}" for k, v in medians.items()))  # fmt: skip
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
