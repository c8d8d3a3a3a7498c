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
