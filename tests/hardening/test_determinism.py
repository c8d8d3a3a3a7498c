"""The same input and settings give byte-identical outputs (run.json's timings and memory
figures aside).

The full pipeline runs twice on synthetic data and every file is compared: CSV, Parquet, JSON,
Markdown, the figures (PNG) and the saved models (skops archives, made canonical by
``models.persist``). It does so with one thread everywhere, and with DuckDB on four threads
(``CUSTLENS_THREADS=4``, set explicitly so that the run is parallel on any machine) and LightGBM
on two. On several threads DuckDB adds the rows of a sum in a different order on every run; the
sums of money, quantities and the standard deviations are therefore exact
(``custlens.io.sums``), and tables fetched for pandas reductions are sorted first.
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
            # timings and memory figures are the one thing allowed to differ
            info.pop("seconds", None)
            info.pop("peak_rss_mb", None)
            info.pop("resident_mb", None)
            data = json.dumps(info, sort_keys=True).encode()
        out[str(path.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


def _orders(folder: Path, customers: int, seed: int) -> Path:
    path = folder / "orders.parquet"
    write_synthetic(path, customers, seed=seed)
    return path


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> Path:
    return _orders(tmp_path_factory.mktemp("det"), 400, seed=3)


@pytest.fixture(scope="module")
def many_orders(tmp_path_factory) -> Path:
    """84,212 lines: enough for DuckDB to split the work between threads. On 400 customers
    (12,000 lines) two runs agreed even when the sums were floats; on these, two runs of the
    float sums differed in the quarterly revenue (by 2.9e-9) and so in report.html."""
    return _orders(tmp_path_factory.mktemp("det_many"), 3000, seed=1)


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


def _assert_identical(folders: list[Path]) -> None:
    first, second = (_digests(f) for f in folders)
    assert set(first) == set(second)
    assert any(name.startswith("models/") and name.endswith(".skops") for name in first)
    assert any(name.startswith("figures/") for name in first)
    differ = sorted(name for name in first if first[name] != second[name])
    assert differ == [], f"{len(differ)} of {len(first)} files differ: {differ}"


def test_two_identical_runs_on_one_thread_write_identical_files(
    orders: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CUSTLENS_THREADS", "1")
    _assert_identical(_two_runs(orders, tmp_path, 1))


@pytest.mark.slow
def test_two_identical_runs_on_many_threads_write_identical_files(
    many_orders: Path, tmp_path: Path, monkeypatch
) -> None:
    """DuckDB on four threads (set explicitly: parallel on any machine), LightGBM on two."""
    monkeypatch.setenv("CUSTLENS_THREADS", "4")
    _assert_identical(_two_runs(many_orders, tmp_path, 2))
