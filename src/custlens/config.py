"""Settings: every business rule is data with a default, overridable from ``custlens.toml``.

Precedence: built-in defaults < config file < explicit arguments (CLI flags or API keywords).
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from custlens.errors import ConfigError

RFM_BINS = 5

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappingConfig(_Strict):
    """How source columns map onto canonical columns."""

    preset: str | None = None  # "online_retail", "online_retail_ii", "simple"; None = detect
    columns: dict[str, str] = Field(default_factory=dict)  # canonical -> source column name


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
        }
        if self.mode == "minimal":
            minimal = {"missing_customer", "cancellations_and_returns", "nonpositive_price"}
            rules = {k: (v and k in minimal) for k, v in rules.items()}
        return rules


class SegmentRule(_Strict):
    """One named RFM segment: a rectangle in the R x FM grid (scores 1-5, inclusive)."""

    name: str
    r: tuple[int, int]
    fm: tuple[int, int]
    description: str
    action: str


DEFAULT_SEGMENTS = [
    SegmentRule(name="Champions", r=(5, 5), fm=(4, 5),
                description="Bought recently, buy often and spend the most.",
                action="Reward them; ask for reviews; offer early access to new products."),
    SegmentRule(name="Loyal Customers", r=(3, 4), fm=(4, 5),
                description="Spend good money often; responsive to promotions.",
                action="Upsell higher-value products; enrol in a loyalty programme."),
    SegmentRule(name="Potential Loyalists", r=(4, 5), fm=(2, 3),
                description="Recent customers with average frequency and spend.",
                action="Offer membership or a loyalty programme; recommend related products."),
    SegmentRule(name="New Customers", r=(5, 5), fm=(1, 1),
                description="Bought very recently, but not often and not much yet.",
                action="Onboard them well; send a welcome series and build the relationship."),
    SegmentRule(name="Promising", r=(4, 4), fm=(1, 1),
                description="Recent shoppers who have not spent much.",
                action="Create brand awareness; offer free trials or a small incentive."),
    SegmentRule(name="Need Attention", r=(3, 3), fm=(3, 3),
                description="Above-average recency, frequency and spend, but slowing down.",
                action="Make limited-time offers based on their purchase history."),
    SegmentRule(name="About To Sleep", r=(3, 3), fm=(1, 2),
                description="Below-average recency, frequency and spend; will be lost without action.",
                action="Share valuable resources; recommend popular products; reconnect."),
    SegmentRule(name="At Risk", r=(1, 2), fm=(3, 4),
                description="Spent good money often, but long ago.",
                action="Send personalised emails to reconnect; offer renewals and helpful content."),
    SegmentRule(name="Can't Lose Them", r=(1, 2), fm=(5, 5),
                description="Made the biggest and most frequent purchases, but have not returned for a long time.",
                action="Win them back with renewals or new products; talk to them directly."),
    SegmentRule(name="Hibernating", r=(2, 2), fm=(1, 2),
                description="Last purchase long ago, low spend and few orders.",
                action="Offer other relevant products and special discounts; recreate brand value."),
    SegmentRule(name="Lost", r=(1, 1), fm=(1, 2),
                description="Lowest recency, frequency and spend.",
                action="Revive interest with an outreach campaign; otherwise spend little on them."),
]


class RFMConfig(_Strict):
    """RFM scoring and the segment table (every R x FM cell maps to exactly one segment)."""

    segments: list[SegmentRule] = Field(default_factory=lambda: list(DEFAULT_SEGMENTS))

    @model_validator(mode="after")
    def _check_partition(self) -> RFMConfig:
        cells: dict[tuple[int, int], str] = {}
        for rule in self.segments:
            for lo, hi, axis in ((rule.r[0], rule.r[1], "r"), (rule.fm[0], rule.fm[1], "fm")):
                if not (1 <= lo <= hi <= RFM_BINS):
                    raise ValueError(
                        f"segment {rule.name!r}: {axis} range {lo}..{hi} must lie within 1..{RFM_BINS}"
                    )
            for r in range(rule.r[0], rule.r[1] + 1):
                for fm in range(rule.fm[0], rule.fm[1] + 1):
                    if (r, fm) in cells:
                        raise ValueError(
                            f"R={r}, FM={fm} is claimed by both {cells[(r, fm)]!r} and {rule.name!r}"
                        )
                    cells[(r, fm)] = rule.name
        missing = [
            (r, fm)
            for r in range(1, RFM_BINS + 1)
            for fm in range(1, RFM_BINS + 1)
            if (r, fm) not in cells
        ]
        if missing:
            raise ValueError(f"no segment covers the R, FM cells {missing}")
        return self

    def segment_of(self, r: int, fm: int) -> SegmentRule:
        for rule in self.segments:
            if rule.r[0] <= r <= rule.r[1] and rule.fm[0] <= fm <= rule.fm[1]:
                return rule
        raise KeyError((r, fm))  # unreachable: the validator guarantees a partition


class Settings(_Strict):
    """Everything a run needs to know besides the source itself."""

    mapping: MappingConfig = Field(default_factory=MappingConfig)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    rfm: RFMConfig = Field(default_factory=RFMConfig)
    as_of: date | None = None
    seed: int = 42

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with dotted-path overrides, e.g. ``{"cleaning.mode": "minimal"}``."""
        data = self.model_dump()
        for dotted, value in overrides.items():
            if value is None:
                continue
            node = data
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = value
        return _validate(data, "arguments")


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"Invalid setting {loc or '(root)'}: {first['msg']}",
            where=origin,
            fix="correct or remove that setting (see docs/configuration.md)",
        ) from None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read ``custlens.toml`` (explicit path, else ./custlens.toml if present) and apply overrides."""
    data: dict[str, Any] = {}
    origin = "defaults"
    candidate = Path(path) if path is not None else Path("custlens.toml")
    if path is not None and not candidate.is_file():
        raise ConfigError(
            f"Config file {str(candidate)!r} does not exist",
            where=str(candidate),
            fix="pass the path of an existing TOML file to --config",
        )
    if candidate.is_file():
        origin = str(candidate)
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Config file is not valid TOML: {exc}",
                where=origin,
                fix="check the syntax at the reported line",
            ) from None
    settings = _validate(data, origin)
    return settings.with_overrides(**overrides) if overrides else settings
