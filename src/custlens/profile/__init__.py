"""Customer tables (one row per customer): roles, derived features, quality rules, personas,
statistics across personas and scores. ``custlens.profile(...)`` (in :mod:`custlens.pipeline`)
runs them in order."""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "RoleAssignment": "custlens.profile.roles",
    "assign_roles": "custlens.profile.roles",
    "looks_like_customer_table": "custlens.profile.roles",
    "CATALOG": "custlens.profile.derived",
    "CustomerFeatures": "custlens.profile.derived",
    "derive_features": "custlens.profile.derived",
    "apply_quality_rules": "custlens.profile.quality",
    "Segmentation": "custlens.profile.segmentation",
    "design_matrix": "custlens.profile.segmentation",
    "segment_customers": "custlens.profile.segmentation",
    "ProfilePersonas": "custlens.profile.personas",
    "build_profile_personas": "custlens.profile.personas",
    "campaign_response": "custlens.profile.statistics",
    "categorical_tests": "custlens.profile.statistics",
    "numeric_tests": "custlens.profile.statistics",
    "high_value_drivers": "custlens.profile.statistics",
    "wilson_interval": "custlens.profile.statistics",
    "epsilon_squared": "custlens.profile.statistics",
    "CustomerScores": "custlens.profile.scores",
    "score_customers": "custlens.profile.scores",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
