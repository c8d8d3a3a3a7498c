"""Shared fixtures: paths to the real public datasets (tests skip when they are absent)."""

from __future__ import annotations

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
