"""The layout of a results folder, and reading one back into ``Results``.

The writer is ``custlens.exports``; both take every path from here. Tables are written twice:
as CSV beside the other outputs (rounded for people and spreadsheets) and as Parquet under
``parquet/`` (full precision and dtypes), from which a folder reopens exactly.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from custlens.config.rfm import segment_slug  # the one slug rule (segment names are unique by it)
from custlens.errors import OutputError

MARKER = "run.json"
QUALITY = "quality.json"
CUSTOMERS = "customers.parquet"
SEGMENT_SUMMARY = "segment_summary"
SCORE_DISTRIBUTION = "score_distribution"
PARQUET = "parquet"


def table_path(stage: str, name: str) -> str:
    """``personas``, ``profiles`` -> ``personas/profiles``: a table's path, without suffix."""
    return f"{stage}/{name}" if stage else name


def segment_list_path(name: str) -> str:
    """The CRM list of segment ``name``, relative to the results folder."""
    return f"segments/{segment_slug(name)}.csv"


def summary_path(stage: str) -> str:
    return f"{stage}/summary.json"


def read_results(folder: Path) -> Any:
    """Rebuild the ``Results`` of a run from its folder (see ``Results.from_folder``)."""
    from custlens.config import Settings
    from custlens.io.quality import QualityReport
    from custlens.pipeline.registry import stage as declared
    from custlens.pipeline.results import Results, SourceInfo

    if not folder.is_dir():
        parent = folder.parent if folder.name == MARKER else None
        raise OutputError(
            f"{str(folder)!r} is a file, not a results folder"
            if folder.exists()
            else f"The results folder {str(folder)!r} does not exist",
            where=str(folder),
            fix=f"pass the folder that holds it: {str(parent)!r}"
            if parent is not None and parent.is_dir()
            else "pass the --out folder of a finished custlens run (the folder holding run.json)",
        )
    info = _read_json(folder, MARKER)
    command = info.get("command")
    if info.get("tool") == "custlens" and command not in (None, "run"):
        raise OutputError(
            f"This is the folder of custlens {command}, not of custlens run",
            where=str(folder / MARKER),
            fix=f"open its {command}.html (or {command}.md) to read it; the app, custlens report "
            "and custlens predict read the folders that custlens run --out writes",
        )
    if info.get("tool") != "custlens" or "stages" not in info:
        raise OutputError(
            "This folder was not written by this version of custlens run",
            where=str(folder / MARKER),
            fix="run custlens run again to write a complete results folder",
        )
    stages = {}
    for name, entry in info["stages"].items():
        result_type = declared(name).load_result()
        tables = {t: _read_table(folder, table_path(name, t)) for t in entry["tables"]}
        summary_file = folder / summary_path(name)
        summary = _read_json(folder, summary_path(name)) if summary_file.is_file() else {}
        stages[name] = result_type(
            tables=tables,
            summary=summary,
            columns=tuple(entry["columns"]),
            notes=tuple(entry["notes"]),
            **result_type.read_files(folder),
        )
    source = info["input"]
    return Results(
        source=SourceInfo(source["origin"], source["sha256"], source["mapping"]),
        settings=Settings.model_validate(info["settings"]),
        as_of=date.fromisoformat(info["as_of"]),
        quality=QualityReport.from_dict(_read_json(folder, QUALITY)),
        customers=_read_parquet(folder / CUSTOMERS),
        segment_summary=_read_table(folder, SEGMENT_SUMMARY),
        stage_seconds=dict(info["seconds"]),
        stage_peak_mb=dict(info.get("peak_rss_mb", {})),
        stage_resident_mb={k: dict(v) for k, v in info.get("resident_mb", {}).items()},
        stage_rows=dict(info["rows"]),
        stages=stages,
        skipped=dict(info.get("skipped", {})),
        notes=tuple(info["notes"]),
        score_distribution=(
            _read_table(folder, SCORE_DISTRIBUTION)
            if (folder / PARQUET / f"{SCORE_DISTRIBUTION}.parquet").is_file()
            else pd.DataFrame()
        ),
        versions=dict(info["versions"]),
    )


def _read_json(folder: Path, relative: str) -> dict[str, Any]:
    path = folder / relative
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(
            f"{relative} is missing: this is not a complete custlens results folder",
            where=str(folder),
            fix="pass the --out folder of a finished custlens run",
        ) from None
    except (OSError, ValueError) as exc:
        raise OutputError(
            f"{relative} cannot be read: {exc}",
            where=str(path),
            fix="run custlens run again to rewrite the folder",
        ) from None


def _read_table(folder: Path, relative: str) -> pd.DataFrame:
    return _read_parquet(folder / PARQUET / f"{relative}.parquet")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise OutputError(
            f"{path.name} is missing: this is not a complete custlens results folder",
            where=str(path),
            fix="pass the --out folder of a finished custlens run",
        ) from None
    except (OSError, ValueError) as exc:
        raise OutputError(
            f"{path.name} cannot be read: {exc}",
            where=str(path),
            fix="run custlens run again to rewrite the folder",
        ) from None
