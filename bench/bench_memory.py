"""Each stage's own memory in one ``custlens run``: resident set on entry, largest while it ran.

    python bench/bench_memory.py /tmp/custlens-bench/synthetic_1000000c.parquet [--figures none]

Issue 16, target 5 (memory bounded at 3.3M customers: say each stage's peak). Runs the command
once in a fresh process and prints the process's wall time, CPU seconds and peak RSS (wait4),
then per stage from its run.json: seconds, resident MiB on entry (``before``), the largest
resident set sampled while it ran (``max``, every 0.2 s) and the difference (what the stage
added on top of what it found). Extra arguments go to ``custlens run`` (default: every analysis,
``--figures none``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from measure import measure

OUT = Path("/tmp/custlens-bench/memory-run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args, extra = parser.parse_known_args()
    if not args.source.exists():
        sys.exit(f"{args.source} not found")
    argv = [sys.executable, "-m", "custlens", "run", str(args.source), "--out", str(args.out),
            "--force", "--quiet", *(extra or ["--figures", "none"])]  # fmt: skip
    m = measure("custlens run", argv, 1)
    cpu = m.cpu_seconds[0] if m.cpu_seconds else float("nan")
    print(f"{args.source.name}: {m.seconds[0]:.1f} s wall, {cpu:.1f} CPU s, "
          f"peak RSS {m.peak_rss_mb * 1024:,.0f} KiB")  # fmt: skip
    info = json.loads((args.out / "run.json").read_text())
    print("| stage | s | MiB on entry | largest MiB | added MiB |\n|---|---|---|---|---|")
    for name, mb in info["resident_mb"].items():
        seconds = info["seconds"][name]
        added = mb["max"] - mb["before"]
        print(f"| {name} | {seconds:.1f} | {mb['before']:,.0f} | {mb['max']:,.0f} | {added:,.0f} |")


if __name__ == "__main__":
    main()
