"""The behaviour planted in synthetic order logs, written as data.

Everything the generator does differently per customer comes from here: the persona mix and
each persona's parameters, the anomalies, the calendar (weekday, month, opening hours), the
countries, and the rates of "dirt" (cancellations, returns, anonymous orders, duplicates ...).
Pass a modified ``personas`` mapping or ``DirtRates`` to :func:`custlens.datasets.synthetic`
to change them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

HourProfile = Literal["morning", "midday", "afternoon", "evening"]


@dataclass(frozen=True)
class PersonaSpec:
    """How one kind of customer buys.

    Order times follow a renewal process in "shop time" (days weighted by the weekday, month
    and opening calendar, see ``MONTH_WEIGHTS``), so every persona shares the shop's weekly and
    yearly rhythm while keeping its own cadence.
    """

    share: float  # share of (non-anomalous) customers
    orders_per_year: float = 0.0  # mean order rate while active (ignored when single_order)
    rate_spread: float = 0.3  # sd of log(order rate) between customers of the persona
    regularity: float = 1.0  # gamma shape of the gaps: 1 = Poisson, larger = steadier cadence
    lines_per_order: float = 8.0  # mean number of distinct products per order
    quantity_median: float = 4.0  # median units per line
    quantity_spread: float = 0.6  # sd of log(units per line)
    category_weights: Mapping[str, float] = field(default_factory=dict)  # {} = all equal
    price_preference: float = 0.0  # product weight *= price ** price_preference (<0: cheap items)
    hour_profile: HourProfile = "midday"
    birth_window: tuple[float, float] = (
        0.0,
        1.0,
    )  # first order within these fractions of [start, cutoff)
    mean_lifetime_days: float = math.inf  # exponential time from first order to churn
    # BG/NBD's dropout: after each repeat order the customer leaves for good with probability
    # p, p ~ Beta(a, b) across the persona's customers (None: no such dropout)
    dropout_beta: tuple[float, float] | None = None
    lapse_days_before_cutoff: tuple[int, int] | None = (
        None  # stops buying this long before the cutoff
    )
    months: tuple[int, ...] | None = None  # buys only in these calendar months
    month_weights: tuple[float, ...] | None = None  # 12 factors on the shop's MONTH_WEIGHTS
    single_order: bool = False  # exactly one order before the cutoff
    comeback_prob: float = 0.0  # chance of one extra order after the cutoff


_BALANCED = {
    "Home Decor": 3.0,
    "Kitchen": 2.0,
    "Gifts": 1.5,
    "Stationery": 1.0,
    "Toys": 1.0,
    "Seasonal/Christmas": 0.6,
    "Garden": 1.0,
    "Bags": 1.5,
}

DEFAULT_PERSONAS: MappingProxyType[str, PersonaSpec] = MappingProxyType(
    {
        "loyal_high_value": PersonaSpec(
            share=0.10,
            orders_per_year=12.0,
            rate_spread=0.2,
            regularity=6.0,
            lines_per_order=4.0,
            quantity_median=10.0,
            category_weights=_BALANCED,
            price_preference=0.4,
            hour_profile="morning",
            birth_window=(0.0, 0.3),
            mean_lifetime_days=6000.0,
        ),
        "bulk_wholesale": PersonaSpec(
            share=0.06,
            orders_per_year=4.0,
            rate_spread=0.3,
            regularity=1.5,
            lines_per_order=3.0,
            quantity_median=300.0,
            quantity_spread=0.4,
            category_weights={
                "Kitchen": 2.0,
                "Bags": 3.0,
                "Home Decor": 2.0,
                "Stationery": 1.0,
                "Gifts": 1.0,
                "Toys": 1.0,
                "Garden": 1.0,
                "Seasonal/Christmas": 0.5,
            },
            price_preference=-0.3,
            hour_profile="morning",
            birth_window=(0.0, 0.5),
            mean_lifetime_days=3000.0,
        ),
        "q4_gift_buyer": PersonaSpec(
            share=0.14,
            orders_per_year=4.0,
            rate_spread=0.25,
            regularity=2.0,
            lines_per_order=3.0,
            quantity_median=3.0,
            quantity_spread=0.5,
            category_weights={
                "Gifts": 4.0,
                "Seasonal/Christmas": 5.0,
                "Toys": 2.0,
                "Stationery": 1.0,
                "Home Decor": 0.5,
            },
            hour_profile="evening",
            months=(10, 11, 12),
            mean_lifetime_days=3000.0,
        ),
        "bargain_one_timer": PersonaSpec(
            share=0.22,
            lines_per_order=2.0,
            quantity_median=2.0,
            quantity_spread=0.4,
            category_weights=_BALANCED,
            price_preference=-2.0,
            hour_profile="evening",
            # bargain hunters come in the January and summer sales, rarely before Christmas
            month_weights=(2.5, 1.5, 1.0, 1.0, 1.0, 1.8, 2.2, 1.5, 1.0, 0.5, 0.35, 0.3),
            single_order=True,
            comeback_prob=0.05,
        ),
        "lapsing": PersonaSpec(
            share=0.18,
            orders_per_year=10.0,
            rate_spread=0.25,
            regularity=4.0,
            lines_per_order=3.0,
            quantity_median=10.0,
            category_weights=_BALANCED,
            hour_profile="midday",
            birth_window=(0.0, 0.2),
            lapse_days_before_cutoff=(240, 400),
            dropout_beta=(0.8, 8.0),  # some leave even earlier
            comeback_prob=0.06,
        ),
        "regular_casual": PersonaSpec(
            share=0.30,
            orders_per_year=5.0,
            rate_spread=0.2,
            regularity=5.0,
            lines_per_order=2.5,
            quantity_median=5.0,
            category_weights=_BALANCED,
            hour_profile="afternoon",
            birth_window=(0.0, 0.4),
            mean_lifetime_days=20000.0,
        ),
    }
)

# Anomalous customers buy like BASE_PERSONA_FOR_ANOMALIES plus one extreme behaviour, drawn with
# these weights. All extreme behaviour happens before the cutoff, where features can see it.
ANOMALY_KINDS: MappingProxyType[str, float] = MappingProxyType(
    {
        "huge_order": 0.25,  # one order with ~150 lines and 25x the usual quantities
        "absurd_quantity": 0.25,  # 1-2 single-line orders of 5,000-90,000 units
        "high_returns": 0.25,  # most orders are cancelled again, nearly in full
        "order_burst": 0.25,  # 80-200 small orders within one day
    }
)
BASE_PERSONA_FOR_ANOMALIES = "regular_casual"


@dataclass(frozen=True)
class DirtRates:
    """Data-quality problems, each at a small realistic rate (UCI Online Retail in brackets)."""

    missing_customer_share: float = 0.20  # share of lines in anonymous orders (24.9%)
    cancel_order_prob: float = 0.03  # customer orders later partly cancelled by a "C" invoice
    return_order_prob: float = 0.008  # customer orders with a later return (negative lines, no "C")
    duplicate_line_share: float = 0.008  # exact duplicate lines (0.97%)
    zero_price_share: float = 0.004  # product lines with UnitPrice 0 (0.46%)
    missing_description_share: float = 0.5  # of zero-price anonymous lines, without a Description
    manual_line_prob: float = 0.004  # orders with an "M" (manual) line
    postage_prob_abroad: float = 0.4  # orders outside the home country with a "POST" line
    postage_prob_home: float = 0.01


# country -> (share of customers, price of one POST line)
COUNTRIES: MappingProxyType[str, tuple[float, float]] = MappingProxyType(
    {
        "United Kingdom": (0.895, 15.0),
        "Germany": (0.022, 18.0),
        "France": (0.020, 18.0),
        "EIRE": (0.012, 18.0),
        "Spain": (0.007, 28.0),
        "Belgium": (0.006, 18.0),
        "Netherlands": (0.006, 18.0),
        "Switzerland": (0.005, 28.0),
        "Portugal": (0.005, 28.0),
        "Italy": (0.004, 28.0),
        "Norway": (0.004, 40.0),
        "Australia": (0.004, 40.0),
        "Sweden": (0.003, 40.0),
        "Denmark": (0.003, 18.0),
        "Finland": (0.002, 40.0),
        "Channel Islands": (0.002, 18.0),
    }
)
HOME_COUNTRY = "United Kingdom"
ANONYMOUS_HOME_SHARE = 0.95  # anonymous orders come from the home country this often
ANONYMOUS_LINES_PER_ORDER = 20.0  # anonymous (guest) orders are large, as in the UCI file

# Relative order intensity by month (Nov peak) and weekday (Mon..Sun; almost no Saturdays).
MONTH_WEIGHTS = (0.70, 0.70, 0.90, 0.85, 1.00, 0.95, 0.95, 0.85, 1.10, 1.25, 1.60, 1.15)
WEEKDAY_WEIGHTS = (1.00, 1.10, 1.10, 1.30, 0.95, 0.04, 0.55)
CLOSED_DAYS = ((12, 24), (12, 25), (12, 26), (1, 1))  # (month, day) the shop takes no orders

# Orders per hour of the day (0..23). "base" is the shop overall (business hours, lunch peak).
_BASE_HOURS = (
    0,
    0,
    0,
    0,
    0,
    0,
    0.1,
    0.2,
    2,
    6,
    9,
    10,
    12,
    10.5,
    10,
    9.5,
    6,
    4,
    1.2,
    0.8,
    0.2,
    0,
    0,
    0,
)
HOUR_PROFILES: MappingProxyType[str, tuple[float, ...]] = MappingProxyType(
    {
        "base": _BASE_HOURS,
        "morning": (
            0,
            0,
            0,
            0,
            0,
            0,
            0.5,
            3,
            10,
            14,
            14,
            10,
            5,
            3,
            2,
            1.5,
            1,
            0.5,
            0.2,
            0,
            0,
            0,
            0,
            0,
        ),
        "midday": (
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0.2,
            1,
            3,
            6,
            11,
            14,
            13,
            8,
            5,
            3,
            1.5,
            0.5,
            0.2,
            0,
            0,
            0,
            0,
        ),
        "afternoon": (
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0.5,
            1.5,
            3,
            5,
            7,
            10,
            13,
            13,
            10,
            6,
            2,
            1,
            0.3,
            0,
            0,
            0,
        ),
        "evening": (0, 0, 0, 0, 0, 0, 0, 0, 0.3, 0.8, 1, 1.5, 2, 2, 2, 3, 5, 9, 12, 12, 9, 5, 1, 0),
    }
)
