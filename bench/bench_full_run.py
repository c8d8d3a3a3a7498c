"""The full default ``custlens run`` on Online Retail beside the naive notebook pipeline.

    python bench/bench_full_run.py --repeats 3

Target (issue 16): the full default run (every analysis, figures, report) takes at most as long
as bench/notebook_pipeline.py (pandas RFM, KMeans k = 2..10 with silhouette, IsolationForest,
one LightGBM churn backtest). The two alternate, each repeat in a fresh process, so that a busy
machine slows both alike; medians and peak RSS are printed with the per-stage seconds of the
last custlens run (its run.json). ``--base SRC`` also runs another tree's code
(``PYTHONPATH=SRC``) in every round, first, to compare two versions side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from measure import HEADER, Measurement, measure

ROOT = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
OUT = Path("/tmp/custlens-bench/full-run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", type=Path, default=ONLINE_RETAIL)
    parser.add_argument(
        "--base", type=Path, help="another tree's src folder: its run is measured alongside"
    )
    args = parser.parse_args()
    if not args.source.exists():
        sys.exit(f"{args.source} not found")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    custlens = [sys.executable, "-m", "custlens", "run", str(args.source), "--out", str(OUT),
                "--force", "--quiet"]  # fmt: skip
    notebook = [sys.executable, str(ROOT / "bench" / "notebook_pipeline.py"), str(args.source),
                str(OUT.parent / "notebook.csv")]  # fmt: skip
    runs: dict[str, list[Measurement]] = {"custlens": [], "notebook": [], "base": []}
    base_env = None
    if args.base is not None:  # the same command on the other tree's code, in the same rounds
        base_env = os.environ | {"PYTHONPATH": str(args.base.resolve())}
    for _ in range(args.repeats):
        if base_env is not None:
            runs["base"].append(measure("custlens run (--base)", custlens, 1, env=base_env))
        runs["custlens"].append(measure("custlens run (full default)", custlens, 1))
        runs["notebook"].append(measure("naive notebook pipeline", notebook, 1))
    print(HEADER)
    merged = {}
    labels = [("custlens", "custlens run, full default"), ("notebook", "notebook")]
    if base_env is not None:
        labels.insert(1, ("base", f"custlens run, full default, {args.base}"))
    for key, label in labels:
        seconds = [s for m in runs[key] for s in m.seconds]
        cpu = [c for m in runs[key] for c in (m.cpu_seconds or [])]
        merged[key] = Measurement(label, seconds, max(m.peak_rss_mb for m in runs[key]), cpu)
        print(merged[key].row())
    ratio = merged["custlens"].median / merged["notebook"].median
    print(f"\ncustlens / notebook: {ratio:.2f}x (target <= 1.00x)")
    if base_env is not None:
        print(f"--base / notebook: {merged['base'].median / merged['notebook'].median:.2f}x")
    stages = json.loads((OUT / "run.json").read_text())["seconds"]
    print("stage seconds of the last custlens run:", json.dumps(stages))


if __name__ == "__main__":
    main()
