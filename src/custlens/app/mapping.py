"""The start page: choose the data, check how it is read, map its columns, set the run, run.

Every problem (unreadable file, missing or ambiguous column, dates that do not parse, too few
customers) shows the error panel with what / where / fix; the page stays usable so the user can
change the mapping or the options and run again.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from custlens.app import choices, sources, state
from custlens.app.panel import error_panel, plain
from custlens.app.runner import start_run
from custlens.config import Settings
from custlens.errors import CustlensError
from custlens.io.options import ReadOptions
from custlens.io.schema import resolve_mapping
from custlens.pipeline import ANALYSES

CUSTOMER_TABLE_SAMPLE = 100_000  # rows read to tell a customer table (as custlens run does)
UPLOAD = "Upload a file"
DEMO = "Demo data"


@st.cache_data(show_spinner="Reading the first rows...", max_entries=16)
def _preview(_file: sources.DataFile, sha256: str, read: ReadOptions) -> pd.DataFrame:
    return sources.preview(_file, read)


@st.cache_data(show_spinner="Reading the file...", max_entries=16)
def _customer_table(_file: sources.DataFile, sha256: str, read: ReadOptions) -> str | None:
    """Why the file is clearly one row per customer (as ``custlens run`` says), or None."""
    from custlens.profile.roles import looks_like_customer_table

    try:
        sample = sources.preview(_file, read, rows=CUSTOMER_TABLE_SAMPLE)
    except CustlensError:
        return None
    return looks_like_customer_table(sample)


def _shell_word(name: str) -> str:
    if "`" in name:
        return "FILE"
    return name if re.fullmatch(r"[\w./-]+", name) else "'" + name.replace("'", "'\\''") + "'"


def _source_options(srv: state.Server) -> list[str]:
    options = [UPLOAD, DEMO]
    if srv.start_path is not None and srv.start_path.is_file():
        options.insert(0, f"File given at start: {srv.start_path.name}")
    return options


def choose_source(srv: state.Server, settings: Settings) -> sources.DataFile | None:
    """The source picker: an upload, the demo data or the file given to ``custlens app``."""
    st.subheader("1. Data")
    options = _source_options(srv)
    picked = st.radio("Source", options, horizontal=True, key="source_choice")
    limit = settings.app.max_upload_mb
    try:
        if picked == UPLOAD:
            upload = st.file_uploader(
                "Order log: CSV, TSV, .csv.gz, Excel (XLSX, XLS, ODS), Parquet or JSON lines",
                type=list(sources.UPLOAD_TYPES),
                max_upload_size=limit,
                key="upload",
                help=f"Up to {limit} MB through the browser. For a larger file start the app "
                "with its path (custlens app /path/to/orders.csv.gz): it is read where it lies.",
            )
            st.caption(
                f"Upload limit {limit} MB (`[app] max_upload_mb`). A larger file is refused by "
                "the browser: start the app with its path instead, `custlens app "
                "/path/to/orders.csv`, and it is read where it lies, without uploading."
            )
            if upload is None:
                # back from another page: the uploader is empty again, the file is not gone
                kept: sources.DataFile | None = st.session_state.get("upload_file")
                if kept is not None:
                    st.caption(
                        f"Using {plain(kept.label)}, uploaded earlier; upload another to replace it."
                    )
                return kept
            return _cached_upload(srv, upload.file_id, upload.name, upload.getvalue(), limit)
        if picked == DEMO:
            with st.spinner("Writing the demo order log..."):
                return sources.demo(srv.workdir)
        assert srv.start_path is not None
        return _cached_path(str(srv.start_path))
    except CustlensError as exc:
        error_panel(exc, context="The file cannot be used")
        return None


def _cached_upload(
    srv: state.Server, file_id: str, name: str, data: bytes, limit: int
) -> sources.DataFile:
    known: sources.DataFile | None = st.session_state.get("upload_file")
    if known is not None and st.session_state.get("upload_file_id") == file_id:
        return known  # the same upload (not only the same name and size), already stored
    file = sources.save_upload(name, data, srv.workdir, limit_mb=limit)
    st.session_state["upload_file"] = file
    st.session_state["upload_file_id"] = file_id
    return file


@st.cache_resource(show_spinner="Hashing the file...", max_entries=8)
def _cached_path(path: str) -> sources.DataFile:
    return sources.from_path(path)


def _text(label: str, key: str, help_text: str) -> str | None:
    value = st.text_input(label, key=key, help=help_text).strip()
    return value or None


def read_options(file: sources.DataFile) -> ReadOptions | None:
    with st.expander("How to read the file (optional)"):
        cols = st.columns(3)
        with cols[0]:
            delimiter = _text("Delimiter", "opt_delimiter", "Default: detected (, ; tab |).")
        with cols[1]:
            sheet = _text("Excel sheet", "opt_sheet", "Default: every sheet with the same header.")
        with cols[2]:
            date_format = _text(
                "Date format", "opt_date_format", "strptime format, e.g. %d/%m/%Y %H:%M."
            )
    suffixes = "".join(file.path.suffixes).lower()
    is_excel = any(suffixes.endswith(s) for s in (".xlsx", ".xlsm", ".xls", ".ods"))
    try:
        return ReadOptions(
            delimiter=delimiter if delimiter and not is_excel else None,
            sheet=sheet if is_excel else None,
            date_format=date_format,
        )
    except CustlensError as exc:
        error_panel(exc)
        return None


def mapping_screen(file: sources.DataFile, read: ReadOptions, base: Settings) -> dict | None:
    """Preview and one select box per canonical column; returns the chosen mapping."""
    st.subheader("2. Columns")
    try:
        head = _preview(file, file.sha256, read)
    except CustlensError as exc:
        error_panel(exc, context="The file cannot be read", rename=file.private_names())
        return None
    st.caption(f"First rows of {plain(file.label)} ({sources.size_text(file.size)})")
    st.dataframe(head, hide_index=True, width="stretch")
    columns = [str(c) for c in head.columns]
    detection = choices.detect(columns, base.mapping)
    guessed = st.empty()  # the detection's problem, while the guess is unchanged
    options = [choices.NOT_MAPPED, *columns]
    chosen: dict[str, str | None] = {}
    grid = st.columns(5)
    for i, (canonical, label) in enumerate(choices.FIELDS.items()):
        detected = detection.columns.get(canonical)
        index = options.index(detected) if detected in options else 0
        required = canonical in choices.REQUIRED_FIELDS
        with grid[i % 5]:
            value = st.selectbox(
                label + (" *" if required else ""),
                options,
                key=(key := f"map_{canonical}_{file.sha256[:12]}"),
                **state.initial(key, index=index),
                help=f"canonical column {canonical}"
                + ("; required" if required else "")
                + (
                    "; amount or unit price is required"
                    if canonical in ("amount", "unit_price")
                    else ""
                ),
            )
        chosen[canonical] = None if value == choices.NOT_MAPPED else value
    try:
        resolve_mapping(columns, choices.mapping_config(chosen), where=file.label)
    except CustlensError as exc:
        unset = chosen["customer_id"] is None or chosen["order_ts"] is None
        why = _customer_table(file, file.sha256, read) if unset else None
        if why is not None:
            st.info(
                f"**This looks like a customer table, one row per customer** ({plain(why)}), "
                "not an order log. The app explores order logs (one row per order line with "
                "customer, date and amount). Profile a customer table with "
                f"`custlens profile {_shell_word(file.label)} --out DIR` instead, or map the "
                "columns above if it is an order log after all.",
                icon=":material/info:",
            )
        error_panel(exc, context="This mapping cannot run yet: choose the columns above")
        return None
    # what custlens still could not decide by itself, given the columns the user changed
    changed = {c: v for c, v in chosen.items() if v != detection.columns.get(c) and v}
    remaining = choices.detect(columns, base.mapping.model_copy(update={"columns": changed}))
    if detection.error is not None and remaining.error is not None:
        with guessed.container():
            error_panel(
                remaining.error,
                context="custlens could not decide by itself; a best guess is filled in below. "
                "Check it (the same mapping works on the command line with --map).",
                warning=True,
            )
    return chosen


def _as_of_bounds(base: Settings) -> tuple[date, date]:
    """The dates the as-of picker offers: the plausible order dates of cleaning (1970 to a
    year after today by default) and a day after, not Streamlit's ten years around today,
    which ruled out every as-of date of an order log from before 2016."""
    today = date.today()
    first = base.cleaning.plausible_from
    last = (base.cleaning.plausible_to or today.replace(year=today.year + 1, day=28)) + timedelta(
        days=1
    )
    if base.as_of is not None:
        first, last = min(first, base.as_of), max(last, base.as_of)
    return first, last


def run_options(base: Settings) -> dict:
    st.subheader("3. Cleaning and analyses")
    left, right = st.columns(2)
    with left:
        mode = st.radio(
            "Cleaning",
            ["default", "minimal"],
            horizontal=True,
            key="cleaning_mode",
            **state.initial("cleaning_mode", index=0 if base.cleaning.mode == "default" else 1),
            help="minimal keeps only the first three rules",
        )
        with st.expander("Cleaning rules"):
            rules = {
                rule: st.checkbox(
                    label,
                    key=f"rule_{rule}",
                    **state.initial(f"rule_{rule}", value=getattr(base.cleaning, rule)),
                )
                for rule, label in choices.RULES.items()
            }
            if mode == "minimal":
                st.caption("Minimal mode applies only the first three rules.")
    with right:
        first, last = _as_of_bounds(base)
        as_of: date | None = st.date_input(
            "As of (optional)",
            key="as_of",
            min_value=first,
            max_value=last,
            **state.initial("as_of", value=base.as_of),
            help="Customers are computed from the orders before this day. "
            "Default: the day after the last order.",
        )
        default = list(ANALYSES) if base.analyses is None else list(base.analyses)
        analyses = st.multiselect(
            "Analyses after RFM",
            list(ANALYSES),
            key="analyses",
            **state.initial("analyses", default=default),
            help="Leave empty for RFM segments only (fastest).",
        )
    return {
        "cleaning_mode": mode,
        "rules": rules,
        "as_of": as_of,
        "analyses": None if set(analyses) == set(ANALYSES) else analyses,
    }


def start_page(srv: state.Server) -> None:
    st.title("custlens")
    st.write(
        "Upload an order log (one line per order line or per order), check the columns, run, "
        "then explore the segments, personas and customers on the pages at the left."
    )
    try:
        base = srv.base_settings()
    except CustlensError as exc:
        error_panel(exc, context="The settings file cannot be used")
        return
    file = choose_source(srv, base)
    if file is None:
        return
    read = read_options(file)
    if read is None:
        return
    chosen = mapping_screen(file, read, base)
    if chosen is None:
        return
    opts = run_options(base)
    try:
        settings = choices.build_settings(base, chosen=chosen, **opts)
    except CustlensError as exc:
        error_panel(exc)
        return
    left, right = st.columns([1, 3])
    with right:
        st.download_button(
            "Download this mapping as custlens.toml",
            choices.settings_toml(settings),
            file_name="custlens.toml",
            mime="application/toml",
            on_click="ignore",
            key="toml_download",
        )
    with left:
        clicked = st.button("Run", type="primary", key="run_button")
    if clicked:
        run = start_run(srv, file, settings, read)
        if run is not None:
            state.set_run(run)
            state.go_to("Overview")
