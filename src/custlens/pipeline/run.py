"""Run the stages in order: load -> clean -> customer table -> segments -> the registry's stages.

Callers observe progress through an optional ``on_stage(name, event)`` callback; the pipeline
itself never prints.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from typing import Any

import ibis
import pandas as pd

from custlens.config import RFM_BINS, Settings, load_settings
from custlens.errors import ConfigError, CustlensError, DataError, MappingError
from custlens.features.query import FeatureQuery, feature_query
from custlens.features.rfm import resolve_as_of
from custlens.io.clean import Cleaned, clean
from custlens.io.frames import to_rounded_frame
from custlens.io.load import load
from custlens.io.materialize import materialize
from custlens.io.options import ReadOptions
from custlens.pipeline.engines import check_engine, spark_source, to_local_lines
from custlens.pipeline.memory import ResidentSampler, peak_rss_mb, release_free_memory
from custlens.pipeline.notices import routed_warnings
from custlens.pipeline.registry import ANALYSES, selected
from custlens.pipeline.results import Results, SourceInfo
from custlens.pipeline.stage import StageContext, StageResult
from custlens.segment.rfm_segments import (
    describe_segments,
    score_distribution,
    score_notes,
    score_rfm,
    segment_summary,
)

log = logging.getLogger(__name__)

CORE_STAGES = ("load", "clean", "customer table", "segments")
StageCallback = Callable[[str, str], None]
EngineCallback = Callable[[Any], None]
ResultCallback = Callable[[Results], None]

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
    """Each stage's seconds, the memory high-water mark at its end (``peak_mb``: a stage whose
    value is above the previous stage's raised the process's peak) and its own resident memory
    (``resident_mb``: on entry and the largest sampled while it ran, MiB)."""

    def __init__(self, on_stage: StageCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self.resident_mb: dict[str, dict[str, float]] = {}
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._on_stage:
            self._on_stage(name, "start")
        start = time.perf_counter()
        with ResidentSampler() as resident:
            yield
        release_free_memory()  # the next stage's peak does not stack on this one's freed heap
        self.seconds[name] = time.perf_counter() - start
        peak = peak_rss_mb()
        if peak is not None:
            self.peak_mb[name] = peak
        if resident.before is not None and resident.max is not None:
            self.resident_mb[name] = {
                "before": round(resident.before, 1),
                "max": round(resident.max, 1),
            }
        log.info("stage %s took %.3f s", name, self.seconds[name])
        if self._on_stage:
            self._on_stage(name, "end")


def _deterministic(frame: pd.DataFrame) -> pd.DataFrame:
    """Round floats to 9 decimals: parallel sums may differ in the last bits between runs, and
    the same input must give the same outputs (a value shown as 7.85 must not flip to 7.8)."""
    floats = frame.select_dtypes("float").columns
    if len(floats):
        frame[floats] = frame[floats].round(9)
    return frame


def _scored(features: FeatureQuery, settings: Settings) -> ibis.Table:
    """The customer table with its RFM scores after its own columns and before the behavioural
    ones. The scores' ranks run over the three columns they read and are joined back by
    customer: ranking the whole table sorted every one of its ~80 columns three times."""
    table, behavioral = features.table, features.behavioral_columns
    narrow = table.select("customer_id", "recency_days", "frequency", "monetary")
    scores = score_rfm(narrow, settings.rfm)
    added = [c for c in scores.columns if c not in narrow.columns]
    scores = scores.select(*added, _scored_id=scores.customer_id)
    joined = table.join(scores, table.customer_id == scores._scored_id)
    own = [c for c in table.columns if c not in behavioral]
    return joined.select(*own, *added, *behavioral)


@dataclass
class Prepared:
    """The core of every run: loaded and cleaned lines, the customer table with its segments."""

    source: SourceInfo
    transactions: ibis.Table
    cleaned: Cleaned
    as_of: date
    customers: pd.DataFrame
    segment_summary: pd.DataFrame
    score_distribution: pd.DataFrame
    loaded_rows: int | None
    notes: list[str]
    clock: _Clock

    def results(
        self,
        settings: Settings,
        customers: pd.DataFrame,
        stages: dict[str, StageResult] | None = None,
        skipped: dict[str, str] | None = None,
    ) -> Results:
        report = self.cleaned.report
        return Results(
            source=self.source,
            settings=settings,
            as_of=self.as_of,
            quality=report,
            customers=customers,
            segment_summary=self.segment_summary,
            stage_seconds=dict(self.clock.seconds),
            stage_peak_mb=dict(self.clock.peak_mb),
            stage_resident_mb={k: dict(v) for k, v in self.clock.resident_mb.items()},
            stage_rows={
                "loaded": self.loaded_rows if self.loaded_rows is not None else report.rows_in,
                "purchases": report.rows_out,
                "returns": report.returns_rows,
                "customers": len(customers),
            },
            stages=stages or {},
            skipped=skipped or {},
            notes=tuple(self.notes),
            score_distribution=self.score_distribution,
            versions=package_versions(),
        )


def _point_to_profile(exc: MappingError, source: Any, read: ReadOptions | None) -> None:
    """Raise a clearer error when the source is clearly a customer table (one row per customer)."""
    from custlens.io.readers import read_table
    from custlens.profile.roles import looks_like_customer_table

    try:
        sample = read_table(source, read).table.limit(100_000).to_pandas()
    except CustlensError:
        return
    why = looks_like_customer_table(sample)
    if why is not None:
        raise MappingError(
            f"This looks like a customer table, one row per customer ({why}), not an order log",
            where=exc.where,
            fix="profile it with `custlens profile SOURCE --out DIR` (custlens.profile in "
            "Python); `custlens run` needs one row per order line with customer, date and amount",
        ) from None


def _stored(cleaned: Cleaned) -> Cleaned:
    """``cleaned`` with its purchases and returns stored (DuckDB): on the stored lines they are
    derived by joining the few lines rules 5-6 remove, again in every query that reads them."""
    return dataclasses.replace(
        cleaned,
        purchases=materialize(cleaned.purchases, "purchases"),
        returns=materialize(cleaned.returns, "returns"),
    )


def prepare(
    source: Any,
    settings: Settings,
    *,
    with_features: bool,
    read: ReadOptions | None = None,
    con: Any = None,
    on_stage: StageCallback | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    on_engine: EngineCallback | None = None,
    store_cleaned: bool = False,
) -> Prepared:
    """Load, clean, build the customer table (with the behavioural features when asked) and
    segment it: what every stage and ``score`` start from. ``engine="spark"`` reads ``source``
    (a Parquet/CSV path, or ``read.table``) in a Spark session and runs these steps there."""
    clock = _Clock(on_stage)
    early: list[str] = []  # warnings while loading, cleaning and segmenting
    engine_notes: list[str] = []
    with routed_warnings("load and clean", early):
        if engine == "spark":
            with clock.stage("spark session"):
                source, note = spark_source(source, read, settings, spark_master)
                engine_notes.append(note)
        with clock.stage("load"):
            try:
                src = load(source, mapping=settings.mapping, con=con, options=read)
            except MappingError as exc:
                _point_to_profile(exc, source, read)
                raise
            if on_engine is not None:  # before the long queries start (progress bars)
                on_engine(src.table._find_backend(use_default=True))
            # read, parsed and coerced once: cleaning, the order anomalies and the backtest each
            # read the canonical lines again. On DuckDB cleaning stores them (with its row-level
            # flags); other engines cache them here.
            transactions = src.table
            if getattr(src.con, "name", None) != "duckdb":
                transactions = materialize(transactions, "transactions")
        with clock.stage("clean"):
            cleaned = clean(transactions, settings.cleaning)
            if cleaned.lines is not None:
                transactions = cleaned.lines
                if store_cleaned:  # read by many queries: stored once, not derived each time
                    cleaned = _stored(cleaned)
        with clock.stage("customer table"):
            resolved_as_of = resolve_as_of(cleaned.purchases, settings.as_of, span=cleaned.span)
            # one query, compiled once per run for every date the run needs it at (the
            # predictions' backtests reuse it); its rows are kept for the final scoring
            features = feature_query(
                cleaned.purchases,
                cleaned.returns,
                resolved_as_of,
                settings.features,
                behavioral=with_features,
                keep=True,
            )
            skipped_features = features.skipped
            customers = to_rounded_frame(_scored(features, settings).order_by("customer_id"))
        if len(customers) < RFM_BINS:
            raise DataError(
                f"RFM quintile scores need at least {RFM_BINS} customers with purchases before "
                f"{resolved_as_of}; found {len(customers)}",
                where=src.origin,
                fix="run on the full order log (all customers)"
                + (
                    f", or choose a later --as-of date (the purchases run to {cut:%Y-%m-%d})"
                    if (cut := _cut_off_purchases(settings, cleaned)) is not None
                    else "; each customer id is one customer, so check its mapping too"
                ),
            )
        with clock.stage("segments"):
            customers = describe_segments(customers, settings.rfm)
            summary = segment_summary(customers, settings.rfm)
            distribution = score_distribution(customers)
    return Prepared(
        source=SourceInfo(src.origin, src.sha256, dict(src.mapping)),
        transactions=transactions,
        cleaned=cleaned,
        as_of=resolved_as_of,
        customers=customers,
        segment_summary=summary,
        score_distribution=distribution,
        loaded_rows=src.counted_rows,
        notes=[
            *engine_notes,
            *src.notes,
            *(f"feature skipped: {s}" for s in skipped_features),
            *score_notes(distribution),
            *early,
        ],
        clock=clock,
    )


def _cut_off_purchases(settings: Settings, cleaned: Cleaned) -> datetime | None:
    """The last purchase's time when the as-of date the user chose leaves it out, else None."""
    span = cleaned.span
    if settings.as_of is None or span is None or span.last is None:
        return None
    return span.last if span.last.date() >= settings.as_of else None


def run(
    source: Any,
    *,
    settings: Settings | None = None,
    config_path: str | None = None,
    as_of: date | None = None,
    read: ReadOptions | None = None,
    con: Any = None,
    on_stage: StageCallback | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    on_engine: EngineCallback | None = None,
    on_result: ResultCallback | None = None,
) -> Results:
    """Run the whole pipeline: load, clean, customer table, RFM segments, then every selected
    analysis stage of the registry (personas, anomalies, timing, predictions ...).

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame, pyarrow.Table or ibis.Table
        An order log: a file, a database table (with ``read.table``), a URL or a table in memory.
    settings : Settings, optional
        Every setting of the run (default: ``custlens.toml`` in the working folder, if any, else
        the defaults). ``settings.analyses`` selects the stages (None: all).
    config_path : str, optional
        A ``custlens.toml`` to read when ``settings`` is not given.
    as_of : date, optional
        Compute the customers as of this day (default: the day after the last order).
    read : ReadOptions, optional
        How to read the source.
    con : ibis connection, optional
        The engine (default: a private in-process DuckDB; a PySpark session works too).
    on_stage : callable, optional
        ``on_stage(name, "start" | "end")`` for progress reports.
    engine : {"duckdb", "spark"}
        ``"spark"``: read ``source`` (a Parquet/CSV path, or the Spark/Hive table
        ``read.table``) in a Spark session and load, clean and build the customer table there
        (``settings.spark`` configures the session; see docs/scaling.md).
    spark_master : str, optional
        The Spark master URL (overrides ``settings.spark.master``).
    on_engine : callable, optional
        ``on_engine(con)`` is called with the Ibis connection the lines were loaded into,
        before the long queries run on it, and again when they move to another one (Spark's
        lines copied to DuckDB); the CLI polls it for progress bars.
    on_result : callable, optional
        ``on_result(results)`` after each stage that ran, with the results so far (the customer
        table with the columns of the stages so far); the CLI draws that stage's figures while
        the next stages run. It must not change what it is given.

    Returns
    -------
    Results
        The customer table, segment summary, quality report and each stage's typed result in
        ``results.stages``; stages that could not run on these data are in ``results.skipped``.

    Raises
    ------
    InputError, MappingError
        The source cannot be read or mapped.
    ConfigError
        Invalid settings (e.g. an unknown analysis).
    DataError
        Nothing is left to analyse (e.g. fewer than five customers), or an explicit backtest
        cutoff the data cannot support.

    Examples
    --------
    >>> import custlens
    >>> orders = custlens.datasets.synthetic(300, seed=4).orders
    >>> results = custlens.run(orders, settings=custlens.Settings(analyses=["timing"]))
    >>> list(results.stages)
    ['timing']
    >>> int(results.segment_summary["customers"].sum()) == len(results.customers)
    True
    """
    check_engine(engine, spark_master=spark_master)
    if engine == "spark" and con is not None:
        raise ConfigError(
            "engine='spark' starts its own Spark session; con cannot be given with it",
            where="con",
            fix="drop con (settings.spark configures the session), or pass a Spark table "
            "as the source with the default engine",
        )
    if settings is None:
        settings = load_settings(config_path)
    if as_of is not None:
        settings = settings.with_overrides(as_of=as_of)
    chosen = list(ANALYSES) if settings.analyses is None else settings.analyses
    stages, with_features = selected(chosen)
    core = prepare(
        source,
        settings,
        with_features=with_features,
        read=read,
        con=con,
        on_stage=on_stage,
        engine=engine,
        spark_master=spark_master,
        on_engine=on_engine,
        store_cleaned=any(s.reads_lines for s in stages),
    )
    customers = core.customers
    transactions, cleaned = core.transactions, core.cleaned
    local = settings.spark.line_analyses == "duckdb"
    if engine == "spark" and local and any(s.reads_lines for s in stages):
        with core.clock.stage("lines to DuckDB"):
            transactions, cleaned = to_local_lines(transactions, cleaned)
        if on_engine is not None:
            on_engine(transactions._find_backend(use_default=True))
    results: dict[str, StageResult] = {}
    skipped: dict[str, str] = {}
    for declared in stages:
        ctx = StageContext(
            customers=customers,
            transactions=transactions,
            cleaned=cleaned,
            as_of=core.as_of,
            settings=settings,
            earlier=dict(results),
        )
        with core.clock.stage(declared.name):
            try:
                with routed_warnings(declared.name, core.notes):
                    added, result = declared.load_runner()(ctx)
                    core.notes.extend(result.notes)  # before the warnings that repeat them
            except CustlensError as exc:
                if declared.strict(settings):
                    raise
                log.info("%s skipped: %s", declared.name, exc.what)  # a note, shown by the CLI
                skipped[declared.name] = exc.what
                core.notes.append(f"{declared.name} skipped: {exc.what}")
                continue
        results[declared.name] = result
        for table in result.tables.values():  # parallel sums differ in the last bits
            _deterministic(table)
        if added is not None:
            customers = pd.concat([customers, _deterministic(added.copy())], axis=1)
        if on_result is not None:
            on_result(
                core.results(settings.with_overrides(analyses=chosen), customers, dict(results))
            )
    return core.results(settings.with_overrides(analyses=chosen), customers, results, skipped)
