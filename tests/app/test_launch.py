"""Starting the app: the command, the port, the optional dependency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from custlens.app.launch import free_port, streamlit_command

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_import_custlens_does_not_import_streamlit():
    code = (
        "import sys, custlens, custlens.cli, custlens.app, custlens.app.choices, "
        "custlens.app.cache, custlens.app.launch\n"
        "custlens.Settings()\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), timeout=120)


def test_streamlit_runs_headless_local_without_usage_statistics():
    command = streamlit_command("127.0.0.1", 8765, 200)
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8765"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.maxUploadSize"] == "200"


def test_free_port_is_free():
    port = free_port("127.0.0.1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_missing_path_fails_before_starting(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "custlens", "app", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr
