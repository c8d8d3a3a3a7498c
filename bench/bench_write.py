"""The writing phase of a run (tables, figures, report) on a results object, trees side by side.

    python bench/bench_write.py --repeats 3 [--folder DIR] [--tree SRC ...] [--figures png]

Each repeat opens the results folder of an earlier ``custlens run`` (``Results.from_folder``,
not timed) in a fresh process and times what ``custlens run`` does after the pipeline:
``exports.write_results`` with the figures and the report (vl-convert's JavaScript worker starts
inside the timed part, as in a run). With several ``--tree`` (``src`` folders, e.g. the code
before and after a change) the trees alternate, so a busy machine slows them alike. Prints the
median wall and CPU seconds (CPU: user + system of every thread, and of the worker processes
that draw the figures, from getrusage).
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
FOLDER = Path("/tmp/custlens-bench/full-run")  # what bench_full_run.py writes

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
from custlens.exports import write_results
from custlens.pipeline import Results

folder, figures = Path(sys.argv[1]), sys.argv[2]
results = Results.from_folder(folder)
try:
    from custlens.report.write import write_documents
except ImportError:  # a tree from before write_documents: the CLI's two calls
    write_documents = None
    from custlens.report.figures import write_figures
    from custlens.report.write import write_report


def extra(out):
    if write_documents is not None:
        write_documents(results, out, figures)
        return
    if figures != "none":
        write_figures(results, out, figures)
    write_report(results, out, images=figures != "none")


def cpu():
    # this process and the processes it started and waited for (the figures' workers)
    return sum(
        u.ru_utime + u.ru_stime
        for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


with tempfile.TemporaryDirectory(dir="/tmp/custlens-bench") as tmp:
    wall, used = time.perf_counter(), cpu()
    write_results(results, Path(tmp) / "results", extra=extra)
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": cpu() - used}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument("--tree", type=Path, action="append", help="a src folder (repeatable)")
    parser.add_argument("--figures", default="png", choices=("png", "svg", "none"))
    args = parser.parse_args()
    if not (args.folder / "run.json").is_file():
        sys.exit(f"{args.folder} is not a results folder: run bench/bench_full_run.py first")
    trees = [t.resolve() for t in (args.tree or [ROOT / "src"])]
    runs: dict[Path, list[dict]] = {t: [] for t in trees}
    for _ in range(args.repeats):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.folder), args.figures],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                sys.exit(f"{tree} failed:\n{done.stderr[-3000:]}")
            runs[tree].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        "| tree | --figures | median wall s | median CPU s | runs wall (s) |\n|---|---|---|---|---|"
    )
    for tree, rows in runs.items():
        wall = [r["wall"] for r in rows]
        cpu = [r["cpu"] for r in rows]
        print(
            f"| {tree} | {args.figures} | {statistics.median(wall):.2f} | "
            f"{statistics.median(cpu):.2f} | {', '.join(f'{w:.2f}' for w in wall)} |"
        )


if __name__ == "__main__":
    main()
