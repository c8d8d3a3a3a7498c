"""Write a run's outputs into a folder, atomically.

Everything is written into a hidden temporary folder beside the target, which then replaces the
target in two renames; a failure leaves the target as it was. A non-empty target that custlens did
not write (it has no ``run.json`` of ours) is refused unless ``force=True``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from custlens.errors import OutputError
from custlens.pipeline import Results

MARKER = "run.json"

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
    "action",
)


def segment_slug(name: str) -> str:
    """``"Can't Lose Them"`` -> ``"cant_lose_them"``: a safe, stable file name."""
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower().replace("'", "")).strip("_")
    return slug or "segment"


def _is_ours(path: Path) -> bool:
    marker = path / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("tool") == "custlens"
    except (OSError, ValueError):
        return False


def check_output_dir(out: str | Path, *, force: bool = False) -> Path:
    """Refuse an unusable target before any work is done; return it resolved."""
    target = Path(out).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"The output path {str(target)!r} is a file, not a folder",
            where=str(target),
            fix="pass a folder path to --out",
        )
    if target.is_dir() and any(target.iterdir()) and not force and not _is_ours(target):
        raise OutputError(
            f"The output folder {str(target)!r} is not empty and was not written by custlens",
            where=str(target),
            fix="choose an empty or new folder, or pass --force to replace its contents",
        )
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK) or not parent.is_dir():
        raise OutputError(
            f"Cannot create or write the output folder {str(target)!r}",
            where=str(parent),
            fix="choose a location you can write to",
        )
    return target


@contextmanager
def atomic_dir(out: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out``; on failure it is removed."""
    target = check_output_dir(out, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise OutputError(
            f"Cannot create the output folder {str(target)!r}: {exc.strerror}",
            where=str(target),
            fix="choose a location you can write to",
        ) from None
    try:
        yield staging
        backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        if target.exists():
            target.rename(backup)
        staging.rename(target)
        if backup.exists():
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Round money for humans; keep full precision in parquet."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
    return out


def write_results(
    results: Results,
    out: str | Path,
    *,
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write every output of a run into ``out`` atomically; return the folder."""
    target = Path(out).expanduser().resolve()
    with atomic_dir(target, force=force) as tmp:
        customers = results.customers
        customers.to_parquet(tmp / "customers.parquet", index=False)
        _csv_ready(customers).to_csv(tmp / "customers.csv", index=False)
        _csv_ready(results.segment_summary).to_csv(tmp / "segment_summary.csv", index=False)
        seg_dir = tmp / "segments"
        seg_dir.mkdir()
        cols = [c for c in CRM_COLUMNS if c in customers.columns]
        for name, group in customers.groupby("segment", sort=True):
            ranked = group.sort_values(["monetary", "customer_id"], ascending=[False, True])
            _csv_ready(ranked[cols]).to_csv(seg_dir / f"{segment_slug(name)}.csv", index=False)
        _write_json(tmp / "quality.json", results.quality.to_dict())
        if extra is not None:
            extra(tmp)
        _write_json(tmp / MARKER, results.run_info())
    return target
