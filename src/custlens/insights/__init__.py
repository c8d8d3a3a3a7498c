"""The insight engine: tested findings from the segments, the series and earlier stages, each
with its test, severity, the customers affected and a recommended action."""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "Insight": "custlens.insights.record",
    "build_insights": "custlens.insights.engine",
    "trend_test": "custlens.insights.statistics",
    "robust_z": "custlens.insights.statistics",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
