"""What every command shares: the Typer app, the error printer and the common options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from custlens.cli.console import err
from custlens.errors import CustlensError, resource_error

app = typer.Typer(
    name="custlens",
    help="Customer intelligence from order logs: clean data, RFM segments and CRM lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(exc: CustlensError) -> None:
    # user text (paths, column names, values) is printed literally, never as console markup
    err.print(f"[bold red]Error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


@contextmanager
def resource_errors(doing: str, output: str | None = None) -> Iterator[None]:
    """A full disk (DuckDB's spill files, working copies of the data, the output) or an engine
    out of memory while ``doing`` becomes one clear :class:`custlens.errors.ResourceError`
    instead of a traceback; staging folders are removed by the code that made them."""
    try:
        yield
    except Exception as exc:
        failure = resource_error(exc, doing=doing, output=output)
        if failure is None:
            raise
        raise failure from exc


SourceArg = Annotated[
    str, typer.Argument(help="File (csv, csv.gz, parquet, xlsx, jsonl), database file or Ibis URL.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (written atomically).")]
TableOpt = Annotated[
    str | None, typer.Option(help="Table name in a SQLite/DuckDB file or database URL.")
]
ConfigOpt = Annotated[Path | None, typer.Option(help="custlens.toml settings file.")]

# How to read the source (custlens.io.options.ReadOptions): one definition, given to every command
# that reads one (run, score, profile, audit), so that the fix of a read error, which may name any
# of them, names options the command has.
SheetOpt = Annotated[
    str | None, typer.Option(help="Excel sheet (default: all sheets with the same header).")
]
NoHeaderOpt = Annotated[bool, typer.Option("--no-header", help="The file has no header row.")]
ColumnsOpt = Annotated[
    str | None, typer.Option(help="Column names for --no-header, comma-separated.")
]
DelimiterOpt = Annotated[str | None, typer.Option(help="CSV delimiter (default: sniffed).")]
DecimalOpt = Annotated[
    str | None,
    typer.Option(help="Decimal separator of the numbers in a CSV: . or , (default: .)."),
]
EncodingOpt = Annotated[
    str | None, typer.Option(help="Text encoding (default: UTF-8, else Latin-1).")
]
# order logs only (io.load converts their order dates)
DateFormatOpt = Annotated[
    str | None, typer.Option(help="strptime format of the date column, e.g. %d/%m/%Y %H:%M.")
]
# order logs' column mapping (run, score)
MapOpt = Annotated[
    list[str] | None, typer.Option("--map", help="Column mapping canonical=source, repeatable.")
]
PresetOpt = Annotated[
    str | None, typer.Option(help="Column preset: online_retail, online_retail_ii, simple.")
]
ForceOpt = Annotated[
    bool, typer.Option(help="Replace a non-empty output folder custlens did not write.")
]
