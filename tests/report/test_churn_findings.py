"""The predictions section compares the churn scorer used for every customer with every other
scorer: when a baseline wins the backtest, LightGBM is among the others (CDNOW: BTYD wins)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from custlens.cli import app


def test_a_baseline_that_won_is_compared_with_lightgbm_too(cdnow_path: Path, tmp_path: Path):
    out = tmp_path / "cdnow"
    result = CliRunner().invoke(
        app, ["run", str(cdnow_path), "--out", str(out), "--analyses", "predictions",
              "--figures", "none", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "predictions" / "metrics.json").read_text())
    chosen = metrics["defaults"]["churn"]
    auc = {
        k: v["roc_auc"]
        for k, v in metrics["churn"].items()
        if isinstance(v, dict) and "roc_auc" in v
    }
    family = "lightgbm" if chosen.startswith("lightgbm") else chosen
    others = {k: v for k, v in auc.items() if not k.startswith(family)}
    runner_up = max(others, key=lambda k: others[k])
    if not chosen.startswith("lightgbm"):
        assert "lightgbm" in others  # the model that lost is one of the others
    markdown = (out / "report.md").read_text(encoding="utf-8").replace("\\", "")  # md escapes
    text = " ".join(markdown.split())
    numbers = f"{auc[chosen]:.3f} against {others[runner_up]:.3f}"
    # the scorers in words, as the model card names them
    btyd = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}[metrics["btyd"]["chosen"]]
    words = {
        "lightgbm": "LightGBM",
        "lightgbm_uncalibrated": "LightGBM (uncalibrated)",
        "btyd": f"{btyd} (+ Gamma-Gamma)",
        "last_period": "Last-period value",
        "recency": "Recency rule",
    }
    if auc[chosen] >= others[runner_up] + 0.005:
        expected = (
            f"the churn scorer ({words[chosen]}) ranks customers better than every other scorer "
            f"(ROC AUC {numbers} for {words[runner_up]})"
        )
    else:
        expected = (
            f"the churn scorer ({words[chosen]}) ranks customers about as well as the next best, "
            f"{words[runner_up]} (ROC AUC {numbers})"
        )
    assert expected in text
    # the metrics table names every scorer in words
    for scorer in auc:
        assert f"| {words[scorer]} |" in markdown
