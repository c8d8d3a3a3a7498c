"""custlens.models: BTYD models (BG/NBD, Pareto/NBD, Gamma-Gamma), LightGBM churn / CLV / next purchase,
backtests and saved models.

The public names below are loaded on first use (a module ``__getattr__``), so importing
``custlens.models`` or one of its submodules does not pull in LightGBM, scipy and skops::

    from custlens.models import BetaGeoModel, summary_from_transactions
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from custlens.models.bgnbd import BetaGeoModel
    from custlens.models.churn import ChurnModel
    from custlens.models.clv import ClvModel
    from custlens.models.gamma_gamma import GammaGammaModel
    from custlens.models.next_purchase import NextPurchaseModel
    from custlens.models.pareto_nbd import ParetoNBDModel
    from custlens.models.persist import load_models, save_models
    from custlens.models.rfm_summary import summary_from_transactions

_SOURCES = {
    "BetaGeoModel": "custlens.models.bgnbd",
    "GammaGammaModel": "custlens.models.gamma_gamma",
    "ParetoNBDModel": "custlens.models.pareto_nbd",
    "summary_from_transactions": "custlens.models.rfm_summary",
    "ChurnModel": "custlens.models.churn",
    "ClvModel": "custlens.models.clv",
    "NextPurchaseModel": "custlens.models.next_purchase",
    "save_models": "custlens.models.persist",
    "load_models": "custlens.models.persist",
}

__all__ = [
    "BetaGeoModel",
    "ChurnModel",
    "ClvModel",
    "GammaGammaModel",
    "NextPurchaseModel",
    "ParetoNBDModel",
    "load_models",
    "save_models",
    "summary_from_transactions",
]


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
