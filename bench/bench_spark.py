"""``custlens run --engine spark`` (local mode) beside the default DuckDB engine on one file.

Each engine runs the same command in a fresh process (``bench.measure``); the per-stage times
come from the run's own ``run.json``. Peak RSS is the Python driver's; on Spark the JVM (driver
and local executors) is a separate process whose heap ``spark.driver.memory`` caps.

    python bench/bench_spark.py --data /tmp/custlens-bench/synthetic_10m.parquet --analyses rfm
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import HEADER, measure  # noqa: E402


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/tmp/custlens-bench/synthetic_10m.parquet")
    parser.add_argument("--analyses", default="rfm")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory")
    args = parser.parse_args()
    data = Path(args.data)
    if not data.exists():
        from custlens.datasets import write_synthetic

        data.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic(data, 333_000, seed=1)  # about 10 million lines
    import pyarrow.parquet as pq

    print(f"{data}: {pq.ParquetFile(data).metadata.num_rows:,} lines; --analyses {args.analyses}")
    print(f"before: {_uptime()}")
    rows, stages = [], {}
    work = Path(tempfile.mkdtemp(prefix="custlens-bench-spark-"))
    config = work / "custlens.toml"
    config.write_text(f'[spark.conf]\n"spark.driver.memory" = "{args.driver_memory}"\n')
    try:
        for engine in args.engines.split(","):
            out = work / engine
            argv = [sys.executable, "-m", "custlens", "run", str(data), "--out", str(out)]
            argv += ["--analyses", args.analyses, "--figures", "none", "--force", "-q"]
            argv += ["--engine", engine, "--config", str(config)]
            if engine == "spark":
                argv += ["--spark-master", args.master]
            label = f"{engine}" + (f" {args.master}" if engine == "spark" else "")
            rows.append(measure(label, argv, args.repeats, env=os.environ.copy()))
            stages[label] = json.loads((out / "run.json").read_text())["seconds"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"after: {_uptime()}")
    print(HEADER)
    for row in rows:
        print(row.row())
    names = list(dict.fromkeys(n for s in stages.values() for n in s))
    print("\n| stage (s, last run) | " + " | ".join(stages) + " |")
    print("|---|" + "---|" * len(stages))
    for name in names:
        cells = [f"{s[name]:.1f}" if name in s else "-" for s in stages.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
