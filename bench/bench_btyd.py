"""Benchmark BG/NBD fitting: 100,000 customers simulated from the BG/NBD generative process.

Prints the median of 5 fit times, the recovered parameters next to the true ones (with standard
errors) and the peak RSS of this process. Target: a fit under 2 seconds.

    python bench/bench_btyd.py [--customers 100000] [--repeats 5] [--seed 7]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from custlens.models.btyd import BetaGeoModel

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # the CDNOW estimates, in weeks


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, seed: int, max_t: float = 78.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) for n customers whose first purchase is at time 0.

    Each customer has a purchase rate lam ~ Gamma(r, rate alpha) and a dropout probability
    p ~ Beta(a, b); repeat purchases arrive as a Poisson process with rate lam and after each
    repeat purchase the customer drops out with probability p. T ~ Uniform(1, max_t).
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    big_t = rng.uniform(1.0, max_t, n)
    x = np.zeros(n)
    tx = np.zeros(n)
    clock = np.zeros(n)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0, active.size) / lam[active]
        bought = clock[active] <= big_t[active]
        active = active[bought]
        x[active] += 1
        tx[active] = clock[active]
        alive = rng.uniform(size=active.size) >= p[active]
        active = active[alive]
    return x, tx, big_t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    x, tx, big_t = simulate_bgnbd(args.customers, **TRUE, seed=args.seed)
    print(
        f"simulated {args.customers:,} customers: {int((x > 0).sum()):,} repeaters, "
        f"{int(x.sum()):,} repeat purchases"
    )
    times = []
    model = BetaGeoModel()
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.fit(x, tx, big_t)
        times.append(time.perf_counter() - start)
    print(f"fit times (s): {', '.join(f'{t:.3f}' for t in times)}")
    print(f"median fit time: {statistics.median(times):.3f} s (target < 2 s)")
    print("| param | true | fitted | s.e. |\n|---|---|---|---|")
    for name, true in TRUE.items():
        print(
            f"| {name} | {true:.3f} | {model.params_[name]:.4f} | "
            f"{model.standard_errors_[name]:.4f} |"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
