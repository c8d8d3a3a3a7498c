"""Validated generation settings, turned once into the lookup tables the block generator samples.

A ``Plan`` holds everything that does not depend on the random draws: the calendar (cumulative
"shop time" per day and persona), hour, product and country distributions, and per-persona
parameter vectors indexed by persona number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from custlens._validation import as_date
from custlens.datasets.catalogue import Catalogue, build_catalogue
from custlens.datasets.personas import (
    ANOMALY_KINDS,
    BASE_PERSONA_FOR_ANOMALIES,
    CLOSED_DAYS,
    COUNTRIES,
    HOME_COUNTRY,
    HOUR_PROFILES,
    MONTH_WEIGHTS,
    WEEKDAY_WEIGHTS,
    DirtRates,
    PersonaSpec,
)
from custlens.errors import ConfigError

ANOMALY_LABEL = "anomaly"  # the persona written in the truth table for planted anomalies


@dataclass(frozen=True, eq=False)
class Plan:
    seed: int
    n_customers: int
    start: date
    end: date
    cutoff: date
    n_days: int  # days from start to end inclusive
    cutoff_day: int  # day index of the cutoff (orders on or after it are "after the cutoff")
    names: tuple[str, ...]
    shares: np.ndarray
    anomaly_share: float
    anomaly_kinds: tuple[str, ...]
    anomaly_p: np.ndarray
    anomaly_base: int
    dirt: DirtRates
    specs: tuple[PersonaSpec, ...]
    # per persona p (anonymous shoppers are row P of day_cum/hour_rows/prod_cum/qty arrays)
    rate: np.ndarray
    birth_days: np.ndarray  # (P, 2) first-order window in day indices
    day_cum: np.ndarray  # (P + 1, n_days + 1) cumulative shop time; row P = the whole shop
    hours: Alias  # rows: hour profiles
    hour_rows: np.ndarray  # (P + 1,) persona -> row of ``hours``; the shop profile is row 0
    products: Alias  # rows: personas, then anonymous shoppers
    qty_median: np.ndarray  # (P + 1,)
    qty_spread: np.ndarray  # (P + 1,)
    country: Alias  # one row
    countries: tuple[str, ...]
    postage_price: np.ndarray
    home_country: int
    catalogue: Catalogue
    # dictionaries of the string columns (lines hold int32 codes into these)
    stock_codes: pa.Array
    descriptions: pa.Array
    category_of: np.ndarray  # per catalogue row (non-product rows: 0, masked when written)
    category_names: pa.Array
    country_names: pa.Array
    start_us: int  # microseconds since 1970 of the start date's midnight


def _day_weights(days: np.ndarray, spec: PersonaSpec | None) -> np.ndarray:
    """Relative order intensity of each day (weekday x month x opening calendar)."""
    month = days.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    w = np.asarray(MONTH_WEIGHTS)[month] * np.asarray(WEEKDAY_WEIGHTS)[weekday]
    for m, d in CLOSED_DAYS:
        w[(month == m - 1) & (dom == d)] = 0.0
    if spec is not None and spec.month_weights is not None:
        w = w * np.asarray(spec.month_weights)[month]
    if spec is not None and spec.months is not None:
        w = w * np.isin(month + 1, spec.months)
    return w


def _cumulative(weights: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((weights.shape[0], 1)), np.cumsum(weights, axis=1)], axis=1)


@dataclass(frozen=True, eq=False)
class Alias:
    """Walker's alias tables, one row per distribution: O(1) exact sampling of many draws."""

    prob: np.ndarray  # (rows, K) acceptance probability of column k
    alias: np.ndarray  # (rows, K) the column taken otherwise

    @classmethod
    def of(cls, weights: np.ndarray) -> Alias:
        rows, k = weights.shape
        prob, alias = np.ones((rows, k)), np.tile(np.arange(k), (rows, 1))
        for r in range(rows):
            scaled = weights[r] * (k / weights[r].sum())
            small = [i for i in range(k) if scaled[i] < 1.0]
            large = [i for i in range(k) if scaled[i] >= 1.0]
            while small and large:
                s, g = small.pop(), large.pop()
                prob[r, s], alias[r, s] = scaled[s], g
                scaled[g] += scaled[s] - 1.0
                (small if scaled[g] < 1.0 else large).append(g)
            prob[r, weights[r] <= 0] = 0.0  # never keep an impossible column (rounding guard)
        return cls(prob=prob, alias=alias)

    def draw(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One column per uniform ``u`` in [0, 1), from the distribution of row ``rows[i]``."""
        k = self.prob.shape[1]
        x = u * k
        col = x.astype(np.int64)
        flat = rows * k + col
        return np.where(x - col < self.prob.ravel()[flat], col, self.alias.ravel()[flat])


def _check_persona(name: str, spec: PersonaSpec, categories: tuple[str, ...]) -> None:
    def bad(what: str, fix: str) -> ConfigError:
        return ConfigError(f"persona {name!r}: {what}", where="argument personas", fix=fix)

    if not (spec.share >= 0 and math.isfinite(spec.share)):
        raise bad(f"share {spec.share} is not a non-negative number", "give a share >= 0")
    if not spec.single_order and not spec.orders_per_year > 0:
        raise bad("orders_per_year must be > 0", "give a positive rate or set single_order")
    if spec.regularity <= 0 or spec.lines_per_order < 1 or spec.quantity_median < 1:
        raise bad("regularity must be > 0, lines_per_order and quantity_median >= 1", "fix them")
    lo, hi = spec.birth_window
    if not 0.0 <= lo < hi <= 1.0:
        raise bad(f"birth_window {spec.birth_window} is not within 0 <= lo < hi <= 1", "fix it")
    unknown = sorted(set(spec.category_weights) - set(categories))
    if unknown:
        raise bad(f"unknown categories {unknown}", f"use some of {list(categories)}")
    if spec.hour_profile not in HOUR_PROFILES:
        raise bad(
            f"unknown hour_profile {spec.hour_profile!r}", f"use one of {list(HOUR_PROFILES)}"
        )
    mw = spec.month_weights
    if mw is not None and (len(mw) != 12 or min(mw) < 0 or max(mw) <= 0):
        raise bad("month_weights must be 12 non-negative factors, not all 0", "fix them")
    if spec.months is not None and not set(spec.months) <= set(range(1, 13)):
        raise bad(f"months {spec.months} are not all within 1..12", "use calendar months 1..12")
    if spec.lapse_days_before_cutoff is not None:
        a, b = spec.lapse_days_before_cutoff
        if not 0 <= a <= b:
            raise bad("lapse_days_before_cutoff must be (a, b) with 0 <= a <= b", "fix it")


def make_plan(
    n_customers: int,
    *,
    seed: int,
    start: str | date,
    end: str | date,
    horizon_days: int,
    anomaly_share: float,
    personas: Mapping[str, PersonaSpec],
    dirt: DirtRates,
) -> Plan:
    """Validate the arguments of ``synthetic``/``write_synthetic`` and precompute the tables."""
    if (
        isinstance(n_customers, bool)
        or not isinstance(n_customers, int | np.integer)
        or n_customers < 1
    ):
        raise ConfigError(
            f"n_customers={n_customers!r} is not a positive whole number",
            where="argument n_customers",
            fix="ask for at least 1 customer",
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(
            f"seed={seed!r} is not a non-negative whole number",
            where="argument seed",
            fix="give a seed such as 0 or 42",
        )
    start_d = as_date(start, "start", where="argument start")
    end_d = as_date(end, "end", where="argument end")
    if not isinstance(horizon_days, int | np.integer) or horizon_days < 1:
        raise ConfigError(
            f"horizon_days={horizon_days!r} is not a positive whole number of days",
            where="argument horizon_days",
            fix="give e.g. 90",
        )
    cutoff = end_d - timedelta(days=int(horizon_days))
    if (cutoff - start_d).days < 60:
        raise ConfigError(
            f"the history before the cutoff ({start_d} to {cutoff}) is shorter than 60 days",
            where="arguments start, end, horizon_days",
            fix="move start earlier, end later, or shorten horizon_days",
        )
    if not (0.0 <= anomaly_share <= 0.5):
        raise ConfigError(
            f"anomaly_share={anomaly_share!r} is outside 0..0.5",
            where="argument anomaly_share",
            fix="give a small share such as 0.02",
        )
    for name in dirt.__dataclass_fields__:
        value = getattr(dirt, name)
        if not 0.0 <= value < 1.0:
            raise ConfigError(
                f"dirt rate {name}={value!r} is outside [0, 1)",
                where="argument dirt",
                fix="give a share between 0 and 1",
            )
    catalogue = build_catalogue()
    if not personas or BASE_PERSONA_FOR_ANOMALIES not in personas:
        raise ConfigError(
            f"personas must include {BASE_PERSONA_FOR_ANOMALIES!r} (anomalies buy like it)",
            where="argument personas",
            fix="start from custlens.datasets.DEFAULT_PERSONAS and change shares or parameters",
        )
    names = tuple(personas)
    specs = tuple(personas[n] for n in names)
    for name, spec in zip(names, specs, strict=True):
        _check_persona(name, spec, catalogue.category_names)
    shares = np.array([s.share for s in specs], dtype=float)
    if shares.sum() <= 0:
        raise ConfigError(
            "all persona shares are 0", where="argument personas", fix="give shares > 0"
        )
    shares = shares / shares.sum()

    n_days = (end_d - start_d).days + 1
    cutoff_day = (cutoff - start_d).days
    days = np.datetime64(start_d, "D") + np.arange(n_days)
    year = np.datetime64(start_d, "D") + np.arange(365)  # a reference year fixes the time unit
    rows, ref = [], []
    every: tuple[PersonaSpec | None, ...] = (*specs, None)
    for maybe_spec in every:
        rows.append(_day_weights(days, maybe_spec))
        ref.append(_day_weights(year, maybe_spec).sum())
    # one unit of shop time = one average day, so a rate of R orders/year gives R per year
    day_cum = _cumulative(np.array(rows) * (365.0 / np.array(ref))[:, None])
    birth_days = np.array(
        [
            (
                math.floor(s.birth_window[0] * cutoff_day),
                max(1, math.ceil(s.birth_window[1] * cutoff_day)),
            )
            for s in specs
        ]
    )
    for p, (name, spec) in enumerate(zip(names, specs, strict=True)):
        lo, hi = birth_days[p]
        if spec.share > 0 and day_cum[p, hi] <= day_cum[p, lo]:
            raise ConfigError(
                f"persona {name!r} cannot place a first order between {days[lo]} and {days[hi - 1]}"
                f" (it buys only in months {spec.months})",
                where="arguments start, end, horizon_days",
                fix="widen the date range so that it covers those months before the cutoff",
            )

    profiles = tuple(HOUR_PROFILES)
    hours = Alias.of(np.array([HOUR_PROFILES[k] for k in profiles], dtype=float))
    hour_rows = np.array([profiles.index(s.hour_profile) for s in specs] + [profiles.index("base")])

    n_prod = catalogue.n_products
    price = catalogue.prices[:n_prod]
    prod_w = []
    for spec in specs:
        cw = spec.category_weights
        cat_w = np.array([cw.get(c, 0.0) if cw else 1.0 for c in catalogue.category_names])
        prod_w.append(
            catalogue.popularity * cat_w[catalogue.category_index] * price**spec.price_preference
        )
    prod_w.append(catalogue.popularity.copy())
    prod_w_arr = np.array(prod_w)
    if (prod_w_arr.sum(axis=1) <= 0).any():
        raise ConfigError(
            "a persona's category_weights are all 0",
            where="argument personas",
            fix="give at least one category a positive weight",
        )
    kinds = tuple(ANOMALY_KINDS)
    country_names = tuple(COUNTRIES)
    return Plan(
        seed=int(seed),
        n_customers=int(n_customers),
        start=start_d,
        end=end_d,
        cutoff=cutoff,
        n_days=n_days,
        cutoff_day=cutoff_day,
        names=names,
        shares=shares,
        anomaly_share=float(anomaly_share),
        anomaly_kinds=kinds,
        anomaly_p=np.array([ANOMALY_KINDS[k] for k in kinds]) / sum(ANOMALY_KINDS.values()),
        anomaly_base=names.index(BASE_PERSONA_FOR_ANOMALIES),
        dirt=dirt,
        specs=specs,
        rate=np.array([s.orders_per_year for s in specs], dtype=float),
        birth_days=birth_days,
        day_cum=day_cum,
        hours=hours,
        hour_rows=hour_rows,
        products=Alias.of(prod_w_arr),
        qty_median=np.array([s.quantity_median for s in specs] + [4.0]),
        qty_spread=np.array([s.quantity_spread for s in specs] + [0.9]),
        country=Alias.of(np.array([[COUNTRIES[c][0] for c in country_names]])),
        countries=country_names,
        postage_price=np.array([COUNTRIES[c][1] for c in country_names]),
        home_country=country_names.index(HOME_COUNTRY),
        catalogue=catalogue,
        stock_codes=pa.array(catalogue.stock_codes, pa.string()),
        descriptions=pa.array(catalogue.descriptions, pa.string()),
        category_of=np.concatenate([catalogue.category_index, [0, 0]]).astype(np.int32),
        category_names=pa.array(catalogue.category_names, pa.string()),
        country_names=pa.array(country_names, pa.string()),
        start_us=int(np.datetime64(start_d, "us").astype(np.int64)),
    )
