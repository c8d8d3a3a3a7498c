"""A successful run prints nothing on stderr that a user would read as a failure.

Warnings raised or logged while loading and cleaning, in a stage, and while writing the figures
and the report become notes of the run (``run.json`` and the CLI summary). pytest intercepts
warnings and log records in its own process, so the runs whose stderr is checked run in a fresh
process: Python's default warning filters and logging, as in a user's shell.
"""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
import warnings
from pathlib import Path

import pytest
from scipy.stats import ConstantInputWarning
from typer.testing import CliRunner

from custlens.cli import app
from custlens.datasets import write_synthetic


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("quiet") / "orders.parquet"
    write_synthetic(path, 300, seed=5)
    return path


def _noisy(function, warning: Warning, logged: str):
    """``function``, raising ``warning`` and logging ``logged`` (as custlens) before it runs."""

    def wrapper(*args, **kwargs):
        warnings.warn(warning, stacklevel=2)
        logging.getLogger("custlens.test").warning(logged)
        return function(*args, **kwargs)

    return wrapper


def test_warnings_while_cleaning_and_writing_figures_become_notes(
    orders: Path, tmp_path: Path, monkeypatch
) -> None:
    pipeline_run = importlib.import_module("custlens.pipeline.run")  # `run` is also a function
    from custlens.pipeline.stages.timing import TimingResult
    from custlens.report.early_figures import EarlyFigures

    overflow = RuntimeWarning("overflow encountered in multiply")
    constant = ConstantInputWarning("An input array is constant")
    monkeypatch.setattr(
        pipeline_run, "clean", _noisy(pipeline_run.clean, overflow, "cleaning said so")
    )
    # the run's figures are written by the figures drawn early (custlens.report.early_figures)
    monkeypatch.setattr(
        EarlyFigures, "finish", _noisy(EarlyFigures.finish, constant, "a figure said so")
    )
    # a chart that warns each time it is built: early (while the next stages run) it is
    # silent, and the report's build records it once
    empty = RuntimeWarning("Mean of empty slice")
    charts = TimingResult.charts

    def warning_charts(self, results):
        warnings.warn(empty, stacklevel=2)
        return charts(self, results)

    monkeypatch.setattr(TimingResult, "charts", warning_charts)
    out = tmp_path / "out"
    args = ["run", str(orders), "--out", str(out), "--analyses", "timing", "--figures", "png"]
    with warnings.catch_warnings():  # one that escapes the notes fails the run
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("error", ConstantInputWarning)
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert result.stderr == ""
    notes = json.loads((out / "run.json").read_text(encoding="utf-8"))["notes"]
    expected = [
        "load and clean warning: a calculation overflowed or divided by zero; the values "
        "affected were left out (RuntimeWarning: overflow encountered in multiply)",
        "load and clean warning: cleaning said so",
        "figures and report warning: a correlation could not be computed because one input "
        "was constant (ConstantInputWarning: An input array is constant)",
        "figures and report warning: a figure said so",
    ]
    for note in expected:
        assert note in notes
        assert f"Note: {note}" in " ".join(result.stdout.split())
    [once] = [n for n in notes if "Mean of empty slice" in n]  # not again for the early build
    assert once.startswith("figures and report warning: ")
    assert once.endswith("(RuntimeWarning: Mean of empty slice)")


def _quiet(fresh_custlens, command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    done = fresh_custlens(command, cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == "", done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_demo_writes_its_data_and_results_and_prints_nothing_on_stderr(
    fresh_custlens, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    done = _quiet(fresh_custlens, ["demo", "--dir", str(folder), "--customers", "300"], tmp_path)
    assert "Results written to" in done.stdout
    assert (folder / "results" / "customers.parquet").is_file()
    assert (folder / "data" / "orders.parquet").is_file()
    # and no warning of a library became a note (e.g. a figure worker's pipe left open)
    (run_json,) = (tmp_path / "demo").rglob("run.json")
    notes = json.loads(run_json.read_text(encoding="utf-8"))["notes"]
    assert [n for n in notes if "reported a warning" in n] == []
    assert "reported a warning" not in done.stdout


@pytest.mark.slow
def test_a_full_run_on_cdnow_prints_nothing_on_stderr(
    fresh_custlens, cdnow_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    maps = ["--map", "customer_id=sample_id", "--map", "amount=dollars"]
    _quiet(fresh_custlens, ["run", str(cdnow_path), "--out", str(out), "-q", *maps], tmp_path)
    assert (out / "report.html").exists()


@pytest.mark.slow
def test_a_full_run_on_online_retail_prints_nothing_on_stderr(online_retail_run) -> None:
    # the session's one default run of Online Retail, in a fresh process (tests/conftest.py)
    assert online_retail_run.returncode == 0, online_retail_run.stderr[-3000:]
    assert online_retail_run.stderr == "", online_retail_run.stderr[-3000:]
    assert (online_retail_run.out / "report.html").exists()
