"""A seeded customer-level table (one row per customer) with planted personas, for ``profile``.

The layout is that of the widely used marketing-campaign CRM export (``ID, Year_Birth,
Education, Marital_Status, Income, Kidhome, Teenhome, Dt_Customer, Recency, Mnt*, Num*Purchases,
NumWebVisitsMonth, AcceptedCmp1..5, Complain, Z_CostContact, Z_Revenue, Response``). Four personas
differ in age, income, children, spend mix, channels, discount use, education and marital
status:

=====================  =====  ===============================================================
persona                share  planted behaviour
=====================  =====  ===============================================================
``affluent_wine``      25 %   born ~1955, income ~78k, no kids, wine-heavy, catalog and store,
                              few deals; **accepts campaign 5 at 45 %** (others 3 %)
``young_deal``         25 %   born ~1987, income ~32k, a small child, little spend (gold,
                              sweets), web purchases, many deals
``family``             30 %   born ~1972, income ~52k, kids and teens, moderate spend, store
``meat_fish``          20 %   born ~1964, income ~70k, no kids, meat and fish, store/catalog
=====================  =====  ===============================================================

``Recency`` and ``Complain`` are independent of the persona (true nulls for the tests);
``Z_CostContact`` and ``Z_Revenue`` are constant, as in the original export. The truth is
returned separately (``truth["persona"]``); the table never contains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custlens.errors import ConfigError

__all__ = ["CustomerProfileData", "PROFILE_PERSONAS", "customer_profile_table"]

PROFILE_PERSONAS = ("affluent_wine", "young_deal", "family", "meat_fish")
_SHARE = np.array([0.25, 0.25, 0.30, 0.20])
_BIRTH = np.array([(1955, 7), (1987, 4), (1972, 6), (1964, 7)], dtype=float)
_INCOME = np.array([(78_000, 9_000), (32_000, 7_000), (52_000, 8_000), (70_000, 9_000)], float)
_KIDS = np.array([0.05, 0.8, 1.0, 0.1])  # Poisson means
_TEENS = np.array([0.15, 0.05, 0.9, 0.2])
# mean spend per category: wines, fruits, meat, fish, sweets, gold
_SPEND = np.array(
    [
        [700, 30, 180, 40, 30, 60],
        [25, 8, 20, 8, 20, 35],
        [180, 15, 90, 20, 15, 30],
        [220, 40, 600, 160, 40, 50],
    ],
    dtype=float,
)
# mean purchases: deals, web, catalog, store; web visits per month
_CHANNELS = np.array(
    [
        [1.0, 4.0, 6.0, 8.0, 3.0],
        [5.0, 6.0, 0.5, 3.0, 8.0],
        [3.0, 3.0, 1.0, 6.0, 5.0],
        [1.0, 3.0, 5.0, 9.0, 3.0],
    ]
)
_EDUCATION = ("Basic", "2n Cycle", "Graduation", "Master", "PhD")
_EDU_P = np.array(
    [
        [0.00, 0.05, 0.35, 0.25, 0.35],
        [0.15, 0.20, 0.55, 0.07, 0.03],
        [0.03, 0.10, 0.55, 0.17, 0.15],
        [0.02, 0.08, 0.55, 0.15, 0.20],
    ]
)
_MARITAL = ("Single", "Married", "Together", "Divorced", "Widow")
_MAR_P = np.array(
    [
        [0.15, 0.45, 0.20, 0.12, 0.08],
        [0.55, 0.15, 0.25, 0.05, 0.00],
        [0.05, 0.55, 0.32, 0.07, 0.01],
        [0.20, 0.40, 0.25, 0.12, 0.03],
    ]
)
# campaign acceptance per persona: AcceptedCmp1..5, Response
_CAMPAIGN = np.array(
    [
        [0.06, 0.02, 0.05, 0.06, 0.45, 0.18],
        [0.03, 0.01, 0.06, 0.04, 0.03, 0.14],
        [0.04, 0.01, 0.07, 0.07, 0.03, 0.10],
        [0.09, 0.02, 0.06, 0.08, 0.03, 0.15],
    ]
)
_START, _DAYS = pd.Timestamp("2012-07-30"), 700


@dataclass(frozen=True)
class CustomerProfileData:
    """The customer table (marketing-export layout) and the planted truth per customer."""

    table: pd.DataFrame
    truth: pd.DataFrame  # ID, persona (one of PROFILE_PERSONAS)


def _pick(rng: np.random.Generator, probs: np.ndarray, persona: np.ndarray) -> np.ndarray:
    """One category index per row from the row's persona distribution (vectorised)."""
    cum = probs.cumsum(axis=1)[persona]
    cum[:, -1] = 1.0
    return (rng.random(len(persona))[:, None] > cum).sum(axis=1)


def customer_profile_table(n: int = 2000, seed: int = 0) -> CustomerProfileData:
    """``n`` customers in the marketing-export layout with four planted personas.

    Examples
    --------
    >>> data = customer_profile_table(200, seed=1)
    >>> data.table.shape, sorted(data.truth["persona"].unique())[:2]
    ((200, 29), ['affluent_wine', 'family'])
    """
    if not isinstance(n, int | np.integer) or n < 10:
        raise ConfigError(
            f"customer_profile_table needs n >= 10 customers, got {n!r}",
            where="customer_profile_table(n=...)",
            fix="pass an integer n of at least 10",
        )
    rng = np.random.default_rng(seed)
    persona = rng.choice(len(PROFILE_PERSONAS), size=n, p=_SHARE)
    birth = np.round(rng.normal(_BIRTH[persona, 0], _BIRTH[persona, 1])).astype(int)
    income = np.round(rng.normal(_INCOME[persona, 0], _INCOME[persona, 1])).clip(5_000)
    spend = np.round(
        _SPEND[persona] * rng.lognormal(-0.125, 0.5, size=(n, _SPEND.shape[1]))
    ).astype(int)
    channels = rng.poisson(_CHANNELS[persona]).astype(int)
    accepted = (rng.random((n, _CAMPAIGN.shape[1])) < _CAMPAIGN[persona]).astype(int)
    since = _START + pd.to_timedelta(rng.integers(0, _DAYS, size=n), unit="D")
    table = pd.DataFrame(
        {
            "ID": rng.permutation(np.arange(1, 3 * n + 1))[:n],
            "Year_Birth": birth,
            "Education": np.array(_EDUCATION)[_pick(rng, _EDU_P, persona)],
            "Marital_Status": np.array(_MARITAL)[_pick(rng, _MAR_P, persona)],
            "Income": income,
            "Kidhome": rng.poisson(_KIDS[persona]).clip(0, 2),
            "Teenhome": rng.poisson(_TEENS[persona]).clip(0, 2),
            "Dt_Customer": since.strftime("%d-%m-%Y"),
            "Recency": rng.integers(0, 100, size=n),
            "MntWines": spend[:, 0],
            "MntFruits": spend[:, 1],
            "MntMeatProducts": spend[:, 2],
            "MntFishProducts": spend[:, 3],
            "MntSweetProducts": spend[:, 4],
            "MntGoldProds": spend[:, 5],
            "NumDealsPurchases": channels[:, 0],
            "NumWebPurchases": channels[:, 1],
            "NumCatalogPurchases": channels[:, 2],
            "NumStorePurchases": channels[:, 3],
            "NumWebVisitsMonth": channels[:, 4],
            "AcceptedCmp3": accepted[:, 2],
            "AcceptedCmp4": accepted[:, 3],
            "AcceptedCmp5": accepted[:, 4],
            "AcceptedCmp1": accepted[:, 0],
            "AcceptedCmp2": accepted[:, 1],
            "Complain": (rng.random(n) < 0.01).astype(int),
            "Z_CostContact": 3,
            "Z_Revenue": 11,
            "Response": accepted[:, 5],
        }
    )
    # a handful of implausible values, as in real exports: birth years before 1901, missing
    # incomes and one absurd income
    if n >= 100:
        bad = rng.choice(n, size=max(3, n // 500), replace=False)
        table.loc[bad[:1], "Year_Birth"] = 1893
        table.loc[bad[1:2], "Income"] = 666_666.0
        table.loc[bad[2:], "Income"] = np.nan
    truth = pd.DataFrame({"ID": table["ID"], "persona": np.array(PROFILE_PERSONAS)[persona]})
    return CustomerProfileData(table=table, truth=truth)
