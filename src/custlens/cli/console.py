"""What the CLI prints: progress per stage on a terminal and the summary of a run."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from custlens.pipeline import Results

err = Console(stderr=True)
out = Console()


class StageProgress:
    """One progress line per stage: a bar that follows the query running on the engine (how
    much of its input DuckDB has scanned) and pulses between queries, and the elapsed time.

    Called as the pipeline's ``on_stage``; ``watch`` is its ``on_engine``. A daemon thread
    polls the engine a few times a second while the display is open.
    """

    POLL_SECONDS = 0.25

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}
        self._running: TaskID | None = None
        self._probe: Callable[[], float | None] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="custlens-progress", daemon=True)

    def __call__(self, name: str, event: str) -> None:
        with self._lock:
            if event == "start":
                self._running = self._tasks[name] = self._progress.add_task(
                    escape(name), total=None
                )
            else:
                self._running = None
                self._progress.update(
                    self._tasks[name],
                    total=1,
                    completed=1,
                    description=f"[green]{escape(name)}[/green]",
                )

    def watch(self, con: Any) -> None:
        """Follow the queries running on ``con`` (an Ibis connection) from now on."""
        from custlens.io.progress import query_progress

        probe = query_progress(con)
        with self._lock:
            self._probe = probe

    def _poll(self) -> None:
        while not self._stop.wait(self.POLL_SECONDS):
            with self._lock:
                if self._running is None or self._probe is None:
                    continue
                done = self._probe()
                if done is None:  # between two queries: the bar pulses
                    self._progress.update(self._running, total=None)
                else:
                    self._progress.update(self._running, total=100, completed=done)

    def __enter__(self) -> StageProgress:
        self._progress.start()
        self._poller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._poller.join()
        self._progress.stop()


@contextmanager
def stage_progress(enabled: bool, console: Console | None = None) -> Iterator[StageProgress | None]:
    """Progress lines per stage on a terminal (``console``: default stderr); silent otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console or err,
        transient=False,
    )
    with StageProgress(progress) as display:
        yield display


def _cell(value: Any, spec: str) -> str:
    """A number for the segment table; "-" for a missing one (the mean of no customers)."""
    try:
        number = float(value)
    except (TypeError, ValueError):  # None, pandas' NA
        return "-"
    return "-" if math.isnan(number) else format(number, spec)


def print_summary(results: Results, target: Path) -> None:
    from rich.table import Table

    from custlens.pipeline.notices import WARNING_MARK  # the pipeline has run: nothing to load

    for line in results.quality.summary_lines():
        out.print(line, highlight=False, markup=False)
    table = Table(title=f"Segments as of {results.as_of}", show_lines=False)
    for col in ("segment", "customers", "share", "revenue share", "avg monetary"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for row in results.segment_summary.itertuples(index=False):
        table.add_row(
            escape(str(row.segment)),
            f"{row.customers:,}",
            _cell(row.share, ".1%"),
            _cell(row.revenue_share, ".1%"),
            _cell(row.avg_monetary, ",.2f"),  # NaN for a segment without customers
        )
    out.print(table)
    for result in results.stages.values():
        for line in result.headline(results):
            out.print(line, highlight=False, markup=False)
    for note in results.notes:
        if "skipped" in note or WARNING_MARK in note:  # stages skipped, warnings of the run
            out.print(f"Note: {note}", highlight=False, markup=False)
    out.print(f"Results written to [bold]{escape(str(target))}[/bold]")


def print_score_summary(results: Results, models_dir: Path, target: Path) -> None:
    """What `custlens score` did: the cleaning, how many customers got scores as of which
    date (none when they were withheld), and the scoring notes."""
    from custlens.pipeline.notices import WARNING_MARK

    for line in results.quality.summary_lines():
        out.print(line, highlight=False, markup=False)
    customers = results.customers
    scored = int(customers["churn_probability"].notna().sum())
    if scored == 0:
        out.print(f"No customer scored as of {results.as_of} (see the note)", highlight=False)
    else:
        of = f" of {len(customers):,}" if scored < len(customers) else ""
        out.print(
            f"Scored {scored:,}{of} customers as of {results.as_of} with {escape(str(models_dir))}",
            highlight=False,
        )
    for note in results.notes:
        if note.startswith("predictions:") or "skipped" in note or WARNING_MARK in note:
            out.print(f"Note: {note}", highlight=False, markup=False)
    out.print(f"Results written to [bold]{escape(str(target))}[/bold]")
