"""A customer's order history, read from the run's source through ``custlens.io``.

A results folder keeps no raw lines, so the history comes from the source the run read, loaded
and cleaned with the run's own settings: purchases (kept lines) and returns/cancellations. The
canonical lines are stored once (``materialize``) and each lookup filters them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from custlens.io import ReadOptions, clean, load
from custlens.io.materialize import materialize
from custlens.io.readers import file_sha256

if TYPE_CHECKING:
    from custlens.config import Settings
    from custlens.pipeline import Results

HISTORY_COLUMNS = (
    "order_ts",
    "order_id",
    "product_id",
    "description",
    "category",
    "quantity",
    "unit_price",
    "amount",
    "country",
)


class OrderHistory:
    """Cleaned lines of one source, queried one customer at a time."""

    def __init__(self, source: str | Path, settings: Settings, read: ReadOptions | None) -> None:
        src = load(source, mapping=settings.mapping, options=read or ReadOptions())
        cleaned = clean(materialize(src.table, "history"), settings.cleaning)
        self._purchases = cleaned.purchases
        self._returns = cleaned.returns
        self._lock = threading.Lock()  # one engine connection, used by one query at a time

    def lines(self, customer_id: str) -> pd.DataFrame:
        """Every kept purchase line and return line of ``customer_id``, oldest first."""
        frames = []
        with self._lock:
            for kind, table in (("purchase", self._purchases), ("return", self._returns)):
                cols = [c for c in HISTORY_COLUMNS if c in table.columns]
                rows = table.filter(table.customer_id == customer_id).select(cols).to_pandas()
                frames.append(rows.assign(line=kind))
        lines = pd.concat(frames, ignore_index=True)
        return lines.sort_values(["order_ts", "line"], kind="stable").reset_index(drop=True)


def folder_source(results: Results) -> tuple[Path | None, str]:
    """For a results folder: the source file its run read, when it is still there unchanged;
    otherwise None and why."""
    origin = results.source.origin
    path = Path(origin)
    if not path.is_file():
        return None, (
            f"The order history needs the source file; the run read {origin!r}, which is not "
            "there any more. Start the app with that file (custlens app FILE) and run it again."
        )
    if results.source.sha256 and file_sha256(path) != results.source.sha256:
        return None, (
            f"The file {origin!r} changed since the run (its hash differs), so its lines would not "
            "match these results. Run the app on the file again to see the history."
        )
    return path, ""
