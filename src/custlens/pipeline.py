"""The one place that runs the stages in order and returns a frozen ``Results``.

load -> clean -> customer table (as of a date) -> RFM scores and segments -> materialise.
Callers observe progress through an optional ``on_stage(name, event)`` callback; the pipeline
itself never prints.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from typing import Any

import pandas as pd

from custlens.config import RFM_BINS, Settings, load_settings
from custlens.errors import DataError
from custlens.features.rfm import customer_table, resolve_as_of
from custlens.io.clean import clean
from custlens.io.load import Source, load
from custlens.io.quality import QualityReport
from custlens.segment.rfm_segments import describe_segments, score_rfm, segment_summary

log = logging.getLogger(__name__)

STAGES = ("load", "clean", "customer table", "segments")
StageCallback = Callable[[str, str], None]

_VERSIONED_PACKAGES = (
    "custlens",
    "ibis-framework",
    "duckdb",
    "pandas",
    "pyarrow",
    "numpy",
    "scikit-learn",
    "pydantic",
)


@dataclass(frozen=True)
class Results:
    """Every table a run produced, plus what is needed to reproduce it."""

    source: Source
    settings: Settings
    as_of: date
    quality: QualityReport
    customers: pd.DataFrame
    segment_summary: pd.DataFrame
    stage_seconds: dict[str, float]
    stage_rows: dict[str, int]
    notes: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)

    def run_info(self) -> dict[str, Any]:
        """The content of ``run.json``: enough to know exactly how the results were made."""
        return {
            "tool": "custlens",
            "input": {
                "origin": self.source.origin,
                "sha256": self.source.sha256,
                "mapping": dict(self.source.mapping),
            },
            "as_of": self.as_of.isoformat(),
            "seed": self.settings.seed,
            "rows": dict(self.stage_rows),
            "seconds": {k: round(v, 4) for k, v in self.stage_seconds.items()},
            "settings": self.settings.model_dump(mode="json"),
            "versions": dict(self.versions),
            "notes": list(self.notes),
        }


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class _Clock:
    def __init__(self, on_stage: StageCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._on_stage:
            self._on_stage(name, "start")
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        log.info("stage %s took %.3f s", name, self.seconds[name])
        if self._on_stage:
            self._on_stage(name, "end")


def run(
    source: Any,
    *,
    settings: Settings | None = None,
    config_path: str | None = None,
    as_of: date | None = None,
    table: str | None = None,
    sheet: str | None = None,
    no_header: bool = False,
    columns: list[str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    date_format: str | None = None,
    con: Any = None,
    on_stage: StageCallback | None = None,
) -> Results:
    """Run the whole pipeline on ``source`` (a path, URL, DataFrame, Arrow or Ibis table)."""
    if settings is None:
        settings = load_settings(config_path)
    if as_of is not None:
        settings = settings.with_overrides(as_of=as_of)
    clock = _Clock(on_stage)

    with clock.stage("load"):
        src = load(
            source,
            mapping=settings.mapping,
            con=con,
            table=table,
            sheet=sheet,
            no_header=no_header,
            columns=columns,
            delimiter=delimiter,
            encoding=encoding,
            date_format=date_format,
        )
    with clock.stage("clean"):
        cleaned = clean(src.table, settings.cleaning)
    with clock.stage("customer table"):
        resolved_as_of = resolve_as_of(cleaned.purchases, settings.as_of)
        customers_expr = customer_table(cleaned.purchases, cleaned.returns, resolved_as_of)
    with clock.stage("segments"):
        scored = score_rfm(customers_expr, settings.rfm)
        customers = scored.order_by("customer_id").to_pandas()
        if len(customers) < RFM_BINS:
            raise DataError(
                f"RFM quintile scores need at least {RFM_BINS} customers with purchases before "
                f"{resolved_as_of}; found {len(customers)}",
                where=src.origin,
                fix="run on the full order log (all customers), or choose a later --as-of date",
            )
        customers = describe_segments(customers, settings.rfm)
        summary = segment_summary(customers, settings.rfm)

    report = cleaned.report
    stage_rows = {
        "loaded": src.rows,
        "purchases": report.rows_out,
        "returns": report.returns_rows,
        "customers": len(customers),
    }
    return Results(
        source=src,
        settings=settings,
        as_of=resolved_as_of,
        quality=report,
        customers=customers,
        segment_summary=summary,
        stage_seconds=dict(clock.seconds),
        stage_rows=stage_rows,
        notes=tuple(src.notes) + tuple(getattr(report, "notes", ()) or ()),
        versions=package_versions(),
    )
