"""Fixed costs of ``custlens run`` (issue 16): import time and the number of Ibis compiles.

    python bench/bench_imports.py                        # synthetic 2,000 customers, 5 repeats
    python bench/bench_imports.py --source FILE --repeats 7 --sites
    python bench/bench_imports.py --baseline ../main/src  # another checkout, interleaved

Each repeat is a fresh interpreter that runs the command line in-process with two probes:

- imports: every outermost ``import`` statement and ``importlib.import_module`` call is timed,
  both wall clock and the process's CPU time (``time.process_time``). CPU time barely moves
  with the load of a shared machine, the wall time does; on a quiet machine they agree. Lazy
  imports inside the stages count. The interpreter's own start-up imports (``site``) do not.
- Ibis compiles: ``SQLGlotCompiler.to_sqlglot`` is wrapped; every expression executed, turned
  into SQL or stored as a table passes through it once (outermost calls counted).

Rows: the engine stack alone (pandas, PyArrow, DuckDB, Ibis and its DuckDB backend: no run can
import less), an RFM-only run (``--analyses rfm --figures none``) and a full run
(``--figures none``). Medians over the repeats. Targets: RFM-only under 0.4 s, full under 1 s.
With ``--baseline SRC`` every row is also measured with that source tree on ``PYTHONPATH``,
repeat by repeat in turn, so both trees see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORK = Path("/tmp/custlens-bench")
FLOOR = "import pandas, pyarrow, duckdb, ibis, ibis.backends.duckdb"
HEAVY = ("sklearn", "scipy", "lightgbm", "skops", "pytest", "altair", "statsmodels", "shap")

PROBE = """
import builtins, collections, importlib, json, sys, time, traceback

state = {"depth": 0, "cpu": 0.0, "wall": 0.0, "compiling": 0, "compile_s": 0.0}
sites = collections.Counter()


def timed(function):
    def wrapper(*args, **kwargs):
        if state["depth"]:  # nested imports count in the outermost one
            return function(*args, **kwargs)
        state["depth"] += 1
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            state["cpu"] += time.process_time() - cpu
            state["wall"] += time.perf_counter() - wall
            state["depth"] -= 1
    return wrapper


builtins.__import__ = timed(builtins.__import__)
importlib.import_module = timed(importlib.import_module)
before = set(sys.modules)
command, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if isinstance(command, str):
    exec(command)
else:
    import ibis.backends.sql.compilers.base as base

    original = base.SQLGlotCompiler.to_sqlglot

    def to_sqlglot(self, *args, **kwargs):
        state["compiling"] += 1
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            state["compiling"] -= 1
            if state["compiling"] == 0:
                state["compile_s"] += time.perf_counter() - start
                ours = [f for f in traceback.extract_stack() if "/custlens/" in f.filename]
                site = f"{ours[-1].filename.split('/custlens/')[-1]}:{ours[-1].lineno}" if ours else "?"
                sites[site] += 1

    base.SQLGlotCompiler.to_sqlglot = to_sqlglot
    from custlens.cli import main

    sys.argv = ["custlens", *command]
    try:
        main()
    except SystemExit as exc:
        if exc.code:
            raise
print(json.dumps({
    "cpu": state["cpu"], "wall": state["wall"], "modules": len(set(sys.modules) - before),
    "heavy": [m for m in watched if m in sys.modules],
    "compiles": sum(sites.values()), "compile_s": state["compile_s"], "sites": sites.most_common(),
}))
"""


def env_for(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def probe(command: str | list[str], src: str | None) -> dict:
    """Run ``command`` (Python code, or ``custlens`` arguments) once under the probes."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(command), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=False,
        env=env_for(src),
    )
    if proc.returncode != 0:
        sys.exit(f"{command} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


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
        rows: list[tuple[str, str | list[str]]] = [("engine stack alone (floor)", FLOOR)]
        for label, full in (("RFM-only run", False), ("full run", True)):
            rows.append((label, run_args(source, Path(tmp) / label.split()[0], full=full)))

        print(
            "\n| what | code | import CPU s | import wall s | modules | heavy packages "
            "| Ibis compiles | compile wall s |\n|---|---|---|---|---|---|---|---|"
        )
        for label, command in rows:
            seen: dict[str, list[dict]] = {tree: [] for tree in trees}
            for _ in range(args.repeats):
                for tree, src in trees.items():
                    seen[tree].append(probe(command, src))
            for tree, results in seen.items():

                def med(key: str, results: list[dict] = results) -> float:
                    return statistics.median(r[key] for r in results)

                last = results[-1]
                print(
                    f"| {label} | {tree} | {med('cpu'):.2f} | {med('wall'):.2f} "
                    f"| {med('modules'):.0f} | {', '.join(last['heavy']) or '-'} "
                    f"| {med('compiles'):.0f} | {med('compile_s'):.2f} |"
                )
                if args.sites:
                    for site, n in last["sites"]:
                        print(f"|   {site} | | | | | | {n} | |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
