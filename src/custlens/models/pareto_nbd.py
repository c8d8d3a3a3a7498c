"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987) fitted by maximum likelihood.

The likelihood, P(alive) and the conditional expectation follow Fader, Hardie & Lee (2005),
"A Note on Implementing the Pareto/NBD Model in MATLAB" (brucehardie.com/notes/008), whose CDNOW
estimates (r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0, weeks 1-39 of the
1/10 sample) the tests reproduce; its hypergeometric term is computed by quadrature
(:mod:`custlens.models.pareto_nbd_likelihood`). Fitting maximises the log-likelihood over the log-parameters
with L-BFGS-B (see :mod:`custlens.models.btyd_likelihood`); identical (frequency, recency, T)
rows are merged into weights first.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np

from custlens._validation import check_fitted
from custlens.models.btyd_base import BtydModel
from custlens.models.btyd_inputs import (
    as_vector,
    check_same_length,
    check_weights,
    validate_rfm,
)
from custlens.models.btyd_likelihood import (
    DEGENERATE_AB,
    NO_DROPOUT,
    fit_log_params,
    nbd_loglik,
    standard_errors,
)
from custlens.models.pareto_nbd_likelihood import pareto_nbd_alive, pareto_nbd_loglik

logger = logging.getLogger(__name__)

PARETO_PARAMS = ("r", "alpha", "s", "beta")


class ParetoNBDModel(BtydModel):
    """Pareto/NBD model of repeat purchases and dropout, fitted by maximum likelihood.

    While alive, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); their
    lifetime is exponential with rate mu ~ Gamma(s, beta), independent of lambda, so dropout can
    happen at any time (in BG/NBD only right after a purchase). Times are in the summary's unit.

    Parameters
    ----------
    min_customers : int, default=10
        Fewest customers (sum of the weights) ``fit`` accepts; at least one of them must have
        a repeat purchase.
    max_iter : int, default=2000
        Most L-BFGS-B iterations of the maximum-likelihood fit.

    Attributes
    ----------
    params_ : dict of str to float
        The estimates of ``r``, ``alpha``, ``s`` and ``beta``.
    standard_errors_ : dict of str to float
        Their standard errors (NaN when the Hessian is not positive definite, and for s and
        beta when they are not identified).
    dropout_limit_ : dict or None
        None, or when s and beta ran off (beta > 1e6, s > 1e4 or s / beta < 1e-6) the limiting ``mean_rate``
        s / beta of dropout; :meth:`describe_limit` says it in words.
    log_likelihood_ : float
        The total log-likelihood at the estimates.
    n_customers_ : int
        Customers the model was fitted on (sum of the weights).

    See Also
    --------
    BetaGeoModel : the BG/NBD model, the backtest's other BTYD candidate.

    Examples
    --------
    With the published CDNOW estimates (in weeks), P(alive) of a customer who bought 2 more
    times, last at week 30.43, observed for 38.86 weeks, and the expected purchases of a new
    customer in the first 39 weeks:

    >>> from custlens.models.pareto_nbd import ParetoNBDModel
    >>> cdnow = ParetoNBDModel.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> float(cdnow.conditional_probability_alive([2], [30.43], [38.86])[0].round(3))
    0.869
    >>> float(cdnow.expected_purchases([39.0])[0].round(3))
    1.213
    """

    PARAMS = PARETO_PARAMS
    LABEL = "Pareto/NBD"

    @classmethod
    def from_params(cls, r: float, alpha: float, s: float, beta: float) -> ParetoNBDModel:
        """A model with given parameters (e.g. published ones), for prediction only.

        Raises
        ------
        DataError
            When a parameter is not positive and finite.
        """
        return cls._from_values([r, alpha, s, beta])

    def fit(
        self, frequency: object, recency: object, T: object, weights: object | None = None
    ) -> ParetoNBDModel:
        """Estimate r, alpha, s and beta by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)
            Repeat purchases, time from the first to the last purchase, time from the first
            purchase to the end of the calibration period (as for ``BetaGeoModel.fit``).
        weights : array-like of shape (n_customers,), optional
            How many customers each row stands for (default 1 each).

        Returns
        -------
        ParetoNBDModel
            The fitted model (``self``).

        Raises
        ------
        ConfigError
            When a constructor parameter is invalid.
        DataError
            When the inputs are invalid, or there are fewer than ``min_customers`` customers or
            no repeat purchase.
        """
        inputs = self._fit_inputs(frequency, recency, T, weights)
        n, cx, ctx, ct, cw = inputs.n, inputs.cx, inputs.ctx, inputs.ct, inputs.cw

        def loglik(p: np.ndarray) -> tuple[float, np.ndarray]:
            return pareto_nbd_loglik(p, cx, ctx, ct, cw)

        start = np.log([1.0, inputs.time_scale, 1.0, inputs.time_scale])
        params = fit_log_params(loglik, start, n, max_iter=self.max_iter, quiet=True)
        self.params_ = dict(zip(PARETO_PARAMS, params.tolist(), strict=True))
        self.log_likelihood_ = loglik(params)[0]
        ses = standard_errors(loglik, params, quiet=True)
        self.dropout_limit_: dict[str, float] | None = None
        r, alpha, s, beta = params
        if beta > 1e6 or s > DEGENERATE_AB or s / beta < NO_DROPOUT:  # mu: one rate, or 0
            rate = float(s / beta)
            self.dropout_limit_ = {"mean_rate": rate}
            if rate < NO_DROPOUT:  # the NBD: only r and alpha are defined
                nbd = standard_errors(lambda v: nbd_loglik(v, cx, ct, cw), params[:2], quiet=True)
                ses = np.array([nbd[0], nbd[1], np.nan, np.nan])
        self.standard_errors_ = dict(zip(PARETO_PARAMS, ses.tolist(), strict=True))
        self.n_customers_ = int(round(n))
        logger.info(
            "Pareto/NBD fitted on %d customers: %s (LL %.2f)",
            n,
            self.params_,
            self.log_likelihood_,
        )
        return self

    def describe_limit(self) -> str:
        """In words: the limit reached when s and beta ran off, or an empty string."""
        check_fitted(self, "params_")
        limit = getattr(self, "dropout_limit_", None)
        if not limit:
            return ""
        if limit["mean_rate"] < NO_DROPOUT:
            return (
                "The data show no dropout: the lifetime rate mu ran to 0 (s / beta -> 0), so "
                "Pareto/NBD reduces to the NBD model (purchase rates Gamma(r, alpha)). s and "
                "beta are not identified (no standard errors); r and alpha are."
            )
        return (
            "The Gamma distribution of the lifetime rate degenerated: s and beta ran off "
            f"together, so every customer has the same dropout rate {limit['mean_rate']:.4g} "
            "per time unit; its variation between customers is not identified."
        )

    def _p(self) -> tuple[float, float, float, float]:
        check_fitted(self, "params_")
        p = self.params_
        return p["r"], p["alpha"], p["s"], p["beta"]

    def log_likelihood(
        self, frequency: object, recency: object, T: object, weights: object | None = None
    ) -> float:
        """Total log-likelihood of the data at this model's parameters."""
        params = np.array(self._p())
        x, tx, big_t = validate_rfm(frequency, recency, T)
        return pareto_nbd_loglik(params, x, tx, big_t, check_weights(weights, len(x)))[0]

    def conditional_probability_alive(
        self, frequency: object, recency: object, T: object
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)
        (computed by quadrature, see :mod:`custlens.models.pareto_nbd_likelihood`).

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        DataError
            When the inputs are invalid (as in ``fit``).
        """
        r, alpha, s, beta = self._p()
        x, tx, big_t = validate_rfm(frequency, recency, T)
        return self._alive(x, tx, big_t).copy()

    def _alive(self, x, tx, big_t) -> np.ndarray:
        """P(alive) per row; the last result is remembered (keyed by the parameters and the
        rows' bytes), since scoring asks for it again for the same customers with every
        quantity and every discounting period of the CLV. Callers must not change it."""
        params = np.array(self._p())
        digest = hashlib.blake2b(digest_size=16)
        for a in (params, x, tx, big_t):
            digest.update(np.ascontiguousarray(a, dtype="float64").tobytes())
        key = digest.digest()
        memo = getattr(self, "_alive_memo", None)
        if memo is None or memo[0] != key:
            memo = (key, pareto_nbd_alive(params, x, tx, big_t))
            self._alive_memo = memo
        return memo[1]

    def conditional_expected_purchases(
        self, t: object, frequency: object, recency: object, T: object
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t].

        (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive), with the
        limit (r+x)/(alpha+T) (beta+T) ln((beta+T+t)/(beta+T)) P(alive) at s = 1.
        """
        r, alpha, s, beta = self._p()
        x, tx, big_t = validate_rfm(frequency, recency, T)
        t_arr = as_vector(t, "t")
        if t_arr.size not in (1, x.size):
            check_same_length(t=t_arr, frequency=x)
        rate = (r + x) / (alpha + big_t)
        return rate * _lifetime_share(t_arr, big_t, s, beta) * self._alive(x, tx, big_t)

    def expected_purchases(self, t: object) -> np.ndarray:
        """E[X(t)] for a customer just acquired: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]."""
        r, alpha, s, beta = self._p()
        t_arr = as_vector(t, "t")
        return r / alpha * _lifetime_share(t_arr, np.zeros(1), s, beta)


def _lifetime_share(t, big_t, s, beta) -> np.ndarray:
    """E[time alive in (T, T+t] | alive at T] = (beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)]."""
    base = beta + big_t
    log_ratio = np.log(base) - np.log(base + t)
    if abs(s - 1.0) < 1e-9:
        return -base * log_ratio
    return base / (s - 1.0) * -np.expm1((s - 1.0) * log_ratio)
