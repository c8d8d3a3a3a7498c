"""Benchmark ``custlens profile`` on the synthetic customer table and print what it found.

    PYTHONPATH=src python bench/bench_profile.py                   # 2,000 and 1,000,000 customers
    PYTHONPATH=src python bench/bench_profile.py --customers 2000 --repeats 3

Each size is written once as Parquet (``customer_profile_table``; the planted truth beside it),
then profiled through the CLI in fresh processes (start-up, reading, figures included); the
median seconds and peak RSS are printed, followed by the roles, k and its criteria, persona
sizes and names, the adjusted Rand index against the planted personas, the strongest
differences and the best-responding persona per campaign (from the folder's summary.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from custlens.datasets import customer_profile_table
from measure import HEADER, measure

WORK = Path("/tmp/custlens-bench")
SRC = Path(__file__).resolve().parents[1] / "src"


def ensure(n: int) -> Path:
    path = WORK / f"customers_{n}.parquet"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        data = customer_profile_table(n, seed=0)
        data.table.to_parquet(path, index=False)
        data.truth.to_parquet(path.with_suffix(".truth.parquet"), index=False)
    return path


def report(source: Path, out: Path) -> None:
    summary = json.loads((out / "summary.json").read_text())
    roles = json.loads((out / "roles.json").read_text())["columns"]
    by_role: dict[str, list[str]] = {}
    for column, info in roles.items():
        by_role.setdefault(info["role"], []).append(column)
    print(f"\n### {source.name}: {summary['customers']:,} customers\n")
    for role, columns in by_role.items():
        print(f"- {role}: {', '.join(columns)}")
    print(f"\n{summary['k_reason']}\n")
    customers = pd.read_parquet(out / "customers.parquet", columns=["ID", "persona"])
    truth = pd.read_parquet(source.with_suffix(".truth.parquet"))
    merged = truth.assign(ID=truth["ID"].astype(str)).merge(customers, on="ID")
    ari = adjusted_rand_score(merged["persona_x"], merged["persona_y"])
    print(f"Adjusted Rand index against the planted personas: {ari:.3f}\n")
    for p in summary["personas"]:
        print(f"- {p['persona']}: {p['size']:,} ({p['share']:.1%})")
    print("\n| feature | effect | size | adjusted p | highest |\n|---|---|---|---|---|")
    for d in summary["strongest_differences"][:6]:
        print(f"| {d['feature']} | {d['effect']} | {d['effect_size']:.3f} | "
              f"{d['p_adjusted']:.2g} | {d['highest']} |")  # fmt: skip
    print("\n| campaign | best persona | rate | 95% CI | base | lift |\n|---|---|---|---|---|---|")
    for b in summary["best_persona_per_campaign"]:
        print(f"| {b['campaign']} | {b['persona']} | {b['rate']:.1%} | "
              f"{b['ci_low']:.1%}-{b['ci_high']:.1%} | {b['base_rate']:.1%} | {b['lift']:.2f} |")  # fmt: skip
    seconds = json.loads((out / "run.json").read_text())["seconds"]
    print(f"\nSeconds per step: {seconds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="*", default=[2000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    rows, outs = [], []
    for n in args.customers:
        source = ensure(n)
        out = WORK / f"profile_{n}"
        argv = [sys.executable, "-m", "custlens", "profile", str(source), "--out", str(out),
                "--force"]  # fmt: skip
        rows.append(measure(f"profile, {n:,} customers (figures png)", argv, args.repeats, env))
        outs.append((source, out))
    print(HEADER)
    for row in rows:
        print(row.row())
    for source, out in outs:
        report(source, out)


if __name__ == "__main__":
    main()
