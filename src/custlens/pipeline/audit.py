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
    tie_break: str | None = None,
) -> Any:
    """Read the customer table ``source`` and audit how well ``segment`` explains ``metric``.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or ibis.Table
        A customer-level table (one row per customer, or snapshots with ``latest_by``).
    segment, metric : str
        The column holding the current segment and the numeric column it should explain.
    threshold, relative, latest_by, tie_break, customer_col, seed
        As in :func:`custlens.audit.audit_segmentation`.
    settings, config_path
        The settings (``settings.audit``; ``settings.cleaning``'s plausible window bounds the
        ``latest_by`` dates), or a ``custlens.toml`` to read them from.
    read : ReadOptions, optional
        How to read the source (table, sheet ...).

    Returns
    -------
    AuditResult
        Flagged customers, per-segment tables, tests, clusters, trees and the conclusion.

    Raises
    ------
    InputError, MappingError
        The table cannot be read, or a named column is missing.
    DataError
        The table cannot support the audit (e.g. too few rows).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"segment": ["A"] * 4 + ["B"] * 4,
    ...                       "retention": [0.80, 0.82, 0.50, 0.81, 0.30, 0.31, 0.29, 0.60]})
    >>> audit(table, segment="segment", metric="retention").n_anomalies
    2
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
        tie_break=tie_break,
        customer_col=customer_col,
        seed=seed,
        config=settings.audit,
        plausible_dates=settings.cleaning.plausible_window(),
    )
