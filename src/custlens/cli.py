"""Command line: ``custlens run | demo | generate``.

Bad input never shows a traceback: every ``CustlensError`` is printed as one clear message and the
process exits with code 2, leaving no output files behind.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from custlens.config import load_settings
from custlens.errors import ConfigError, CustlensError

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
    err.print(f"[bold red]Error:[/bold red] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


@contextmanager
def _stage_progress(enabled: bool) -> Iterator[object]:
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
    tasks: dict[str, int] = {}

    def on_stage(name: str, event: str) -> None:
        if event == "start":
            tasks[name] = progress.add_task(name, total=1)
        else:
            progress.update(tasks[name], completed=1, description=f"[green]{name}[/green]")

    with progress:
        yield on_stage


def _parse_maps(maps: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in maps:
        canonical, sep, column = item.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise ConfigError(
                f"--map {item!r} is not of the form canonical=column",
                where="--map",
                fix="write e.g. --map customer_id=Kunde --map amount=Umsatz",
            )
        parsed[canonical.strip()] = column.strip()
    return parsed


def _print_summary(results, target: Path) -> None:
    for line in results.quality.summary_lines():
        out.print(line, highlight=False, markup=False)
    table = Table(title=f"Segments as of {results.as_of}", show_lines=False)
    for col in ("segment", "customers", "share", "revenue share", "avg monetary"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for row in results.segment_summary.itertuples(index=False):
        table.add_row(
            str(row.segment),
            f"{row.customers:,}",
            f"{row.share:.1%}",
            f"{row.revenue_share:.1%}",
            f"{row.avg_monetary:,.2f}",
        )
    out.print(table)
    u = results.understanding
    if u.personas is not None:
        sizes = results.customers["persona"].value_counts()
        out.print("Personas: " + ", ".join(f"{n} ({c:,})" for n, c in sizes.items()))
        out.print(u.k_reason, highlight=False)
    if u.explanation is not None:
        out.print(f"Surrogate tree fidelity: {u.explanation.fidelity:.1%}")
    if u.anomaly_threshold is not None:
        n = int(results.customers["is_anomaly"].sum())
        out.print(f"Anomalous customers: {n:,} (see anomalies/customers.csv)")
    for note in u.notes:
        if "skipped" in note:
            out.print(f"Note: {note}", highlight=False, markup=False)
    out.print(f"Results written to [bold]{target}[/bold]")


SourceArg = Annotated[
    str, typer.Argument(help="File (csv, csv.gz, parquet, xlsx, jsonl), database file or Ibis URL.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (written atomically).")]


@app.command()
def run(
    source: SourceArg,
    out_dir: OutOpt,
    table: Annotated[
        str | None, typer.Option(help="Table name in a SQLite/DuckDB file or database URL.")
    ] = None,
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
    config: Annotated[Path | None, typer.Option(help="custlens.toml settings file.")] = None,
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
    force: Annotated[
        bool, typer.Option(help="Replace a non-empty output folder custlens did not write.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run the pipeline on SOURCE and write results into --out."""
    try:
        _run(
            source,
            out_dir,
            table=table,
            sheet=sheet,
            no_header=no_header,
            columns=columns,
            delimiter=delimiter,
            encoding=encoding,
            date_format=date_format,
            maps=map_ or [],
            preset=preset,
            config=config,
            cleaning=cleaning,
            as_of=as_of,
            date_from=date_from,
            date_to=date_to,
            countries=country,
            seed=seed,
            force=force,
            quiet=quiet,
            cutoff=cutoff,
            horizon=horizon,
            analyses=analyses,
            figures=figures,
        )
    except CustlensError as exc:
        _fail(exc)


def _parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{flag} {value!r} is not a date", where=flag, fix="write the date as YYYY-MM-DD"
        ) from None


def _parse_horizon(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().lower().removesuffix("d").removesuffix("days").strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"--horizon {value!r} is not a number of days",
            where="--horizon",
            fix="write e.g. --horizon 90d",
        )
    return int(text)


def _parse_analyses(value: str | None) -> list[str] | None:
    from custlens.config import ANALYSES

    if value is None or value.strip() == "all":
        return None
    if value.strip() == "rfm":
        return []
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in ANALYSES]
    if unknown:
        raise ConfigError(
            f"Unknown analyses {unknown}",
            where="--analyses",
            fix=f"choose from {', '.join(ANALYSES)}, or 'all', or 'rfm'",
        )
    return chosen


def _run(
    source: str,
    out_dir: Path,
    *,
    maps: list[str],
    preset,
    config,
    cleaning,
    as_of,
    date_from,
    date_to,
    countries,
    seed,
    force,
    quiet,
    columns,
    analyses: str | None = None,
    figures: str = "png",
    cutoff: str | None = None,
    horizon: str | None = None,
    **load_kw,
) -> None:
    # Imported here so that `custlens --help` stays fast.
    from custlens.exports import check_output_dir, write_results
    from custlens.pipeline import run as run_pipeline

    overrides = {
        "cleaning.mode": cleaning,
        "cleaning.date_from": _parse_date(date_from, "--date-from"),
        "cleaning.date_to": _parse_date(date_to, "--date-to"),
        "cleaning.countries": countries or None,
        "mapping.preset": preset,
        "as_of": _parse_date(as_of, "--as-of"),
        "seed": seed,
        "analyses": _parse_analyses(analyses),
        "models.cutoff": _parse_date(cutoff, "--cutoff"),
        "models.horizon_days": _parse_horizon(horizon),
    }
    if figures not in ("png", "svg", "none"):
        raise ConfigError(
            f"--figures {figures!r} is not a figure format",
            where="--figures",
            fix="choose png, svg or none",
        )
    settings = load_settings(config, **overrides)
    if maps:
        merged = {**settings.mapping.columns, **_parse_maps(maps)}
        settings = settings.with_overrides(**{"mapping.columns": merged})
    col_list = [c.strip() for c in columns.split(",")] if columns else None
    if load_kw.get("no_header") and not col_list:
        raise ConfigError(
            "--no-header needs the column names",
            where="--columns",
            fix="add --columns name1,name2,... in file order",
        )
    check_output_dir(out_dir, force=force)
    show = not quiet and err.is_terminal
    with _stage_progress(show) as on_stage:
        results = run_pipeline(
            source, settings=settings, columns=col_list, on_stage=on_stage, **load_kw
        )
    extra = None
    if figures != "none" or results.predictions is not None:
        from custlens.report.figures import write_reports  # altair: only when there is a report

        def extra(folder: Path) -> None:
            write_reports(results, folder, figures)

    target = write_results(results, out_dir, force=force, extra=extra)
    if not quiet:
        _print_summary(results, target)


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
        if customers < 1:
            raise ConfigError(
                f"--customers {customers} must be at least 1",
                where="--customers",
                fix="pass a positive number",
            )
        info = write_synthetic(out_path, customers, seed=seed)
    except CustlensError as exc:
        _fail(exc)
    out.print(
        f"Wrote {info['rows']:,} order lines for {info['customers']:,} customers to "
        f"{info['path']} (ground truth: {info['truth_path']})"
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
        data_path = folder / "data" / "orders.parquet"
        data_path.parent.mkdir(parents=True, exist_ok=True)
        info = write_synthetic(data_path, customers, seed=seed)
        out.print(
            f"Demo data: {info['rows']:,} order lines, {info['customers']:,} customers -> {data_path}"
        )
        _run(
            str(data_path),
            folder / "results",
            maps=[],
            preset=None,
            config=None,
            cleaning=None,
            as_of=None,
            date_from=None,
            date_to=None,
            countries=None,
            seed=seed,
            force=True,
            quiet=False,
            columns=None,
            table=None,
            sheet=None,
            no_header=False,
            delimiter=None,
            encoding=None,
            date_format=None,
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
    table: Annotated[
        str | None, typer.Option(help="Table name in a SQLite/DuckDB file or database URL.")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    force: Annotated[
        bool, typer.Option(help="Replace a non-empty output folder custlens did not write.")
    ] = False,
) -> None:
    """Find customers the current segmentation misjudges, and what would explain them."""
    from custlens.audit import audit_segmentation
    from custlens.config import load_settings
    from custlens.io.readers import read_table
    from custlens.outputs import check_output_dir
    from custlens.report.audit_markdown import is_audit_folder, write_audit

    try:
        check_output_dir(out_dir, is_ours=is_audit_folder, force=force)
        settings = load_settings(None)
        raw = read_table(source, table=table, sheet=sheet)
        frame = raw.table.to_pandas()
        result = audit_segmentation(
            frame,
            segment=segment,
            metric=metric,
            threshold=threshold,
            relative=relative,
            latest_by=latest_by,
            customer_col=customer_col,
            seed=seed,
            config=settings.audit,
        )
        target = write_audit(result, out_dir, force=force)
    except CustlensError as exc:
        _fail(exc)
    out.print(
        f"{result.n_anomalies:,} customers deviate from their segment's mean {metric} "
        f"by more than {threshold:g}{' (relative)' if relative else ''}."
    )
    out.print(result.conclusion, highlight=False, markup=False)
    out.print(f"Audit written to [bold]{target}[/bold] (audit.md)")


@app.command()
def score(
    models_dir: Annotated[Path, typer.Argument(help="The models/ folder of an earlier run.")],
    source: SourceArg,
    out_dir: OutOpt,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date.")] = None,
    table: Annotated[str | None, typer.Option(help="Table name in a database source.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet.")] = None,
    config: Annotated[Path | None, typer.Option(help="custlens.toml settings file.")] = None,
    force: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
) -> None:
    """Score the customers of NEW data with models saved by an earlier `custlens run`."""
    from custlens.exports import check_output_dir, write_results
    from custlens.models.persist import load_models
    from custlens.pipeline import run as run_pipeline
    from custlens.pipeline.predict import score_with_saved

    try:
        if not models_dir.is_dir():
            raise ConfigError(
                f"{str(models_dir)!r} is not a models folder",
                where=str(models_dir),
                fix="pass the models/ folder written by `custlens run`",
            )
        load_models(models_dir)  # refuse a bad folder before any work is done
        check_output_dir(out_dir, force=force)
        overrides = {"as_of": _parse_date(as_of, "--as-of"), "analyses": []}
        settings = load_settings(config, **overrides)
        results = run_pipeline(source, settings=settings, table=table, sheet=sheet)
        scores = score_with_saved(
            str(models_dir),
            results.customers,
            results.cleaned_purchases,
            results.cleaned_returns,
            results.as_of,
        )
        import pandas as pd

        scored = pd.concat([results.customers, scores], axis=1)
        results = dataclasses.replace(results, customers=scored)
        target = write_results(results, out_dir, force=force)
    except CustlensError as exc:
        _fail(exc)
    out.print(
        f"Scored {len(scored):,} customers with {models_dir}; results in [bold]{target}[/bold]"
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
