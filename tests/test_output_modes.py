"""Every output follows the umask (0644 files, 0755 folders under umask 022); none is secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from typer.testing import CliRunner

from custlens.charts import save_chart
from custlens.cli import app
from custlens.datasets import write_synthetic
from custlens.outputs import atomic_file


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    previous = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(previous)


def _modes(root: Path) -> dict[str, int]:
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root.parent)): stat.S_IMODE(p.lstat().st_mode) for p in paths}


def test_run_outputs_follow_the_umask(umask, tmp_path: Path) -> None:
    umask(0o022)
    data = tmp_path / "data" / "orders.csv"
    write_synthetic(data, 600, seed=3)
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["run", str(data), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    modes = {**_modes(data.parent), **_modes(out)}
    assert any(name.endswith(".png") for name in modes)  # the figures are among them
    assert any(name.endswith(".skops") for name in modes)  # and the saved models
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o755 if (tmp_path / name).is_dir() else 0o644)
    }
    assert wrong == {}
    leftovers = [p.name for p in tmp_path.rglob(".*")]
    assert leftovers == []  # no staging folder or temporary file left behind


def test_single_files_follow_a_strict_umask(umask, tmp_path: Path) -> None:
    umask(0o077)
    chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q")
    written = [
        save_chart(chart, tmp_path / "chart.json"),
        Path(write_synthetic(tmp_path / "orders.parquet", 20, seed=1)["truth_path"]),
        tmp_path / "orders.parquet",
    ]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {
        p.name: "0o600" for p in written
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_atomic_file_replaces_on_success_and_cleans_up_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    with atomic_file(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".a.txt.")
        tmp.write_text("new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]
