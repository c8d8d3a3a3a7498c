"""What the BTYD models share: their settings and ``from_params``
(:class:`~custlens.models.bgnbd.BetaGeoModel`, :class:`~custlens.models.pareto_nbd.ParetoNBDModel`,
:class:`~custlens.models.gamma_gamma.GammaGammaModel`), and the purchase models' checked, merged
inputs of ``fit``."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar, Self

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from custlens._validation import validate_params
from custlens.errors import DataError
from custlens.models.btyd_inputs import MIN_CUSTOMERS, check_weights, validate_rfm
from custlens.models.btyd_likelihood import MAX_ITER, compress_rows

__all__ = ["BtydModel", "FitInputs"]


class FitInputs:
    """The inputs of ``fit`` after checking: the rows as given (``x``, ``tx``, ``big_t``,
    weights ``w``, total ``n``) and identical rows merged (``cx``, ``ctx``, ``ct``, ``cw``;
    rows of weight 0 dropped)."""

    def __init__(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> None:
        self.x, self.tx, self.big_t, self.w = x, tx, big_t, w
        self.n = float(w.sum())
        (cx, ctx, ct), cw = compress_rows(x, tx, big_t, weights=w)
        keep = cw > 0
        self.cx, self.ctx, self.ct, self.cw = cx[keep], ctx[keep], ct[keep], cw[keep]

    @property
    def time_scale(self) -> float:
        """The weighted mean observation time T: the optimiser's starting scale."""
        return max(float(np.average(self.big_t, weights=self.w)), 1e-6)


class BtydModel(BaseEstimator):
    """Base of the BTYD models: ``PARAMS`` names the parameters, ``LABEL`` the model in
    messages."""

    PARAMS: ClassVar[tuple[str, ...]] = ()
    LABEL: ClassVar[str] = ""
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "min_customers": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, min_customers: int = MIN_CUSTOMERS, max_iter: int = MAX_ITER) -> None:
        self.min_customers = min_customers
        self.max_iter = max_iter

    @classmethod
    def _from_values(cls, values: list[float]) -> Self:
        params = np.array(values, dtype="float64")
        if not np.all(np.isfinite(params) & (params > 0)):
            raise DataError(
                f"{cls.LABEL} parameters must be positive and finite, got {params.tolist()}",
                where=f"{cls.__name__}.from_params",
            )
        model = cls()
        model.params_ = dict(zip(cls.PARAMS, params.tolist(), strict=True))
        return model

    def _fit_inputs(
        self, frequency: object, recency: object, T: object, weights: object | None
    ) -> FitInputs:
        """Validate the settings and the summary; refuse too few customers or no repeat."""
        validate_params(self)
        x, tx, big_t = validate_rfm(frequency, recency, T)
        data = FitInputs(x, tx, big_t, check_weights(weights, len(x)))
        repeaters = int(np.sum((x > 0) & (data.w > 0)))
        if data.n < self.min_customers or repeaters == 0:
            raise DataError(
                f"Too few customers to fit {self.LABEL}: {data.n:g} customers, "
                f"{repeaters} with a repeat purchase",
                where=f"{type(self).__name__}.fit",
                fix=f"use at least {self.min_customers} customers, some of whom bought more "
                "than once (a longer calibration period helps)",
            )
        return data
