"""How far the query running on an engine has got, for progress bars.

DuckDB estimates the progress of a running query (the share of its input scanned so far) and
reports it to another thread; the CLI polls it so that a long stage (loading 100 million lines)
shows a bar that moves. Other engines report nothing here (Spark prints its own stage bars).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["query_progress"]


def query_progress(con: Any) -> Callable[[], float | None] | None:
    """A function that returns the percentage (0-100] done of the query running on ``con``,
    or None while none runs or its progress is unknown (DuckDB reports 0 for queries it cannot
    estimate); None when the engine does not report progress.

    Turns on DuckDB's progress tracking for ``con`` (without its own printed bar). Call this
    from the thread that runs the queries, before they start; the returned function may be
    called from any thread.
    """
    if getattr(con, "name", None) != "duckdb":
        return None
    import duckdb

    raw = con.con
    raw.execute("SET enable_progress_bar = true")
    raw.execute("SET enable_progress_bar_print = false")

    def progress() -> float | None:
        try:
            value = float(raw.query_progress())
        except duckdb.Error:  # the connection closed meanwhile: nothing to report
            return None
        return min(value, 100.0) if value > 0 else None

    return progress
