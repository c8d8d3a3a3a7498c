"""Spark as the engine of ``custlens run --engine spark``: the session, the sources, the hand-over.

* :func:`spark_engine` gets (or starts) the SparkSession and wraps it in an Ibis connection. An
  explicit master URL wins; otherwise a session already running (spark-submit, a Databricks job)
  is used, else Spark's own defaults apply (``spark-defaults.conf``, ``MASTER``, ``local[*]``).
* :func:`read_spark` reads a Parquet or CSV path (a file or a folder of part files, local or on
  HDFS/S3/ADLS/GCS/DBFS) or a Spark/Hive table into a :class:`~custlens.io.readers.RawTable`
  that :func:`custlens.io.load` maps like any other source. CSV columns are read as text and
  typed by ``load``, exactly as the DuckDB path types them.
* :func:`to_duckdb` copies a (cleaned) Spark table into the driver's in-process DuckDB as
  Parquet in its private folder, for the analyses that run after the customer table.

PySpark is imported only when a function here is called (``pip install 'custlens[spark]'``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from custlens.config import SparkConfig
from custlens.errors import InputError, ResourceError
from custlens.io import databases, text_checks
from custlens.io.materialize import read_stored, stored_file
from custlens.io.options import ReadOptions
from custlens.io.readers import (
    DELIMITED,
    DUCKDB,
    EXCEL,
    JSON_LINES,
    PARQUET,
    SQLITE,
    RawTable,
    file_sha256,
    reject_options,
)

__all__ = [
    "SPARK_SCHEMES",
    "SparkSource",
    "check_spark_source",
    "read_spark",
    "spark_engine",
    "to_duckdb",
]

# file systems a Spark path may name (anything else with :// is a database URL)
SPARK_SCHEMES = ("file", "hdfs", "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "dbfs")
_TEXT_OPTIONS = ("no_header", "columns", "delimiter", "encoding")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def spark_engine(config: SparkConfig, master: str | None = None) -> Any:
    """An Ibis PySpark connection on the session described by ``master`` and ``config``."""
    try:
        import ibis.backends.pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(
            "--engine spark needs PySpark, which is not installed",
            where="--engine",
            fix="pip install 'custlens[spark]' (PySpark and Java 17+), or leave --engine unset",
        ) from None
    url = master or config.master
    active = SparkSession.getActiveSession()
    if active is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise InputError(
            "--engine spark needs Java, which was not found",
            where="--engine",
            fix="install a Java runtime (e.g. apt-get install default-jre-headless) or set "
            "JAVA_HOME",
        )
    builder = SparkSession.builder.appName(config.app_name)
    if url:
        builder = builder.master(url)
    if active is None:
        # Spark's console progress bar would write over custlens's own progress lines
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in config.conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Py4J and Spark raise many kinds
        raise InputError(
            f"Cannot start the Spark session: {_first_line(exc)}",
            where="--spark-master" if master else "[spark] in the config file",
            fix="check the master URL (local[4], spark://host:7077, yarn) and the [spark] conf",
        ) from None
    if active is None and "spark.log.level" not in config.conf:
        session.sparkContext.setLogLevel("ERROR")
    if active is None:
        _local_shuffle_partitions(session, config)
    return ibis.pyspark.connect(session)


SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"


def _local_shuffle_partitions(session: Any, config: SparkConfig) -> None:
    """In local mode, ``config.local_shuffle_per_core`` shuffle partitions per core instead of
    Spark's 200 (sized for clusters: on two cores each of custlens's aggregations and windows
    then ran 200 tiny tasks; see docs/benchmarks.md), unless the user set them
    (``[spark.conf]``, ``spark-defaults.conf``, ``--conf``)."""
    context = session.sparkContext
    if not str(context.master).startswith("local") or context.getConf().contains(
        SHUFFLE_PARTITIONS
    ):
        return
    cores = max(1, int(context.defaultParallelism))
    session.conf.set(SHUFFLE_PARTITIONS, str(config.local_shuffle_per_core * cores))


def _scheme(source: str) -> str | None:
    return source.split("://", 1)[0].lower() if "://" in source else None


def _format_of(name: str) -> tuple[str, bool]:
    """The suffix of a file name (ignoring ``.gz``) and whether it is gzip-compressed."""
    suffixes = [s.lower() for s in Path(name.rstrip("/")).suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gz


def _folder_format(path: Path) -> str:
    """The format of a local folder of part files (Spark's own output layout)."""
    kinds = {_format_of(p.name)[0] for p in path.iterdir() if not p.name.startswith(("_", "."))}
    kinds.discard("")
    if len(kinds) == 1:
        return kinds.pop()
    raise InputError(
        f"The folder holds {'no data files' if not kinds else f'files of several kinds {sorted(kinds)}'}",
        where=str(path),
        fix="point at a folder of .parquet files or of .csv files (Spark's part files), or at "
        "one file",
    )


def _unsupported(origin: str, suffix: str) -> InputError:
    if suffix in DUCKDB or suffix in SQLITE:
        what = "a DuckDB database file" if suffix in DUCKDB else "a SQLite database file"
        fix = "leave --engine unset (DuckDB reads it), or export the table to Parquet for Spark"
    elif suffix in EXCEL or suffix in JSON_LINES or suffix == ".json":
        what = f"a {suffix} file"
        fix = "leave --engine unset (DuckDB reads it), or convert it to Parquet or CSV for Spark"
    else:
        what = f"a file of type {suffix or '(no extension)'!r}"
        fix = "--engine spark reads .parquet and .csv/.tsv/.psv (optionally .gz) paths or --table"
    return InputError(f"--engine spark cannot read {what}", where=origin, fix=fix)


def _reject(origin: str, options: ReadOptions, *names: str) -> None:
    fix = (
        "--table names a Spark/Hive table; --no-header/--columns/--delimiter/--encoding are for "
        "CSV paths (--decimal is for DuckDB's CSV reader); drop the others"
    )
    reject_options(origin, options, *names, on=" on Spark", fix=fix)


def _view(con: Any, frame: Any) -> ibis.Table:
    name = f"custlens_src_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)
    return con.table(name)


def _csv(con: Any, path: str, local: Path | None, options: ReadOptions, suffix: str) -> Any:
    delimiter = "\t" if options.delimiter in ("\\t", "tab") else options.delimiter
    encoding = text_checks.normalise_encoding(options.encoding) or "UTF-8"
    if delimiter is None and suffix == ".tsv":
        delimiter = "\t"
    elif delimiter is None and suffix == ".psv":
        delimiter = "|"
    elif delimiter is None and local is not None and local.is_file():
        with text_checks.open_text(local, encoding) as fh:
            line = fh.readline()
        counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        delimiter = best if counts[best] else ","
    reader = con._session.read.options(
        header="false" if options.no_header else "true",
        sep=delimiter or ",",
        encoding=encoding,
        quote='"',
        escape='"',  # RFC 4180: a quote inside a quoted field is doubled
        inferSchema="false",  # text: load types the columns it maps, as on DuckDB
        mode="FAILFAST",
    )
    frame = reader.csv(path)
    if options.columns:
        if len(options.columns) != len(frame.columns):
            raise InputError(
                f"--columns names {len(options.columns)} columns but the file has "
                f"{len(frame.columns)}",
                where=path,
                fix="give one name per field, in file order",
            )
        frame = frame.toDF(*options.columns)
    return frame


@dataclass(frozen=True)
class SparkSource:
    """A source checked for Spark, before any session starts: a table, or a path and format."""

    table: str | None = None
    path: str | None = None  # absolute for local paths
    kind: str | None = None  # parquet | csv
    suffix: str = ""
    local: Path | None = None
    origin: str = ""


def check_spark_source(source: str | None, options: ReadOptions) -> SparkSource:
    """What Spark will read: ``source`` (a Parquet/CSV path) or ``options.table``; refuses
    what Spark cannot read (a DuckDB or SQLite file, Excel, JSON, database URLs) at once."""
    if options.table is not None and not source:
        _reject(f"table {options.table}", options, "sheet", *_TEXT_OPTIONS)
        return SparkSource(table=options.table, origin=f"Spark table {options.table}")
    if not source:
        raise InputError(
            "No source given",
            where="SOURCE",
            fix="pass a Parquet/CSV path, or --table database.table with --engine spark",
        )
    scheme = _scheme(source)
    if scheme is not None and scheme not in SPARK_SCHEMES:
        raise InputError(
            f"--engine spark reads file paths and Spark tables, not {scheme}:// URLs",
            where=databases.redact_url(source),
            fix="leave --engine unset to read a database URL, or use --table for a table that "
            "Spark's catalog knows",
        )
    local = None
    if scheme in (None, "file"):
        local = Path(source[len("file://") :] if scheme == "file" else source).expanduser()
        if not local.exists():
            raise InputError(
                "The file does not exist",
                where=source,
                fix="check the path (relative paths start from the current directory)",
            )
    suffix, gz = _format_of(source)
    if local is not None and local.is_dir() and suffix not in PARQUET + DELIMITED:
        suffix = _folder_format(local)
    if suffix not in PARQUET + DELIMITED or (gz and suffix in PARQUET):
        raise _unsupported(source, suffix)
    if options.table is not None:
        raise InputError(
            f"Both a source path ({source!r}) and --table {options.table!r} were given",
            where="--table",
            fix="give either SOURCE (a Parquet/CSV path) or --table db.table, not both",
        )
    _reject(source, options, "sheet")
    if suffix in PARQUET:
        _reject(source, options, *_TEXT_OPTIONS)
        kind = "parquet"
    else:
        reject_options(
            source,
            options,
            "decimal",
            on=" on Spark",
            fix="Spark reads every CSV field as text and loading recognises decimal commas by "
            "itself: drop --decimal",
        )
        text_checks.check_delimiter(options.delimiter)
        text_checks.normalise_encoding(options.encoding)
        kind = "csv"
    path = str(local.resolve()) if local is not None else source
    return SparkSource(path=path, kind=kind, suffix=suffix, local=local, origin=source)


def read_spark(checked: SparkSource, options: ReadOptions, con: Any) -> RawTable:
    """The checked source read by ``con``'s Spark session, as a temporary view."""
    session = con._session
    if checked.table is not None:
        try:
            frame = session.table(checked.table)
        except Exception as exc:  # noqa: BLE001 - AnalysisException and Py4J errors
            raise InputError(
                f"Spark cannot read the table: {_first_line(exc)}",
                where=f"--table {checked.table}",
                fix="check the name (database.table) with SHOW TABLES in Spark SQL, and that "
                "the session sees the metastore (spark.sql.catalogImplementation=hive)",
            ) from None
        text_checks.check_duplicate_names(list(frame.columns), checked.origin)
        return RawTable(_view(con, frame), con, checked.origin, None, "spark")
    assert checked.path is not None
    try:
        if checked.kind == "parquet":
            frame = session.read.parquet(checked.path)
        else:
            frame = _csv(con, checked.path, checked.local, options, checked.suffix)
        columns = list(frame.columns)  # reading the schema fails here for a bad file
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - AnalysisException and Py4J errors
        raise InputError(
            f"Spark cannot read the file: {_first_line(exc)}",
            where=checked.origin,
            fix="check that the path holds complete Parquet or CSV files",
        ) from None
    text_checks.check_duplicate_names(columns, checked.origin)
    local = checked.local
    sha = file_sha256(local) if local is not None and local.is_file() else None
    return RawTable(_view(con, frame), con, checked.origin, sha, checked.kind or "")


def _to_arrow(table: ibis.Table) -> pa.Table:
    backend = table._find_backend()
    frame = backend._session.sql(backend.compile(table))
    if hasattr(frame, "toArrow"):  # Spark 4
        data = frame.toArrow()
    else:  # Spark 3.5
        batches = frame._collect_as_arrow()
        data = pa.Table.from_batches(batches) if batches else None
    schema = table.schema().to_pyarrow()
    if data is None or data.num_rows == 0:
        return schema.empty_table()
    # Spark sends timestamps as UTC instants (Ibis set the session to UTC): the wall-clock
    # values are the same, so dropping the zone gives back the naive canonical timestamps
    return data.rename_columns(schema.names).cast(schema)


def to_duckdb(table: ibis.Table, engine: Any, name: str) -> ibis.Table:
    """``table`` (on Spark) copied to ``engine`` (a DuckDB connection) as Parquet in its private
    folder; the files go when the returned table is no longer referenced.

    In local mode Spark writes the Parquet files itself (its tasks run in this machine's JVM, so
    they see the folder): collecting the lines through the driver's heap instead failed at 1M
    lines with Spark's default 1g (a lost task result, or a hang after an OutOfMemoryError). On a
    cluster the executors cannot write to the driver's disk, so the lines come to the driver as
    Arrow."""
    path = stored_file(engine, name)
    local = False
    try:
        local = str(table._find_backend()._session.sparkContext.master).startswith("local")
        if local:  # a folder of Parquet files
            _write_parquet(table, path)
        else:
            pq.write_table(_to_arrow(table), path)
    except Exception as exc:
        if type(exc).__name__ not in _SPARK_ERRORS:
            raise
        raise ResourceError(
            f"Cannot copy the cleaned lines from Spark to the driver: {_first_line(exc)}",
            where=f"stage 'lines to DuckDB' ({name})",
            fix='give the driver more memory ([spark.conf] "spark.driver.memory" = "8g", '
            '"spark.driver.maxResultSize" = "4g"), or keep the line analyses on Spark '
            '([spark] line_analyses = "spark")',
        ) from None
    stored = read_stored(engine, path)
    return stored.select(*table.columns) if local else stored


_SPARK_ERRORS = ("Py4JJavaError", "Py4JError", "SparkRuntimeException", "SparkException")


def _write_parquet(table: ibis.Table, path: Path) -> None:
    """``table`` written by Spark as a folder of Parquet files at ``path``, its timestamps
    without a zone (the session runs in UTC, so the wall-clock values are the canonical ones)."""
    backend = table._find_backend()
    frame = backend._session.sql(backend.compile(table)).toDF(*table.columns)
    columns = [
        frame[c].cast("timestamp_ntz").alias(c) if t.is_timestamp() else frame[c]
        for c, t in table.schema().items()
    ]
    frame.select(*columns).write.mode("errorifexists").parquet(str(path))
