"""Issue 15: would a label-free prior-shift correction calibrate the churn model on the future period?

    python bench/churn_prior_shift.py [ORDERS]      # default: Online Retail from ../shared/data

Runs the default backtest (training cutoff = evaluation cutoff - horizon), then adjusts the
churn model's probabilities on the evaluation customers (features as of the cutoff, no label)
to the churn rate that the EM of Saerens, Latinne & Decaestecker (2002, "Adjusting the outputs
of a classifier to new a priori probabilities") estimates from them, starting from the training
window's rate. Prints the expected calibration error before and after against the observed
churn on the future period. Not used by custlens: on Online Retail it moves the rate the wrong
way (docs/configuration.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from custlens.config import Settings
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.evaluation import binary_metrics, expected_calibration_error
from custlens.models.trainer import backtest_and_evaluate, stacked_backtests
from custlens.pipeline.stages.predictions import history_of

ROOT = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def adjusted(p: np.ndarray, train_rate: float, iterations: int = 500) -> tuple[np.ndarray, float]:
    """The posteriors ``p`` moved to the prior that the EM converges to, and that prior."""
    prior, out = train_rate, p
    for _ in range(iterations):
        up = prior / train_rate * p
        down = (1 - prior) / (1 - train_rate) * (1 - p)
        out = up / (up + down)
        new = float(out.mean())
        if abs(new - prior) < 1e-12:
            break
        prior = new
    return out, prior


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("orders", type=Path, nargs="?", default=ONLINE_RETAIL)
    args = parser.parse_args()
    if not args.orders.exists():
        sys.exit(f"{args.orders} not found")
    settings = Settings()
    cleaned = clean(load(args.orders).table, settings.cleaning)
    history = history_of(cleaned.lines, settings, cleaned)
    purchases, returns, cfg = cleaned.purchases, cleaned.returns, settings.models
    ev = backtest_and_evaluate(purchases, returns, config=cfg, seed=settings.seed, history=history)
    bt = ev.backtest
    if bt is None or ev.train_cutoff is None:
        sys.exit("no LightGBM training window on these data")
    train = stacked_backtests(purchases, returns, ev.train_cutoff, cfg, history, seed=settings.seed)
    train_rate = float(train[0].frame["churned"].mean())
    y = bt.frame["churned"].to_numpy()
    p = ev.models.churn.predict_proba(bt.frame[list(bt.feature_names)])
    moved, prior = adjusted(p, train_rate)
    print(f"evaluation cutoff {bt.cutoff}, {len(y):,} customers; training cutoff {ev.train_cutoff}")
    print(f"churn rate: training window {train_rate:.3f}, future period (observed) {y.mean():.3f}")
    print(f"mean predicted {p.mean():.3f}; EM prior {prior:.3f}")
    for label, q in (("as calibrated", p), ("EM-adjusted", moved)):
        m = binary_metrics(y, q)
        ece = expected_calibration_error(y, q)
        print(f"{label:14s} ECE {ece:.3f}  ROC-AUC {m['roc_auc']:.3f}  Brier {m['brier']:.3f}")


if __name__ == "__main__":
    main()
