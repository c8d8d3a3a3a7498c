"""The same input and settings give byte-identical outputs (run.json's timings aside).

The full pipeline runs twice on synthetic data and every file is compared: CSV, Parquet, JSON,
Markdown, the figures (PNG) and the saved models (skops archives, made canonical by
``models.persist``). DuckDB runs on one thread (``CUSTLENS_THREADS=1``) so that its float sums
are added in one order; LightGBM trains on one thread and on two.

With DuckDB on several threads a float sum can differ in its last bit between runs; custlens
rounds every fetched float to 9 decimals, which hides such differences unless a value lies
within about 1e-15 of a rounding boundary. ``test_many_threads_agree_to_the_printed_precision``
checks that case: every CSV (6 decimals) is identical and Parquet values agree to 1e-8.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets import write_synthetic


def _digests(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name == "run.json" and path.parent == folder:
            info = json.loads(data)
            info.pop("seconds", None)  # timings are the one thing allowed to differ
            data = json.dumps(info, sort_keys=True).encode()
        out[str(path.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("det") / "orders.parquet"
    write_synthetic(path, 400, seed=3)
    return path


def _two_runs(orders: Path, tmp_path: Path, threads: int) -> list[Path]:
    config = tmp_path / "custlens.toml"
    config.write_text(f"[models]\nn_jobs = {threads}\n", encoding="utf-8")
    folders = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        result = CliRunner().invoke(
            app, ["run", str(orders), "--out", str(out), "--config", str(config), "-q"]
        )
        assert result.exit_code == 0, (result.stdout or "") + repr(result.exception)
        folders.append(out)
    return folders


@pytest.mark.parametrize("threads", [1, 2])
def test_two_identical_runs_write_identical_files(
    orders: Path, tmp_path: Path, threads: int, monkeypatch
) -> None:
    monkeypatch.setenv("CUSTLENS_THREADS", "1")
    first, second = (_digests(f) for f in _two_runs(orders, tmp_path, threads))
    assert set(first) == set(second)
    assert any(name.startswith("models/") and name.endswith(".skops") for name in first)
    assert any(name.startswith("figures/") for name in first)
    differ = sorted(name for name in first if first[name] != second[name])
    assert differ == [], f"{len(differ)} of {len(first)} files differ: {differ}"


def test_many_threads_agree_to_the_printed_precision(orders: Path, tmp_path: Path, monkeypatch):
    import pandas as pd

    monkeypatch.delenv("CUSTLENS_THREADS", raising=False)
    a, b = _two_runs(orders, tmp_path, 2)
    for path in sorted(a.rglob("*.csv")):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes(), path
    for path in sorted(a.rglob("*.parquet")):
        left, right = pd.read_parquet(path), pd.read_parquet(b / path.relative_to(a))
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-8, atol=1e-8)
