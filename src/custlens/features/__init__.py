"""Customer-level features computed in the engine as of a date: the customer table (RFM) and the
catalogued behavioural features (see docs/features.md)."""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "customer_table": "custlens.features.rfm",
    "resolve_as_of": "custlens.features.rfm",
    "behavioral_features": "custlens.features.behavioral",
    "FeatureResult": "custlens.features.behavioral",
    "FeatureSpec": "custlens.features.catalog",
    "feature": "custlens.features.catalog",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
