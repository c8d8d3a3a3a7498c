"""Run the pipeline for the app: cached by the file's hash and the settings, with a progress
bar that advances stage by stage."""

from __future__ import annotations

import time

import streamlit as st

from custlens.app import state
from custlens.app.cache import Run, run_key
from custlens.app.panel import error_panel
from custlens.app.sources import DataFile
from custlens.config import Settings
from custlens.errors import CustlensError, resource_error
from custlens.io.options import ReadOptions
from custlens.pipeline import ANALYSES, CORE_STAGES, run
from custlens.pipeline.registry import selected


def _stage_names(settings: Settings) -> list[str]:
    chosen = list(ANALYSES) if settings.analyses is None else settings.analyses
    stages, _ = selected(chosen)
    return [*CORE_STAGES, *(s.name for s in stages)]


def start_run(
    srv: state.Server, file: DataFile, settings: Settings, read: ReadOptions
) -> Run | None:
    """The run of ``file`` with ``settings``: from the cache, or computed now with progress."""
    key = run_key(file.sha256, settings, read)
    found = srv.cache.get(key)
    if found is not None:
        st.toast("Same file and settings as an earlier run: results reused.")
        return found
    names = _stage_names(settings)
    bar = st.progress(0.0, text="Starting...")
    log = st.empty()
    done: list[str] = []
    started: dict[str, float] = {}

    def on_stage(name: str, event: str) -> None:
        if event == "start":
            started[name] = time.perf_counter()
            bar.progress(len(done) / len(names), text=f"{name}...")
            return
        done.append(f"{name} {time.perf_counter() - started[name]:.1f} s")
        bar.progress(min(1.0, len(done) / len(names)), text=f"{name} done")
        log.caption(" · ".join(done))

    def compute() -> Run:
        results = run(str(file.path), settings=settings, read=read, on_stage=on_stage)
        return Run(key, results, str(file.path), read, file.label)

    try:
        result, _ = srv.cache.get_or_compute(key, compute)
    except Exception as exc:
        failure = exc if isinstance(exc, CustlensError) else resource_error(exc, doing="the run")
        if failure is None:
            raise
        bar.empty()
        error_panel(failure, context="The run stopped", rename=file.private_names())
        return None
    bar.progress(1.0, text="Done")
    return result
