"""Fixtures of the app tests: the Streamlit script, small order logs, a full results folder."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")

import custlens  # noqa: E402
from custlens.app.launch import ENV_CONFIG, ENV_PATH  # noqa: E402

SCRIPT = str(Path(custlens.__file__).parent / "app" / "main.py")
TIMEOUT = 180


@pytest.fixture(scope="session")
def orders_frame():
    """A small order log in the Online Retail layout (150 customers)."""
    return custlens.datasets.synthetic(150, seed=3).orders


@pytest.fixture(scope="session")
def orders_csv(orders_frame) -> bytes:
    return orders_frame.to_csv(index=False).encode("utf-8")


@pytest.fixture(scope="session")
def full_run(tmp_path_factory, orders_frame):
    """Every analysis on a CSV file, written as a results folder: (csv path, folder)."""
    from custlens.exports import write_results

    root = tmp_path_factory.mktemp("full-run")
    csv = root / "orders.csv"
    orders_frame.to_csv(csv, index=False)
    results = custlens.run(str(csv), settings=custlens.Settings())
    return csv, write_results(results, root / "results")


@pytest.fixture
def app_env(monkeypatch):
    """Start options of the app (as ``custlens app`` sets them), cleared for each test."""
    monkeypatch.delenv(ENV_PATH, raising=False)
    monkeypatch.delenv(ENV_CONFIG, raising=False)

    def set_env(path: Path | None = None, config: Path | None = None) -> None:
        if path is not None:
            monkeypatch.setenv(ENV_PATH, str(path))
        if config is not None:
            monkeypatch.setenv(ENV_CONFIG, str(config))

    return set_env


def new_app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(SCRIPT, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def go(at, page: str):
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def upload(at, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key="upload").upload(name, data, mime).run()
    assert not at.exception, at.exception
    return at


def run_rfm_only(at):
    """Choose RFM only (fast) and press Run."""
    at.multiselect(key="analyses").set_value([]).run()
    at.button(key="run_button").click().run()
    assert not at.exception, at.exception
    return at


def frame_with(at, column: str):
    """The first table shown that has ``column``."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a column {column!r} on the page")


def download_labels(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]
