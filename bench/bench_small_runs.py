"""The fixed cost of a run: ``custlens.run`` on a small synthetic log, again and again in one
process (imports paid once), where the engine's queries take milliseconds and what is left is
compiling Ibis expressions, fitting and writing.

    python bench/bench_small_runs.py --repeats 3 --rounds 2 [--base OTHER/src]

Each round starts one process per tree (this tree's ``src``, and ``--base``'s when given,
alternating), which runs once to warm up and then ``--repeats`` timed runs. Printed: the median
of every tree's timed runs, the Ibis compile time inside them (``to_sqlglot``, the outermost
call on each thread, summed over the threads) and the predictions stage's seconds. Most tests
run such small logs, so this is also most of what the test suite waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, os, sys, tempfile, threading, time
import ibis.backends.sql.compilers.base as base
import custlens

state = {"compile": 0.0}
local = threading.local()  # compiles run on several threads: nesting is counted per thread
lock = threading.Lock()
original = base.SQLGlotCompiler.to_sqlglot


def to_sqlglot(self, *args, **kwargs):
    local.depth = getattr(local, "depth", 0) + 1
    start = time.perf_counter()
    try:
        return original(self, *args, **kwargs)
    finally:
        local.depth -= 1
        if local.depth == 0:
            with lock:
                state["compile"] += time.perf_counter() - start


base.SQLGlotCompiler.to_sqlglot = to_sqlglot
customers, repeats = int(sys.argv[1]), int(sys.argv[2])
orders = custlens.datasets.synthetic(customers, seed=3).orders
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "orders.parquet")
    orders.to_parquet(path, index=False)
    custlens.run(path)  # warm-up: imports, the feature query's template
    rows = []
    for _ in range(repeats):
        state["compile"] = 0.0
        start = time.perf_counter()
        results = custlens.run(path)
        rows.append({"seconds": time.perf_counter() - start, "compile": state["compile"],
                     "predictions": results.stage_seconds.get("predictions", 0.0)})
print(json.dumps(rows))
"""


def run_tree(src: Path, customers: int, repeats: int) -> list[dict]:
    env = os.environ | {"PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(customers), str(repeats)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"the run on {src} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per tree")
    parser.add_argument("--base", type=Path, help="another tree's src folder, run alongside")
    args = parser.parse_args()
    trees = {"this tree": ROOT / "src"}
    if args.base is not None:
        trees = {"base": args.base.resolve(), **trees}
    seen: dict[str, list[dict]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, src in trees.items():
            seen[name] += run_tree(src, args.customers, args.repeats)
    print(f"{args.customers} synthetic customers, {args.rounds} x {args.repeats} warm runs each")
    print("| code | median run s | runs (s) | median Ibis compile s | median predictions s |")
    print("|---|---|---|---|---|")
    for name, rows in seen.items():

        def med(key: str, rows: list[dict] = rows) -> float:
            return statistics.median(r[key] for r in rows)

        runs = ", ".join(f"{r['seconds']:.2f}" for r in rows)
        print(
            f"| {name} | {med('seconds'):.2f} | {runs} | {med('compile'):.2f} "
            f"| {med('predictions'):.2f} |"
        )


if __name__ == "__main__":
    main()
