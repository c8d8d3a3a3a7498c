"""The frozen objects a run returns: every table, plus what is needed to reproduce it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the analyses import scikit-learn, which a run may not need
    import pandas as pd

    from custlens.anomalies.orders import CancellationPairs, ExtremeOrders
    from custlens.config import Settings
    from custlens.io.load import Source
    from custlens.io.quality import QualityReport
    from custlens.segment.explain import PersonaExplanation
    from custlens.segment.personas import Personas


@dataclass(frozen=True)
class Understanding:
    """Who customers are, what is unusual and when they buy (each part None when not run)."""

    features_skipped: tuple[str, ...] = ()
    personas: Personas | None = None
    k_selection: pd.DataFrame | None = None  # scores for every k tried
    k_reason: str = ""
    stability_ari: float | None = None
    persona_outliers: pd.DataFrame | None = None
    explanation: PersonaExplanation | None = None
    anomaly_threshold: float | None = None
    extreme_orders: ExtremeOrders | None = None
    cancellation_pairs: CancellationPairs | None = None
    hour_weekday: pd.DataFrame | None = None  # overall (segment "All customers") and per segment
    quarter_seasonality: pd.DataFrame | None = None
    month_seasonality: pd.DataFrame | None = None
    contact_windows: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Results:
    """Every table a run produced, plus what is needed to reproduce it."""

    source: Source
    settings: Settings
    as_of: date
    quality: QualityReport
    customers: pd.DataFrame
    segment_summary: pd.DataFrame
    stage_seconds: dict[str, float]
    stage_rows: dict[str, int]
    understanding: Understanding = field(default_factory=Understanding)
    predictions: Any = None  # custlens.pipeline.predict.Predictions when predictions ran
    cleaned_purchases: Any = None  # Ibis table on the run's engine, for further analysis
    cleaned_returns: Any = None
    notes: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)

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
            "settings": self.settings.model_dump(mode="json"),
            "versions": dict(self.versions),
            "notes": list(self.notes) + list(self.understanding.notes),
        }
