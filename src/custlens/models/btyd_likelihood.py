"""Maximum-likelihood machinery of the BTYD models: the BG/NBD and Gamma-Gamma log-likelihoods
with their analytic gradients, the optimiser glue and the standard errors.

The estimators (:class:`~custlens.models.bgnbd.BetaGeoModel`,
:class:`~custlens.models.gamma_gamma.GammaGammaModel`) validate their inputs and call these;
the helpers here trust them.

Fitting maximises the log-likelihood over the log-parameters with L-BFGS-B and the analytic
gradient. Identical rows are merged into weights first (the likelihood is a weighted sum).
Standard errors are the square roots of the diagonal of the inverse Hessian of the negative
log-likelihood with respect to the natural parameters; the Hessian is computed by central
differences of the analytic gradient at the estimate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

logger = logging.getLogger(__name__)

LOG_BOUND = 18.0  # log-parameters are kept in [-18, 18] (about 1.5e-8 .. 6.6e7)
MAX_ITER = 2000  # L-BFGS-B iterations (the estimators' default ``max_iter``)

LogLik = Callable[[np.ndarray], tuple[float, np.ndarray]]


# --------------------------------------------------------------------------- optimiser glue
def fit_log_params(
    loglik: LogLik,
    x0: np.ndarray,
    total_weight: float,
    *,
    max_iter: int = MAX_ITER,
    quiet: bool = False,
) -> np.ndarray:
    """Maximise ``loglik`` (natural parameters -> (ll, gradient)) over log-parameters.

    A fit that stops away from a stationary point, or with a parameter at its bound, is logged
    as a warning, or at debug level when ``quiet`` (the caller then explains the boundary).
    """

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, grad = loglik(params)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(theta)
        return -ll / total_weight, -(grad * params) / total_weight

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    res = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10},
    )
    loud = logging.DEBUG if quiet else logging.WARNING
    if not res.success:  # ABNORMAL at the optimum (tolerances below float precision) is fine
        level = logging.DEBUG if np.max(np.abs(res.jac)) < 1e-6 else loud
        logger.log(level, "BTYD optimiser: %s (gradient %s)", res.message, res.jac)
    if np.any(np.abs(res.x) >= LOG_BOUND - 1e-6):
        logger.log(
            loud,
            "A BTYD parameter reached its bound (exp(+-%s)); estimates are unreliable",
            LOG_BOUND,
        )
    return np.exp(res.x)


def standard_errors(loglik: LogLik, params: np.ndarray, *, quiet: bool = False) -> np.ndarray:
    """sqrt(diag(H^-1)), H = Hessian of -loglik in the natural parameters (central differences
    of the analytic gradient). NaN where H is not positive definite (a warning, or a debug
    message when ``quiet``)."""
    loud = logging.DEBUG if quiet else logging.WARNING
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
        logger.log(loud, "Singular Hessian: standard errors unavailable")
        return np.full(k, np.nan)
    diag = np.diag(cov)
    if np.any(diag <= 0) or np.any(np.linalg.eigvalsh(hess) <= 0):
        logger.log(loud, "Hessian not positive definite: standard errors unavailable")
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


def wdot(u: np.ndarray, v: np.ndarray) -> float:
    # einsum, not BLAS: a threaded BLAS dot is slow on small, busy machines
    return float(np.einsum("i,i->", u, v))


# --------------------------------------------------------------------------- BG/NBD
class BgnbdData:
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


def bgnbd_loglik(params: np.ndarray, d: BgnbdData) -> tuple[float, np.ndarray]:
    """Total BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6) and its gradient in
    (r, alpha, a, b).

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


# --------------------------------------------------------------------------- Gamma-Gamma
def gamma_gamma_loglik(
    params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log-likelihood of the mean spends m given x transactions, and its gradient in (p, q, gamma)."""
    p, q, g = params
    px = p * x
    log_gmx = np.log(g + m * x)
    ll_i = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_gmx
    )
    dig = digamma(px + q)
    d_p = wdot(w, x * (dig - digamma(px) + np.log(m) + np.log(x) - log_gmx))
    d_q = wdot(w, dig - digamma(q) + np.log(g) - log_gmx)
    d_g = wdot(w, q / g - (px + q) / (g + m * x))
    return wdot(w, ll_i), np.array([d_p, d_q, d_g])


# --------------------------------------------------------------------------- BG/NBD's limit
DEGENERATE_AB = 1e4  # a + b above this: the Beta of the dropout probability is a point mass
NO_DROPOUT = 1e-6  # a limiting dropout probability (or mean rate per time unit) below this: none


def bgnbd_fixed_p_loglik(params: np.ndarray, d: BgnbdData) -> tuple[float, np.ndarray]:
    """BG/NBD with one dropout probability p for every customer (the limit a, b -> infinity
    with a / (a + b) -> p), and its gradient in (r, alpha, p):

    LL_i = ln G(r+x) - ln G(r) + r ln alpha + x ln(1-p)
           + ln[(alpha+T)^-(r+x) + [x>0] p/(1-p) (alpha+t_x)^-(r+x)]
    """

    def total(q: np.ndarray) -> float:
        r, alpha, p = q
        if not 0.0 < p < 1.0:
            return -np.inf
        base = gammaln(r + d.ux) - gammaln(r) + r * np.log(alpha) + d.ux * np.log1p(-p)
        rx = r + d.x1
        log_t1 = np.log(alpha + d.t1)
        diff = np.log(p) - np.log1p(-p) - rx * (np.log(alpha + d.tx1) - log_t1)
        softplus = np.maximum(diff, 0.0) + np.log1p(np.exp(-np.abs(diff)))
        return (
            wdot(d.wu, base)
            - r * wdot(d.w0, np.log(alpha + d.t0))
            + wdot(d.w1, softplus - rx * log_t1)
        )

    ll = total(params)
    grad = np.empty(3)
    for j in range(3):
        h = 1e-6 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (total(up) - total(down)) / (2 * h)
    return ll, grad


def nbd_loglik(params: np.ndarray, x, big_t, w) -> tuple[float, np.ndarray]:
    """The NBD (no dropout: BG/NBD with p = 0, Pareto/NBD with mu = 0) log-likelihood of the
    repeat counts up to a constant, and its gradient in (r, alpha):
    LL_i = ln G(r+x) - ln G(r) + r ln alpha - (r+x) ln(alpha+T)."""
    r, alpha = params
    log_t = np.log(alpha + big_t)
    ll = wdot(w, gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * log_t)
    d_r = wdot(w, digamma(r + x) - digamma(r) + np.log(alpha) - log_t)
    d_alpha = wdot(w, r / alpha - (r + x) / (alpha + big_t))
    return ll, np.array([d_r, d_alpha])
