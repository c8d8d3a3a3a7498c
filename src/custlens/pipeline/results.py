"""The frozen object a run returns: every table, by stage, plus what is needed to reproduce it.

``Results`` holds plain data (pandas frames, dataclasses, JSON-ready summaries), no engine
connection, so it can be cached, and a results folder written by ``custlens run`` reopens as the
same ``Results`` with :meth:`Results.from_folder` (or ``custlens.open_results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from custlens.config import Settings
    from custlens.io.quality import QualityReport
    from custlens.pipeline.stage import StageResult


def _empty_frame() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame()


@dataclass(frozen=True)
class SourceInfo:
    """Where the input came from: enough to recognise it again."""

    origin: str
    sha256: str | None
    mapping: Mapping[str, str]  # canonical -> source column


@dataclass(frozen=True)
class Results:
    """Every table a run produced, by stage, plus what is needed to reproduce it.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer: RFM scores and segment, features and the columns every stage
        added (``persona``, ``anomaly_score``, ``churn_probability`` ...).
    segment_summary : pandas.DataFrame
        Customers, share, revenue share, average monetary value and action per segment.
    score_distribution : pandas.DataFrame
        Customers per R, F and M score (1..5) with the range of the measure behind each; a score
        that cannot separate customers is also named in ``notes``.
    stages : dict of str to StageResult
        The result of every analysis stage that ran, by stage name, in run order.
    skipped : dict of str to str
        Stages that were selected but could not run on these data, with the reason.
    stage_seconds, stage_peak_mb : dict of str to float
        Each stage's wall seconds and the process's resident-memory high-water mark (MB) at
        its end (``run.json``: ``seconds``, ``peak_rss_mb``): a stage whose mark is above the
        previous one's raised the peak.
    stage_resident_mb : dict of str to dict
        Each stage's own resident memory (MiB; ``run.json``: ``resident_mb``): ``before``, on
        entry, and ``max``, the largest sampled while it ran (every 0.2 s; Linux only).
    """

    source: SourceInfo
    settings: Settings
    as_of: date
    quality: QualityReport
    customers: pd.DataFrame
    segment_summary: pd.DataFrame
    stage_seconds: dict[str, float]
    stage_rows: dict[str, int]
    stages: dict[str, StageResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    score_distribution: pd.DataFrame = field(default_factory=lambda: _empty_frame())
    versions: dict[str, str] = field(default_factory=dict)
    stage_peak_mb: dict[str, float] = field(default_factory=dict)
    stage_resident_mb: dict[str, dict[str, float]] = field(default_factory=dict)

    def stage(self, name: str) -> StageResult | None:
        """The result of stage ``name``, or None when it did not run."""
        return self.stages.get(name)

    def run_info(self) -> dict[str, Any]:
        """The content of ``run.json``: enough to know exactly how the results were made."""
        return {
            "tool": "custlens",
            "input": {
                "origin": self.source.origin,
                "sha256": self.source.sha256,
                "mapping": dict(self.source.mapping),
            },
            "as_of": self.as_of.isoformat(),
            "seed": self.settings.seed,
            "rows": dict(self.stage_rows),
            "seconds": {k: round(v, 4) for k, v in self.stage_seconds.items()},
            "peak_rss_mb": dict(self.stage_peak_mb),
            "resident_mb": {k: dict(v) for k, v in self.stage_resident_mb.items()},
            "settings": self.settings.model_dump(mode="json"),
            "versions": dict(self.versions),
            "notes": list(self.notes),
            "stages": {
                name: {
                    "tables": list(result.tables),  # the stage's order: the report's
                    "columns": list(result.columns),
                    "notes": list(result.notes),
                }
                for name, result in self.stages.items()
            },
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_folder(cls, folder: str | Path) -> Results:
        """Reopen a results folder written by ``custlens run``, without an engine.

        Parameters
        ----------
        folder : str or pathlib.Path
            The ``--out`` folder of an earlier run.

        Returns
        -------
        Results
            The same tables, summaries and settings the run returned; saved models are loaded
            through the checked skops loader.

        Raises
        ------
        OutputError
            When the folder is not a complete custlens results folder.
        """
        from custlens.pipeline.folder import read_results

        return read_results(Path(folder))
