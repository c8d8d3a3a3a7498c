"""No file of the user's is ever lost: --out never replaces an input or the models being read;
staging folders and temporary files of killed runs are cleaned up; SIGTERM ends like Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custlens import outputs
from custlens.cli import app
from custlens.datasets import synthetic

SRC = Path(__file__).resolve().parents[2] / "src"


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result, (result.stdout or "") + (result.stderr or "")


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    """A results folder written by custlens (RFM only), with a copy of its input inside."""
    tmp = tmp_path_factory.mktemp("runs")
    data = tmp / "orders.parquet"
    synthetic(200, seed=2).orders.to_parquet(data, index=False)
    res = tmp / "res"
    result, text = _invoke("run", str(data), "--out", str(res), "--analyses", "rfm", "-q")
    assert result.exit_code == 0, text
    (res / "new_orders.parquet").write_bytes(data.read_bytes())
    return res


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("where", ["inside", "the folder itself", "nested"])
def test_run_refuses_an_out_that_holds_the_input(earlier_run: Path, force: bool, where: str):
    source = earlier_run / "new_orders.parquet"
    out = {"inside": earlier_run, "the folder itself": source, "nested": source / "x"}[where]
    before = source.read_bytes()
    args = ["run", str(source), "--out", str(out), "--analyses", "rfm", "-q"]
    result, text = _invoke(*args, *(["--force"] if force else []))
    assert result.exit_code == 2, text
    assert "would replace the input" in text and "Fix:" in text
    assert source.read_bytes() == before


def test_run_refuses_an_out_above_the_input(earlier_run: Path) -> None:
    source = earlier_run / "new_orders.parquet"
    result, text = _invoke("run", str(source), "--out", str(earlier_run.parent), "--force")
    assert result.exit_code == 2, text
    assert source.is_file()


def test_score_refuses_an_out_that_holds_the_models_or_the_input(tmp_path: Path) -> None:
    models = tmp_path / "res" / "models"
    models.mkdir(parents=True)
    (models / "manifest.json").write_text("{}")
    data = tmp_path / "res" / "new.parquet"
    data.write_bytes(b"x")
    for out in (tmp_path / "res", models, tmp_path):
        result, text = _invoke("score", str(models), str(data), "--out", str(out), "--force")
        assert result.exit_code == 2, text
        assert "would replace" in text
        assert (models / "manifest.json").is_file() and data.is_file()


def test_audit_refuses_an_out_that_holds_the_input(tmp_path: Path) -> None:
    table = tmp_path / "audit" / "customers.csv"
    table.parent.mkdir()
    table.write_text("id,seg,metric\n1,a,0.5\n")
    result, text = _invoke(
        "audit", str(table), "--segment", "seg", "--metric", "metric", "--out", str(table.parent)
    )
    assert result.exit_code == 2, text
    assert table.is_file()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_staging_of_dead_processes_is_removed_at_the_next_write(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    stale = [
        tmp_path / f".res.tmp-{dead}-0123abcd",
        tmp_path / f".res.old-{dead}-0123abcd",
        tmp_path / f".models.saving-{dead}-a1b2_c3d",
    ]
    for folder in stale:
        folder.mkdir()
        (folder / "customers.csv").write_text("x")
    stale_file = tmp_path / f".orders.parquet.{dead}-0123abcd.tmp"
    stale_file.write_text("half")
    kept = [tmp_path / f".res.tmp-{alive}-89abcdef", tmp_path / ".hidden-user-folder"]
    for folder in kept:
        folder.mkdir()
    with outputs.atomic_dir(tmp_path / "res", is_ours=lambda p: True) as staging:
        (staging / "a.txt").write_text("a")
    assert not any(p.exists() for p in [*stale, stale_file])
    assert all(p.exists() for p in kept)
    assert (tmp_path / "res" / "a.txt").is_file()


def test_stale_engine_folders_of_dead_processes_are_removed(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = _dead_pid()
    stale = tmp_path / f"custlens-duckdb-{dead}-abcdef"
    stale.mkdir()
    (stale / "spill.tmp").write_bytes(b"0" * 100)
    mine = tmp_path / f"custlens-duckdb-{os.getpid()}-keepme"
    mine.mkdir()
    other = tmp_path / "custlens-duckdb-unrelated"
    other.mkdir()
    made = Path(outputs.private_temp_dir("custlens-duckdb-"))
    assert not stale.exists() and mine.exists() and other.exists()
    assert made.name.startswith(f"custlens-duckdb-{os.getpid()}-")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_leaves_no_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "orders.parquet"
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "custlens", "generate", "--customers", "200000", "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(tmp_path.glob(".orders*")):
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_interrupted_follows_the_exception_chain() -> None:
    from custlens.cli import interrupted

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Query interrupted") from exc
    except RuntimeError as caught:
        assert interrupted(caught)
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ValueError("while interrupted") from None  # suppressed cause, context kept
    except ValueError as caught:
        assert interrupted(caught)
    assert not interrupted(RuntimeError("Query failed"))
    assert not interrupted(None)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_a_duckdb_query_ends_without_a_traceback(tmp_path: Path) -> None:
    """DuckDB turns the interruption into ``RuntimeError: Query interrupted`` (seen on a
    100M-line run); the command line still ends like Ctrl-C: exit 130, no traceback."""
    script = (
        "import duckdb, custlens.cli as cli\n"
        "def app():\n"
        "    print('query started', flush=True)\n"
        "    duckdb.sql('select sum(x % 7) from range(100000000000) t(x)').fetchall()\n"
        "cli.app = app\n"
        "cli.main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"query started\n"
    time.sleep(1.0)  # inside the query
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"Interrupted." in err


@pytest.mark.parametrize(
    "full",
    [
        # what DuckDB raises when its spill file cannot grow
        "duckdb",
        # what Python raises when a results file cannot be written
        "oserror",
    ],
)
def test_a_full_disk_is_one_clear_error_and_leaves_nothing(tmp_path: Path, monkeypatch, full):
    import errno
    import importlib

    import duckdb

    import custlens.exports as exports

    pipeline_run = importlib.import_module("custlens.pipeline.run")

    data = tmp_path / "orders.parquet"
    synthetic(200, seed=2).orders.to_parquet(data, index=False)
    before = data.read_bytes()
    out = tmp_path / "res"
    if full == "duckdb":

        def segments(*args, **kwargs):
            raise duckdb.IOException(
                'IO Error: Could not write file "/tmp/custlens-duckdb-1/duckdb_temp_storage.tmp":'
                " No space left on device"
            )

        monkeypatch.setattr(pipeline_run, "segment_summary", segments)
    else:
        real = exports.write_results

        def write(results, folder, **kwargs):
            def extra(staging: Path) -> None:
                raise OSError(errno.ENOSPC, "No space left on device", str(staging / "x.csv"))

            return real(results, folder, **{**kwargs, "extra": extra})

        monkeypatch.setattr(exports, "write_results", write)
    result, text = _invoke("run", str(data), "--out", str(out), "--analyses", "rfm", "-q")
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    assert "ran out of space" in text and "TMPDIR" in text and "Fix:" in text
    assert "No space left on device" in text
    assert not out.exists()  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]  # no staging left
    assert data.read_bytes() == before


@pytest.mark.parametrize(
    ("command", "suffix", "doing"),
    [
        (["run", "--analyses", "rfm", "--figures", "none", "-q"], ".parquet", "the run"),
        # the text reader once called this file unparseable and told the user to pass --delimiter
        (["run", "--analyses", "rfm", "--figures", "none", "-q"], ".csv", "the run"),
        (["profile", "--figures", "none"], ".csv", "the profile"),
        (["audit", "--segment", "Country", "--metric", "Quantity"], ".csv", "the audit"),
    ],
)
def test_an_engine_out_of_memory_is_one_clear_error_and_leaves_nothing(
    tmp_path: Path, command: list[str], suffix: str, doing: str
):
    """A memory cap too small for any query (CUSTLENS_MEMORY_LIMIT=1MB): DuckDB's
    OutOfMemoryException becomes one message naming the cap and the fix, exit code 2, for
    every command that runs the engine."""
    data = tmp_path / f"orders{suffix}"
    orders = synthetic(200, seed=2).orders
    if suffix == ".csv":
        orders.to_csv(data, index=False)
    else:
        orders.to_parquet(data, index=False)
    before = data.read_bytes()
    out = tmp_path / "res"
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TMPDIR": str(tmp_path),
        "CUSTLENS_MEMORY_LIMIT": "1MB",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "custlens", command[0], str(data), "--out", str(out), *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "Traceback" not in text
    assert f"ran out of memory during {doing} (OutOfMemoryException: Out of Memory Error" in text
    assert "Where: CUSTLENS_MEMORY_LIMIT=1MB" in text and "Fix:" in text
    assert "parse" not in text and "--delimiter" not in text
    assert not out.exists()  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == [data.name]  # no staging left
    assert data.read_bytes() == before


def test_what_ran_out_is_named_from_the_exception_that_says_so():
    """``resource_error`` finds a full disk or an engine out of memory anywhere in the chain of
    exceptions and quotes that exception's own line; anything else is not its business."""
    import errno

    import duckdb

    from custlens.errors import ResourceError, resource_error

    assert resource_error(ValueError("No space on the form"), doing="the run") is None
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/out/x.csv")
        except OSError as inner:
            raise RuntimeError("writing the tables failed") from inner
    except RuntimeError as outer:
        disk = resource_error(outer, doing="the profile", output="folder /out")
    assert isinstance(disk, ResourceError)
    assert disk.what.startswith("The disk ran out of space during the profile (OSError: ")
    assert "No space left on device" in disk.what and "folder /out" in (disk.where or "")
    memory = duckdb.OutOfMemoryException("Out of Memory Error: no room\n\nPossible solutions:\n* x")
    try:
        try:
            raise memory
        except duckdb.Error as inner:
            raise KeyError("wrapped") from inner
    except KeyError as outer:
        found = resource_error(outer, doing="the run")
    assert found is not None
    assert found.what == (
        "The engine ran out of memory during the run "
        "(OutOfMemoryException: Out of Memory Error: no room)"
    )
