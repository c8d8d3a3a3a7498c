"""Write a run's outputs into a folder, atomically (see ``custlens.outputs``).

Every CSV is spreadsheet-safe (text cells that a spreadsheet would evaluate as a formula get a
leading ``'``; ``outputs.spreadsheet_safe``); the Parquet copies keep the exact values. Every JSON
file is strict (``outputs.json_text``). Each segment's CRM list has its own file name
(``segment_slug``; the segment table refuses names that would share one), and together the lists
hold every customer exactly once.

A non-empty target that custlens did not write (it has no ``run.json`` of ours) is refused unless
``force=True``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from custlens import outputs
from custlens.pipeline.folder import (
    CUSTOMERS,
    MARKER,
    PARQUET,
    QUALITY,
    SCORE_DISTRIBUTION,
    SEGMENT_SUMMARY,
    segment_slug,
    summary_path,
    table_path,
)
from custlens.pipeline.notices import routed_warnings

if TYPE_CHECKING:
    from custlens.pipeline import Results

# Columns of the per-segment CRM lists, in order (those present are written).
CRM_COLUMNS = (
    "customer_id",
    "segment",
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "last_order",
    "r_score",
    "f_score",
    "m_score",
    "persona",
    "timing_persona",
    "churn_probability",
    "clv",
    "is_anomaly",
    "action",
    "recommendation_1",
    "recommendation_1_rule",
    "recommendation_2",
    "recommendation_2_rule",
    "recommendation_3",
    "recommendation_3_rule",
)


def crm_file_names(names: list[str]) -> dict[str, str]:
    """Segment name -> unique CRM list file name (a numbered suffix if two slugs still meet)."""
    used: set[str] = set()
    files: dict[str, str] = {}
    for name in sorted(names):
        slug = base = segment_slug(name)
        n = 1
        while slug in used:
            n += 1
            slug = f"{base}_{n}"
        used.add(slug)
        files[name] = f"{slug}.csv"
    return files


def _is_ours(path: Path) -> bool:
    marker = path / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("tool") == "custlens"
    except (OSError, ValueError):
        return False


def check_output_dir(out: str | Path, *, force: bool = False) -> Path:
    """Refuse an unusable results folder before any work is done; return it resolved."""
    return outputs.check_output_dir(out, is_ours=_is_ours, force=force)


def atomic_dir(out: str | Path, *, force: bool = False):
    """A staging folder that replaces the results folder ``out`` on success."""
    return outputs.atomic_dir(out, is_ours=_is_ours, force=force)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(outputs.json_text(data), encoding="utf-8")


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Round money and times for humans; parquet keeps full precision."""
    out = df.copy(deep=False)  # columns are replaced below, never changed in place
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].astype("datetime64[s]")
    return out


def _write_csv(df: pd.DataFrame, path: Path | pa.BufferOutputStream) -> None:
    """CSV through Arrow's writer (an order of magnitude faster than pandas on wide tables),
    spreadsheet-safe: a text cell that starts like a formula is made inert."""
    table = pa.Table.from_pandas(outputs.spreadsheet_safe(_csv_ready(df)), preserve_index=False)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as the CSV bytes ``write_results`` would write (e.g. for a download button),
    spreadsheet-safe like every CSV file it writes."""
    sink = pa.BufferOutputStream()
    _write_csv(df, sink)
    return sink.getvalue().to_pybytes()


def crm_list(customers: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The CRM list of one segment, as in ``segments/<slug>.csv``: the CRM columns present, the
    most valuable customers first."""
    return _by_value(customers[customers["segment"] == segment])


def _by_value(customers: pd.DataFrame) -> pd.DataFrame:
    """The CRM columns present, the most valuable customers first (customer ids are unique:
    no ties)."""
    cols = [c for c in CRM_COLUMNS if c in customers.columns]
    keys = ["monetary", "customer_id"]
    return customers[list(dict.fromkeys([*cols, *keys]))].sort_values(
        keys, ascending=[False, True]
    )[cols]


def _crm_lists(customers: pd.DataFrame, names: list[str]) -> dict[str, pd.DataFrame]:
    """``crm_list`` of every segment of ``names``, from one sort of the CRM columns."""
    ordered = _by_value(customers)
    return {name: ordered[ordered["segment"] == name] for name in names}


def _write_table(df: pd.DataFrame, folder: Path, relative: str) -> None:
    """A table as CSV for people and as Parquet (full precision) for reopening the folder."""
    for path in (folder / f"{relative}.csv", folder / PARQUET / f"{relative}.parquet"):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            _write_csv(df, path)
        else:
            df.to_parquet(path, index=False)


def write_results(
    results: Results,
    out: str | Path,
    *,
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
    notes: list[str] | None = None,
) -> Path:
    """Write every output of a run into ``out`` atomically; return the folder.

    ``extra(folder)`` writes more files (figures, the report) before ``run.json``; the warnings
    it raises or logs become notes in ``run.json`` (and are appended to ``notes`` when given, for
    the caller's summary) instead of lines on stderr.
    """
    target = Path(out).expanduser().resolve()
    with atomic_dir(target, force=force) as tmp:
        customers = results.customers
        late: list[str] = []
        # the widest file, on a thread of its own (Arrow writes it without holding the GIL)
        # while everything else is written, the figures and the report included
        with ThreadPoolExecutor(1, thread_name_prefix="custlens-csv") as side:
            wide = side.submit(_write_csv, customers, tmp / "customers.csv")
            customers.to_parquet(tmp / CUSTOMERS, index=False)
            _write_table(results.segment_summary, tmp, SEGMENT_SUMMARY)
            if not results.score_distribution.empty:
                _write_table(results.score_distribution, tmp, SCORE_DISTRIBUTION)
            seg_dir = tmp / "segments"
            seg_dir.mkdir()
            names = sorted(customers["segment"].astype(str).unique())
            files = crm_file_names(names)
            for name, crm in _crm_lists(customers, names).items():
                _write_csv(crm, seg_dir / files[name])
            _write_json(tmp / QUALITY, results.quality.to_dict())
            for stage, result in results.stages.items():
                for name, table in result.tables.items():
                    _write_table(table, tmp, table_path(stage, name))
                if result.summary:
                    _write_json(tmp / summary_path(stage), result.summary)
                for relative, text in result.documents().items():
                    path = tmp / relative
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text, encoding="utf-8")
                result.write_files(tmp)
            if extra is not None:
                with routed_warnings("figures and report", late):
                    extra(tmp)
            wide.result()
        info = results.run_info()
        info["notes"] = [*info["notes"], *late]
        _write_json(tmp / MARKER, info)
    if notes is not None:
        notes.extend(late)
    return target
