"""The analysis stages after RFM, in the order they run: one declaration per stage.

Adding a stage: write its module (a ``run(ctx)`` function and a ``StageResult`` subclass; see
docs/DEVELOPING.md), give it a config model if it has settings, and add one line here.
"""

from __future__ import annotations

from custlens.errors import ConfigError
from custlens.pipeline.stage import Stage

_S = "custlens.pipeline.stages"

STAGES: tuple[Stage, ...] = (
    Stage(
        "personas",
        f"{_S}.personas:run",
        f"{_S}.personas:PersonasResult",
        "clusters of similar customers, named and explained",
        features=True,
        reads_lines=False,
    ),
    Stage(
        "anomalies",
        f"{_S}.anomalies:run",
        f"{_S}.anomalies:AnomaliesResult",
        "unusual customers with reasons, extreme orders, cancellation pairs",
        features=True,
    ),
    Stage(
        "timing",
        f"{_S}.timing:run",
        f"{_S}.timing:TimingResult",
        "hour x weekday patterns, seasonality, contact windows",
    ),
    Stage("basket", f"{_S}.basket:run", f"{_S}.basket:BasketResult", "market basket rules"),
    Stage(
        "predictions",
        f"{_S}.predictions:run",
        f"{_S}.predictions:PredictionsResult",
        "churn, CLV and next purchase, backtested on a future period",
        # the final scoring reads every customer's features from the customer table (without
        # them it would run the feature query again and hold its rows whole)
        features=True,
        # an explicit --cutoff that cannot work is the user's error, not a reason to skip
        strict=lambda settings: settings.models.cutoff is not None,
    ),
    Stage(
        "migration",
        f"{_S}.migration:run",
        f"{_S}.migration:MigrationResult",
        "segment moves between two dates (Stuart-Maxwell, McNemar) and monthly cohorts",
    ),
    Stage(
        "insights",
        f"{_S}.insights:run",
        f"{_S}.insights:InsightsResult",
        "tested findings: segment shifts, value at risk, anomalies, trends, cohorts, cross-sell",
        needs=("migration",),
    ),
)

FEATURES = "features"  # behavioural features in the customer table (no stage of its own)
ANALYSES: tuple[str, ...] = (FEATURES, *(s.name for s in STAGES))


def stage(name: str) -> Stage:
    """The declaration of one stage, by name."""
    for declared in STAGES:
        if declared.name == name:
            return declared
    raise KeyError(name)


def check_analyses(chosen: list[str] | tuple[str, ...]) -> None:
    """Refuse analysis names that no stage declares."""
    unknown = [a for a in chosen if a not in ANALYSES]
    if unknown:
        raise ConfigError(
            f"Unknown analyses {unknown}",
            where="analyses (--analyses or [analyses] in custlens.toml)",
            fix=f"choose from {', '.join(ANALYSES)}, or 'all', or 'rfm'",
        )


def selected(chosen: list[str] | tuple[str, ...]) -> tuple[list[Stage], bool]:
    """The stages to run for ``chosen`` analyses (with the stages they need), and whether the
    behavioural features are needed."""
    check_analyses(chosen)
    names = set(chosen)
    grew = True
    while grew:  # add what the chosen stages need, transitively
        needed = {n for s in STAGES if s.name in names for n in s.needs}
        grew = not needed <= names
        names |= needed
    stages = [s for s in STAGES if s.name in names]
    return stages, FEATURES in names or any(s.features for s in stages)
