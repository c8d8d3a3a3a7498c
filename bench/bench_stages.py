"""Per-stage wall and CPU seconds of ``custlens run``, for two source trees side by side.

    python bench/bench_stages.py DATA --analyses basket --base ../main/src [--repeats 1]

Each repeat runs this tree and then ``--base`` (when given) in fresh processes, alternating, with
the same input and options (``--figures none --quiet``). For every run it prints the process's
wall time, CPU seconds (user + system, all threads) and peak RSS, and per stage the wall seconds
of ``run.json`` and the CPU seconds spent inside the stage (``time.process_time``, all threads:
on a shared machine they move much less than wall times). Finally it says whether the two
output folders are byte-identical (``run.json`` aside).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# runs inside the measured process: wraps the pipeline's stage clock to add CPU seconds
_CHILD = """
import atexit, importlib, json, sys, time
from contextlib import contextmanager
out, args = sys.argv[1], sys.argv[2:]
run_module = importlib.import_module("custlens.pipeline.run")
cpu = {}
original = run_module._Clock.stage
@contextmanager
def stage(self, name):
    start = time.process_time()
    with original(self, name):
        yield
    cpu[name] = round(time.process_time() - start, 2)
run_module._Clock.stage = stage
atexit.register(lambda: json.dump(cpu, open(out, "w")))
sys.argv = ["custlens", *args]
from custlens.cli import main
main()
"""


def _run(src: Path, data: Path, out: Path, analyses: str) -> dict:
    cpu_file = out.with_suffix(".cpu.json")
    args = ["run", str(data), "--out", str(out), "--force", "--quiet", "--figures", "none"]
    if analyses:
        args += ["--analyses", analyses]
    env = {**os.environ, "PYTHONPATH": str(src)}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(cpu_file), *args], env=env, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"custlens run with {src} failed")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "load": (load, os.getloadavg()[0]),
        "stage_wall": json.loads((out / "run.json").read_text())["seconds"],
        "stage_cpu": json.loads(cpu_file.read_text()),
    }


def _same(a: Path, b: Path) -> list[str]:
    """Files that differ between two output folders (run.json aside)."""
    differ = []
    cmp = filecmp.dircmp(a, b, ignore=["run.json"])
    stack = [(cmp, Path())]
    while stack:
        c, rel = stack.pop()
        differ += [str(rel / n) for n in c.left_only + c.right_only + c.funny_files]
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        differ += [str(rel / n) for n in mismatch + errors]
        stack += [(sub, rel / name) for name, sub in c.subdirs.items()]
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--analyses", default="")
    parser.add_argument("--base", type=Path, help="another tree's src folder to compare with")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    trees = {"this": ROOT / "src", **({"base": args.base.resolve()} if args.base else {})}
    work = Path(tempfile.mkdtemp(prefix="custlens-stages-"))
    for repeat in range(args.repeats):
        for name, src in trees.items():
            m = _run(src, args.data, work / f"{name}_{repeat}", args.analyses)
            print(
                f"{name} #{repeat + 1}: wall {m['wall']:.1f} s, CPU {m['cpu']:.1f} s, peak "
                f"{m['peak_mb']:,.0f} MB, load {m['load'][0]:.1f} -> {m['load'][1]:.1f}"
            )
            for stage, seconds in m["stage_wall"].items():
                print(f"  {stage:16s} wall {seconds:8.2f}  CPU {m['stage_cpu'].get(stage, 0):8.2f}")
    if args.base:
        differ = _same(work / "this_0", work / "base_0")
        print("outputs byte-identical" if not differ else f"outputs differ: {differ}")


if __name__ == "__main__":
    main()
