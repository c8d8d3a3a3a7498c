"""Audit an existing segmentation of a customer-level table: read it, then run the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custlens.config import Settings, load_settings
from custlens.io.options import ReadOptions


def audit(
    source: Any,
    *,
    segment: str,
    metric: str,
    threshold: float = 0.15,
    relative: bool = False,
    latest_by: str | None = None,
    customer_col: str | None = None,
    seed: int = 0,
    settings: Settings | None = None,
    config_path: str | Path | None = None,
    read: ReadOptions | None = None,
) -> Any:
    """Read the customer table ``source`` and audit how well ``segment`` explains ``metric``.

    Returns the ``AuditResult`` of :func:`custlens.audit.audit_segmentation`.
    """
    from custlens.audit import audit_segmentation
    from custlens.io.readers import read_table

    if settings is None:
        settings = load_settings(config_path)
    raw = read_table(source, read)
    return audit_segmentation(
        raw.table.to_pandas(),
        segment=segment,
        metric=metric,
        threshold=threshold,
        relative=relative,
        latest_by=latest_by,
        customer_col=customer_col,
        seed=seed,
        config=settings.audit,
    )
