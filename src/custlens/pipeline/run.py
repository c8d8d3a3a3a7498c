"""Run the stages in order: load -> clean -> customer table -> segments -> analyses.

Callers observe progress through an optional ``on_stage(name, event)`` callback; the pipeline
itself never prints.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from importlib import metadata
from typing import Any

import pandas as pd

from custlens.config import RFM_BINS, Settings, load_settings
from custlens.errors import CustlensError, DataError
from custlens.features.behavioral import behavioral_features
from custlens.features.rfm import customer_table, resolve_as_of
from custlens.io.clean import clean
from custlens.io.frames import to_frame
from custlens.io.load import load
from custlens.io.materialize import materialize
from custlens.io.options import ReadOptions
from custlens.pipeline.results import Results, Understanding
from custlens.segment.rfm_segments import describe_segments, score_rfm, segment_summary

log = logging.getLogger(__name__)

STAGES = (
    "load",
    "clean",
    "customer table",
    "segments",
    "personas",
    "anomalies",
    "timing",
    "predictions",
)
StageCallback = Callable[[str, str], None]

_VERSIONED_PACKAGES = (
    "custlens",
    "ibis-framework",
    "duckdb",
    "pandas",
    "pyarrow",
    "numpy",
    "scikit-learn",
    "lightgbm",
    "pydantic",
)


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


def guarded(stage: str, func: Callable[[], tuple]) -> tuple[pd.DataFrame | None, dict]:
    """Run an optional analysis; a data problem skips it with a note instead of failing the run."""
    try:
        return func()
    except CustlensError as exc:
        log.warning("%s skipped: %s", stage, exc.what)
        return None, {"notes": (f"{stage} skipped: {exc.what}",)}


def _deterministic(frame: pd.DataFrame) -> pd.DataFrame:
    """Round floats to 9 decimals: parallel sums may differ in the last bits between runs, and
    the same input must give the same outputs (a value shown as 7.85 must not flip to 7.8)."""
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats].round(9)
    return frame


def run(
    source: Any,
    *,
    settings: Settings | None = None,
    config_path: str | None = None,
    as_of: date | None = None,
    read: ReadOptions | None = None,
    con: Any = None,
    on_stage: StageCallback | None = None,
) -> Results:
    """Run the whole pipeline on ``source`` (a path, URL, DataFrame, Arrow or Ibis table)."""
    if settings is None:
        settings = load_settings(config_path)
    if as_of is not None:
        settings = settings.with_overrides(as_of=as_of)
    analyses = set(settings.analyses)
    if analyses & {"personas", "anomalies"}:
        analyses.add("features")
    clock = _Clock(on_stage)

    with clock.stage("load"):
        src = load(source, mapping=settings.mapping, con=con, options=read)
        # read, parsed and coerced once: cleaning, the order anomalies and the backtest each
        # read the canonical lines again
        transactions = materialize(src.table, "transactions")
    with clock.stage("clean"):
        cleaned = clean(transactions, settings.cleaning)
    with clock.stage("customer table"):
        resolved_as_of = resolve_as_of(cleaned.purchases, settings.as_of)
        expr = score_rfm(
            customer_table(cleaned.purchases, cleaned.returns, resolved_as_of), settings.rfm
        )
        skipped: tuple[str, ...] = ()
        if "features" in analyses:
            feats = behavioral_features(
                cleaned.purchases, cleaned.returns, as_of=resolved_as_of, config=settings.features
            )
            expr = expr.left_join(feats.table, "customer_id").drop("customer_id_right")
            skipped = tuple(feats.skipped)
        customers = _deterministic(to_frame(expr.order_by("customer_id")))
    if len(customers) < RFM_BINS:
        raise DataError(
            f"RFM quintile scores need at least {RFM_BINS} customers with purchases before "
            f"{resolved_as_of}; found {len(customers)}",
            where=src.origin,
            fix="run on the full order log (all customers), or choose a later --as-of date",
        )
    with clock.stage("segments"):
        customers = describe_segments(customers, settings.rfm)
        summary = segment_summary(customers, settings.rfm)

    parts: dict[str, Any] = {"features_skipped": skipped}
    predicted = None
    notes: list[str] = [f"feature skipped: {s}" for s in skipped]
    added: list[pd.DataFrame] = []
    # imported only when an analysis runs: they pull in scikit-learn and LightGBM
    if analyses & {"personas", "anomalies", "timing"}:
        from custlens.pipeline import understand
    if "predictions" in analyses:
        from custlens.pipeline import predict
    stages = (
        ("personas", lambda: understand.personas(customers, settings)),
        (
            "anomalies",
            lambda: understand.anomalies(customers, transactions, resolved_as_of, settings),
        ),
        ("timing", lambda: understand.timing(customers, cleaned.purchases, settings)),
        (
            "predictions",
            lambda: predict.predictions(
                customers,
                cleaned.purchases,
                cleaned.returns,
                resolved_as_of,
                settings,
                transactions=transactions,
            ),
        ),
    )
    for name, func in stages:
        if name not in analyses:
            continue
        with clock.stage(name):
            # An explicit --cutoff that cannot work is the user's error; an automatic one that
            # the data cannot support only skips predictions, with a note.
            if name == "predictions" and settings.models.cutoff is not None:
                columns_added, found = func()
            else:
                columns_added, found = guarded(name, func)
        notes.extend(found.pop("notes", ()))
        predicted = found.pop("predictions", predicted)
        parts.update(found)
        if columns_added is not None:
            added.append(columns_added)
    if added:
        customers = pd.concat([customers, *added], axis=1)

    report = cleaned.report
    return Results(
        source=src,
        settings=settings,
        as_of=resolved_as_of,
        quality=report,
        customers=customers,
        segment_summary=summary,
        stage_seconds=dict(clock.seconds),
        stage_rows={
            "loaded": src.counted_rows if src.counted_rows is not None else report.rows_in,
            "purchases": report.rows_out,
            "returns": report.returns_rows,
            "customers": len(customers),
        },
        understanding=Understanding(notes=tuple(notes), **parts),
        predictions=predicted,
        cleaned_purchases=cleaned.purchases,
        cleaned_returns=cleaned.returns,
        notes=tuple(src.notes),
        versions=package_versions(),
    )
