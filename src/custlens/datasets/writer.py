"""Write synthetic order logs of any size to Parquet or CSV, chunk by chunk, with the truth beside.

The rows are exactly those of :func:`custlens.datasets.synthetic` with the same arguments: both
run the same block procedure, and grouping blocks into chunks does not change the data.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from custlens.datasets.generator import BLOCK_CUSTOMERS
from custlens.datasets.personas import DirtRates, PersonaSpec
from custlens.datasets.synthetic import decode, iter_blocks, plan_for
from custlens.errors import ConfigError, OutputError
from custlens.outputs import atomic_file

log = logging.getLogger(__name__)

FORMATS = {".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv.gz"}


def _split(path: Path) -> tuple[str, str]:
    """(stem, format) of an output path such as ``orders.csv.gz``."""
    name = path.name
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], FORMATS[suffix]
    raise OutputError(
        f"cannot tell the file format of {name!r}",
        where=str(path),
        fix="end the path with .parquet, .csv or .csv.gz",
    )


def _csv_ready(table: pa.Table) -> pa.Table:
    """UCI-like CSV values: whole-second timestamps, CustomerID as an integer (blank if missing)."""
    table = decode(table)
    table = table.set_column(
        table.schema.get_field_index("InvoiceDate"),
        "InvoiceDate",
        table["InvoiceDate"].cast(pa.timestamp("s")),
    )
    return table.set_column(
        table.schema.get_field_index("CustomerID"),
        "CustomerID",
        table["CustomerID"].cast(pa.int64()),
    )


def write_synthetic(
    path: str | os.PathLike[str],
    n_customers: int,
    *,
    seed: int = 0,
    chunk_customers: int = 100_000,
    start: str | date = "2022-01-01",
    end: str | date = "2023-12-31",
    horizon_days: int = 90,
    anomaly_share: float = 0.02,
    personas: Mapping[str, PersonaSpec] | None = None,
    dirt: DirtRates | None = None,
) -> dict[str, Any]:
    """Write the orders of ``n_customers`` to ``path`` (.parquet, .csv or .csv.gz) chunk by chunk.

    The truth table goes to ``<stem>.truth.parquet`` in the same folder. Each chunk holds about
    ``chunk_customers`` customers (rounded up to a multiple of 5,000, the unit the random
    streams are tied to) and is written as it is made, so memory stays bounded whatever the
    size. Files are written under a temporary name and renamed when complete.
    Returns the paths and the numbers of rows, customers, invoices and chunks.
    """
    target = Path(path)
    stem, fmt = _split(target)
    if (
        isinstance(chunk_customers, bool)
        or not isinstance(chunk_customers, int)
        or chunk_customers < 1
    ):
        raise ConfigError(
            f"chunk_customers={chunk_customers!r} is not a positive whole number",
            where="argument chunk_customers",
            fix="give e.g. 100000",
        )
    plan = plan_for(
        n_customers,
        seed=seed,
        start=start,
        end=end,
        horizon_days=horizon_days,
        anomaly_share=anomaly_share,
        personas=personas,
        dirt=dirt,
    )
    truth_path = target.with_name(f"{stem}.truth.parquet")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the folder {str(target.parent)!r}: {exc.strerror}",
            where=str(target.parent),
            fix="choose a writable location",
        ) from None
    per_chunk = -(-chunk_customers // BLOCK_CUSTOMERS)
    rows = invoices = chunks = 0
    truths: list[pa.Table] = []
    try:
        # unique temporary names beside the targets, created exclusively and with the usual
        # permissions (0666 less the umask); the orders, then the truth, are renamed into place
        # when both are complete, and both are removed on any failure
        with atomic_file(truth_path) as tmp_truth, atomic_file(target) as tmp:
            with _Sink(tmp, fmt) as sink:
                pending: list[pa.Table] = []
                for i, block in enumerate(iter_blocks(plan), start=1):
                    pending.append(block.orders)
                    truths.append(block.truth)
                    rows += block.orders.num_rows
                    invoices += block.n_invoices
                    if len(pending) == per_chunk or i * BLOCK_CUSTOMERS >= plan.n_customers:
                        sink.write(pa.concat_tables(pending))
                        pending = []
                        chunks += 1
                        log.info("wrote chunk %d (%d rows so far)", chunks, rows)
            pq.write_table(pa.concat_tables(truths), tmp_truth)
    except OSError as exc:
        raise OutputError(
            f"cannot write {str(target)!r}: {exc.strerror or exc}",
            where=str(target),
            fix="check the folder is writable and the disk has space",
        ) from None
    return {
        "path": str(target),
        "truth_path": str(truth_path),
        "format": fmt,
        "rows": rows,
        "customers": plan.n_customers,
        "invoices": invoices,
        "chunks": chunks,
        "cutoff": plan.cutoff.isoformat(),
    }


class _Sink:
    """Appends tables to one Parquet or CSV (optionally gzip) file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._writer: pq.ParquetWriter | pcsv.CSVWriter | None = None
        self._raw: BinaryIO | None = None
        self._stream: BinaryIO | gzip.GzipFile | None = None

    def __enter__(self) -> _Sink:
        if self.fmt.startswith("csv"):
            self._raw = open(self.path, "wb")  # noqa: SIM115 (closed in __exit__)
            self._stream = self._raw
        if self.fmt == "csv.gz":
            # level 6 is ~3x faster than Arrow's level 9 for 5% more bytes; mtime=0 and no
            # file name in the header keep the bytes identical for the same data
            self._stream = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, compresslevel=6, mtime=0
            )
        return self

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            if self._writer is None:
                # store_schema=False: readers see plain strings, not dictionary (categorical) columns
                self._writer = pq.ParquetWriter(str(self.path), table.schema, store_schema=False)
            self._writer.write_table(table, row_group_size=table.num_rows)
            return
        table = _csv_ready(table)
        if self._writer is None:
            options = pcsv.WriteOptions(quoting_style="needed")
            self._writer = pcsv.CSVWriter(self._stream, table.schema, write_options=options)
        self._writer.write_table(table)

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
        for stream in (self._stream, self._raw):
            if stream is not None:
                stream.close()
