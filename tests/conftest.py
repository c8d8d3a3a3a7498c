"""Shared fixtures: paths to the real public datasets (tests skip when they are absent)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"dataset not available: {path}")
    return path


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    return _require(SHARED_DATA / "online_retail" / "online_retail.csv.gz")


@pytest.fixture(scope="session")
def cdnow_path() -> Path:
    return _require(SHARED_DATA / "cdnow" / "cdnow_sample.csv.gz")


def _fresh_custlens(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python -m custlens COMMAND`` in a fresh process (Python's default warning filters and
    logging, as in a user's shell), the custlens under test on its path; output captured."""
    import custlens

    # the custlens under test, wherever the child starts (a relative PYTHONPATH would not be)
    code = str(Path(custlens.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (code, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "custlens", *command],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.fixture(scope="session")
def fresh_custlens():
    """``fresh_custlens(command, cwd)``: ``python -m custlens COMMAND`` in a fresh process."""
    return _fresh_custlens


@dataclass(frozen=True)
class FreshRun:
    """A finished ``custlens run`` in a fresh process: its results folder and what it printed."""

    out: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def online_retail_run(online_retail_path: Path, tmp_path_factory) -> FreshRun:
    """The default ``custlens run`` of Online Retail (``-q``) in a fresh process, run once for
    the whole test session and shared by its workers (a full run takes half a minute). Tests
    read its folder and never write into it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' folders share the session's
        base = base.parent
    folder = base / "online-retail-run"
    with open(base / "online-retail-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker runs it, the others wait for it
        record = folder / "process.json"
        if not record.is_file():
            folder.mkdir(exist_ok=True)
            out = folder / "results"
            done = _fresh_custlens(
                ["run", str(online_retail_path), "--out", str(out), "-q"], folder
            )
            printed = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
            record.write_text(json.dumps(printed), encoding="utf-8")
        printed = json.loads(record.read_text(encoding="utf-8"))
    return FreshRun(out=folder / "results", **printed)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local SparkSession for the whole run (JVM start-up is the expensive part)."""
    import os
    import shutil

    pytest.importorskip("pyspark")
    pytest.importorskip("ibis.backends.pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip(
            "Java is not installed (PySpark needs it): apt-get install default-jre-headless"
        )
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("custlens-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # small test data: interpreting is faster than generating and compiling code
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={warehouse} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        )
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
