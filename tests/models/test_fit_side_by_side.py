"""The three LightGBM models fitted at once on threads equal those fitted one after another."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from custlens.config import ModelsConfig
from custlens.models import trainer
from custlens.models.backtest import BacktestData


def _bt(n: int = 600, seed: int = 3) -> BacktestData:
    rng = np.random.default_rng(seed)
    gap = rng.uniform(1, 200, n)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "gap": gap,
            "spend": rng.gamma(2.0, 50.0, n),
            "churned": (gap + rng.normal(0, 40, n) > 100).astype("int64"),
            "last_period_revenue": rng.gamma(2.0, 20.0, n),
            "last_period_orders": rng.poisson(1.0, n),
            "recency_days": gap,
            "future_revenue": rng.gamma(1.0, 30.0, n) * (gap < 120),
            "next_window": np.digitize(gap + rng.normal(0, 20, n), [30, 90]),
        }
    )
    return BacktestData(
        cutoff=date(2024, 1, 1), horizon_days=90, frame=frame, feature_names=("gap", "spend")
    )


def _texts(models: trainer.TrainedModels) -> list[str]:
    return [
        m.model_.booster_.model_to_string()
        for m in (models.churn, models.clv, models.next_purchase)
    ]


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_side_by_side_fits_equal_the_one_after_another_fits(monkeypatch, cores):
    config = ModelsConfig(n_estimators=40, min_child_samples=5)
    monkeypatch.setattr(trainer.os, "cpu_count", lambda: 1)
    one_by_one = trainer.train(_bt(), config, seed=5)  # one core: no threads
    monkeypatch.setattr(trainer.os, "cpu_count", lambda: cores)
    at_once = trainer.train(_bt(), config, seed=5)
    assert _texts(at_once) == _texts(one_by_one)
    assert at_once.churn.threshold_ == one_by_one.churn.threshold_
    assert at_once.churn.calibration_report_ == one_by_one.churn.calibration_report_


def test_a_failing_fit_raises_its_own_error():
    def broken() -> None:
        raise ValueError("bad fit")

    with pytest.raises(ValueError, match="bad fit"):
        trainer.fit_side_by_side({"ok": lambda: 1, "broken": broken}, threads=1)
    assert trainer.fit_side_by_side({"a": lambda: 1, "b": lambda: 2}) == {"a": 1, "b": 2}


def test_every_lightgbm_call_inside_the_fits_keeps_the_training_thread_count(monkeypatch):
    """LightGBM holds one thread count for the process: a prediction inside a fit that asked
    for another (0: every core) while the next fit trained crashed a test run (SIGSEGV)."""
    import lightgbm as lgb

    asked: list[object] = []
    for cls, method in ((lgb.LGBMClassifier, "predict_proba"), (lgb.LGBMRegressor, "predict")):
        original = getattr(cls, method)

        def spy(self, *args, _original=original, **kwargs):
            asked.append(kwargs.get("num_threads", self.get_params().get("n_jobs")))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, spy)
    config = ModelsConfig(n_estimators=20, min_child_samples=5, n_jobs=1)
    monkeypatch.setattr(trainer.os, "cpu_count", lambda: 2)
    trainer.train(_bt(), config, seed=5)
    assert asked and set(asked) == {config.n_jobs}
