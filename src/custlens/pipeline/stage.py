"""The stage contract: what an analysis stage declares, receives and returns.

A stage is declared once in :mod:`custlens.pipeline.registry`. It receives a :class:`StageContext`
(the customer table so far, the cleaned lines, the settings and the results of earlier stages)
and returns the customer-table columns it adds and a frozen :class:`StageResult`: its tables, a
summary as data (numbers, not prose), its notes, its chart specs and any extra documents. The
exports, the figures, the CLI summary and ``Results.from_folder`` walk those results; none of them
keeps a list of stages of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import altair as alt
    import ibis
    import pandas as pd

    from custlens.config import Settings
    from custlens.io.clean import Cleaned
    from custlens.pipeline.results import Results
    from custlens.story import Section


@dataclass(frozen=True)
class StageContext:
    """What a stage may read: the run so far. Stages never change it."""

    customers: pd.DataFrame  # one row per customer: RFM, features, columns of earlier stages
    transactions: ibis.Table  # canonical lines before cleaning (materialised once)
    cleaned: Cleaned  # purchases, returns and the quality report
    as_of: date
    settings: Settings
    earlier: Mapping[str, StageResult] = field(default_factory=dict)


@dataclass(frozen=True)
class StageResult:
    """What one stage produced.

    ``tables`` are written as ``<stage>/<name>.csv`` (and as Parquet under ``parquet/`` so that a
    results folder reopens exactly); ``summary`` as ``<stage>/summary.json``; ``columns`` names
    the customer-table columns the stage added. Subclasses add typed accessors, the charts, the
    lines of the CLI summary and, when a stage has them, extra documents and files.
    """

    stage: ClassVar[str] = ""

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        """Chart specs, by name; built from the tables and summary only (never fitting models)."""
        return {}

    def headline(self, results: Results) -> list[str]:
        """Short lines for the CLI summary, from the summary's numbers."""
        return []

    def section(self, results: Results) -> Section:
        """This stage's report section as data (``custlens.story``): findings, tables, charts.

        The default shows the CLI headline lines, the first rows of every table and every chart,
        so a new stage appears in the report without more code; stages override it with
        findings (from ``results.settings.report.findings``), cards and words.
        """
        from custlens.story import Bullets, Section, chart_nodes, table_node

        limit = results.settings.report.max_table_rows
        lines = tuple(self.headline(results))
        blocks: list = [Bullets(lines)] if lines else []
        blocks += [
            table_node(
                f"{self.stage}_{name}",
                name.replace("_", " ").capitalize(),
                table,
                limit,
                source=f"{self.stage}/{name}.csv",
            )
            for name, table in self.tables.items()
        ]
        blocks += chart_nodes(self.charts(results))
        if self.notes:
            blocks.append(Bullets(tuple(self.notes), title="Notes"))
        return Section(
            id=self.stage, title=self.stage.replace("_", " ").capitalize(), blocks=tuple(blocks)
        )

    def documents(self) -> dict[str, str]:
        """Extra text documents, by path inside the results folder (e.g. a model card)."""
        return {}

    def write_files(self, folder: Path) -> None:
        """Write files that are neither tables nor documents (e.g. saved models)."""

    @classmethod
    def read_files(cls, folder: Path) -> dict[str, Any]:
        """Read back what :meth:`write_files` wrote, as extra constructor arguments."""
        return {}


StageRunner = Callable[[StageContext], "tuple[pd.DataFrame | None, StageResult]"]


@dataclass(frozen=True)
class Stage:
    """One analysis stage, declared once in the registry.

    ``runner`` and ``result`` are ``"module:name"`` references, imported only when the stage runs
    or a results folder is read (the analyses pull in scikit-learn and LightGBM). ``features``:
    the stage reads the behavioural features, so they are computed when it runs. ``needs``: the
    earlier stages whose results it reads (they run first when both are selected). ``strict``:
    given the settings, whether a data problem must fail the run instead of skipping the stage
    with a note (e.g. an explicit backtest cutoff that cannot work). ``reads_lines``: the
    stage reads order lines (``ctx.transactions`` / ``ctx.cleaned``), not only the customers.
    """

    name: str
    runner: str
    result: str
    description: str
    features: bool = False
    needs: tuple[str, ...] = ()
    strict: Callable[[Settings], bool] = field(default=lambda settings: False)
    reads_lines: bool = True

    def load_runner(self) -> StageRunner:
        return _resolve(self.runner)

    def load_result(self) -> type[StageResult]:
        return _resolve(self.result)


def _resolve(reference: str) -> Any:
    module, _, attr = reference.partition(":")
    return getattr(import_module(module), attr)
