"""Fixed costs: an RFM-only run does not import the libraries only other analyses need.

Behavioural, not timed: each run happens in a fresh interpreter, which then reports which of the
heavy packages ended up in ``sys.modules``. The import times are measured by
``bench/bench_imports.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# packages the RFM-only run has no use for (models, anomalies, personas, figures)
HEAVY = ("sklearn", "scipy.stats", "lightgbm", "skops", "matplotlib", "pytest", "shap")

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


def _run_in_fresh_process(args: list[str], cwd: Path) -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, json.dumps(args), json.dumps(HEAVY)],
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


def test_rfm_only_run_imports_none_of_the_heavy_libraries(orders_csv, tmp_path):
    out = tmp_path / "results"
    args = ["run", str(orders_csv), "--analyses", "rfm", "--figures", "none", "--quiet"]
    report = _run_in_fresh_process([*args, "--out", str(out)], tmp_path)
    assert report["exit"] == 0
    assert (out / "customers.csv").is_file()
    assert report["loaded"] == []


def test_the_probe_sees_heavy_imports_when_a_run_needs_them(orders_csv, tmp_path):
    # the same probe on a run with personas (scikit-learn's KMeans) must report sklearn,
    # so an empty list above means "not imported", not "the probe cannot see imports"
    out = tmp_path / "results"
    args = ["run", str(orders_csv), "--analyses", "personas", "--figures", "none", "--quiet"]
    report = _run_in_fresh_process([*args, "--out", str(out)], tmp_path)
    assert report["exit"] == 0
    assert "sklearn" in report["loaded"]
