"""The error panel: a ``CustlensError`` shown as what / where / fix, never as a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import streamlit as st

from custlens.errors import CustlensError, resource_error

log = logging.getLogger(__name__)


def error_panel(
    exc: BaseException,
    *,
    context: str | None = None,
    warning: bool = False,
    rename: Mapping[str, str] | None = None,
) -> None:
    """Show ``exc`` in the page. A custlens error gives its what/where/fix; anything else is
    logged with its traceback and shown as one line with what to do next. ``warning``: shown as
    a warning (something to check) instead of an error. ``rename``: the server's private paths
    (an upload's copy in the work folder) shown as what the user knows them by."""
    title = f"**{context}**\n\n" if context else ""
    if not isinstance(exc, CustlensError):  # the disk or the engine's memory ran out
        exc = resource_error(exc, doing="this step") or exc
    if isinstance(exc, CustlensError):

        def shown(text: str) -> str:
            for private, known in (rename or {}).items():
                text = text.replace(private, known)
            return plain(text)

        parts = [f"{title}**What:** {shown(exc.what)}"]
        if exc.where:
            parts.append(f"**Where:** {shown(exc.where)}")
        if exc.fix:
            parts.append(f"**Fix:** {shown(exc.fix)}")
        show = st.warning if warning else st.error
        show("\n\n".join(parts), icon=":material/warning:" if warning else ":material/error:")
        return
    log.exception("unexpected error in the app", exc_info=exc)
    st.error(
        f"{title}**What:** an unexpected error: {plain(type(exc).__name__)}: {plain(str(exc))}\n\n"
        "**Fix:** check the file and the mapping and run again; if it persists, report it with "
        "the server's log (it has the details).",
        icon=":material/error:",
    )


def plain(text: object) -> str:
    """Text from the data or the user (ids, product names, file names, paths, column names)
    shown literally by Streamlit's Markdown (st.markdown, captions, alerts, labels): no links,
    no emphasis, no LaTeX from ``$``, no headings."""
    special = "\\`*_{}[]<>()#+-.!|$~:"
    return "".join("\\" + ch if ch in special else ch for ch in str(text))
