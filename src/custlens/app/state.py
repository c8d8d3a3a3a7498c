"""What the app keeps: one server (work folder, run cache, start options) and, per browser tab,
the chosen file and the current run.

The server is made once per process (``st.cache_resource``); a tab's state lives in
``st.session_state`` and the current run's key in the URL (``?run=...``), so a reopened or
reloaded tab finds its results in the cache without recomputing.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from custlens.app.cache import Run, RunCache
from custlens.app.launch import ENV_CONFIG, ENV_PATH
from custlens.app.sources import DataFile
from custlens.config import Settings, load_settings


@dataclass
class Server:
    """Shared by every tab of one app process."""

    workdir: Path
    cache: RunCache
    start_path: Path | None
    config_path: Path | None

    def base_settings(self) -> Settings:
        """custlens.toml given at start (or ./custlens.toml), else the defaults."""
        return load_settings(self.config_path)


def server() -> Server:
    """The server's shared state, for the start options in the environment."""
    return _server(os.environ.get(ENV_PATH) or None, os.environ.get(ENV_CONFIG) or None)


@st.cache_resource(show_spinner=False, max_entries=4)
def _server(start: str | None, config: str | None) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix="custlens-app-"))  # private work files, not outputs
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return Server(
        workdir=workdir,
        cache=RunCache(),
        start_path=Path(start).expanduser().resolve() if start else None,
        config_path=Path(config) if config else None,
    )


def folder_key(folder: Path) -> str:
    return "dir-" + hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:16]


def current_run(srv: Server) -> Run | None:
    """The tab's run: from the session, else from the URL (a reloaded or reopened tab)."""
    key = st.session_state.get("run_key") or st.query_params.get("run")
    if not key:
        return None
    run = srv.cache.get(key)
    if run is not None:
        st.session_state["run_key"] = key
    return run


def set_run(run: Run) -> None:
    st.session_state["run_key"] = run.key
    st.query_params["run"] = run.key


def clear_run() -> None:
    st.session_state.pop("run_key", None)
    st.query_params.pop("run", None)
    st.query_params.pop("page", None)


def chosen_file() -> DataFile | None:
    return st.session_state.get("data_file")


def choose_file(file: DataFile | None) -> None:
    st.session_state["data_file"] = file


def go_to(page: str) -> None:
    """Switch page on the next rerun (the page selector is already drawn in this one)."""
    st.session_state["goto_page"] = page
    st.rerun()


def initial(key: str, **default: Any) -> dict[str, Any]:
    """A widget's default (``index=``, ``value=``...) unless the session already holds its value
    (Streamlit warns when both are given)."""
    return {} if key in st.session_state else default
