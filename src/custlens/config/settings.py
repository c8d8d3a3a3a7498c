"""One validated settings object: defaults < custlens.toml < explicit arguments."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from custlens.config.analyses import (
    AnomalyConfig,
    AuditConfig,
    FeaturesConfig,
    PersonaConfig,
    TimingConfig,
)
from custlens.config.app import AppConfig
from custlens.config.base import MAX_SEED, _Strict
from custlens.config.basket import BasketConfig
from custlens.config.cleaning import CleaningConfig, MappingConfig
from custlens.config.insights import InsightsConfig, MigrationConfig
from custlens.config.models import ModelsConfig
from custlens.config.profile import ProfileConfig
from custlens.config.report import ReportConfig
from custlens.config.rfm import RFMConfig
from custlens.config.spark import SparkConfig
from custlens.errors import ConfigError


class Settings(_Strict):
    """Everything a run needs to know besides the source itself.

    Every business rule is data with a default; ``custlens.toml`` overrides the defaults and
    explicit arguments override the file (see docs/configuration.md).

    Examples
    --------
    >>> settings = Settings().with_overrides(**{"cleaning.mode": "minimal", "seed": 7})
    >>> settings.cleaning.mode, settings.seed
    ('minimal', 7)
    >>> Settings(analyses=["personas"]).analyses
    ['personas']
    """

    mapping: MappingConfig = Field(default_factory=MappingConfig)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    rfm: RFMConfig = Field(default_factory=RFMConfig)
    anomalies: AnomalyConfig = Field(default_factory=AnomalyConfig)
    timing: TimingConfig = Field(default_factory=TimingConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    personas: PersonaConfig = Field(default_factory=PersonaConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    basket: BasketConfig = Field(default_factory=BasketConfig)
    app: AppConfig = Field(default_factory=AppConfig)
    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    migration: MigrationConfig = Field(default_factory=MigrationConfig)
    insights: InsightsConfig = Field(default_factory=InsightsConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)
    # the analyses after RFM, by name (custlens.pipeline.registry); None runs every one
    analyses: list[str] | None = None
    as_of: date | None = None
    # every random step is seeded from it
    seed: int = Field(default=42, ge=0, le=MAX_SEED)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with dotted-path overrides, e.g. ``{"cleaning.mode": "minimal"}``."""
        data = self.model_dump()
        for dotted, value in overrides.items():
            if value is None:
                continue
            node = data
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = value
        return _validate(data, "arguments")


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"Invalid setting {loc or '(root)'}: {first['msg']}",
            where=origin,
            fix="correct or remove that setting (see docs/configuration.md)",
        ) from None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read ``custlens.toml`` (explicit path, else ./custlens.toml if present) and apply overrides."""
    data: dict[str, Any] = {}
    origin = "defaults"
    candidate = Path(path) if path is not None else Path("custlens.toml")
    if path is not None and not candidate.is_file():
        raise ConfigError(
            f"Config file {str(candidate)!r} does not exist",
            where=str(candidate),
            fix="pass the path of an existing TOML file to --config",
        )
    if candidate.is_file():
        origin = str(candidate)
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Config file is not valid TOML: {exc}",
                where=origin,
                fix="check the syntax at the reported line",
            ) from None
    settings = _validate(data, origin)
    return settings.with_overrides(**overrides) if overrides else settings
