"""Downloads: each CRM list, the results folder as a zip and its HTML report."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from custlens.app import downloads
from custlens.app.cache import Run, RunCache
from custlens.app.panel import error_panel, plain
from custlens.app.sources import size_text
from custlens.errors import CustlensError


def _folder(cache: RunCache, run: Run, workdir: Path) -> Path:
    if run.extras.get("folder_given"):
        return run.extras["folder_given"]
    return cache.extra(
        run,
        "folder",
        lambda: downloads.write_folder(
            run.results, workdir / "results" / run.key / "results", origin=run.label
        ),
    )


def render(cache: RunCache, run: Run, workdir: Path) -> None:
    st.title("Downloads")
    results = run.results
    st.subheader("CRM lists")
    for segment in results.segment_summary["segment"]:
        name, data = downloads.crm_csv(results, segment)
        st.download_button(
            f"{plain(segment)} ({plain(name)})",
            data,
            file_name=name,
            mime="text/csv",
            on_click="ignore",
            key=f"dl_{name}",
        )
    st.subheader("Results folder and report")
    given = run.extras.get("folder_given")
    if given is None and not st.session_state.get(f"folder_ready_{run.key}"):
        st.caption(
            "The folder is what `custlens run --out` writes: tables, CRM lists, figures, models."
        )
        if not st.button("Prepare the results folder (zip)", key="prepare_zip"):
            return
    try:
        with st.spinner("Writing the results folder and its figures..."):
            folder = _folder(cache, run, workdir)
            data = cache.extra(run, "zip", lambda: downloads.zip_folder(folder))
    except CustlensError as exc:
        error_panel(exc, context="The results folder cannot be written")
        return
    st.session_state[f"folder_ready_{run.key}"] = True
    st.download_button(
        f"Download the results folder ({size_text(len(data))} zip)",
        data,
        file_name="custlens-results.zip",
        mime="application/zip",
        on_click="ignore",
        key="dl_zip",
    )
    report = downloads.report_html(folder)
    if report is not None:
        st.download_button(
            "Download the HTML report",
            report,
            file_name=downloads.REPORT_HTML,
            mime="text/html",
            on_click="ignore",
            key="dl_report",
        )
    else:
        st.caption("No report.html in this folder (custlens report DIR writes one).")
