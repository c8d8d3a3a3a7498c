"""Gamma-Gamma spend model and customer lifetime value (Fader, Hardie & Lee 2005, "RFM and CLV:
Using Iso-value Curves for Customer Base Analysis", JMR 42(4), and the note "The Gamma-Gamma
Model of Monetary Value").

A customer's spend per transaction is Gamma(p, nu) around their mean p/nu, with
nu ~ Gamma(q, gamma) across customers. Fitted by maximum likelihood on repeat customers
(frequency > 0) with ``monetary_value`` = mean spend per repeat purchase day. Standard errors:
inverse Hessian of the negative log-likelihood in the natural parameters (p, q, gamma),
central differences of the analytic gradient.

Which spend: on CDNOW (weeks 1-39) the mean of the *day totals* over the repeat purchase days
(first day excluded, as ``summary_from_transactions`` computes it) reproduces the published
p = 6.25, q = 3.74, gamma = 15.44 (we get 6.2496, 3.7442, 15.4435 on 946 repeat customers);
the mean per order *line* gives p = 6.05, q = 3.89, gamma = 16.4, which does not.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from custlens._validation import check_fitted, validate_params
from custlens.errors import ConfigError, DataError
from custlens.models.btyd_base import BtydModel
from custlens.models.btyd_inputs import (
    as_vector,
    check_integer_frequency,
    check_same_length,
    check_weights,
    validate_rfm,
)
from custlens.models.btyd_likelihood import (
    compress_rows,
    fit_log_params,
    gamma_gamma_loglik,
    standard_errors,
)
from custlens.models.rfm_summary import unit_days

if TYPE_CHECKING:
    from custlens.models.bgnbd import BetaGeoModel

logger = logging.getLogger(__name__)

GG_PARAMS = ("p", "q", "gamma")
DAYS_PER_YEAR = 365.25


def _validate_spend(frequency: object, monetary_value: object) -> tuple[np.ndarray, np.ndarray]:
    x = as_vector(frequency, "frequency")
    m = as_vector(monetary_value, "monetary_value")
    check_same_length(frequency=x, monetary_value=m)
    check_integer_frequency(x)
    return np.round(x), m


class GammaGammaModel(BtydModel):
    """Gamma-Gamma model of the average spend per repeat transaction, and lifetime value.

    A customer's spend per transaction is Gamma(p, nu) around their mean p / nu, with
    nu ~ Gamma(q, gamma) across customers (Fader, Hardie & Lee 2005). Fitted by maximum
    likelihood on the repeat customers (frequency > 0) with their mean spend per repeat
    purchase day.

    Parameters
    ----------
    min_customers : int, default=10
        Fewest repeat customers with a positive mean spend (sum of the weights) ``fit``
        accepts.
    max_iter : int, default=2000
        Most L-BFGS-B iterations of the maximum-likelihood fit.

    Attributes
    ----------
    params_ : dict of str to float
        The estimates of ``p``, ``q`` and ``gamma``.
    standard_errors_ : dict of str to float
        Their standard errors (NaN when the Hessian is not positive definite).
    log_likelihood_ : float
        The total log-likelihood at the estimates.
    n_customers_ : int
        Repeat customers the model was fitted on (sum of the weights).
    n_excluded_ : int
        Repeat customers left out because their mean spend is 0.
    frequency_monetary_corr_ : float or None
        Correlation of frequency and mean spend among those customers (the model assumes
        none); ``None`` when either is constant or there are too few customers.

    See Also
    --------
    BetaGeoModel : the purchase model ``customer_lifetime_value`` needs.

    Examples
    --------
    Repeat purchases and mean spends of 122 repeat customers, identical ones merged into
    weights (20 bought once more for 8.00, ...):

    >>> from custlens.models import GammaGammaModel
    >>> frequency = [1, 1, 1, 1, 2, 2, 2, 3, 3, 5]
    >>> spend = [8.0, 20.0, 35.0, 120.0, 12.0, 30.0, 70.0, 18.0, 40.0, 25.0]
    >>> weights = [20, 30, 15, 5, 15, 12, 6, 8, 6, 5]
    >>> gg = GammaGammaModel().fit(frequency, spend, weights=weights)
    >>> {name: round(value, 2) for name, value in gg.params_.items()}
    {'p': 6.75, 'q': 3.62, 'gamma': 10.63}
    >>> gg.n_customers_
    122

    With the published CDNOW estimates, the expected spend of a customer with 2 repeat
    purchases averaging 30, p (gamma + x m) / (p x + q - 1):

    >>> cdnow = GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44)
    >>> cdnow.conditional_expected_average_profit([2], [30.0]).round(2)
    array([30.94])
    """

    PARAMS = GG_PARAMS
    LABEL = "Gamma-Gamma"

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> GammaGammaModel:
        """A model with given parameters (e.g. published ones), for prediction only.

        Raises
        ------
        DataError
            When a parameter is not positive and finite.
        """
        return cls._from_values([p, q, gamma])

    def fit(
        self, frequency: object, monetary_value: object, weights: object | None = None
    ) -> GammaGammaModel:
        """Estimate p, q and gamma on the customers with frequency > 0.

        Customers without a repeat purchase carry no spend information. Repeat customers whose
        mean spend is 0 (free orders only) cannot come from a Gamma distribution; they are left
        out, counted in ``n_excluded_`` and logged.

        Parameters
        ----------
        frequency : array-like of shape (n_customers,)
            Repeat purchases (whole numbers, >= 0).
        monetary_value : array-like of shape (n_customers,)
            Mean spend per repeat purchase (>= 0).
        weights : array-like of shape (n_customers,), optional
            How many customers each row stands for (default 1 each).

        Returns
        -------
        GammaGammaModel
            The fitted model (``self``).

        Raises
        ------
        ConfigError
            When a constructor parameter is invalid.
        DataError
            When an input is not finite and non-negative, the lengths differ, ``frequency`` is
            not whole, or fewer than ``min_customers`` repeat customers have a positive spend.
        """
        validate_params(self)
        x, m = _validate_spend(frequency, monetary_value)
        w = check_weights(weights, len(x))
        repeat = (x > 0) & (w > 0)
        zero = repeat & (m <= 0)
        if zero.any():
            logger.warning(
                "Gamma-Gamma: leaving out %d repeat customer(s) with zero mean spend", zero.sum()
            )
        use = repeat & ~zero
        n = float(w[use].sum())
        if n < self.min_customers:
            raise DataError(
                f"Too few repeat customers with positive spend to fit Gamma-Gamma: {n:g}",
                where="GammaGammaModel.fit",
                fix=f"use data with at least {self.min_customers} customers who bought more "
                "than once",
            )
        (cx, cm), cw = compress_rows(x[use], m[use], weights=w[use])

        def loglik(params: np.ndarray) -> tuple[float, np.ndarray]:
            return gamma_gamma_loglik(params, cx, cm, cw)

        mean_m = float(np.average(m[use], weights=w[use]))
        params = fit_log_params(loglik, np.log([1.0, 2.0, mean_m]), n, max_iter=self.max_iter)
        self.params_ = dict(zip(GG_PARAMS, params.tolist(), strict=True))
        self.log_likelihood_ = loglik(params)[0]
        self.standard_errors_ = dict(
            zip(GG_PARAMS, standard_errors(loglik, params).tolist(), strict=True)
        )
        self.n_customers_ = int(round(n))
        self.n_excluded_ = int(zero.sum())
        self.frequency_monetary_corr_ = (
            float(np.corrcoef(x[use], m[use])[0, 1])
            if use.sum() > 2 and np.ptp(x[use]) > 0 and np.ptp(m[use]) > 0
            else None
        )
        if self.params_["q"] <= 1:
            logger.warning("Gamma-Gamma q <= 1: the population mean spend is not finite")
        logger.info("Gamma-Gamma fitted on %d customers: %s", n, self.params_)
        return self

    def log_likelihood(
        self, frequency: object, monetary_value: object, weights: object | None = None
    ) -> float:
        """Total log-likelihood of the repeat customers' mean spends at this model's parameters
        (customers with frequency 0 or zero spend contribute nothing).

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        DataError
            When the inputs are invalid (as in ``fit``).
        """
        check_fitted(self, "params_")
        params = self.params_
        x, m = _validate_spend(frequency, monetary_value)
        w = check_weights(weights, len(x))
        use = (x > 0) & (m > 0)
        return gamma_gamma_loglik(np.array([params[k] for k in GG_PARAMS]), x[use], m[use], w[use])[
            0
        ]

    def conditional_expected_average_profit(
        self, frequency: object, monetary_value: object
    ) -> np.ndarray:
        """E[M | x, m] = (p (gamma + x m)) / (p x + q - 1): a weighted mean of the population
        mean p gamma / (q - 1) and the customer's observed mean m (the population mean at x = 0).

        Parameters
        ----------
        frequency : array-like of shape (n_customers,)
            Repeat purchases (whole numbers, >= 0).
        monetary_value : array-like of shape (n_customers,)
            Mean spend per repeat purchase (>= 0).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Expected spend per future transaction of each customer.

        Raises
        ------
        NotFittedError
            Before ``fit`` (or ``from_params``).
        DataError
            When q <= 1 (infinite expected spend) or the inputs are invalid.
        """
        check_fitted(self, "params_")
        params = self.params_
        p, q, g = params["p"], params["q"], params["gamma"]
        if q <= 1:
            raise DataError(
                f"Gamma-Gamma q = {q:.3g} <= 1: the expected spend is infinite",
                where="GammaGammaModel.params_",
                fix="check the monetary values for extreme outliers and refit",
            )
        x, m = _validate_spend(frequency, monetary_value)
        return p * (g + x * m) / (p * x + q - 1)

    def customer_lifetime_value(
        self,
        bgnbd: BetaGeoModel,
        frequency: object,
        recency: object,
        T: object,
        monetary_value: object,
        *,
        horizon: float,
        discount_rate: float,
        time_unit: str = "W",
        step: float = 1.0,
    ) -> np.ndarray:
        """Discounted expected revenue over the next ``horizon`` time units.

        Discretisation: the horizon is cut into periods of ``step`` time units (the last one
        shorter if needed). Period k covers (s_{k-1}, s_k]; its expected purchases are
        E[Y(s_k)] - E[Y(s_{k-1})] from the BG/NBD model (eq. 10), valued at the Gamma-Gamma
        expected spend and discounted at its end by (1 + discount_rate) ** (-s_k / year), with
        ``discount_rate`` annual and a year of 365.25 days.

        Parameters
        ----------
        bgnbd : BetaGeoModel
            A fitted BG/NBD model on the same time unit.
        frequency, recency, T, monetary_value : array-like of shape (n_customers,)
            The BTYD summary (see ``summary_from_transactions``).
        horizon : float
            Length of the future period, in ``time_unit``.
        discount_rate : float
            Annual discount rate (above -1), e.g. 0.1 for 10% a year.
        time_unit : {"W", "D"}, default="W"
            The summary's time unit (weeks of 7 days or days).
        step : float, default=1.0
            Length of the discounting periods, in ``time_unit``.

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Discounted expected revenue of each customer over the horizon.

        Raises
        ------
        ConfigError
            When ``horizon``, ``step``, ``discount_rate`` or ``time_unit`` is invalid.
        NotFittedError
            When this model or ``bgnbd`` is not fitted.
        DataError
            When the inputs are invalid.
        """
        days = unit_days(time_unit)
        if not (np.isfinite(horizon) and horizon > 0):
            raise ConfigError(f"horizon must be positive, got {horizon!r}", where="horizon")
        if not (np.isfinite(step) and step > 0):
            raise ConfigError(f"step must be positive, got {step!r}", where="step")
        if not (np.isfinite(discount_rate) and discount_rate > -1):
            raise ConfigError(
                f"discount_rate must be an annual rate above -1, got {discount_rate!r}",
                where="discount_rate",
                fix="e.g. 0.1 for 10% a year",
            )
        check_fitted(bgnbd, "params_")
        x, tx, big_t = validate_rfm(frequency, recency, T)
        m = as_vector(monetary_value, "monetary_value")
        check_same_length(frequency=x, monetary_value=m)
        spend = self.conditional_expected_average_profit(x, m)
        # evaluate each distinct (x, t_x, T) once: hyp2f1 is the expensive part
        uniq, inverse = np.unique(np.column_stack([x, tx, big_t]), axis=0, return_inverse=True)
        ux, utx, ut = uniq[:, 0], uniq[:, 1], uniq[:, 2]
        ends = np.append(np.arange(step, horizon, step), horizon)
        ends = ends[ends <= horizon]
        discounts = (1.0 + discount_rate) ** (-ends * days / DAYS_PER_YEAR)
        value = np.zeros(len(ux))
        previous = np.zeros(len(ux))
        for end, disc in zip(ends, discounts, strict=True):
            cumulative = bgnbd.conditional_expected_purchases(np.full(len(ux), end), ux, utx, ut)
            value += (cumulative - previous) * disc
            previous = cumulative
        return value[inverse.ravel()] * spend
