"""BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", Marketing
Science 24(2)) fitted by maximum likelihood, plus the input checks shared with Gamma-Gamma.

Fitting maximises the log-likelihood (the paper's eq. 6, written with ``gammaln``/``betaln``
and a log-sum-exp for the x > 0 term) over the log-parameters with L-BFGS-B and the analytic
gradient. Identical (frequency, recency, T) rows are merged into weights first.
``standard_errors_`` are the square roots of the diagonal of the inverse Hessian of the
negative log-likelihood with respect to the natural parameters (r, alpha, a, b); the Hessian is
computed by central differences of the analytic gradient at the estimate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

from custlens.errors import DataError, ModelError

logger = logging.getLogger(__name__)

MIN_CUSTOMERS = 10
BGNBD_PARAMS = ("r", "alpha", "a", "b")
_LOG_BOUND = 18.0  # log-parameters are kept in [-18, 18] (about 1.5e-8 .. 6.6e7)


# --------------------------------------------------------------------------- input checks
def as_vector(values: object, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """A finite, non-negative 1-D float array, or DataError naming the first bad row."""
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise DataError(
            f"{name} must be numbers",
            where=name,
            fix="pass a numeric column (pandas Series, numpy array or list)",
        ) from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}", where=name)
    if arr.size == 0 and not allow_empty:
        raise DataError(f"{name} is empty", where=name, fix="pass at least one customer")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name} must be finite and non-negative; found {arr[i]!r}",
            where=f"{name}, row {i} ({int(bad.sum())} bad row(s) in all)",
            fix="drop or repair those customers (missing values, negative amounts)",
        )
    return arr


def check_integer_frequency(x: np.ndarray, name: str = "frequency") -> None:
    frac = np.abs(x - np.round(x)) > 1e-9
    if frac.any():
        i = int(np.flatnonzero(frac)[0])
        raise DataError(
            f"{name} must count repeat purchases (whole numbers); found {x[i]!r}",
            where=f"{name}, row {i}",
            fix="use summary_from_transactions to build frequency, recency and T",
        )


def check_same_length(**arrays: np.ndarray) -> None:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(
            f"Inputs have different lengths: {lengths}",
            where=", ".join(lengths),
            fix="pass one value per customer in every input",
        )


def validate_rfm(
    frequency: object, recency: object, T: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the BTYD summary once: lengths, non-negative, integer frequency, recency <= T."""
    x = as_vector(frequency, "frequency")
    tx = as_vector(recency, "recency")
    big_t = as_vector(T, "T")
    check_same_length(frequency=x, recency=tx, T=big_t)
    check_integer_frequency(x)
    over = tx > big_t * (1 + 1e-12) + 1e-12
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise DataError(
            f"recency ({tx[i]}) is larger than T ({big_t[i]})",
            where=f"row {i} ({int(over.sum())} such row(s))",
            fix="recency is first-to-last purchase and T first purchase to the end; "
            "recompute them with summary_from_transactions",
        )
    lone = (x == 0) & (tx > 0)
    if lone.any():
        i = int(np.flatnonzero(lone)[0])
        raise DataError(
            f"recency is {tx[i]} for a customer with no repeat purchase (frequency 0)",
            where=f"row {i} ({int(lone.sum())} such row(s))",
            fix="by definition recency is 0 when frequency is 0",
        )
    return np.round(x), tx, big_t


def check_weights(weights: object | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = as_vector(weights, "weights")
    check_same_length(weights=w, customers=np.empty(n))
    return w


def require_fitted(model: object) -> dict[str, float]:
    params = getattr(model, "params_", None)
    if params is None:
        name = type(model).__name__
        raise ModelError(
            f"{name} is not fitted",
            where=name,
            fix=f"call {name}.fit(...) (or {name}.from_params(...)) before predicting",
        )
    return params


# --------------------------------------------------------------------------- MLE machinery
def fit_log_params(
    loglik: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, total_weight: float
) -> np.ndarray:
    """Maximise ``loglik`` (natural parameters -> (ll, gradient)) over log-parameters."""

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, grad = loglik(params)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(theta)
        return -ll / total_weight, -(grad * params) / total_weight

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    res = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    if not res.success:  # ABNORMAL at the optimum (tolerances below float precision) is fine
        level = logging.DEBUG if np.max(np.abs(res.jac)) < 1e-6 else logging.WARNING
        logger.log(level, "BTYD optimiser: %s (gradient %s)", res.message, res.jac)
    if np.any(np.abs(res.x) >= _LOG_BOUND - 1e-6):
        logger.warning(
            "A BTYD parameter reached its bound (exp(+-%s)); estimates are unreliable", _LOG_BOUND
        )
    return np.exp(res.x)


def standard_errors(
    loglik: Callable[[np.ndarray], tuple[float, np.ndarray]], params: np.ndarray
) -> np.ndarray:
    """sqrt(diag(H^-1)), H = Hessian of -loglik in the natural parameters (central differences
    of the analytic gradient). NaN where H is not positive definite."""
    k = len(params)
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = -(loglik(up)[1] - loglik(down)[1]) / (2 * h)
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        logger.warning("Singular Hessian: standard errors unavailable")
        return np.full(k, np.nan)
    diag = np.diag(cov)
    if np.any(diag <= 0) or np.any(np.linalg.eigvalsh(hess) <= 0):
        logger.warning("Hessian not positive definite: standard errors unavailable")
        return np.full(k, np.nan)
    return np.sqrt(diag)


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns and, for every input row, the index of its row."""
    order = np.lexsort(columns[::-1])
    stacked = np.column_stack([c[order] for c in columns])
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = np.any(stacked[1:] != stacked[:-1], axis=1)
    group_of_sorted = np.cumsum(new_group) - 1
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = group_of_sorted
    uniq = stacked[new_group]
    return [uniq[:, j] for j in range(uniq.shape[1])], inverse


def compress_rows(*columns: np.ndarray, weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Merge identical rows, summing their weights (the likelihood is a weighted sum)."""
    uniq, inverse = unique_rows(*columns)
    return uniq, np.bincount(inverse, weights=weights, minlength=len(uniq[0]))


# --------------------------------------------------------------------------- BG/NBD
class _BgnbdData:
    """The summary split for the likelihood: x = 0 customers only need T; x-only terms are
    summed over the distinct x values."""

    def __init__(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> None:
        self.ux, inv = np.unique(x, return_inverse=True)
        self.wu = np.bincount(inv, weights=w, minlength=len(self.ux))
        zero = x == 0
        self.t0, self.w0 = big_t[zero], w[zero]
        pos = ~zero
        self.x1, self.tx1, self.t1, self.w1 = x[pos], tx[pos], big_t[pos], w[pos]
        self.log_bx1_idx = inv[pos]  # index into ux for the b + x - 1 term


def wdot(u: np.ndarray, v: np.ndarray) -> float:
    # einsum, not BLAS: a threaded BLAS dot is slow on small, busy machines
    return float(np.einsum("i,i->", u, v))


def _bgnbd_loglik(params: np.ndarray, d: _BgnbdData) -> tuple[float, np.ndarray]:
    """Total log-likelihood (eq. 6) and its gradient in (r, alpha, a, b).

    LL_i = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
           + ln[(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)]
    """
    r, alpha, a, b = params
    ux, wu = d.ux, d.wu
    a1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(b + ux) - gammaln(a + b + ux) - gammaln(b) + gammaln(a + b)
    # customers without repeat purchases: only (alpha + T)^-r
    log_t0 = np.log(alpha + d.t0)
    # repeat customers: ln[e^a3 + e^a4] = a3 + softplus(a4 - a3), computed without overflow
    rx = r + d.x1
    log_t1 = np.log(alpha + d.t1)
    log_tx1 = np.log(alpha + d.tx1)
    bx1 = b + d.x1 - 1.0
    diff = np.log(a) - np.log(bx1) - rx * (log_tx1 - log_t1)
    e = np.exp(-np.abs(diff))
    softplus = np.maximum(diff, 0.0) + np.log1p(e)
    w4 = np.where(diff >= 0, 1.0, e) / (1.0 + e)  # share of the "dropped out" term, expit(diff)
    w3 = 1.0 - w4
    ll = wdot(wu, a1 + a2) - r * wdot(d.w0, log_t0) + wdot(d.w1, softplus - rx * log_t1)
    d_r = (
        wdot(wu, digamma(r + ux) - digamma(r) + np.log(alpha))
        - wdot(d.w0, log_t0)
        - wdot(d.w1, w3 * log_t1 + w4 * log_tx1)
    )
    d_alpha = (
        wu.sum() * r / alpha
        - r * wdot(d.w0, 1.0 / (alpha + d.t0))
        - wdot(d.w1, rx * (w3 / (alpha + d.t1) + w4 / (alpha + d.tx1)))
    )
    ww4 = d.w1 * w4
    d_a = wdot(wu, digamma(a + b) - digamma(a + b + ux)) + ww4.sum() / a
    d_b = wdot(wu, digamma(b + ux) - digamma(a + b + ux) - digamma(b) + digamma(a + b)) - wdot(
        ww4, 1.0 / bx1
    )
    return ll, np.array([d_r, d_alpha, d_a, d_b])


class BetaGeoModel:
    """BG/NBD: purchases while alive follow a Poisson process (rate ~ Gamma(r, alpha)); after
    each purchase the customer drops out with probability p ~ Beta(a, b).

    Times (recency, T, t) are in whatever unit the summary used (days or weeks).
    """

    def __init__(self) -> None:
        self.params_: dict[str, float] | None = None
        self.standard_errors_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_customers_: int | None = None

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
        """A model with given parameters (e.g. published ones), for prediction only."""
        values = np.array([r, alpha, a, b], dtype="float64")
        if not np.all(np.isfinite(values) & (values > 0)):
            raise DataError(
                f"BG/NBD parameters must be positive and finite, got {values.tolist()}",
                where="BetaGeoModel.from_params",
            )
        model = cls()
        model.params_ = dict(zip(BGNBD_PARAMS, values.tolist(), strict=True))
        return model

    def fit(
        self, frequency: object, recency: object, T: object, weights: object | None = None
    ) -> BetaGeoModel:
        x, tx, big_t = validate_rfm(frequency, recency, T)
        w = check_weights(weights, len(x))
        n = float(w.sum())
        if n < MIN_CUSTOMERS or not np.any((x > 0) & (w > 0)):
            raise DataError(
                f"Too few customers to fit BG/NBD: {n:g} customers, "
                f"{int(np.sum((x > 0) & (w > 0)))} with a repeat purchase",
                where="BetaGeoModel.fit",
                fix=f"use at least {MIN_CUSTOMERS} customers, some of whom bought more than once "
                "(a longer calibration period helps)",
            )
        (cx, ctx, ct), cw = compress_rows(x, tx, big_t, weights=w)
        data = _BgnbdData(cx, ctx, ct, cw)

        def loglik(p: np.ndarray) -> tuple[float, np.ndarray]:
            return _bgnbd_loglik(p, data)

        scale = max(float(np.average(big_t, weights=w)), 1e-6)
        params = fit_log_params(loglik, np.log([1.0, scale, 1.0, 1.0]), n)
        self.params_ = dict(zip(BGNBD_PARAMS, params.tolist(), strict=True))
        self.log_likelihood_ = loglik(params)[0]
        ses = standard_errors(loglik, params)
        self.standard_errors_ = dict(zip(BGNBD_PARAMS, ses.tolist(), strict=True))
        self.n_customers_ = int(round(n))
        logger.info(
            "BG/NBD fitted on %d customers: %s (LL %.2f)", n, self.params_, self.log_likelihood_
        )
        return self

    def _p(self) -> tuple[float, float, float, float]:
        p = require_fitted(self)
        return p["r"], p["alpha"], p["a"], p["b"]

    def log_likelihood(
        self, frequency: object, recency: object, T: object, weights: object | None = None
    ) -> float:
        """Total log-likelihood of the data at this model's parameters."""
        params = np.array(self._p())
        x, tx, big_t = validate_rfm(frequency, recency, T)
        data = _BgnbdData(x, tx, big_t, check_weights(weights, len(x)))
        return _bgnbd_loglik(params, data)[0]

    def conditional_probability_alive(
        self, frequency: object, recency: object, T: object
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T) (paper eq. 11); 1 for customers with x = 0."""
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
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (paper eq. 10)."""
        r, alpha, a, b = self._p()
        x, tx, big_t = validate_rfm(frequency, recency, T)
        t_arr = as_vector(t, "t")
        if t_arr.size not in (1, x.size):
            check_same_length(t=t_arr, frequency=x)
        return self._alive(x, tx, big_t, r, alpha, a, b) * _expected_if_alive(
            t_arr, x, big_t, r, alpha, a, b
        )

    def expected_purchases(self, t: object) -> np.ndarray:
        """E[X(t)] for a customer just acquired (paper eq. 9), for each t."""
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
