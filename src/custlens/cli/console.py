"""What the CLI prints: progress per stage on a terminal and the summary of a run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import TaskID

    from custlens.pipeline import Results
    from custlens.pipeline.run import StageCallback

err = Console(stderr=True)
out = Console()


@contextmanager
def stage_progress(enabled: bool) -> Iterator[StageCallback | None]:
    """Rich progress lines per stage on a terminal; silent otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def on_stage(name: str, event: str) -> None:
        if event == "start":
            tasks[name] = progress.add_task(name, total=1)
        else:
            progress.update(tasks[name], completed=1, description=f"[green]{name}[/green]")

    with progress:
        yield on_stage


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
            f"{row.share:.1%}",
            f"{row.revenue_share:.1%}",
            f"{row.avg_monetary:,.2f}",
        )
    out.print(table)
    for result in results.stages.values():
        for line in result.headline(results):
            out.print(line, highlight=False, markup=False)
    for note in results.notes:
        if "skipped" in note or WARNING_MARK in note:  # stages skipped, warnings of the run
            out.print(f"Note: {note}", highlight=False, markup=False)
    out.print(f"Results written to [bold]{escape(str(target))}[/bold]")
