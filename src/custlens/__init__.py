"""custlens: customer intelligence from order logs.

>>> import custlens
>>> results = custlens.run(custlens.datasets.synthetic(300, seed=1).orders,
...                        settings=custlens.Settings(analyses=[]))
>>> int(results.customers["customer_id"].nunique()) == len(results.customers)
True

The public API is imported lazily so that ``import custlens`` stays cheap and has no side effects.
"""

from __future__ import annotations

from importlib import import_module, metadata
from types import ModuleType
from typing import Any

from custlens._lazy import lazy_exports

try:
    __version__ = metadata.version("custlens")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

_EXPORTS = {
    "run": "custlens.pipeline",
    "score": "custlens.pipeline",
    "Results": "custlens.pipeline",
    "open_results": "custlens.pipeline",
    "load": "custlens.io.load",
    "ReadOptions": "custlens.io.options",
    "clean": "custlens.io.clean",
    "customer_table": "custlens.features.rfm",
    "score_rfm": "custlens.segment.rfm_segments",
    "Settings": "custlens.config",
    "load_settings": "custlens.config",
    "BetaGeoModel": "custlens.models.bgnbd",
    "GammaGammaModel": "custlens.models.gamma_gamma",
    "summary_from_transactions": "custlens.models.rfm_summary",
    **{
        name: "custlens.errors"
        for name in (
            "CustlensError",
            "InputError",
            "MappingError",
            "ConfigError",
            "DataError",
            "OutputError",
            "ModelError",
            "NotFittedError",
        )
    },
}
_SUBPACKAGES = ("audit", "datasets", "profile")


class _ProfilePackage(ModuleType):
    """``custlens.profile`` is both the package of the customer-table modules and, called, the
    pipeline entry :func:`custlens.pipeline.profile.profile` (a package attribute would be
    replaced by the subpackage as soon as it is imported, so the package itself is callable)."""

    def __call__(self, source: Any, **kwargs: Any) -> Any:
        from custlens.pipeline.profile import profile

        return profile(source, **kwargs)


# cheap: the package's names are lazy; makes ``custlens.profile(...)`` work in every import order
import_module("custlens.profile").__class__ = _ProfilePackage

__all__ = sorted(["__version__", *_EXPORTS, *_SUBPACKAGES])
_names, _dir = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return import_module(f"custlens.{name}")
    return _names(name)


def __dir__() -> list[str]:
    return list(__all__)
