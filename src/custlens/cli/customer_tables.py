"""Commands on customer-level tables: ``custlens audit`` and ``custlens profile``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from custlens.cli import flags
from custlens.cli.common import (
    ColumnsOpt,
    ConfigOpt,
    DecimalOpt,
    DelimiterOpt,
    EncodingOpt,
    ForceOpt,
    NoHeaderOpt,
    OutOpt,
    SheetOpt,
    TableOpt,
    app,
    fail,
    resource_errors,
)
from custlens.cli.console import out
from custlens.config.base import MAX_SEED
from custlens.errors import CustlensError


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
    tie_break: Annotated[
        str | None,
        typer.Option(
            "--tie-break",
            help="With --latest-by: among rows of one date keep the largest value of this "
            "column (default: the last row in file order).",
        ),
    ] = None,
    customer_col: Annotated[
        str | None, typer.Option("--customer-col", help="Customer id column (default: detected).")
    ] = None,
    table: TableOpt = None,
    sheet: SheetOpt = None,
    no_header: NoHeaderOpt = False,
    columns: ColumnsOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    config: ConfigOpt = None,
    seed: Annotated[
        int, typer.Option(help="Random seed (0 to 4294967295).", min=0, max=MAX_SEED)
    ] = 0,
    force: ForceOpt = False,
) -> None:
    """Find customers the current segmentation misjudges, and what would explain them."""
    from custlens.outputs import check_not_overlapping, check_output_dir
    from custlens.pipeline import audit as run_audit
    from custlens.report.audit_markdown import is_audit_folder, write_audit

    try:
        with resource_errors("the audit", f"folder {out_dir}"):
            check_not_overlapping(out_dir, [source], what="the input")
            check_output_dir(out_dir, is_ours=is_audit_folder, force=force)
            result = run_audit(
                source,
                segment=segment,
                metric=metric,
                threshold=threshold,
                relative=relative,
                latest_by=latest_by,
                tie_break=tie_break,
                customer_col=customer_col,
                seed=seed,
                config_path=config,
                read=flags.read_options(
                    table=table,
                    sheet=sheet,
                    no_header=no_header,
                    columns=columns,
                    delimiter=delimiter,
                    decimal=decimal,
                    encoding=encoding,
                ),
            )
            target = write_audit(result, out_dir, force=force)
    except CustlensError as exc:
        fail(exc)
    out.print(
        f"{result.headline()} deviate from their segment's mean {escape(metric)} "
        f"by more than {threshold:g}{' (relative)' if relative else ''}."
    )
    out.print(result.conclusion, highlight=False, markup=False)
    out.print(
        f"Audit written to [bold]{escape(str(target))}[/bold] (audit.html, audit.md)",
        soft_wrap=True,
    )


@app.command()
def profile(
    source: Annotated[
        str, typer.Argument(help="Customer-level table: a file, database file or Ibis URL.")
    ],
    out_dir: OutOpt,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="Column role override column=role, repeatable."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Age and tenure as of this date (YYYY-MM-DD).")
    ] = None,
    table: TableOpt = None,
    sheet: SheetOpt = None,
    no_header: NoHeaderOpt = False,
    columns: ColumnsOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    config: ConfigOpt = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (0 to 4294967295).", min=0, max=MAX_SEED)
    ] = None,
    figures: Annotated[str, typer.Option(help="Figure format: png, svg or none.")] = "png",
    force: ForceOpt = False,
) -> None:
    """Profile a customer table (one row per customer): roles, personas, statistics, scores."""
    from custlens.outputs import check_not_overlapping, check_output_dir
    from custlens.pipeline.profile import profile as run_profile
    from custlens.report.profile_markdown import is_profile_folder, write_profile

    try:
        with resource_errors("the profile", f"folder {out_dir}"):
            flags.check_figures(figures)
            roles = flags.parse_roles(role or [])
            check_not_overlapping(out_dir, [source], what="the input")
            check_output_dir(out_dir, is_ours=is_profile_folder, force=force)
            result = run_profile(
                source,
                roles=roles,
                as_of=flags.parse_date(as_of, "--as-of"),
                seed=seed,
                config_path=config,
                read=flags.read_options(
                    table=table,
                    sheet=sheet,
                    no_header=no_header,
                    columns=columns,
                    delimiter=delimiter,
                    decimal=decimal,
                    encoding=encoding,
                ),
            )
            target = write_profile(result, out_dir, figures=figures, force=force)
    except CustlensError as exc:
        fail(exc)
    id_col = result.id_column
    roles_by = result.roles["columns"]
    from custlens.config.profile import ROLES

    for kind in ROLES:
        names = [c for c, info in roles_by.items() if info["role"] == kind]
        if names:
            out.print(f"{kind}: {', '.join(names)}", highlight=False, markup=False)
    for line in result.headline():
        out.print(line, highlight=False, markup=False)
    out.print(
        f"Profile of {len(result.customers):,} customers (id {escape(id_col)}) written to "
        f"[bold]{escape(str(target))}[/bold] (profile.md, roles.json)"
    )
