"""BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", Marketing
Science 24(2)) fitted by maximum likelihood.

Fitting maximises the log-likelihood (the paper's eq. 6, written with ``gammaln``/``betaln``
and a log-sum-exp for the x > 0 term) over the log-parameters with L-BFGS-B and the analytic
gradient (see :mod:`custlens.models.btyd_likelihood`). Identical (frequency, recency, T) rows
are merged into weights first. ``standard_errors_`` are the square roots of the diagonal of the
inverse Hessian of the negative log-likelihood with respect to the natural parameters
(r, alpha, a, b); the Hessian is computed by central differences of the analytic gradient at
the estimate.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, hyp2f1

from custlens._validation import check_fitted
from custlens.errors import DataError
from custlens.models.btyd_base import BtydModel
from custlens.models.btyd_inputs import (
    as_vector,
    check_same_length,
    check_weights,
    validate_rfm,
)
from custlens.models.btyd_likelihood import (
    DEGENERATE_AB,
    LOG_BOUND,
    NO_DROPOUT,
    BgnbdData,
    bgnbd_fixed_p_loglik,
    bgnbd_loglik,
    fit_log_params,
    nbd_loglik,
    standard_errors,
)

logger = logging.getLogger(__name__)

BGNBD_PARAMS = ("r", "alpha", "a", "b")


class BetaGeoModel(BtydModel):
    """BG/NBD model of repeat purchases and dropout, fitted by maximum likelihood.

    While alive, a customer buys as a Poisson process whose rate follows Gamma(r, alpha) across
    customers; after each purchase they drop out for good with probability p ~ Beta(a, b)
    (Fader, Hardie & Lee 2005). Times (recency, T, t) are in whatever unit the summary used
    (days or weeks; see :func:`~custlens.models.rfm_summary.summary_from_transactions`).

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
        The estimates of ``r``, ``alpha``, ``a`` and ``b``.
    standard_errors_ : dict of str to float
        Their standard errors (NaN when the Hessian is not positive definite, and for a and b
        when they are not identified).
    dropout_limit_ : dict or None
        None, or when a and b ran off (a + b > 1e4, or a / (a + b) < 1e-6: the Beta has degenerated to one
        dropout probability) the limiting model's ``p``, its standard error ``p_se`` and
        ``log_likelihood``; :meth:`describe_limit` says it in words.
    log_likelihood_ : float
        The total log-likelihood at the estimates.
    n_customers_ : int
        Customers the model was fitted on (sum of the weights).

    See Also
    --------
    GammaGammaModel : the spend model that turns expected purchases into lifetime value.
    summary_from_transactions : frequency, recency and T from raw transactions.

    Examples
    --------
    A summary of 500 customers observed for 40 weeks, identical customers merged into weights
    (300 never came back, 60 bought once more at week 5, ...):

    >>> from custlens.models import BetaGeoModel
    >>> frequency = [0, 1, 1, 2, 2, 4, 5, 8]
    >>> recency = [0, 5, 35, 10, 38, 20, 39, 39]
    >>> T = [40] * 8
    >>> weights = [300, 60, 40, 30, 30, 10, 20, 10]
    >>> bg = BetaGeoModel(max_iter=500).fit(frequency, recency, T, weights=weights)
    >>> bg
    BetaGeoModel(max_iter=500)
    >>> {name: round(value, 2) for name, value in bg.params_.items()}
    {'r': 0.33, 'alpha': 10.5, 'a': 0.41, 'b': 1.2}
    >>> bg.n_customers_
    500

    With the published CDNOW estimates (in weeks), P(alive) of a customer who bought 2 more
    times, last at week 30.43, observed for 38.86 weeks:

    >>> cdnow = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> cdnow.conditional_probability_alive([2], [30.43], [38.86]).round(3)
    array([0.727])
    """

    PARAMS = BGNBD_PARAMS
    LABEL = "BG/NBD"

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
        """A model with given parameters (e.g. published ones), for prediction only.

        Raises
        ------
        DataError
            When a parameter is not positive and finite.
        """
        return cls._from_values([r, alpha, a, b])

    def fit(
        self, frequency: object, recency: object, T: object, weights: object | None = None
    ) -> BetaGeoModel:
        """Estimate r, alpha, a and b by maximum likelihood.

        Parameters
        ----------
        frequency : array-like of shape (n_customers,)
            Repeat purchases (whole numbers, >= 0).
        recency : array-like of shape (n_customers,)
            Time from the first to the last purchase (0 when ``frequency`` is 0).
        T : array-like of shape (n_customers,)
            Time from the first purchase to the end of the calibration period.
        weights : array-like of shape (n_customers,), optional
            How many customers each row stands for (default 1 each).

        Returns
        -------
        BetaGeoModel
            The fitted model (``self``).

        Raises
        ------
        ConfigError
            When a constructor parameter is invalid.
        DataError
            When an input is not finite and non-negative, the lengths differ, ``frequency`` is
            not whole, ``recency`` exceeds ``T``, or there are fewer than ``min_customers``
            customers or no repeat purchase.
        """
        inputs = self._fit_inputs(frequency, recency, T, weights)
        n, (cx, ct, cw) = inputs.n, (inputs.cx, inputs.ct, inputs.cw)
        data = BgnbdData(cx, inputs.ctx, ct, cw)

        def loglik(p: np.ndarray) -> tuple[float, np.ndarray]:
            return bgnbd_loglik(p, data)

        start = np.log([1.0, inputs.time_scale, 1.0, 1.0])
        params = fit_log_params(loglik, start, n, max_iter=self.max_iter, quiet=True)
        self.params_ = dict(zip(BGNBD_PARAMS, params.tolist(), strict=True))
        self.log_likelihood_ = loglik(params)[0]
        self.dropout_limit_: dict[str, float] | None = None
        mean_p = params[2] / (params[2] + params[3])
        if params[2] + params[3] > DEGENERATE_AB or mean_p < NO_DROPOUT:
            self._fit_limit(data, params, n, (cx, ct, cw))
        else:
            if np.any(np.abs(np.log(params)) >= LOG_BOUND - 1e-6):
                logger.warning(
                    "A BG/NBD parameter reached its bound (exp(+-%s)): %s; estimates are "
                    "unreliable",
                    LOG_BOUND,
                    self.params_,
                )
            ses = standard_errors(loglik, params)
            self.standard_errors_ = dict(zip(BGNBD_PARAMS, ses.tolist(), strict=True))
        self.n_customers_ = int(round(n))
        logger.info(
            "BG/NBD fitted on %d customers: %s (LL %.2f)", n, self.params_, self.log_likelihood_
        )
        return self

    def _fit_limit(self, data: BgnbdData, params: np.ndarray, n: float, rows: tuple) -> None:
        """a and b ran off together: fit the limiting model with one dropout probability p.

        Sets ``dropout_limit_`` ({"p", "p_se", "log_likelihood"}), replaces ``params_`` by
        (r, alpha) of the limit with a, b = p K, (1 - p) K (K = exp(LOG_BOUND)), and gives
        standard errors for r and alpha (NaN for a and b, which are not identified).
        """
        r0, alpha0, a0, b0 = params
        p0 = min(max(a0 / (a0 + b0), 1e-9), 1 - 1e-9)

        def limit(q: np.ndarray) -> tuple[float, np.ndarray]:
            return bgnbd_fixed_p_loglik(q, data)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            q = np.array([np.exp(theta[0]), np.exp(theta[1]), expit(theta[2])])
            ll, grad = limit(q)
            if not np.isfinite(ll):
                return 1e300, np.zeros(3)
            chain = np.array([q[0], q[1], q[2] * (1 - q[2])])
            return -ll / n, -(grad * chain) / n

        theta0 = np.array([np.log(r0), np.log(alpha0), np.log(p0) - np.log1p(-p0)])
        res = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": 1e-10},
        )
        q = np.array([np.exp(res.x[0]), np.exp(res.x[1]), expit(res.x[2])])
        ll_limit = limit(q)[0]
        if ll_limit < self.log_likelihood_ - 1e-6:  # keep the better of the two
            q, ll_limit = np.array([r0, alpha0, p0]), limit(np.array([r0, alpha0, p0]))[0]
        ses = standard_errors(limit, q, quiet=True)
        if q[2] < NO_DROPOUT:  # p ran to 0: the NBD, where only r and alpha are defined
            cx, ct, cw = rows
            nbd = standard_errors(lambda v: nbd_loglik(v, cx, ct, cw), q[:2], quiet=True)
            ses = np.array([nbd[0], nbd[1], np.nan])
        big = float(np.exp(LOG_BOUND))
        self.params_ = {"r": q[0], "alpha": q[1], "a": q[2] * big, "b": (1 - q[2]) * big}
        self.params_ = {k: float(v) for k, v in self.params_.items()}
        self.log_likelihood_ = float(ll_limit)
        self.standard_errors_ = {
            "r": float(ses[0]),
            "alpha": float(ses[1]),
            "a": float("nan"),
            "b": float("nan"),
        }
        self.dropout_limit_ = {
            "p": float(q[2]),
            "p_se": float(ses[2]),
            "log_likelihood": float(ll_limit),
        }
        logger.info(
            "BG/NBD: a and b ran off together (a=%.3g, b=%.3g): the dropout probability is one "
            "value p=%.4f for every customer; its heterogeneity is not identified",
            a0,
            b0,
            q[2],
        )

    def describe_limit(self) -> str:
        """In words: the limiting model when a and b ran off together, or an empty string."""
        check_fitted(self, "params_")
        limit = getattr(self, "dropout_limit_", None)
        if not limit:
            return ""
        se = limit["p_se"]
        se_text = f" (standard error {se:.4f})" if np.isfinite(se) else ""
        if limit["p"] < NO_DROPOUT:
            return (
                "The data show no dropout: a and b ran off together with a / (a + b) -> 0, so "
                "BG/NBD reduces to the NBD model (every customer stays active, purchase rates "
                "Gamma(r, alpha)). The dropout probability and its variation between customers "
                "are not identified (a and b have no standard errors); r and alpha are."
            )
        return (
            "The Beta distribution of the dropout probability degenerated: a and b ran off "
            "together to their bound, so every customer drops out after a purchase with the "
            f"same probability p = {limit['p']:.4f}{se_text}. How that probability varies "
            "between customers is not identified by these data (a and b have no standard "
            "errors); r and alpha, the purchase rates, are identified."
        )

    def _p(self) -> tuple[float, float, float, float]:
        check_fitted(self, "params_")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def log_likelihood(
        self, frequency: object, recency: object, T: object, weights: object | None = None
    ) -> float:
        """Total log-likelihood of the data at this model's parameters.

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        DataError
            When the inputs are invalid (as in ``fit``).
        """
        params = np.array(self._p())
        x, tx, big_t = validate_rfm(frequency, recency, T)
        data = BgnbdData(x, tx, big_t, check_weights(weights, len(x)))
        return bgnbd_loglik(params, data)[0]

    def conditional_probability_alive(
        self, frequency: object, recency: object, T: object
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T) (paper eq. 11); 1 for customers with x = 0.

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)
            The BTYD summary, as in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            The probability that each customer is still alive at the end of their period.

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        DataError
            When the inputs are invalid (as in ``fit``).
        """
        r, alpha, a, b = self._p()
        x, tx, big_t = validate_rfm(frequency, recency, T)
        return self._alive(x, tx, big_t, r, alpha, a, b)

    @staticmethod
    def _alive(x, tx, big_t, r, alpha, a, b) -> np.ndarray:
        pos = x > 0
        log_odds = (
            np.log(a)
            - np.log(np.where(pos, b + x - 1, 1.0))
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
        )
        return np.where(pos, expit(-log_odds), 1.0)

    def conditional_expected_purchases(
        self, t: object, frequency: object, recency: object, T: object
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (paper eq. 10).

        Parameters
        ----------
        t : float or array-like of shape (n_customers,)
            Length of the future period, in the summary's time unit.
        frequency, recency, T : array-like of shape (n_customers,)
            The BTYD summary, as in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Expected purchases of each customer in the next ``t`` time units.

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        DataError
            When the inputs are invalid or the hypergeometric function does not converge.
        """
        r, alpha, a, b = self._p()
        x, tx, big_t = validate_rfm(frequency, recency, T)
        t_arr = as_vector(t, "t")
        if t_arr.size not in (1, x.size):
            check_same_length(t=t_arr, frequency=x)
        return self._alive(x, tx, big_t, r, alpha, a, b) * _expected_if_alive(
            t_arr, x, big_t, r, alpha, a, b
        )

    def expected_purchases(self, t: object) -> np.ndarray:
        """E[X(t)] for a customer just acquired (paper eq. 9), for each t.

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        """
        r, alpha, a, b = self._p()
        t_arr = as_vector(t, "t")
        zero = np.zeros(1)
        return _expected_if_alive(t_arr, zero, zero, r, alpha, a, b)


def _hyp2f1_series(
    p: np.ndarray, q: np.ndarray, c: np.ndarray, z: np.ndarray, max_terms: int = 200_000
) -> np.ndarray:
    """Gauss 2F1(p, q; c; z) by its power series, summed until every term is negligible.

    Used only where scipy's evaluation is not finite; non-converged entries come back as NaN.
    """
    total = np.ones_like(z, dtype=float)
    term = np.ones_like(z, dtype=float)
    active = np.ones(z.shape, dtype=bool)
    for k in range(max_terms):
        term = np.where(active, term * (p + k) * (q + k) / ((c + k) * (k + 1)) * z, 0.0)
        total = total + term
        active = active & (np.abs(term) > 1e-16 * np.abs(total)) & np.isfinite(total)
        if not active.any():
            return total
    return np.where(active, np.nan, total)


def _expected_if_alive(t, x, big_t, r, alpha, a, b) -> np.ndarray:
    """Numerator of eq. 10: (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(...)].

    By Euler's transformation 2F1(r+x, b+x; c; z) = (1-z)^(c-r-b-2x) 2F1(c-r-x, c-b-x; c; z)
    with c = a+b+x-1 and z = t/(alpha+T+t), the bracket becomes
    1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z), whose first two parameters do not grow with x.
    (scipy's hyp2f1 on the original form returns NaN for large x, e.g. x = 300 daily repeat
    purchases; the transformed form matches 50-digit mpmath there.) Near a = 1 the 0/0 is
    resolved by averaging a = 1 +- 1e-6.
    """
    if abs(a - 1.0) < 1e-7:
        lo = _expected_if_alive(t, x, big_t, r, alpha, 1.0 - 1e-6, b)
        hi = _expected_if_alive(t, x, big_t, r, alpha, 1.0 + 1e-6, b)
        return (lo + hi) / 2
    c = a + b + x - 1
    one_minus_z = (alpha + big_t) / (alpha + big_t + t)
    z = t / (alpha + big_t + t)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        bracket = 1.0 - one_minus_z ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    bad = ~np.isfinite(bracket)
    if np.any(bad):
        # Very large a and b (little heterogeneity in dropout) give 0 * inf above; the original
        # form's series then converges geometrically (term ratio -> z * b / (a + b) < 1).
        n = np.broadcast_to(x + 0.0 * z, np.shape(bracket))
        zz = np.broadcast_to(z, np.shape(bracket))
        omz = np.broadcast_to(one_minus_z, np.shape(bracket))
        series = _hyp2f1_series(r + n[bad], b + n[bad], a + b + n[bad] - 1, zz[bad])
        bracket = np.array(bracket, dtype=float, copy=True)
        bracket[bad] = 1.0 - omz[bad] ** (r + n[bad]) * series
    out = c / (a - 1) * bracket
    if not np.all(np.isfinite(out)):
        raise DataError(
            "The hypergeometric function did not converge for some customers",
            where=f"BG/NBD parameters r={r:.4g}, alpha={alpha:.4g}, a={a:.4g}, b={b:.4g}",
            fix="refit on more data; extreme parameters (a+b close to 1) make eq. 10 unstable",
        )
    return np.maximum(out, 0.0)
