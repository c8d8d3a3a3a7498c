"""The Pareto/NBD likelihood by quadrature against the MATLAB note's closed form with Gauss'
hypergeometric function, evaluated by mpmath at 40 digits, in every parameter regime an
optimiser visits; its gradient against central differences; P(alive) against the closed form."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from custlens.models.pareto_nbd_likelihood import _rows, pareto_nbd_alive, pareto_nbd_loglik

REGIMES = {  # (r, alpha, s, beta), times in days
    "CDNOW estimates in days": (0.553, 74.046, 0.606, 81.683),
    "alpha much smaller than beta": (0.5, 1.0, 0.8, 500.0),
    "alpha much larger than beta": (0.5, 500.0, 0.8, 1.0),
    "alpha equal to beta": (0.5, 40.0, 0.7, 40.0),
    "small r and s": (0.01, 50.0, 0.01, 30.0),
    "large s (dropout rates alike)": (2.0, 50.0, 50.0, 3000.0),
    "tiny alpha (frequent buyers)": (0.5, 1e-3, 0.7, 50.0),
    "tiny beta (early dropout)": (0.5, 50.0, 0.7, 1e-4),
    "s -> 0, beta -> oo (Online Retail's fit)": (0.7176, 66.17, 6.1e-6, 2.9e6),
    "huge s": (0.7, 60.0, 5e3, 3e5),
    "huge r": (300.0, 2e4, 0.6, 80.0),
}
CUSTOMERS = [  # (x, t_x, T) in days
    (0, 0.0, 1.0),
    (0, 0.0, 58.0),
    (0, 0.0, 283.0),
    (1, 1.0, 283.0),
    (1, 280.0, 283.0),
    (3, 40.0, 41.0),
    (5, 61.0, 282.0),
    (20, 100.0, 283.0),
    (78, 280.0, 283.0),
    (4, 120.0, 120.0),  # the last purchase on the last day: nothing after it
]


def closed_form(params, x, tx, big_t) -> tuple[float, float]:
    """ln L and P(alive) from the MATLAB note (eq. 1-3), at 40 significant digits."""
    with mpmath.workdps(40):
        r, alpha, s, beta, x, tx, big_t = map(mpmath.mpf, (*params, x, tx, big_t))
        big, second = (alpha, s + 1) if alpha >= beta else (beta, r + x)
        rsx = r + s + x

        def part(t):
            return (
                mpmath.hyp2f1(rsx, second, rsx + 1, abs(alpha - beta) / (big + t))
                / (big + t) ** rsx
            )

        a0 = part(tx) - part(big_t)
        alive = (alpha + big_t) ** (-(r + x)) * (beta + big_t) ** (-s)
        died = s / rsx * a0
        ln_c = mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha)
        ln_c += s * mpmath.log(beta)
        return float(ln_c + mpmath.log(alive + died)), float(alive / (alive + died))


@pytest.mark.parametrize("name", list(REGIMES))
def test_loglik_and_alive_match_the_closed_form(name) -> None:
    params = np.array(REGIMES[name])
    x, tx, big_t = (np.array(c, dtype="float64") for c in zip(*CUSTOMERS, strict=True))
    ll, _ = _rows(params, x, tx, big_t, gradient=False)
    alive = pareto_nbd_alive(params, x, tx, big_t)
    for i, customer in enumerate(CUSTOMERS):
        want_ll, want_alive = closed_form(params, *customer)
        assert ll[i] == pytest.approx(want_ll, abs=1e-9, rel=1e-11), customer
        assert alive[i] == pytest.approx(want_alive, abs=1e-9), customer


@pytest.mark.parametrize("name", list(REGIMES))
def test_gradient_matches_central_differences(name) -> None:
    params = np.array(REGIMES[name])
    x, tx, big_t = (np.array(c, dtype="float64") for c in zip(*CUSTOMERS, strict=True))
    w = np.arange(1.0, len(x) + 1)
    _, grad = pareto_nbd_loglik(params, x, tx, big_t, w)
    for j in range(4):
        h = 1e-5 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        numeric = (
            pareto_nbd_loglik(up, x, tx, big_t, w)[0] - pareto_nbd_loglik(down, x, tx, big_t, w)[0]
        ) / (2 * h)
        # relative to the size of the derivative in the log-parameter (what the optimiser uses)
        assert grad[j] * params[j] == pytest.approx(numeric * params[j], abs=1e-5, rel=1e-5), j


def test_blocks_of_rows_add_up(monkeypatch) -> None:
    """Splitting the rows into blocks (to bound memory) gives the same total."""
    from custlens.models import pareto_nbd_likelihood

    rng = np.random.default_rng(7)
    x = rng.integers(0, 30, 500).astype("float64")
    big_t = rng.uniform(1, 300, 500)
    tx = np.where(x > 0, big_t * rng.uniform(0, 1, 500), 0.0)
    params = np.array(REGIMES["CDNOW estimates in days"])
    whole = pareto_nbd_loglik(params, x, tx, big_t, np.ones(500))
    monkeypatch.setattr(pareto_nbd_likelihood, "CHUNK", 64)
    blocks = pareto_nbd_loglik(params, x, tx, big_t, np.ones(500))
    assert blocks[0] == pytest.approx(whole[0], rel=1e-13)
    np.testing.assert_allclose(blocks[1], whole[1], rtol=1e-11)
