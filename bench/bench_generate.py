"""Time ``write_synthetic`` for about 1M and 10M rows: median wall time and peak RSS.

Each run is a fresh child process (so imports are excluded from the time, which is measured
around the ``write_synthetic`` call only, and the peak RSS is that child's own ru_maxrss).
n_customers is chosen from a pilot run's rows per customer. Outputs go to /tmp only.

    python bench/bench_generate.py                   # 1M rows x 3 runs, 10M rows x 1 run
    python bench/bench_generate.py --repeats 5 --repeats-10m 3 --format csv.gz
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORK = Path(tempfile.gettempdir()) / "custlens_bench_generate"

CHILD = """
import json, resource, sys, time
from custlens.datasets import write_synthetic
path, n, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
info = write_synthetic(path, n, seed=0, chunk_customers=chunk)
elapsed = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes
print(json.dumps({"seconds": elapsed, "peak_mb": peak_kb / 1024, "rows": info["rows"]}))
"""


def rows_per_customer(pilot_customers: int) -> float:
    from custlens.datasets import synthetic

    return len(synthetic(pilot_customers, seed=0).orders) / pilot_customers


def run_once(path: Path, customers: int, chunk: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(customers), str(chunk)],
        capture_output=True,
        text=True,
        check=True,
    )
    path.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs for the ~1M-row size")
    parser.add_argument("--repeats-10m", type=int, default=1, help="runs for the ~10M-row size")
    parser.add_argument("--format", choices=["parquet", "csv", "csv.gz"], default="parquet")
    parser.add_argument("--chunk-customers", type=int, default=100_000)
    parser.add_argument("--skip-10m", action="store_true")
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    rpc = rows_per_customer(10_000)
    print(f"pilot: {rpc:.1f} rows per customer (10,000 customers, seed 0)")
    sizes = [(1_000_000, args.repeats)]
    if not args.skip_10m:
        sizes.append((10_000_000, args.repeats_10m))
    table = []
    for target, repeats in sizes:
        customers = round(target / rpc)
        runs = [
            run_once(WORK / f"orders_{target}.{args.format}", customers, args.chunk_customers)
            for _ in range(repeats)
        ]
        table.append(
            (
                target,
                customers,
                runs[0]["rows"],
                repeats,
                statistics.median(r["seconds"] for r in runs),
                max(r["peak_mb"] for r in runs),
            )
        )
    print(f"\nwrite_synthetic -> .{args.format}, chunk_customers={args.chunk_customers:,}")
    print(
        f"{'target':>12} {'customers':>10} {'rows':>12} {'runs':>5} {'median s':>9} {'rows/s':>11} {'peak RSS MB':>12}"
    )
    for target, customers, rows, repeats, seconds, peak in table:
        print(
            f"{target:>12,} {customers:>10,} {rows:>12,} {repeats:>5} {seconds:>9.2f}"
            f" {rows / seconds:>11,.0f} {peak:>12,.0f}"
        )


if __name__ == "__main__":
    main()
