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
import os
import subprocess
import sys
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


def _quiet(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    import custlens

    # the custlens under test, wherever the child starts (a relative PYTHONPATH would not be)
    code = str(Path(custlens.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (code, os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "custlens", *command],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == "", done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_demo_prints_nothing_on_stderr(tmp_path: Path) -> None:
    done = _quiet(["demo", "--dir", str(tmp_path / "demo"), "--customers", "300"], tmp_path)
    assert "Results written to" in done.stdout
    # and no warning of a library became a note (e.g. a figure worker's pipe left open)
    (run_json,) = (tmp_path / "demo").rglob("run.json")
    notes = json.loads(run_json.read_text(encoding="utf-8"))["notes"]
    assert [n for n in notes if "reported a warning" in n] == []
    assert "reported a warning" not in done.stdout


@pytest.mark.slow
def test_a_full_run_on_cdnow_prints_nothing_on_stderr(cdnow_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    maps = ["--map", "customer_id=sample_id", "--map", "amount=dollars"]
    _quiet(["run", str(cdnow_path), "--out", str(out), "-q", *maps], tmp_path)
    assert (out / "report.html").exists()


@pytest.mark.slow
def test_a_full_run_on_online_retail_prints_nothing_on_stderr(
    online_retail_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _quiet(["run", str(online_retail_path), "--out", str(out), "-q"], tmp_path)
    assert (out / "report.html").exists()
