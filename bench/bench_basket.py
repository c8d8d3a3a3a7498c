"""Benchmark the market basket analysis: custlens's engine itemsets against mlxtend's fpgrowth.

    python bench/bench_basket.py                     # Online Retail at 0.01 and 0.005, and 10M lines
    python bench/bench_basket.py --skip-large --repeats 3

Both sides read the same baskets (Online Retail after default cleaning, non-product codes out,
baskets of more than 100 products left out), written once to Parquet; each measurement is a fresh
process. "compute" is the time inside the process from reading the baskets to having the
frequent itemsets (pairs and triples) and the rules; "wall" adds interpreter start-up and
imports. mlxtend's side includes its one-hot encoding, which fpgrowth requires. The large case is
the whole ``basket`` stage inside ``custlens run --analyses basket`` on 10 million synthetic lines
(its seconds from run.json). Targets (issue: market basket): at least 5x faster than mlxtend
fpgrowth, under 1 GB peak RSS, 10M lines under 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_run import ONLINE_RETAIL, WORK, ensure_synthetic

ROOT = Path(__file__).resolve().parents[1]
BASKETS = WORK / "online_retail_baskets.parquet"

PREPARE = """
import custlens
from custlens.basket import basket_lines
from custlens.io.clean import clean
settings = custlens.Settings()
purchases = clean(custlens.load({source!r}).table, settings.cleaning).purchases
b = basket_lines(purchases, max_items=100, non_product_codes=settings.cleaning.non_product_codes,
                 non_product_prefixes=settings.cleaning.non_product_prefixes)
b.lines.select("basket", "item").to_parquet({target!r})
print(b.summary())
open({target!r} + ".baskets", "w").write(str(b.baskets))
"""

CUSTLENS = """
import time, ibis
from custlens.basket import association_rules, frequent_itemsets
start, cpu = time.perf_counter(), time.process_time()
lines = ibis.duckdb.connect().read_parquet({path!r})
sets = frequent_itemsets(lines, min_support={support}, max_size=3, baskets={baskets})
rules = association_rules(sets, min_confidence=0.2)
print(time.perf_counter() - start, time.process_time() - cpu, len(sets), len(rules))
"""

MLXTEND = """
import time
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder
start, cpu = time.perf_counter(), time.process_time()
lines = pd.read_parquet({path!r})
transactions = lines.groupby("basket")["item"].apply(list).tolist()
encoder = TransactionEncoder()
onehot = pd.DataFrame(encoder.fit(transactions).transform(transactions), columns=encoder.columns_)
sets = fpgrowth(onehot, min_support={support}, use_colnames=True, max_len=3)
rules = association_rules(sets, num_itemsets=len(onehot), metric="confidence", min_threshold=0.2)
print(time.perf_counter() - start, time.process_time() - cpu, len(sets), len(rules))
"""


def measure(label: str, code: str, repeats: int) -> dict:
    """Median compute and wall seconds, peak RSS; each repeat in a new process."""
    compute, cpu, wall, peak, found = [], [], [], 0.0, ""
    for _ in range(repeats):
        proc = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        start = time.perf_counter()
        _, status, usage = os.wait4(proc.pid, 0)
        wall.append(time.perf_counter() - start)
        out = proc.stdout.read().decode()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{label} failed:\n{proc.stderr.read().decode(errors='replace')}")
        seconds, cpu_seconds, n_sets, n_rules = out.split()[-4:]
        compute.append(float(seconds))
        cpu.append(float(cpu_seconds))
        found = f"{n_sets} itemsets, {n_rules} rules"
        peak = max(peak, usage.ru_maxrss / 1024)  # kilobytes on Linux
    return {
        "label": label,
        "compute": statistics.median(compute),
        "cpu": statistics.median(cpu),
        "wall": statistics.median(wall),
        "rss": peak,
        "runs": compute,
        "found": found,
    }


def large_stage(source: Path, repeats: int) -> dict:
    """``custlens run --analyses basket`` on ``source``: wall, peak RSS, basket stage seconds."""
    out = WORK / "out_basket"
    argv = [sys.executable, "-W", "ignore", "-m", "custlens", "run", str(source), "--out",
            str(out), "--force", "--quiet", "--figures", "none", "--analyses", "basket"]  # fmt: skip
    stage, wall, cpu, peak = [], [], [], 0.0
    for _ in range(repeats):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        start = time.perf_counter()
        _, status, usage = os.wait4(proc.pid, 0)
        wall.append(time.perf_counter() - start)
        cpu.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"custlens run failed:\n{proc.stderr.read().decode(errors='replace')}")
        info = json.loads((out / "run.json").read_text())
        stage.append(float(info["seconds"]["basket"]))
        peak = max(peak, usage.ru_maxrss / 1024)
    return {
        "stage": statistics.median(stage),
        "wall": statistics.median(wall),
        "cpu": statistics.median(cpu),
        "rss": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large-repeats", type=int, default=1)
    parser.add_argument("--large-customers", type=int, default=330_000)  # about 10M lines
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    rows = []
    if ONLINE_RETAIL.exists():
        if not Path(f"{BASKETS}.baskets").exists():
            WORK.mkdir(parents=True, exist_ok=True)
            code = PREPARE.format(source=str(ONLINE_RETAIL), target=str(BASKETS))
            subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)
        for support in (0.01, 0.005):
            for name, code in (("custlens (DuckDB)", CUSTLENS), ("mlxtend fpgrowth", MLXTEND)):
                n = int(Path(f"{BASKETS}.baskets").read_text())
                text = code.format(path=str(BASKETS), support=support, baskets=n)
                rows.append(measure(f"{name}, support {support}", text, args.repeats))
        print(
            "| what | compute median s | compute CPU median s | wall median s | peak RSS MB | "
            "found | compute runs (s) |"
        )
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            runs = ", ".join(f"{s:.2f}" for s in r["runs"])
            print(
                f"| {r['label']} | {r['compute']:.2f} | {r['cpu']:.2f} | {r['wall']:.2f} | "
                f"{r['rss']:,.0f} | "
                f"{r['found']} | {runs} |"
            )
        for i in range(0, len(rows), 2):
            ours, theirs = rows[i], rows[i + 1]
            print(
                f"{ours['label']}: {theirs['compute'] / ours['compute']:.1f}x faster than "
                f"mlxtend fpgrowth (compute), {theirs['cpu'] / ours['cpu']:.1f}x (compute CPU), "
                f"{theirs['wall'] / ours['wall']:.1f}x (wall)"
            )
    else:
        print(f"skipping Online Retail: {ONLINE_RETAIL} not found")
    if not args.skip_large:
        big = ensure_synthetic(args.large_customers, "synthetic_10m")
        r = large_stage(big, args.large_repeats)
        print(
            f"\nbasket stage, {big.name}: {r['stage']:.1f} s (run.json), whole run "
            f"{r['wall']:.1f} s ({r['cpu']:.1f} CPU s), peak RSS {r['rss']:,.0f} MB"
        )


if __name__ == "__main__":
    main()
