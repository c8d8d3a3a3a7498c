"""Baselines every LightGBM model is compared with, on the same customers.

- **BTYD**: BG/NBD (or Pareto/NBD) + Gamma-Gamma fitted on the BTYD summary of the feature
  window (no labels needed). Churn probability = P(no purchase in the next t days | history)
  = (1 - P(alive)) + P(alive) * ((alpha + T) / (alpha + T + t)) ** (r + x): in BG/NBD a living
  customer drops out only right after a purchase, so no purchase in (T, T + t] for a living
  customer is a Poisson zero count, and the posterior of the rate given alive is
  Gamma(r + x, alpha + T). Under Pareto/NBD a living customer may also die during the horizon:
  P(no purchase | alive, lambda, mu) = mu/(lambda+mu) + lambda/(lambda+mu) exp(-(lambda+mu) t),
  averaged over the posterior given alive, lambda ~ Gamma(r+x, alpha+T) and mu ~ Gamma(s, beta+T)
  independent (64 x 64 Gauss-Legendre points on their quantiles).
  CLV = Gamma-Gamma expected spend x the model's expected purchases.
- **last period**: revenue in the last horizon before the cutoff as the CLV forecast; for
  churn the score is 1 when the customer placed no order in that period.
- **recency rule**: churn score = recency_days.

Scores that are not probabilities are turned into ones by isotonic regression fitted on the
*training* backtest (score -> observed churn), so they also get a Brier score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaincinv
from sklearn.isotonic import IsotonicRegression

from custlens._validation import check_fitted
from custlens.errors import DataError
from custlens.features.sampling import sample_rows
from custlens.models.btyd import BetaGeoModel, GammaGammaModel, ParetoNBDModel

log = logging.getLogger(__name__)

CHURN_BASELINES = ("btyd", "last_period", "recency")
FIT_SEED = 0  # seed of the BTYD models' fitting sample (``BtydBaseline.fit``)
CLV_BASELINES = ("btyd", "last_period")


def btyd_inputs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        frame["btyd_frequency"].to_numpy("float64"),
        frame["btyd_recency"].to_numpy("float64"),
        frame["btyd_T"].to_numpy("float64"),
        frame["btyd_monetary"].to_numpy("float64"),
    )


def p_no_purchase(bg: BetaGeoModel, x: object, tx: object, big_t: object, t: float) -> np.ndarray:
    """P(no purchase in (T, T + t] | x, t_x, T) under BG/NBD (see the module docstring)."""
    check_fitted(bg, "params_")
    r, alpha = bg.params_["r"], bg.params_["alpha"]
    alive = bg.conditional_probability_alive(x, tx, big_t)
    x_arr, t_arr = np.asarray(x, dtype="float64"), np.asarray(big_t, dtype="float64")
    none_if_alive = ((alpha + t_arr) / (alpha + t_arr + t)) ** (r + x_arr)
    return (1.0 - alive) + alive * none_if_alive


_PARETO_BLOCK = 2048  # (x, T) pairs per 64 x 64 quadrature block (about 70 MB)


def p_no_purchase_pareto(
    model: ParetoNBDModel, x: object, tx: object, big_t: object, t: float, nodes: int = 64
) -> np.ndarray:
    """P(no purchase in (T, T + t] | x, t_x, T) under Pareto/NBD (see the module docstring)."""
    check_fitted(model, "params_")
    r, alpha, s, beta = (model.params_[k] for k in ("r", "alpha", "s", "beta"))
    x_arr = np.asarray(x, dtype="float64")
    t_arr = np.asarray(big_t, dtype="float64")
    alive = model.conditional_probability_alive(x, tx, big_t)
    u, w = np.polynomial.legendre.leggauss(nodes)
    u, w = (u + 1) / 2, w / 2  # nodes and weights on (0, 1)
    mu_unit = gammaincinv(s, u)  # Gamma(s, 1) quantiles
    # the integral depends on (x, T) only: compute it once per distinct pair (customers share
    # them: whole days and small counts), in blocks that bound the memory
    pairs, where = np.unique(np.column_stack([x_arr, t_arr]), axis=0, return_inverse=True)
    values = np.empty(len(pairs))
    for value in np.unique(pairs[:, 0]):
        rows = np.flatnonzero(pairs[:, 0] == value)
        lam_unit = gammaincinv(r + value, u)
        for start in range(0, len(rows), _PARETO_BLOCK):
            block = rows[start : start + _PARETO_BLOCK]
            big = pairs[block, 1]
            lam = lam_unit[None, :, None] / (alpha + big)[:, None, None]
            mu = mu_unit[None, None, :] / (beta + big)[:, None, None]
            total = lam + mu
            none = mu / total + lam / total * np.exp(-total * t)
            values[block] = np.einsum("nij,i,j->n", none, w, w)
    out = values[where.reshape(-1)]
    return (1.0 - alive) + alive * out


BTYD_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}


@dataclass
class BtydBaseline:
    """Fitted BG/NBD or Pareto/NBD (``kind``) + Gamma-Gamma when it can be fitted; times in days."""

    bg: BetaGeoModel | ParetoNBDModel
    gg: GammaGammaModel | None
    note: str = ""
    kind: str = "bgnbd"

    fit_rows: int = 0  # customers the models were fitted on (a seeded sample at scale)

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        kind: str = "bgnbd",
        max_rows: int | None = None,
        seed: int = FIT_SEED,
    ) -> BtydBaseline:
        """Fit on the customers of ``frame``, or on a seeded sample of ``max_rows`` of them when
        there are more (the parameters describe the population; a sample of 100,000 pins
        them down to a few percent while the fit's time grows with the distinct rows)."""
        pick = sample_rows(len(frame), max_rows, seed)
        if pick is not None:
            frame = frame.iloc[pick]
            log.info("BTYD fitted on a seeded sample of %d customers", len(frame))
        x, tx, big_t, m = btyd_inputs(frame)
        model_class = ParetoNBDModel if kind == "pareto_nbd" else BetaGeoModel
        bg = model_class().fit(x, tx, big_t)
        gg, note = None, ""
        try:
            gg = GammaGammaModel().fit(x, m)
            if gg.params_["q"] <= 1:
                gg, note = None, "Gamma-Gamma q <= 1 (infinite mean spend); BTYD CLV omitted"
        except DataError as exc:
            note = f"Gamma-Gamma not fitted: {exc.what}"
        if note:
            log.warning(note)
        return cls(bg=bg, gg=gg, note=note, kind=kind, fit_rows=len(frame))

    @classmethod
    def from_params(cls, params: dict[str, dict[str, float] | None]) -> BtydBaseline:
        gg_params = params["gamma_gamma"]
        gg = GammaGammaModel.from_params(**gg_params) if gg_params else None
        if params.get("pareto_nbd"):
            pareto = ParetoNBDModel.from_params(**params["pareto_nbd"])  # type: ignore[arg-type]
            return cls(bg=pareto, gg=gg, kind="pareto_nbd")
        bg = BetaGeoModel.from_params(**(params["bgnbd"] or {}))
        return cls(bg=bg, gg=gg)

    def params(self) -> dict[str, dict[str, float] | None]:
        model = dict(self.bg.params_)
        return {
            "bgnbd": model if self.kind == "bgnbd" else None,
            "pareto_nbd": model if self.kind == "pareto_nbd" else None,
            "gamma_gamma": self.gg and dict(self.gg.params_),
        }

    def p_no_purchase(self, x: object, tx: object, big_t: object, t: float) -> np.ndarray:
        """P(no purchase in the next ``t`` days) under the fitted model."""
        if isinstance(self.bg, ParetoNBDModel):
            return p_no_purchase_pareto(self.bg, x, tx, big_t, t)
        return p_no_purchase(self.bg, x, tx, big_t, t)

    def predict(
        self, frame: pd.DataFrame, horizon_days: int, discount_rate: float = 0.0
    ) -> pd.DataFrame:
        """p_alive, churn_probability, expected_purchases (purchase days) and clv per row.

        All but the CLV's spend depend on (x, t_x, T) alone: they are computed once per distinct
        triple (customers share them: whole days and small counts) and spread to the rows."""
        x, tx, big_t, m = btyd_inputs(frame)
        uniq, inverse = np.unique(np.column_stack([x, tx, big_t]), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        ux, utx, ut = (np.ascontiguousarray(uniq[:, i]) for i in range(3))
        out = pd.DataFrame(index=frame.index)
        out["p_alive"] = self.bg.conditional_probability_alive(ux, utx, ut)[inverse]
        out["churn_probability"] = self.p_no_purchase(ux, utx, ut, float(horizon_days))[inverse]
        try:
            out["expected_purchases"] = self.bg.conditional_expected_purchases(
                float(horizon_days), ux, utx, ut
            )[inverse]
        except DataError as exc:  # eq. 10 can fail for extreme (a, b); keep P(alive) and churn
            self.note = f"BG/NBD expected purchases unavailable: {exc.what}"
            log.warning(self.note)
            out["expected_purchases"] = np.nan
            out["clv"] = np.nan
            return out
        if self.gg is None:
            out["clv"] = np.nan
        elif discount_rate == 0.0:
            spend = self.gg.conditional_expected_average_profit(x, m)
            out["clv"] = out["expected_purchases"].to_numpy() * spend
        else:
            out["clv"] = self.gg.customer_lifetime_value(
                self.bg,
                x,
                tx,
                big_t,
                m,
                horizon=float(horizon_days),
                discount_rate=discount_rate,
                time_unit="D",
                step=min(7.0, float(horizon_days)),
            )
        return out


def raw_churn_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Scores (higher = more likely to churn) of the non-BTYD baselines."""
    return {
        "last_period": (frame["last_period_orders"].to_numpy() == 0).astype("float64"),
        "recency": frame["recency_days"].to_numpy("float64"),
    }


def fit_score_maps(frame: pd.DataFrame) -> dict[str, IsotonicRegression]:
    """Isotonic maps from each raw baseline score to a churn probability (training backtest)."""
    y = frame["churned"].to_numpy("float64")
    maps = {}
    for name, score in raw_churn_scores(frame).items():
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
        maps[name] = iso.fit(score, y)
    return maps


def clv_forecasts(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The last-period CLV forecast (revenue in the last horizon before the cutoff)."""
    return {"last_period": frame["last_period_revenue"].to_numpy("float64")}
