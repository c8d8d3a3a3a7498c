"""Fixed costs of ``custlens run`` (issue 16): import time and the number of Ibis compiles.

    python bench/bench_imports.py                        # synthetic 2,000 customers, 5 repeats
    python bench/bench_imports.py --source FILE --repeats 7
    python bench/bench_imports.py --baseline ../main/src  # another checkout, interleaved

Import time is the sum of the self times ``python -X importtime`` prints for every module the
run imports (those the stages import lazily included), median of fresh processes, for an
RFM-only run (``--analyses rfm --figures none``) and a full run (``--figures none``). The floor
line measures the same way what the engine stack alone costs (pandas, PyArrow, DuckDB, Ibis and
its DuckDB backend): no run can import less. Ibis compiles are counted in one more process per
run that wraps ``SQLGlotCompiler.to_sqlglot`` (every expression executed, turned into SQL or
stored as a table passes through it once). Targets: RFM-only under 0.4 s, full under 1 s.
With ``--baseline SRC`` every run is also measured with that source tree on ``PYTHONPATH``,
repeat by repeat in turn, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORK = Path("/tmp/custlens-bench")
FLOOR = "import pandas, pyarrow, duckdb, ibis, ibis.backends.duckdb"
SELF_TIME = re.compile(r"^import time:\s+(\d+) \|")

COUNT_COMPILES = """
import collections, json, sys, time, traceback
import ibis.backends.sql.compilers.base as base

original = base.SQLGlotCompiler.to_sqlglot
state = {"depth": 0, "seconds": 0.0}
sites = collections.Counter()

def to_sqlglot(self, *args, **kwargs):
    state["depth"] += 1
    start = time.perf_counter()
    try:
        return original(self, *args, **kwargs)
    finally:
        state["depth"] -= 1
        if state["depth"] == 0:  # count outermost calls only
            state["seconds"] += time.perf_counter() - start
            ours = [f for f in traceback.extract_stack() if "/custlens/" in f.filename]
            where = ours[-1] if ours else None
            site = f"{where.filename.split('/custlens/')[-1]}:{where.lineno}" if where else "?"
            sites[site] += 1

base.SQLGlotCompiler.to_sqlglot = to_sqlglot
from custlens.cli import main
sys.argv = ["custlens", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    if exc.code:
        raise
print(json.dumps({"compiles": sum(sites.values()), "seconds": state["seconds"],
                  "sites": sites.most_common()}))
"""


def env_for(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def import_seconds(argv: list[str], src: str | None) -> float:
    """Sum of the self times of every import of ``argv`` run under ``-X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        env=env_for(src),
    )
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    micros = sum(int(m.group(1)) for m in map(SELF_TIME.match, proc.stderr.splitlines()) if m)
    return micros / 1e6


def run_args(source: Path, out: Path, *, full: bool) -> list[str]:
    scope = ["--figures", "none"] if full else ["--analyses", "rfm", "--figures", "none"]
    return ["run", str(source), "--out", str(out), "--force", "--quiet", *scope]


def ensure_source(customers: int) -> Path:
    path = WORK / f"synthetic_{customers}c.parquet"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        from custlens.datasets import write_synthetic

        info = write_synthetic(path, customers, seed=1)
        print(f"generated {path}: {info['rows']:,} rows, {info['customers']:,} customers")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, help="orders file (default: synthetic)")
    parser.add_argument("--customers", type=int, default=2000, help="synthetic customers")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sites", action="store_true", help="print where each compile happens")
    parser.add_argument("--baseline", help="source folder of another checkout to compare with")
    args = parser.parse_args()
    source = args.source or ensure_source(args.customers)
    trees = {"this tree": str(Path(__file__).resolve().parents[1] / "src")}
    if args.baseline:
        trees["baseline"] = str(Path(args.baseline).resolve())
    print(f"source: {source}; load average before: {os.getloadavg()}")

    with tempfile.TemporaryDirectory(prefix="custlens-imports-") as tmp:
        rows = [("engine stack alone (floor)", ["-c", FLOOR], None)]
        for label, full in (("RFM-only run", False), ("full run", True)):
            cli = run_args(source, Path(tmp) / label.split()[0], full=full)
            rows.append((label, ["-m", "custlens", *cli], cli))

        print("\n| what | code | import s (median) | runs (s) | Ibis compiles | compile s |")
        print("|---|---|---|---|---|---|")
        for label, argv, cli in rows:
            times: dict[str, list[float]] = {tree: [] for tree in trees}
            for _ in range(args.repeats):
                for tree, src in trees.items():
                    times[tree].append(import_seconds(argv, src))
            for tree, src in trees.items():
                compiles, seconds, sites = "", "", []
                if cli is not None:
                    counted = count_compiles(cli, src, label)
                    compiles, seconds = str(counted["compiles"]), f"{counted['seconds']:.2f}"
                    sites = counted["sites"]
                runs = ", ".join(f"{t:.2f}" for t in times[tree])
                median = statistics.median(times[tree])
                print(f"| {label} | {tree} | {median:.2f} | {runs} | {compiles} | {seconds} |")
                if args.sites:
                    for site, n in sites:
                        print(f"|   {site} | | | | {n} | |")
    print(f"\nload average after: {os.getloadavg()}")


def count_compiles(cli: list[str], src: str | None, label: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", COUNT_COMPILES, json.dumps(cli)],
        capture_output=True,
        text=True,
        check=False,
        env=env_for(src),
    )
    if proc.returncode != 0:
        sys.exit(f"{label} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
