"""BG/NBD and Gamma-Gamma: the published CDNOW estimates, mpmath / numerical-integration /
Monte Carlo checks of the formulas, standard errors against an independent Hessian, and the
input checks."""

from __future__ import annotations

import ibis
import mpmath
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import betaln, gammaln

from custlens.errors import ConfigError, DataError, NotFittedError
from custlens.models.btyd import BetaGeoModel, GammaGammaModel, summary_from_transactions

# Fader, Hardie & Lee (2005), Marketing Science 24(2): BG/NBD on CDNOW weeks 1-39
PUBLISHED_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
# Fader, Hardie & Lee (2005) "RFM and CLV: Using Iso-value Curves": Gamma-Gamma on CDNOW
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


# ----------------------------------------------------------------------------- independent code
def simulate_bgnbd(n, r, alpha, a, b, big_t, seed):
    """BG/NBD generative process written for the tests: (x, t_x) observed over (0, T]."""
    rng = np.random.default_rng(seed)
    big_t = np.broadcast_to(np.asarray(big_t, dtype=float), (n,))
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        clock = 0.0
        while True:
            clock += rng.exponential(1.0 / lam[i])
            if clock > big_t[i]:
                break
            x[i] += 1
            tx[i] = clock
            if rng.uniform() < p[i]:
                break
    return x, tx, np.array(big_t)


def plain_bgnbd_ll(params, x, tx, big_t):
    """Eq. 6 of the paper written directly (no log-sum-exp), summed over customers."""
    r, alpha, a, b = params
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    first = (alpha + big_t) ** -(r + x)
    second = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * (alpha + tx) ** -(r + x), 0.0)
    return float(np.sum(base + np.log(first + second)))


def mp_conditional(t, x, tx, big_t, r, alpha, a, b):
    """Eq. 10 as printed in the paper, in 40-digit arithmetic."""
    with mpmath.workdps(40):
        r, alpha, a, b, t, tx, big_t = map(mpmath.mpf, (r, alpha, a, b, t, tx, big_t))
        num = (a + b + x - 1) / (a - 1)
        num *= 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * mpmath.hyp2f1(
            r + x, b + x, a + b + x - 1, t / (alpha + big_t + t)
        )
        den = 1 + (a / (b + x - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x) if x > 0 else 0)
        return float(num / den)


def numerical_hessian(f, p, rel=1e-4):
    k = len(p)
    h = rel * np.asarray(p)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):

            def at(di, dj, i=i, j=j):
                q = np.array(p, dtype=float)
                q[i] += di * h[i]
                q[j] += dj * h[j]
                return f(q)

            hess[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
    return hess


# ----------------------------------------------------------------------------- CDNOW
@pytest.fixture(scope="module")
def cdnow_summary(cdnow_path):
    raw = ibis.duckdb.connect().read_csv(str(cdnow_path))
    table = raw.select(
        customer_id=raw.sample_id.cast("string"), order_ts=raw.date, amount=raw.dollars
    )
    return summary_from_transactions(table, calibration_end="1997-09-30", time_unit="W")


@pytest.fixture(scope="module")
def cdnow_bg(cdnow_summary):
    s = cdnow_summary
    return BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])


def test_cdnow_bgnbd_reproduces_published_estimates(cdnow_bg) -> None:
    for name, value in PUBLISHED_BG.items():
        assert cdnow_bg.params_[name] == pytest.approx(value, rel=0.01), name
    assert cdnow_bg.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.05)


def test_cdnow_log_likelihood_at_published_params(cdnow_summary, cdnow_bg) -> None:
    s = cdnow_summary
    published = BetaGeoModel.from_params(**PUBLISHED_BG)
    ll = published.log_likelihood(s["frequency"], s["recency"], s["T"])
    assert round(ll, 1) == PUBLISHED_LL
    plain = plain_bgnbd_ll(
        list(PUBLISHED_BG.values()), *(s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    )
    assert ll == pytest.approx(plain, rel=1e-10)
    assert cdnow_bg.log_likelihood_ >= ll - 1e-6  # the MLE is at least as good


def test_cdnow_paper_conditional_expectation(cdnow_bg) -> None:
    # the paper: a customer with x=2, t_x=30.43, T=38.86 makes 1.226 purchases in weeks 40-78
    for model in (BetaGeoModel.from_params(**PUBLISHED_BG), cdnow_bg):
        value = model.conditional_expected_purchases(39, [2], [30.43], [38.86])[0]
        assert round(value, 3) == 1.226


def test_cdnow_standard_errors_match_independent_hessian(cdnow_summary, cdnow_bg) -> None:
    s = cdnow_summary
    data = [s[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    p = np.array([cdnow_bg.params_[k] for k in PUBLISHED_BG])
    hess = numerical_hessian(lambda q: -plain_bgnbd_ll(q, *data), p)
    expected = np.sqrt(np.diag(np.linalg.inv(hess)))
    got = np.array([cdnow_bg.standard_errors_[k] for k in PUBLISHED_BG])
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    np.testing.assert_allclose(got, expected, rtol=0.02)


def test_cdnow_gamma_gamma_reproduces_published_estimates(cdnow_summary) -> None:
    # monetary_value = mean of the day totals over the repeat purchase days (first day excluded)
    s = cdnow_summary
    gg = GammaGammaModel().fit(s["frequency"], s["monetary_value"])
    for name, value in PUBLISHED_GG.items():
        assert gg.params_[name] == pytest.approx(value, rel=0.01), name
    assert gg.n_customers_ == int((s["frequency"] > 0).sum())
    ses = np.array(list(gg.standard_errors_.values()))
    assert np.all(np.isfinite(ses)) and np.all(ses > 0)


def test_cdnow_clv_runs_and_is_sane(cdnow_summary, cdnow_bg) -> None:
    s = cdnow_summary
    gg = GammaGammaModel().fit(s["frequency"], s["monetary_value"])
    args = (cdnow_bg, s["frequency"], s["recency"], s["T"], s["monetary_value"])
    clv = gg.customer_lifetime_value(*args, horizon=52, discount_rate=0.1)
    undiscounted = gg.customer_lifetime_value(*args, horizon=52, discount_rate=0.0)
    assert clv.shape == (len(s),) and np.all(clv >= 0)
    assert np.all(clv <= undiscounted + 1e-9) and clv.sum() < undiscounted.sum()


# ----------------------------------------------------------------------------- formulas
@pytest.mark.parametrize(
    ("t", "x", "tx", "big_t"),
    [
        (39, 2, 30.43, 38.86),
        (10, 0, 0, 20),
        (52, 1, 3.0, 30),
        (200, 40, 35.0, 38.0),
        (5, 7, 1.0, 1.5),
        (5000, 300, 290.0, 300.0),  # a daily buyer: scipy's hyp2f1 on the printed form gives NaN
        (1e6, 3, 600.0, 700.0),
    ],
)
@pytest.mark.parametrize(
    "params", [(0.243, 4.414, 0.793, 2.426), (2.0, 10.0, 3.5, 0.6), (0.5, 30.0, 0.3, 0.4)]
)
def test_conditional_expectation_matches_mpmath(t, x, tx, big_t, params) -> None:
    model = BetaGeoModel.from_params(*params)
    got = model.conditional_expected_purchases(t, [x], [tx], [big_t])[0]
    assert got == pytest.approx(mp_conditional(t, x, tx, big_t, *params), rel=1e-9)


def test_conditional_expectation_at_a_equal_one_is_the_limit() -> None:
    model = BetaGeoModel.from_params(0.5, 5.0, 1.0, 2.0)
    got = model.conditional_expected_purchases(20, [3], [10.0], [25.0])[0]
    limit = mp_conditional(20, 3, 10.0, 25.0, 0.5, 5.0, 1.0 + 1e-12, 2.0)
    assert got == pytest.approx(limit, rel=1e-6)


def test_unconditional_expectation_matches_mpmath_and_simulation() -> None:
    params = (0.243, 4.414, 0.793, 2.426)
    model = BetaGeoModel.from_params(*params)
    got = model.expected_purchases([13.0, 39.0])
    for value, t in zip(got, (13.0, 39.0), strict=True):
        assert value == pytest.approx(mp_conditional(t, 0, 0, 0, *params), rel=1e-9)
    # Monte Carlo: mean number of repeat purchases in (0, 39] for new customers
    x, _, _ = simulate_bgnbd(60_000, *params, big_t=39.0, seed=11)
    assert got[1] == pytest.approx(x.mean(), rel=0.03)


def test_probability_alive() -> None:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    model = BetaGeoModel.from_params(r, alpha, a, b)
    p = model.conditional_probability_alive([0, 0, 2], [0, 0, 30.43], [5.0, 38.86, 38.86])
    assert p[0] == 1.0 and p[1] == 1.0  # no repeat purchase: no chance to have dropped out yet
    expected = 1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    assert p[2] == pytest.approx(expected, rel=1e-12)
    assert 0 < p[2] < 1


def test_fit_recovers_simulated_parameters() -> None:
    true = {"r": 0.8, "alpha": 6.0, "a": 1.5, "b": 3.0}
    rng = np.random.default_rng(3)
    x, tx, big_t = simulate_bgnbd(8_000, *true.values(), big_t=rng.uniform(5, 60, 8_000), seed=5)
    model = BetaGeoModel().fit(x, tx, big_t)
    for name, value in true.items():
        se = model.standard_errors_[name]
        assert abs(model.params_[name] - value) < 4 * se, (name, model.params_[name], se)


def test_weights_equal_repeated_rows() -> None:
    x, tx, big_t = simulate_bgnbd(300, 0.5, 5.0, 1.0, 2.0, big_t=30.0, seed=2)
    w = np.arange(300) % 3 + 1
    weighted = BetaGeoModel().fit(x, tx, big_t, weights=w)
    expanded = BetaGeoModel().fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(big_t, w))
    for name in PUBLISHED_BG:
        assert weighted.params_[name] == pytest.approx(expanded.params_[name], rel=1e-5)
    assert weighted.log_likelihood_ == pytest.approx(expanded.log_likelihood_, rel=1e-9)


def test_gamma_gamma_likelihood_and_expectation_by_integration() -> None:
    rng = np.random.default_rng(8)
    n = 400
    x = rng.integers(1, 6, n).astype(float)
    nu = rng.gamma(3.0, 1.0 / 20.0, n)  # q=3, gamma=20
    m = rng.gamma(5.0 * x, 1.0 / (nu * x))  # mean of x Gamma(p=5, rate nu) spends
    gg = GammaGammaModel().fit(x, m)
    p, q, g = gg.params_["p"], gg.params_["q"], gg.params_["gamma"]

    # f(m | x) = int Gamma(m; shape px, rate x nu) Gamma(nu; shape q, rate gamma) dnu
    def density(mi: float, xi: float) -> float:
        def f(v: float) -> float:
            return stats.gamma.pdf(mi, p * xi, scale=1 / (xi * v)) * stats.gamma.pdf(
                v, q, scale=1 / g
            )

        center = (p * xi + q) / (g + mi * xi)  # where the posterior of nu has its mass
        return integrate.quad(f, 0, 30 * center, points=[center], limit=200, epsrel=1e-11)[0]

    ll_quad = sum(np.log(density(m[i], x[i])) for i in range(25))
    assert gg.log_likelihood(x[:25], m[:25]) == pytest.approx(ll_quad, rel=1e-7)
    assert gg.log_likelihood(x, m) == pytest.approx(gg.log_likelihood_, rel=1e-12)
    # 400 customers from p=5, q=3, gamma=20: the estimates are near the truth (within 4 s.e.)
    for name, value in {"p": 5.0, "q": 3.0, "gamma": 20.0}.items():
        assert abs(gg.params_[name] - value) < 4 * gg.standard_errors_[name], name
    # E[M | x, m] = E[p / nu | x, m] with nu | x, m ~ Gamma(px + q, rate gamma + x m)
    for i in range(5):
        post = stats.gamma(p * x[i] + q, scale=1 / (g + x[i] * m[i]))
        expected = integrate.quad(lambda v, post=post: p / v * post.pdf(v), 0, np.inf)[0]
        got = gg.conditional_expected_average_profit([x[i]], [m[i]])[0]
        assert got == pytest.approx(expected, rel=1e-6)


def test_clv_matches_direct_sum() -> None:
    bg_params = (0.243, 4.414, 0.793, 2.426)
    bg = BetaGeoModel.from_params(*bg_params)
    gg = GammaGammaModel.from_params(6.25, 3.74, 15.44)
    x, tx, big_t, m = [2, 0, 2], [30.43, 0.0, 30.43], [38.86, 10.0, 38.86], [30.0, 0.0, 30.0]
    got = gg.customer_lifetime_value(bg, x, tx, big_t, m, horizon=4, discount_rate=0.2)
    for i in range(3):
        spend = 6.25 * (15.44 + x[i] * m[i]) / (6.25 * x[i] + 3.74 - 1)
        cum = [mp_conditional(k, x[i], tx[i], big_t[i], *bg_params) for k in range(5)]
        # weekly periods, discounted at each week's end at 20% a year
        expected = sum(
            (cum[k] - cum[k - 1]) * spend * 1.2 ** (-k * 7 / 365.25) for k in range(1, 5)
        )
        assert got[i] == pytest.approx(expected, rel=1e-9)
    # with no discount the periods telescope to E[Y(horizon)] * spend
    flat = gg.customer_lifetime_value(bg, x, tx, big_t, m, horizon=4, discount_rate=0.0, step=0.5)
    assert flat[0] == pytest.approx(
        mp_conditional(4, 2, 30.43, 38.86, *bg_params) * 6.25 * 75.44 / (12.5 + 2.74), rel=1e-9
    )


# ----------------------------------------------------------------------------- input checks
GOOD = {"frequency": [0, 1, 2], "recency": [0.0, 2.0, 5.0], "T": [3.0, 4.0, 6.0]}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"frequency": [0, -1, 2]}, "non-negative"),
        ({"frequency": [0, 1.5, 2]}, "whole numbers"),
        ({"recency": [0.0, 5.0, 5.0]}, "larger than T"),
        ({"recency": [1.0, 2.0, 5.0]}, "no repeat purchase"),
        ({"T": [3.0, np.nan, 6.0]}, "finite"),
        ({"T": [3.0, 4.0]}, "different lengths"),
        ({"frequency": ["a", "b", "c"]}, "numbers"),
    ],
)
def test_bad_rfm_inputs(change: dict, needle: str) -> None:
    model = BetaGeoModel.from_params(1, 1, 1, 1)
    args = {**GOOD, **change}
    with pytest.raises(DataError, match=needle):
        model.conditional_probability_alive(args["frequency"], args["recency"], args["T"])


def test_error_names_the_row() -> None:
    with pytest.raises(DataError) as info:
        BetaGeoModel().fit([0, 1, 2], [0.0, -2.0, 5.0], [3.0, 4.0, 6.0])
    assert "row 1" in str(info.value) and "recency" in str(info.value)


def test_too_few_customers() -> None:
    with pytest.raises(DataError, match="Too few customers"):
        BetaGeoModel().fit(**{k: v for k, v in GOOD.items()})
    with pytest.raises(DataError, match="repeat purchase"):
        BetaGeoModel().fit([0] * 20, [0.0] * 20, [5.0] * 20)
    with pytest.raises(DataError, match="Too few repeat customers"):
        GammaGammaModel().fit([0] * 20 + [1] * 3, [0.0] * 20 + [5.0] * 3)


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="BetaGeoModel is not fitted"):
        BetaGeoModel().conditional_probability_alive(**GOOD)
    with pytest.raises(NotFittedError, match="GammaGammaModel is not fitted"):
        GammaGammaModel().conditional_expected_average_profit([1], [10.0])
    with pytest.raises(NotFittedError, match="BetaGeoModel is not fitted"):
        GammaGammaModel.from_params(6, 4, 15).customer_lifetime_value(
            BetaGeoModel(), [1], [1.0], [2.0], [10.0], horizon=4, discount_rate=0.1
        )


def test_gamma_gamma_zero_spend_repeaters_are_left_out() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(1, 5, 50).astype(float)
    m = rng.gamma(4.0, 5.0, 50)
    m[:3] = 0.0
    gg = GammaGammaModel().fit(x, m)
    assert gg.n_excluded_ == 3 and gg.n_customers_ == 47


def test_gamma_gamma_infinite_mean_and_clv_settings() -> None:
    with pytest.raises(DataError, match="q = 0.9"):
        GammaGammaModel.from_params(6, 0.9, 15).conditional_expected_average_profit([1], [10.0])
    gg = GammaGammaModel.from_params(6, 4, 15)
    bg = BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426)
    base = (bg, [1], [1.0], [2.0], [10.0])
    for kwargs, needle in [
        ({"horizon": 0, "discount_rate": 0.1}, "horizon"),
        ({"horizon": 4, "discount_rate": -1.5}, "discount_rate"),
        ({"horizon": 4, "discount_rate": 0.1, "time_unit": "M"}, "time unit"),
        ({"horizon": 4, "discount_rate": 0.1, "step": 0}, "step"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            gg.customer_lifetime_value(*base, **kwargs)


def test_conditional_expectation_with_huge_a_and_b_matches_mpmath() -> None:
    """a, b -> infinity (no dropout heterogeneity) is a real MLE outcome; eq. 10 must stay finite
    and exact (scipy's transformed form gives 0 * inf there)."""
    mp = pytest.importorskip("mpmath")
    from custlens.models.btyd import BetaGeoModel

    r, alpha, a, b = 0.9, 30.0, 1.3e6, 2.2e7
    model = BetaGeoModel.from_params(r, alpha, a, b)
    cases = [(0, 0.0, 100.0), (3, 250.0, 400.0), (20, 590.0, 600.0)]
    x = np.array([c[0] for c in cases], dtype=float)
    tx = np.array([c[1] for c in cases])
    big_t = np.array([c[2] for c in cases])
    got = model.conditional_expected_purchases(90.0, x, tx, big_t)
    mp.mp.dps = 60
    for i, (xi, txi, ti) in enumerate(cases):
        t = mp.mpf(90)
        z = t / (alpha + ti + t)
        numer = (mp.mpf(a) + b + xi - 1) / (a - 1)
        numer *= 1 - ((alpha + ti) / (alpha + ti + t)) ** (r + xi) * mp.hyp2f1(
            r + xi, b + xi, a + b + xi - 1, z
        )
        if xi > 0:
            denom = 1 + mp.mpf(a) / (b + xi - 1) * ((alpha + ti) / (alpha + txi)) ** (r + xi)
        else:
            denom = 1
        assert got[i] == pytest.approx(float(numer / denom), rel=1e-9)
