"""How many training rows LightGBM needs: the future-period churn ROC-AUC and the CLV Spearman
correlation of models trained on seeded samples of ``--caps`` customers (``[models]
max_train_rows``), and the CPU seconds of ``train`` (all three models), on one synthetic file.

The backtests (evaluation and training) are built once; only ``train`` runs per cap.

    python bench/bench_train_rows.py /tmp/custlens-bench/synthetic_100000c.parquet \
        --caps 12500 25000 50000 0
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from custlens.config import CleaningConfig, ModelsConfig
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.io.past_lines import PastLines
from custlens.models.backtest import make_backtest, resolve_cutoff
from custlens.models.trainer import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--caps", type=int, nargs="+", default=[25_000, 50_000, 100_000, 0])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    lines = load(args.source).table
    cleaned = clean(lines, CleaningConfig())
    history = PastLines(lines, CleaningConfig(), cleaned)
    base = ModelsConfig()
    h = base.horizon_days
    cutoff = resolve_cutoff(cleaned.purchases, None, h)
    kw = {"horizon_days": h, "config": base, "history": history}
    ev = make_backtest(cleaned.purchases, cleaned.returns, cutoff=cutoff, **kw)
    tr = make_backtest(cleaned.purchases, cleaned.returns, cutoff=cutoff - timedelta(days=h), **kw)
    y = ev.frame["churned"].to_numpy("int64")
    revenue = ev.frame["future_revenue"].to_numpy("float64")
    print(f"training customers {len(tr.frame):,}, evaluation customers {len(ev.frame):,}")
    print("| training rows | churn ROC-AUC | CLV Spearman | train CPU s |\n|---|---|---|---|")
    for cap in args.caps:
        config = base.model_copy(update={"max_train_rows": cap or None})
        start = time.process_time()
        models = train(tr, config, args.seed)
        cpu = time.process_time() - start
        auc = roc_auc_score(y, models.churn.predict_proba(ev.features))
        rho = spearmanr(revenue, models.clv.predict(ev.features)).statistic
        rows = min(cap, len(tr.frame)) if cap else len(tr.frame)
        print(f"| {rows:,} | {auc:.5f} | {rho:.5f} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
