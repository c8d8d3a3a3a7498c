"""Pareto/NBD: the published CDNOW estimates, the likelihood and P(alive) against a direct
numerical integration over (lambda, mu), E[X(t)] against its integral; and BG/NBD's degenerate
boundary (a, b -> infinity) reported as the limiting model."""

from __future__ import annotations

import logging

import ibis
import numpy as np
import pytest
from scipy import integrate, stats

from custlens.models.btyd import BetaGeoModel, ParetoNBDModel, summary_from_transactions

# Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD Model in MATLAB":
# CDNOW 1/10 sample, weeks 1-39
PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_LL = -9595.0


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_path):
    raw = ibis.duckdb.connect().read_csv(str(cdnow_path))
    table = raw.select(
        customer_id=raw.sample_id.cast("string"), order_ts=raw.date, amount=raw.dollars
    )
    return summary_from_transactions(table, calibration_end="1997-09-30", time_unit="W")


@pytest.fixture(scope="module")
def cdnow_pnbd(cdnow_summary):
    s = cdnow_summary
    return ParetoNBDModel().fit(s["frequency"], s["recency"], s["T"])


def test_cdnow_reproduces_published_estimates(cdnow_pnbd) -> None:
    for name, value in PUBLISHED.items():
        assert cdnow_pnbd.params_[name] == pytest.approx(value, rel=0.01), name
    assert cdnow_pnbd.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.1)
    assert all(np.isfinite(v) and v > 0 for v in cdnow_pnbd.standard_errors_.values())


def _joint(lam, mu, x, tx, big_t):
    """L(x, t_x, T | lambda, mu) of the Pareto/NBD written directly."""
    alive = lam**x * np.exp(-(lam + mu) * big_t)
    died = mu * lam**x / (lam + mu) * (np.exp(-(lam + mu) * tx) - np.exp(-(lam + mu) * big_t))
    return alive, died


@pytest.mark.parametrize(("x", "tx", "big_t"), [(0, 0.0, 30.0), (2, 20.0, 38.0), (5, 10.0, 35.0)])
def test_likelihood_and_alive_match_numerical_integration(x, tx, big_t) -> None:
    r, alpha, s, beta = PUBLISHED.values()
    model = ParetoNBDModel.from_params(**PUBLISHED)
    # integrate over log(lambda) and log(mu) on a fine grid (the densities have mass near 0)
    u = np.linspace(-40.0, 4.0, 3001)
    lam, mu = np.exp(u)[:, None], np.exp(u)[None, :]
    weight = (
        stats.gamma(r, scale=1 / alpha).pdf(lam) * lam * stats.gamma(s, scale=1 / beta).pdf(mu) * mu
    )
    alive_i, died_i = _joint(lam, mu, x, tx, big_t)
    alive = integrate.trapezoid(integrate.trapezoid(alive_i * weight, u, axis=1), u)
    died = integrate.trapezoid(integrate.trapezoid(died_i * weight, u, axis=1), u)
    assert model.log_likelihood([x], [tx], [big_t]) == pytest.approx(np.log(alive + died), abs=1e-5)
    p_alive = model.conditional_probability_alive([x], [tx], [big_t])[0]
    assert p_alive == pytest.approx(alive / (alive + died), abs=1e-5)


def test_unconditional_expectation_matches_its_integral() -> None:
    r, alpha, s, beta = PUBLISHED.values()
    model = ParetoNBDModel.from_params(**PUBLISHED)
    for t in (10.0, 39.0, 78.0):
        # E[X(t) | lambda, mu] = lambda / mu (1 - exp(-mu t))
        inner = integrate.quad(
            lambda mu, t=t: (1 - np.exp(-mu * t)) / mu * stats.gamma(s, scale=1 / beta).pdf(mu),
            0,
            np.inf,
        )[0]
        assert model.expected_purchases([t])[0] == pytest.approx(r / alpha * inner, rel=1e-6)


def test_conditional_expectation_of_a_new_customer_is_the_unconditional_one() -> None:
    # a customer observed for T -> 0 with no purchase carries no information
    model = ParetoNBDModel.from_params(**PUBLISHED)
    got = model.conditional_expected_purchases(39.0, [0], [0.0], [1e-9])[0]
    assert got == pytest.approx(model.expected_purchases([39.0])[0], rel=1e-6)


def _fixed_dropout_sample(n=3000, p=0.15, seed=0):
    """BG/NBD with one dropout probability p for everyone (no heterogeneity in p)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(1.5, 1 / 20.0, n)
    big_t = rng.uniform(150, 365, n)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        clock = 0.0
        while True:
            clock += rng.exponential(1 / lam[i])
            if clock > big_t[i]:
                break
            x[i] += 1
            tx[i] = clock
            if rng.uniform() < p:
                break
    return x, tx, big_t


def test_bgnbd_boundary_is_reported_as_the_fixed_dropout_model(caplog) -> None:
    x, tx, big_t = _fixed_dropout_sample()
    with caplog.at_level(logging.WARNING, logger="custlens"):
        bg = BetaGeoModel().fit(x, tx, big_t)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    limit = bg.dropout_limit_
    assert limit is not None
    assert limit["p"] == pytest.approx(0.15, abs=0.03)
    assert 0 < limit["p_se"] < 0.02
    assert np.isfinite(bg.standard_errors_["r"]) and np.isfinite(bg.standard_errors_["alpha"])
    assert np.isnan(bg.standard_errors_["a"]) and np.isnan(bg.standard_errors_["b"])
    assert bg.params_["r"] == pytest.approx(1.5, rel=0.15)
    words = bg.describe_limit()
    assert "not identified" in words and f"{limit['p']:.4f}" in words
    # predictions still work at the limit
    assert np.all(np.isfinite(bg.conditional_expected_purchases(90.0, x[:50], tx[:50], big_t[:50])))


def test_identified_bgnbd_has_no_limit(cdnow_summary) -> None:
    s = cdnow_summary
    bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    assert bg.dropout_limit_ is None and bg.describe_limit() == ""


@pytest.mark.parametrize(("x", "tx", "big_t"), [(0, 0.0, 30.0), (3, 25.0, 38.0)])
def test_pareto_churn_probability_matches_integration(x, tx, big_t) -> None:
    from custlens.models.baselines import p_no_purchase_pareto

    r, alpha, s, beta = PUBLISHED.values()
    t = 39.0
    model = ParetoNBDModel.from_params(**PUBLISHED)
    u = np.linspace(-40.0, 4.0, 3001)
    lam, mu = np.exp(u)[:, None], np.exp(u)[None, :]
    weight = (
        stats.gamma(r, scale=1 / alpha).pdf(lam) * lam * stats.gamma(s, scale=1 / beta).pdf(mu) * mu
    )
    alive_i, died_i = _joint(lam, mu, x, tx, big_t)
    # alive at T and no purchase in (T, T+t]: mu/(l+m) + l/(l+m) exp(-(l+m) t)
    none = mu / (lam + mu) + lam / (lam + mu) * np.exp(-(lam + mu) * t)

    def integral(values):
        return integrate.trapezoid(integrate.trapezoid(values * weight, u, axis=1), u)

    expected = (integral(died_i) + integral(alive_i * none)) / integral(alive_i + died_i)
    got = p_no_purchase_pareto(model, [x], [tx], [big_t], t)[0]
    assert got == pytest.approx(expected, abs=1e-4)


def test_no_dropout_reduces_both_models_to_the_nbd(caplog) -> None:
    """Customers who never leave (Poisson purchases, Gamma rates): both dropout processes run
    to zero; the fits say so in words and give standard errors for r and alpha only."""
    rng = np.random.default_rng(5)
    n = 4000
    lam = rng.gamma(0.8, 1 / 40.0, n)
    big_t = rng.uniform(100, 365, n)
    x = rng.poisson(lam * big_t).astype(float)
    tx = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), 1.0), 0.0)  # max of x uniforms
    with caplog.at_level(logging.WARNING, logger="custlens"):
        bg = BetaGeoModel().fit(x, tx, big_t)
        pnbd = ParetoNBDModel().fit(x, tx, big_t)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert bg.dropout_limit_ is not None and bg.dropout_limit_["p"] < 1e-6
    assert "no dropout" in bg.describe_limit()
    assert pnbd.dropout_limit_ is not None and "no dropout" in pnbd.describe_limit()
    for model in (bg, pnbd):
        assert model.params_["r"] == pytest.approx(0.8, rel=0.1)
        assert model.params_["alpha"] == pytest.approx(40.0, rel=0.15)
        assert np.isfinite(model.standard_errors_["r"]) and np.isfinite(
            model.standard_errors_["alpha"]
        )
