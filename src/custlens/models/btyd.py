"""Buy-till-you-die models: BG/NBD (purchase counts and P(alive)) and Gamma-Gamma (spend, CLV).

The estimators live in :mod:`custlens.models.bgnbd` and :mod:`custlens.models.gamma_gamma`,
their likelihoods in :mod:`custlens.models.btyd_likelihood`; this module gathers the BTYD
entry points (also exported by :mod:`custlens.models`). Typical use::

    summary = summary_from_transactions(purchases, calibration_end=cutoff, time_unit="W")
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    clv = gg.customer_lifetime_value(bg, summary["frequency"], summary["recency"], summary["T"],
                                     summary["monetary_value"], horizon=52, discount_rate=0.1)
"""

from __future__ import annotations

from custlens.models.bgnbd import BetaGeoModel
from custlens.models.gamma_gamma import GammaGammaModel
from custlens.models.pareto_nbd import ParetoNBDModel
from custlens.models.rfm_summary import summary_from_transactions

__all__ = ["BetaGeoModel", "GammaGammaModel", "ParetoNBDModel", "summary_from_transactions"]
