"""Write a run's outputs into a folder, atomically (see ``custlens.outputs``).

A non-empty target that custlens did not write (it has no ``run.json`` of ours) is refused unless
``force=True``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens import outputs

if TYPE_CHECKING:
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
    """Refuse an unusable results folder before any work is done; return it resolved."""
    return outputs.check_output_dir(out, is_ours=_is_ours, force=force)


def atomic_dir(out: str | Path, *, force: bool = False):
    """A staging folder that replaces the results folder ``out`` on success."""
    return outputs.atomic_dir(out, is_ours=_is_ours, force=force)


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
