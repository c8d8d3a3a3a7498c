"""The Streamlit script of ``custlens app``: a start page, then one page per view of the run.

Run it through ``custlens app`` (which starts Streamlit on a free local port); the pages are
drawn by the modules of ``custlens.app.views`` and the start page by ``custlens.app.mapping``.
"""

from __future__ import annotations

import streamlit as st

from custlens.app import state
from custlens.app.cache import Run
from custlens.app.mapping import start_page
from custlens.app.panel import error_panel, plain
from custlens.app.views import downloads_page, lookup, overview, personas, segments, stage_page
from custlens.errors import CustlensError

START = "Start"
FIXED_PAGES = ("Overview", "Segments", "Personas", "Customer lookup")
STAGE_PAGES = {"anomalies": "Anomalies", "timing": "Timing", "predictions": "Predictions"}
DOWNLOADS = "Downloads"
OWN_PAGES = ("personas",)  # stages with a page of their own among FIXED_PAGES


def _open_folder(srv: state.Server) -> None:
    """``custlens app DIR``: the results folder becomes the first run of every tab."""
    folder = srv.start_path
    if folder is None or not folder.is_dir() or st.session_state.get("folder_opened"):
        return
    st.session_state["folder_opened"] = True
    key = state.folder_key(folder)

    def reopen() -> Run:
        from custlens.pipeline import open_results

        results = open_results(folder)
        return Run(key, results, None, None, str(folder), extras={"folder_given": folder})

    try:
        run, _ = srv.cache.get_or_compute(key, reopen)
    except CustlensError as exc:
        error_panel(exc, context="The results folder cannot be opened")
        return
    if state.current_run(srv) is None:
        state.set_run(run)


def _pages(run: Run | None) -> list[str]:
    if run is None:
        return [START]
    stages = [
        STAGE_PAGES.get(name, name.capitalize())
        for name in run.results.stages
        if name not in OWN_PAGES
    ]
    extra = [p for p in STAGE_PAGES.values() if p not in stages]  # say why they are missing
    return [START, *FIXED_PAGES, *stages, *extra, DOWNLOADS]


def _stage_of(page: str) -> str:
    for name, title in STAGE_PAGES.items():
        if title == page:
            return name
    return page.lower()


# Widget values that must survive a visit to another page (Streamlit forgets the values of
# widgets a run does not draw): re-assigned at the start of every run.
KEPT_PREFIXES = ("map_", "opt_", "rule_", "seg_", "lookup_")
KEPT_KEYS = ("source_choice", "cleaning_mode", "as_of", "analyses")


def _keep_widget_values() -> None:
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and (key in KEPT_KEYS or key.startswith(KEPT_PREFIXES)):
            st.session_state[key] = st.session_state[key]


def main() -> None:
    st.set_page_config(page_title="custlens", page_icon=":bar_chart:", layout="wide")
    _keep_widget_values()
    srv = state.server()
    _open_folder(srv)
    run = state.current_run(srv)
    pages = _pages(run)
    goto = st.session_state.pop("goto_page", None)
    if goto in pages:
        st.session_state["page"] = goto
    elif "page" not in st.session_state and st.query_params.get("page") in pages:
        st.session_state["page"] = st.query_params["page"]  # a reloaded or reopened tab
    if st.session_state.get("page") not in pages:
        st.session_state["page"] = pages[1] if len(pages) > 1 else START
    with st.sidebar:
        st.markdown("## custlens")
        page = st.radio("Page", pages, key="page", label_visibility="collapsed")
        if run is not None and st.query_params.get("page") != page:
            st.query_params["page"] = page  # a reload comes back to this page
        if run is not None:
            st.caption(
                f"{plain(run.label)}\n\n{len(run.results.customers):,} customers · as of "
                f"{run.results.as_of}"
            )
    try:
        if page == START or run is None:
            start_page(srv)
        elif page == "Overview":
            overview.render(run.results, run.label)
        elif page == "Segments":
            segments.render(run.results)
        elif page == "Personas":
            personas.render(run.results)
        elif page == "Customer lookup":
            lookup.render(srv.cache, run)
        elif page == DOWNLOADS:
            downloads_page.render(srv.cache, run, srv.workdir)
        else:
            stage_page.render(run.results, _stage_of(page))
    except Exception as exc:  # noqa: BLE001 - a page never shows a traceback
        error_panel(exc)


main()
