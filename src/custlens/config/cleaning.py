"""Column mapping and cleaning rules."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from custlens.config.base import _Strict

DEFAULT_NON_PRODUCT_CODES = [
    "POST",  # postage
    "DOT",  # dotcom postage
    "C2",  # carriage
    "M",  # manual adjustment
    "D",  # discount
    "S",  # samples
    "B",  # adjust bad debt
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",  # charity commission
    "ADJUST",
    "ADJUST2",
    "TEST001",
    "TEST002",
    "PADS",  # "pads to match all cushions", a 0.001 placeholder line
    "FEE",
    "SHIPPING",
    "DISCOUNT",
]
DEFAULT_NON_PRODUCT_PREFIXES = ["gift_0001_", "DCGS"]


class MappingConfig(_Strict):
    """How source columns map onto canonical columns."""

    preset: str | None = None  # "online_retail", "online_retail_ii", "simple"; None = detect
    columns: dict[str, str] = Field(default_factory=dict)  # canonical -> source column name
    # canonical columns left out even when a preset or synonym would map them (e.g. "category")
    unmapped: list[str] = Field(default_factory=list)


class CleaningConfig(_Strict):
    """Cleaning rules; each one can be switched off. ``mode='minimal'`` keeps only the first three."""

    mode: Literal["default", "minimal"] = "default"
    missing_customer: bool = True
    cancellations_and_returns: bool = True
    nonpositive_price: bool = True
    non_product: bool = True
    exact_duplicates: bool = True
    offsetting_pairs: bool = True
    offsetting_window_days: int = Field(default=30, ge=0)
    non_product_codes: list[str] = Field(default_factory=lambda: list(DEFAULT_NON_PRODUCT_CODES))
    non_product_prefixes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NON_PRODUCT_PREFIXES)
    )
    cancellation_prefix: str = "C"
    date_from: date | None = None
    date_to: date | None = None
    countries: list[str] | None = None
    # order dates outside this window are removed and counted (rule implausible_date); the
    # profile of a customer table leaves such dates out of its date features (plausible_window)
    plausible_from: date = date(1970, 1, 1)
    plausible_to: date | None = None  # None: a year after today

    def plausible_window(self, today: date | None = None) -> tuple[date, date]:
        """The first and last plausible date (both inclusive): ``plausible_from`` ..
        ``plausible_to``, by default a year after ``today`` (the 28th of its month, which every
        month has).

        >>> CleaningConfig().plausible_window(date(2024, 2, 29))
        (datetime.date(1970, 1, 1), datetime.date(2025, 2, 28))
        """
        today = today or date.today()
        return self.plausible_from, self.plausible_to or today.replace(year=today.year + 1, day=28)

    def active_rules(self) -> dict[str, bool]:
        """Which rules run, after applying the mode."""
        rules = {
            "missing_customer": self.missing_customer,
            "cancellations_and_returns": self.cancellations_and_returns,
            "nonpositive_price": self.nonpositive_price,
            "non_product": self.non_product,
            "exact_duplicates": self.exact_duplicates,
            "offsetting_pairs": self.offsetting_pairs,
            "date_range": self.date_from is not None or self.date_to is not None,
            "country_filter": bool(self.countries),
            "implausible_date": True,
            "invalid_numbers": True,
        }
        if self.mode == "minimal":
            minimal = {"missing_customer", "cancellations_and_returns", "nonpositive_price"}
            minimal |= {"implausible_date", "invalid_numbers"}
            rules = {k: (v and k in minimal) for k, v in rules.items()}
        return rules
