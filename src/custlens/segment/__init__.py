"""Who customers are: RFM scores and named segments, personas (clusters named by rules and
explained by a surrogate tree) and timing patterns."""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "score_rfm": "custlens.segment.rfm_segments",
    "describe_segments": "custlens.segment.rfm_segments",
    "segment_summary": "custlens.segment.rfm_segments",
    "PersonaClusterer": "custlens.segment.clustering",
    "Personas": "custlens.segment.personas",
    "PersonaMap": "custlens.segment.personas",
    "build_personas": "custlens.segment.personas",
    "name_personas": "custlens.segment.personas",
    "profile_clusters": "custlens.segment.personas",
    "PersonaExplanation": "custlens.segment.explain",
    "explain_personas": "custlens.segment.explain",
    "rule_text": "custlens.segment.tree_rules",
    "hour_weekday": "custlens.segment.timing",
    "seasonality": "custlens.segment.timing",
    "timing_personas": "custlens.segment.timing",
    "best_contact_windows": "custlens.segment.timing",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
