"""Honesty of the insight engine over many seeds: planted-effect recall and false-alarm rate.

    PYTHONPATH=src python bench/insights_honesty.py --seeds 20

Planted effects (tests/insights/planted.py): a category whose sales decline steadily
(Garden), a month with twice the orders (2023-05), the best customers stopping in the last 90
days (Champions / Loyal Customers shrink). Recall: the share of seeds in which each is found.
False alarms: on the same generator without effects, the share of series tested (anomaly
series: orders and revenue per week and per month; trend series: categories, countries and
segment shares) with at least one anomaly or trend insight.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.insights.planted import orders  # noqa: E402
from tests.insights.test_planted import series_with_findings  # noqa: E402

import custlens  # noqa: E402
from custlens.config import Settings  # noqa: E402


def recall(seeds: range) -> dict[str, float]:
    found = {"decline": 0, "spike": 0, "shrink": 0}
    for seed in seeds:
        data = orders(seed, decline="Garden", spike="2023-05", shrink=True)
        results = custlens.run(data, settings=Settings(analyses=["migration", "insights"]))
        table = results.stages["insights"].tables["insights"].set_index("id")
        ids = set(table.index)
        found["decline"] += "trend:category:Garden" in ids and (
            table.loc["trend:category:Garden", "effect_size"] < 0
        )
        found["spike"] += "anomaly:orders:month:2023-05-01" in ids
        found["shrink"] += any(
            f"segment_shift:{s}" in ids and table.loc[f"segment_shift:{s}", "metric_value"] < 0
            for s in ("Champions", "Loyal Customers")
        )
        print(seed, {k: int(v) for k, v in found.items()}, flush=True)
    return {k: v / len(seeds) for k, v in found.items()}


def false_alarms(seeds: range) -> tuple[int, int]:
    settings = Settings()
    tested = flagged = 0
    for seed in seeds:
        t, f = series_with_findings(seed, settings)
        tested, flagged = tested + t, flagged + f
        print(seed, f"{f} of {t}", flush=True)
    return tested, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = range(100, 100 + args.seeds)
    rates = recall(seeds)
    tested, flagged = false_alarms(seeds)
    print(f"planted-effect recall over {args.seeds} seeds: {rates}")
    print(f"false alarms: {flagged} of {tested} series ({flagged / tested:.2%})")


if __name__ == "__main__":
    main()
