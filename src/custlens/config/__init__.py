"""Settings: every business rule is data with a default, overridable from ``custlens.toml``.

Precedence: built-in defaults < config file < explicit arguments (CLI flags or API keywords).
The models live in topic modules; everything is importable from ``custlens.config``.
"""

from custlens.config.analyses import (
    DEFAULT_ANOMALY_FEATURES,
    DEFAULT_FEATURE_PHRASES,
    DEFAULT_PERSONA_FEATURES,
    DEFAULT_PERSONA_RULES,
    DEFAULT_TIMING_PERSONAS,
    AnomalyConfig,
    AuditConfig,
    FeaturesConfig,
    LifecycleConfig,
    PersonaConfig,
    PersonaRule,
    TimingConfig,
    TimingPersonaRule,
    TimingWindow,
    parse_persona_condition,
)
from custlens.config.app import AppConfig
from custlens.config.basket import RULE_METRICS, BasketConfig
from custlens.config.cleaning import (
    DEFAULT_NON_PRODUCT_CODES,
    DEFAULT_NON_PRODUCT_PREFIXES,
    CleaningConfig,
    MappingConfig,
)
from custlens.config.insights import (
    DEFAULT_SEVERITY,
    InsightsConfig,
    MigrationConfig,
    SeverityRule,
)
from custlens.config.models import (
    DEFAULT_TIERS,
    ModelsConfig,
    TierRule,
)
from custlens.config.profile import (
    DEFAULT_PROFILE_PERSONA_RULES,
    DEFAULT_QUALITY_RULES,
    DEFAULT_SCORES,
    ProfileConfig,
    QualityRule,
    ScoreComponent,
    ScoreSpec,
)
from custlens.config.report import (
    DEFAULT_FINDINGS,
    DEFAULT_REASON_PHRASES,
    FindingRule,
    ReportConfig,
)
from custlens.config.rfm import (
    DEFAULT_SEGMENTS,
    RFM_BINS,
    RFMConfig,
    SegmentRule,
)
from custlens.config.settings import (
    Settings,
    load_settings,
)
from custlens.config.spark import SparkConfig

__all__ = [
    "AnomalyConfig",
    "AppConfig",
    "AuditConfig",
    "BasketConfig",
    "CleaningConfig",
    "DEFAULT_ANOMALY_FEATURES",
    "DEFAULT_FEATURE_PHRASES",
    "DEFAULT_FINDINGS",
    "DEFAULT_NON_PRODUCT_CODES",
    "DEFAULT_NON_PRODUCT_PREFIXES",
    "DEFAULT_PERSONA_FEATURES",
    "DEFAULT_PERSONA_RULES",
    "DEFAULT_REASON_PHRASES",
    "DEFAULT_PROFILE_PERSONA_RULES",
    "DEFAULT_QUALITY_RULES",
    "DEFAULT_SCORES",
    "DEFAULT_SEGMENTS",
    "DEFAULT_SEVERITY",
    "DEFAULT_TIERS",
    "DEFAULT_TIMING_PERSONAS",
    "FeaturesConfig",
    "FindingRule",
    "InsightsConfig",
    "LifecycleConfig",
    "MappingConfig",
    "MigrationConfig",
    "ModelsConfig",
    "PersonaConfig",
    "PersonaRule",
    "ProfileConfig",
    "QualityRule",
    "RFMConfig",
    "SparkConfig",
    "RFM_BINS",
    "ReportConfig",
    "RULE_METRICS",
    "ScoreComponent",
    "ScoreSpec",
    "SegmentRule",
    "Settings",
    "SeverityRule",
    "TierRule",
    "TimingConfig",
    "TimingPersonaRule",
    "TimingWindow",
    "load_settings",
    "parse_persona_condition",
]
