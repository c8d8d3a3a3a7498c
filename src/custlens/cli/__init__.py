"""Command line: ``custlens run | demo | generate | audit | profile | score | report | app``.

Each command parses its flags (``custlens.cli.flags``), calls one pipeline function and prints.

Bad input never shows a traceback: every ``CustlensError`` is printed as one clear message and the
process exits with code 2, leaving no output files behind.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from custlens.cli import flags
from custlens.cli.common import (
    ColumnsOpt,
    ConfigOpt,
    DateFormatOpt,
    DecimalOpt,
    DelimiterOpt,
    EncodingOpt,
    ForceOpt,
    MapOpt,
    NoHeaderOpt,
    OutOpt,
    PresetOpt,
    SheetOpt,
    SourceArg,
    TableOpt,
    app,
    fail,
    resource_errors,
)
from custlens.cli.console import err, out, print_score_summary, print_summary, stage_progress
from custlens.config.base import MAX_SEED
from custlens.errors import CustlensError, exception_chain

if TYPE_CHECKING:
    from custlens.config import Settings
    from custlens.io.options import ReadOptions


@app.command()
def run(
    out_dir: OutOpt,
    source: Annotated[
        str | None,
        typer.Argument(
            help="File (csv, csv.gz, parquet, xlsx, jsonl), database file or Ibis URL; with "
            "--engine spark a Parquet/CSV path (local, hdfs://, s3a://...) or none with --table.",
            show_default=False,
        ),
    ] = None,
    table: TableOpt = None,
    sheet: SheetOpt = None,
    no_header: NoHeaderOpt = False,
    columns: ColumnsOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    date_format: DateFormatOpt = None,
    map_: MapOpt = None,
    preset: PresetOpt = None,
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
    seed: Annotated[
        int | None, typer.Option(help="Random seed (0 to 4294967295).", min=0, max=MAX_SEED)
    ] = None,
    compare_to: Annotated[
        str | None,
        typer.Option(
            "--compare-to",
            help="Migration: compare the segments with this earlier date (YYYY-MM-DD; "
            "default 90 days before the as-of date).",
        ),
    ] = None,
    cutoff: Annotated[
        str | None,
        typer.Option(help="Backtest cutoff (YYYY-MM-DD; default: last date minus the horizon)."),
    ] = None,
    horizon: Annotated[
        str | None,
        typer.Option(
            help="Prediction horizon in days or weeks, e.g. 90d or 39w (default 90 days)."
        ),
    ] = None,
    analyses: Annotated[
        str | None,
        typer.Option(
            help="Analyses after RFM, comma-separated: features, personas, anomalies, timing, "
            "predictions, migration, insights; 'all' (default) or 'rfm' for none."
        ),
    ] = None,
    figures: Annotated[str, typer.Option(help="Figure format: png, svg or none.")] = "png",
    engine: Annotated[
        str,
        typer.Option(
            help="Engine for loading, cleaning and the customer table: duckdb (in-process) or "
            "spark (a local session, or a cluster: see docs/scaling.md)."
        ),
    ] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL with --engine spark, e.g. local[4], spark://host:7077, yarn "
            "(default: \\[spark] master, else the running session or Spark's defaults).",
        ),
    ] = None,
    force: ForceOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run the pipeline on SOURCE and write results into --out."""
    try:
        flags.check_engine(engine, spark_master=spark_master, source=source, table=table)
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
                "migration.compare_to": flags.parse_compare_to(compare_to, as_of),
                "models.horizon_days": flags.parse_horizon(horizon),
            },
        )
        read = flags.read_options(
            table=table,
            sheet=sheet,
            no_header=no_header,
            columns=columns,
            delimiter=delimiter,
            decimal=decimal,
            encoding=encoding,
            date_format=date_format,
        )
        _execute(
            source,
            out_dir,
            settings,
            read,
            figures=figures,
            force=force,
            quiet=quiet,
            engine=engine,
            spark_master=spark_master,
        )
    except CustlensError as exc:
        fail(exc)


def _execute(
    source: str | None,
    out_dir: Path,
    settings: Settings,
    read: ReadOptions,
    *,
    figures: str,
    force: bool,
    quiet: bool,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> Path:
    """Run the pipeline and write the results folder (figures and documents included)."""
    import contextlib
    import dataclasses

    from custlens.exports import check_output_dir, write_results
    from custlens.outputs import check_not_overlapping
    from custlens.pipeline import run as run_pipeline

    flags.check_figures(figures)
    check_not_overlapping(out_dir, [source] if source else [], what="the input")
    check_output_dir(out_dir, force=force)
    from custlens.report.early_figures import EarlyFigures
    from custlens.report.write import write_documents

    def extra(folder: Path) -> None:
        # the figures, then the report (report.md links them; with --figures none, no images)
        written.append(write_documents(results, folder, figures, early=early))

    written: list = []
    late: list[str] = []  # warnings while writing the figures and the report
    # each stage's figures are drawn while the next stages run
    early = EarlyFigures(figures) if figures != "none" else None
    with resource_errors("the run", f"folder {out_dir}"), early or contextlib.nullcontext():
        with stage_progress(not quiet and err.is_terminal) as display:
            results = run_pipeline(
                source,
                settings=settings,
                read=read,
                on_stage=display,
                engine=engine,
                spark_master=spark_master,
                on_engine=display.watch if display else None,
                on_result=early.add if early is not None else None,
            )
        target = write_results(results, out_dir, force=force, extra=extra, notes=late)
    results = dataclasses.replace(results, notes=(*results.notes, *late))
    if not quiet:
        print_summary(results, target)
        report = written[0]
        out.print(
            f"Report: [bold]{escape(str(target / report.html.name))}[/bold] "
            f"(and {report.markdown.name}; built in {report.seconds:.1f} s)",
            soft_wrap=True,
        )
    return target


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A results folder written by custlens run.")],
    config: Annotated[
        Path | None,
        typer.Option(help="custlens.toml whose [report] rules replace the run's (default: kept)."),
    ] = None,
) -> None:
    """Re-render report.html and report.md from a results folder (nothing is recomputed)."""
    import dataclasses

    from custlens.pipeline import Results
    from custlens.report.write import write_report

    try:
        with resource_errors("the report", f"folder {folder}"):
            results = Results.from_folder(folder)
            if config is not None:
                report_cfg = flags.settings(config, maps=[], overrides={}).report
                settings = results.settings.model_copy(update={"report": report_cfg})
                results = dataclasses.replace(results, settings=settings)
            written = write_report(results, folder)
    except CustlensError as exc:
        fail(exc)
    out.print(
        f"Report: [bold]{escape(str(written.html.resolve()))}[/bold] (and {written.markdown.name})",
        soft_wrap=True,
    )


@app.command()
def generate(
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="File to write: .parquet, .csv or .csv.gz.")
    ],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 2000,
    seed: Annotated[
        int, typer.Option(help="Random seed (0 to 4294967295).", min=0, max=MAX_SEED)
    ] = 0,
) -> None:
    """Write a realistic synthetic order log (Online Retail layout) and its ground truth."""
    from custlens.datasets import write_synthetic

    try:
        with resource_errors("writing the data", f"file {out_path}"):
            flags.check_customers(customers)
            info = write_synthetic(out_path, customers, seed=seed)
    except CustlensError as exc:
        fail(exc)
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
    seed: Annotated[
        int, typer.Option(help="Random seed (0 to 4294967295).", min=0, max=MAX_SEED)
    ] = 0,
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
        fail(exc)


@app.command()
def score(
    models_dir: Annotated[Path, typer.Argument(help="The models/ folder of an earlier run.")],
    source: SourceArg,
    out_dir: OutOpt,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date.")] = None,
    cleaning: Annotated[
        str | None,
        typer.Option(help="Cleaning mode: default or minimal (as the models' training run)."),
    ] = None,
    table: TableOpt = None,
    sheet: SheetOpt = None,
    no_header: NoHeaderOpt = False,
    columns: ColumnsOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    date_format: DateFormatOpt = None,
    map_: MapOpt = None,
    preset: PresetOpt = None,
    config: ConfigOpt = None,
    force: ForceOpt = False,
) -> None:
    """Score the customers of NEW data with models saved by an earlier `custlens run`."""
    from custlens.exports import check_output_dir, write_results
    from custlens.outputs import check_not_overlapping
    from custlens.pipeline import score as score_pipeline

    try:
        with resource_errors("the scoring", f"folder {out_dir}"):
            settings = flags.settings(
                config,
                maps=map_ or [],
                overrides={
                    "as_of": flags.parse_date(as_of, "--as-of"),
                    "cleaning.mode": cleaning,
                    "mapping.preset": preset,
                },
            )
            read = flags.read_options(
                table=table,
                sheet=sheet,
                no_header=no_header,
                columns=columns,
                delimiter=delimiter,
                decimal=decimal,
                encoding=encoding,
                date_format=date_format,
            )
            check_not_overlapping(out_dir, [source], what="the input")
            check_not_overlapping(out_dir, [models_dir], what="the models folder")
            check_output_dir(out_dir, force=force)
            results = score_pipeline(models_dir, source, settings=settings, read=read)
            target = write_results(results, out_dir, force=force)
    except CustlensError as exc:
        fail(exc)
    print_score_summary(results, models_dir, target)


@app.command(name="app")
def app_command(
    path: Annotated[
        Path | None,
        typer.Argument(help="A results folder to open, or a data file to read where it lies."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (default: a free one).")] = 0,
    config: ConfigOpt = None,
) -> None:
    """Start the web app (needs custlens\\[app]): upload, map columns, run, explore, download."""
    import os

    # the app is a program of its own (custlens.app, a sibling layer): started, not imported
    argv = [sys.executable, "-m", "custlens.app", "--host", host, "--port", str(port)]
    if config is not None:
        argv += ["--config", str(config)]
    if path is not None:
        argv.append(str(path))
    sys.stdout.flush()
    os.execv(sys.executable, argv)


# the customer-table commands register themselves on the same app
from custlens.cli import customer_tables  # noqa: E402, F401


def _terminate(signum: int, frame: object) -> None:  # pragma: no cover - a signal
    raise KeyboardInterrupt  # SIGTERM ends a run like Ctrl-C: staging files are removed


def interrupted(exc: BaseException | None) -> bool:
    """True when ``exc`` is, or was caused by, an interruption (Ctrl-C or SIGTERM): DuckDB
    turns one that arrives during a query into ``RuntimeError: Query interrupted``."""
    return any(isinstance(e, KeyboardInterrupt) for e in exception_chain(exc))


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except Exception as exc:
        if not interrupted(exc):
            raise
        err.print("Interrupted.")
        sys.exit(130)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
