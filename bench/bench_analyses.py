"""Benchmark the analyses after RFM: understanding (features + personas + anomalies) and
predictions (backtest + final scoring), end to end through ``custlens run``.

    python bench/bench_analyses.py                        # Online Retail and 1M synthetic customers
    python bench/bench_analyses.py --skip-large --repeats 3
    python bench/bench_analyses.py --what predict --skip-small --large-customers 100000

Each measurement is a fresh process (start-up and loading included); medians and peak RSS are
printed. Targets (issue 3): features + personas + anomalies on 1M customers under 3 minutes with
peak RSS under 8 GB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench_run import ONLINE_RETAIL, WORK, ensure_synthetic
from measure import HEADER, measure

ANALYSES = {
    "understand": "features,personas,anomalies",
    "predict": "predictions",
}


def command(source: Path, analyses: str) -> list[str]:
    return [sys.executable, "-m", "custlens", "run", str(source), "--out", str(WORK / "out_an"),
            "--force", "--quiet", "--figures", "none", "--analyses", analyses]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large-repeats", type=int, default=1)
    parser.add_argument("--large-customers", type=int, default=1_000_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-small", action="store_true", help="no Online Retail runs")
    parser.add_argument("--what", choices=[*ANALYSES, "both"], default="both")
    args = parser.parse_args()
    kinds = list(ANALYSES) if args.what == "both" else [args.what]
    rows = []
    for kind in kinds:
        if ONLINE_RETAIL.exists() and not args.skip_small:
            argv = command(ONLINE_RETAIL, ANALYSES[kind])
            rows.append(measure(f"{kind}, Online Retail", argv, args.repeats))
        if not args.skip_large:
            big = ensure_synthetic(args.large_customers, f"synthetic_{args.large_customers}c")
            argv = command(big, ANALYSES[kind])
            rows.append(measure(f"{kind}, {big.name}", argv, args.large_repeats))
    print(HEADER)
    for m in rows:
        print(m.row())


if __name__ == "__main__":
    main()
