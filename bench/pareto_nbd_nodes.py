"""How many tanh-sinh nodes the Pareto/NBD likelihood needs: accuracy against the closed form.

    python bench/pareto_nbd_nodes.py

``custlens.models.pareto_nbd_likelihood`` integrates with a tanh-sinh rule of step ``STEP``
(nodes k * STEP up to ``REACH``); its cost per likelihood evaluation is proportional to the
nodes. For several steps this prints the largest error of a customer's log-likelihood and of
P(alive) against the 40-digit closed form (Gauss' 2F1 by mpmath) of
``tests/models/test_pareto_nbd_likelihood.py``, over every parameter regime of that test and its
customers plus four with long histories. The test holds the log-likelihood to 1e-9
(docs/benchmarks.md, nineteenth session).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.special import expit

import custlens.models.pareto_nbd_likelihood as likelihood

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))
from test_pareto_nbd_likelihood import CUSTOMERS, REGIMES, closed_form  # noqa: E402

MORE = [(200, 700.0, 710.0), (0, 0.0, 1500.0), (50, 10.0, 1500.0), (2, 1499.0, 1500.0)]
STEPS = [(20, 3.25), (16, 3.25), (12, 3.25), (10, 3.25), (8, 3.25)]  # (1 / step, reach)


def main() -> None:
    customers = CUSTOMERS + MORE
    truth = {name: [closed_form(p, *c) for c in customers] for name, p in REGIMES.items()}
    x, tx, big_t = (np.array([c[i] for c in customers], dtype=float) for i in range(3))
    saved = likelihood.STEP, likelihood.REACH
    print("| step (nodes) | largest error of a customer's log-likelihood | of P(alive) |")
    print("|---|---|---|")
    try:
        for per_unit, reach in STEPS:
            likelihood.STEP, likelihood.REACH = 1.0 / per_unit, reach
            likelihood._nodes.cache_clear()
            worst_ll = worst_alive = 0.0
            for name, params in REGIMES.items():
                ll, odds = likelihood._rows(np.array(params), x, tx, big_t, gradient=False)
                for i, (want_ll, want_alive) in enumerate(truth[name]):
                    worst_ll = max(worst_ll, abs(ll[i] - want_ll))
                    worst_alive = max(worst_alive, abs(expit(odds[i]) - want_alive))
            nodes = len(likelihood._nodes()[2])
            print(f"| 1/{per_unit} ({nodes}) | {worst_ll:.2e} | {worst_alive:.1e} |")
    finally:
        likelihood.STEP, likelihood.REACH = saved
        likelihood._nodes.cache_clear()


if __name__ == "__main__":
    main()
