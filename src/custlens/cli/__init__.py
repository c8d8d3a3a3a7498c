"""Command line: ``custlens run | demo | generate | audit | score``.

Each command parses its flags (``custlens.cli.flags``), calls one pipeline function and prints.

Bad input never shows a traceback: every ``CustlensError`` is printed as one clear message and the
process exits with code 2, leaving no output files behind.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from custlens.cli import flags
from custlens.errors import CustlensError

if TYPE_CHECKING:
    from custlens.config import Settings
    from custlens.io.options import ReadOptions
    from custlens.pipeline import Results
    from custlens.pipeline.run import StageCallback

app = typer.Typer(
    name="custlens",
    help="Customer intelligence from order logs: clean data, RFM segments and CRM lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()


def _fail(exc: CustlensError) -> None:
    # user text (paths, column names, values) is printed literally, never as console markup
    err.print(f"[bold red]Error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


@contextmanager
def _stage_progress(enabled: bool) -> Iterator[StageCallback | None]:
    """Rich progress lines per stage on a terminal; silent otherwise."""
    if not enabled:
        yield None
        return
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


def _print_summary(results: Results, target: Path) -> None:
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
        if "skipped" in note or "Warning:" in note:  # stages skipped, library warnings
            out.print(f"Note: {note}", highlight=False, markup=False)
    out.print(f"Results written to [bold]{escape(str(target))}[/bold]")


SourceArg = Annotated[
    str, typer.Argument(help="File (csv, csv.gz, parquet, xlsx, jsonl), database file or Ibis URL.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (written atomically).")]
TableOpt = Annotated[
    str | None, typer.Option(help="Table name in a SQLite/DuckDB file or database URL.")
]
ConfigOpt = Annotated[Path | None, typer.Option(help="custlens.toml settings file.")]
ForceOpt = Annotated[
    bool, typer.Option(help="Replace a non-empty output folder custlens did not write.")
]


@app.command()
def run(
    source: SourceArg,
    out_dir: OutOpt,
    table: TableOpt = None,
    sheet: Annotated[
        str | None, typer.Option(help="Excel sheet (default: all sheets with the same header).")
    ] = None,
    no_header: Annotated[
        bool, typer.Option("--no-header", help="The file has no header row.")
    ] = False,
    columns: Annotated[
        str | None, typer.Option(help="Column names for --no-header, comma-separated.")
    ] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: sniffed).")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding (default: UTF-8, else Latin-1).")
    ] = None,
    date_format: Annotated[
        str | None, typer.Option(help="strptime format of the date column, e.g. %d/%m/%Y %H:%M.")
    ] = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="Column mapping canonical=source, repeatable.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Column preset: online_retail, online_retail_ii, simple.")
    ] = None,
    config: ConfigOpt = None,
    cleaning: Annotated[str | None, typer.Option(help="Cleaning mode: default or minimal.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Compute customers as of this date (YYYY-MM-DD).")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option(help="Keep orders on or after this date.")
    ] = None,
    date_to: Annotated[str | None, typer.Option(help="Keep orders on or before this date.")] = None,
    country: Annotated[
        list[str] | None, typer.Option(help="Keep only these countries, repeatable.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    cutoff: Annotated[
        str | None,
        typer.Option(help="Backtest cutoff (YYYY-MM-DD; default: last date minus the horizon)."),
    ] = None,
    horizon: Annotated[
        str | None, typer.Option(help="Prediction horizon, e.g. 90d (default 90 days).")
    ] = None,
    analyses: Annotated[
        str | None,
        typer.Option(
            help="Analyses after RFM, comma-separated: features, personas, anomalies, timing, "
            "predictions; 'all' (default) or 'rfm' for none."
        ),
    ] = None,
    figures: Annotated[str, typer.Option(help="Figure format: png, svg or none.")] = "png",
    force: ForceOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run the pipeline on SOURCE and write results into --out."""
    try:
        settings = flags.settings(
            config,
            maps=map_ or [],
            overrides={
                "cleaning.mode": cleaning,
                "cleaning.date_from": flags.parse_date(date_from, "--date-from"),
                "cleaning.date_to": flags.parse_date(date_to, "--date-to"),
                "cleaning.countries": country or None,
                "mapping.preset": preset,
                "as_of": flags.parse_date(as_of, "--as-of"),
                "seed": seed,
                "analyses": flags.parse_analyses(analyses),
                "models.cutoff": flags.parse_date(cutoff, "--cutoff"),
                "models.horizon_days": flags.parse_horizon(horizon),
            },
        )
        read = flags.read_options(
            table=table,
            sheet=sheet,
            no_header=no_header,
            columns=columns,
            delimiter=delimiter,
            encoding=encoding,
            date_format=date_format,
        )
        _execute(source, out_dir, settings, read, figures=figures, force=force, quiet=quiet)
    except CustlensError as exc:
        _fail(exc)


def _execute(
    source: str,
    out_dir: Path,
    settings: Settings,
    read: ReadOptions,
    *,
    figures: str,
    force: bool,
    quiet: bool,
) -> Path:
    """Run the pipeline and write the results folder (figures and documents included)."""
    from custlens.exports import check_output_dir, write_results
    from custlens.outputs import check_not_overlapping
    from custlens.pipeline import run as run_pipeline

    flags.check_figures(figures)
    check_not_overlapping(out_dir, [source], what="the input")
    check_output_dir(out_dir, force=force)
    with _stage_progress(not quiet and err.is_terminal) as on_stage:
        results = run_pipeline(source, settings=settings, read=read, on_stage=on_stage)
    extra = None
    if figures != "none":
        from custlens.report.figures import write_figures  # altair: only when there are figures

        def extra(folder: Path) -> None:
            write_figures(results, folder, figures)

    target = write_results(results, out_dir, force=force, extra=extra)
    if not quiet:
        _print_summary(results, target)
    return target


@app.command()
def generate(
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="File to write: .parquet, .csv or .csv.gz.")
    ],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Write a realistic synthetic order log (Online Retail layout) and its ground truth."""
    from custlens.datasets import write_synthetic

    try:
        flags.check_customers(customers)
        info = write_synthetic(out_path, customers, seed=seed)
    except CustlensError as exc:
        _fail(exc)
    out.print(
        f"Wrote {info['rows']:,} order lines for {info['customers']:,} customers to "
        f"{escape(str(info['path']))} (ground truth: {escape(str(info['truth_path']))})"
    )


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo data and results.")
    ] = Path("custlens-demo"),
    customers: Annotated[int, typer.Option(help="Number of synthetic customers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Generate built-in demo data and run the whole pipeline on it."""
    from custlens.datasets import write_synthetic

    try:
        flags.check_customers(customers)
        data_path = folder / "data" / "orders.parquet"
        data_path.parent.mkdir(parents=True, exist_ok=True)
        info = write_synthetic(data_path, customers, seed=seed)
        out.print(
            f"Demo data: {info['rows']:,} order lines, {info['customers']:,} customers -> "
            f"{escape(str(data_path))}"
        )
        settings = flags.settings(None, maps=[], overrides={"seed": seed})
        read = flags.read_options()
        _execute(
            str(data_path),
            folder / "results",
            settings,
            read,
            figures="png",
            force=True,
            quiet=False,
        )
    except CustlensError as exc:
        _fail(exc)


@app.command()
def audit(
    source: Annotated[
        str, typer.Argument(help="Customer-level table: a file, database file or Ibis URL.")
    ],
    segment: Annotated[str, typer.Option(help="Column holding the current segment.")],
    metric: Annotated[str, typer.Option(help="Numeric column the segment should explain.")],
    out_dir: OutOpt,
    threshold: Annotated[
        float, typer.Option(help="Anomaly when |metric - segment mean| exceeds this.")
    ] = 0.15,
    relative: Annotated[
        bool, typer.Option(help="Threshold is a share of the segment mean.")
    ] = False,
    latest_by: Annotated[
        str | None,
        typer.Option("--latest-by", help="Date column: keep each customer's latest row."),
    ] = None,
    customer_col: Annotated[
        str | None, typer.Option("--customer-col", help="Customer id column (default: detected).")
    ] = None,
    table: TableOpt = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet.")] = None,
    config: ConfigOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    force: ForceOpt = False,
) -> None:
    """Find customers the current segmentation misjudges, and what would explain them."""
    from custlens.outputs import check_not_overlapping, check_output_dir
    from custlens.pipeline import audit as run_audit
    from custlens.report.audit_markdown import is_audit_folder, write_audit

    try:
        check_not_overlapping(out_dir, [source], what="the input")
        check_output_dir(out_dir, is_ours=is_audit_folder, force=force)
        result = run_audit(
            source,
            segment=segment,
            metric=metric,
            threshold=threshold,
            relative=relative,
            latest_by=latest_by,
            customer_col=customer_col,
            seed=seed,
            config_path=config,
            read=flags.read_options(table=table, sheet=sheet),
        )
        target = write_audit(result, out_dir, force=force)
    except CustlensError as exc:
        _fail(exc)
    out.print(
        f"{result.n_anomalies:,} customers deviate from their segment's mean {escape(metric)} "
        f"by more than {threshold:g}{' (relative)' if relative else ''}."
    )
    out.print(result.conclusion, highlight=False, markup=False)
    out.print(f"Audit written to [bold]{escape(str(target))}[/bold] (audit.md)")


@app.command()
def score(
    models_dir: Annotated[Path, typer.Argument(help="The models/ folder of an earlier run.")],
    source: SourceArg,
    out_dir: OutOpt,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date.")] = None,
    table: TableOpt = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet.")] = None,
    config: ConfigOpt = None,
    force: ForceOpt = False,
) -> None:
    """Score the customers of NEW data with models saved by an earlier `custlens run`."""
    from custlens.exports import check_output_dir, write_results
    from custlens.outputs import check_not_overlapping
    from custlens.pipeline import score as score_pipeline

    try:
        settings = flags.settings(
            config, maps=[], overrides={"as_of": flags.parse_date(as_of, "--as-of")}
        )
        read = flags.read_options(table=table, sheet=sheet)
        check_not_overlapping(out_dir, [source], what="the input")
        check_not_overlapping(out_dir, [models_dir], what="the models folder")
        check_output_dir(out_dir, force=force)
        results = score_pipeline(models_dir, source, settings=settings, read=read)
        target = write_results(results, out_dir, force=force)
    except CustlensError as exc:
        _fail(exc)
    out.print(
        f"Scored {len(results.customers):,} customers with {escape(str(models_dir))}; "
        f"results in [bold]{escape(str(target))}[/bold]"
    )


def _terminate(signum: int, frame: object) -> None:  # pragma: no cover - a signal
    raise KeyboardInterrupt  # SIGTERM ends a run like Ctrl-C: staging files are removed


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
