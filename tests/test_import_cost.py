"""Fixed costs: a run does not import the libraries only other analyses need, and importing a
module costs no heavy library it does not need to define itself.

Behavioural, not timed: each run or import happens in a fresh interpreter, which then reports
which of the heavy packages ended up in ``sys.modules``. The import times are measured by
``bench/bench_imports.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# packages the RFM-only run has no use for (models, anomalies, personas, insights, charts other
# than the RFM ones, which are plain Vega-Lite dicts)
HEAVY = (
    "sklearn",
    "scipy",
    "lightgbm",
    "skops",
    "matplotlib",
    "pytest",
    "shap",
    "altair",
    "jsonschema",
    "statsmodels",
    "pymannkendall",
)
# the engine stack: needed by every run, not by ``import custlens`` or ``custlens --help``
ENGINE = ("pandas", "numpy", "pyarrow", "ibis", "duckdb")

RUN_AND_REPORT = """
import json, sys
args, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
from custlens.cli import main
sys.argv = ["custlens", *args]
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
print(json.dumps({"exit": code, "loaded": sorted(m for m in watched if m in sys.modules)}))
"""


IMPORT_AND_REPORT = """
import importlib, json, sys
module, watched = sys.argv[1], json.loads(sys.argv[2])
importlib.import_module(module)
print(json.dumps({"exit": 0, "loaded": sorted(m for m in watched if m in sys.modules)}))
"""


def _run_in_fresh_process(
    args: list[str] | str, cwd: Path, watched: tuple[str, ...] = HEAVY
) -> dict:
    """A run (``custlens`` arguments) or an import (a module name) in a fresh interpreter."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    code, arg = (
        (IMPORT_AND_REPORT, args) if isinstance(args, str) else (RUN_AND_REPORT, json.dumps(args))
    )
    result = subprocess.run(
        [sys.executable, "-c", code, arg, json.dumps(watched)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def orders_csv(tmp_path_factory) -> Path:
    from custlens.datasets import write_synthetic

    path = tmp_path_factory.mktemp("imports") / "orders.csv"
    write_synthetic(path, 150, seed=1)
    return path


@pytest.mark.parametrize("figures", ["none", "png"])
def test_rfm_only_run_imports_none_of_the_heavy_libraries(orders_csv, tmp_path, figures):
    out = tmp_path / "results"
    args = ["run", str(orders_csv), "--analyses", "rfm", "--figures", figures, "--quiet"]
    report = _run_in_fresh_process([*args, "--out", str(out)], tmp_path)
    assert report["exit"] == 0
    assert (out / "customers.csv").is_file()
    # the two RFM figures are plain Vega-Lite specs that vl-convert renders without Altair
    pngs = sorted(p.name for p in (out / "figures").glob("*.png")) if figures == "png" else []
    assert pngs == (["rfm_grid.png", "segments.png"] if figures == "png" else [])
    assert report["loaded"] == []


def test_the_probe_sees_heavy_imports_when_a_run_needs_them(orders_csv, tmp_path):
    # the same probe on a run with personas (scikit-learn's KMeans) must report sklearn,
    # so an empty list above means "not imported", not "the probe cannot see imports"
    out = tmp_path / "results"
    args = ["run", str(orders_csv), "--analyses", "personas", "--figures", "none", "--quiet"]
    report = _run_in_fresh_process([*args, "--out", str(out)], tmp_path)
    assert report["exit"] == 0
    assert "sklearn" in report["loaded"]


@pytest.mark.parametrize(
    ("analyses", "needed"),
    [
        # the report's timing charts are Altair charts; nothing else
        ("timing", {"altair", "jsonschema"}),
        # KMeans and its metrics (scikit-learn imports scipy.stats); no models are saved
        ("personas", {"altair", "jsonschema", "sklearn", "scipy"}),
        # the hypergeometric test of the rules
        ("basket", {"altair", "jsonschema", "scipy"}),
    ],
)
def test_a_run_imports_only_what_its_analyses_need(orders_csv, tmp_path, analyses, needed):
    # skops (about 1 s: it imports every scikit-learn module and pytest) only where models are
    # saved or loaded, LightGBM only for predictions, statsmodels only for tests that use it
    out = tmp_path / "results"
    args = ["run", str(orders_csv), "--analyses", analyses, "--figures", "none", "--quiet"]
    report = _run_in_fresh_process([*args, "--out", str(out)], tmp_path)
    assert report["exit"] == 0
    assert set(report["loaded"]) <= needed, set(report["loaded"]) - needed


@pytest.mark.parametrize(
    ("module", "unwanted"),
    [
        # lazy public names: no engine, no settings
        ("custlens", (*HEAVY, *ENGINE, "pydantic", "typer", "rich", "jinja2")),
        # `custlens --help` starts no engine
        ("custlens.cli", (*HEAVY, *ENGINE, "jinja2")),
        ("custlens.charts", (*HEAVY, *ENGINE)),
        ("custlens.charts.rfm", (*HEAVY, "ibis", "duckdb")),  # plain Vega-Lite dicts
        ("custlens.report.write", HEAVY),  # Altair only where a stage's charts are built
        ("custlens.pipeline", (*HEAVY, "jinja2")),
        # scikit-learn and LightGBM for the estimators' classes; skops only when saving or loading
        ("custlens.models.persist", ("skops", "pytest", "altair", "statsmodels")),
    ],
)
def test_importing_a_module_has_no_heavy_side_cost(tmp_path, module, unwanted):
    report = _run_in_fresh_process(module, tmp_path, unwanted)
    assert report["loaded"] == []
