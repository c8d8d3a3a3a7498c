"""Derived features of a customer table, each described in :data:`CATALOG`.

``docs/profile_features.md`` is generated from the catalog::

    python -m custlens.profile.derived > docs/profile_features.md

Which source columns feed a feature is decided by the roles (:mod:`custlens.profile.roles`) and
the name patterns of ``ProfileConfig.role_patterns`` (income, recency, children, deals,
campaigns, complaints, customer-since and birth dates). A feature whose inputs are absent is not
made up: it is left out and listed in the notes.

Order: infinite numbers and those beyond float32's range set missing
(:func:`custlens.profile.quality.mask_unusable_numbers`), dates outside the plausible window of
order dates set missing (:func:`custlens.profile.quality.mask_implausible_dates`; birth dates
are left to the age rules, as many customers were born before 1970), the as-of date, ``age``,
``tenure_days``, ``income`` and ``recency_days``, then the quality rules
(:mod:`custlens.profile.quality`), then the totals, shares and ratios from the cleaned values.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from custlens.config.cleaning import CleaningConfig
from custlens.config.profile import ProfileConfig
from custlens.errors import ConfigError
from custlens.profile.quality import (
    apply_quality_rules,
    mask_implausible_dates,
    mask_unusable_numbers,
)
from custlens.profile.roles import RoleAssignment, matches

__all__ = ["CATALOG", "CustomerFeatures", "ProfileFeature", "derive_features"]


@dataclass(frozen=True)
class ProfileFeature:
    """One derived feature: name (``<x>`` stands for a category or channel), definition, unit."""

    name: str
    definition: str
    unit: str
    inputs: str


CATALOG: tuple[ProfileFeature, ...] = (
    ProfileFeature(
        "age",
        "Whole years from the birth date (or 1 July of the birth year) to as_of.",
        "years",
        "a birth_year column or a date column named like birth/dob",
    ),
    ProfileFeature(
        "tenure_days",
        "Days from the customer-since date to as_of; missing for a customer who joined after "
        "as_of (an as_of on or before every such date is an error) or whose date is outside "
        "the plausible window (`[cleaning]` plausible_from .. plausible_to).",
        "days",
        "a date column named like since/Dt_Customer/joined (else the only date column)",
    ),
    ProfileFeature("income", "The income column, after the quality rules.", "currency", "income"),
    ProfileFeature(
        "recency_days", "The recency column (days since the last purchase).", "days", "recency"
    ),
    ProfileFeature("total_spend", "Sum of the spend columns.", "currency", "spend columns"),
    ProfileFeature(
        "spend_share_<x>",
        "Spend column <x> / total_spend; missing when total_spend is 0.",
        "ratio",
        "two or more spend columns",
    ),
    ProfileFeature(
        "total_purchases",
        "Sum of the purchase counts per channel (the deals count is not a channel).",
        "purchases",
        "purchase-count columns",
    ),
    ProfileFeature(
        "purchase_share_<x>",
        "Purchases in channel <x> / total_purchases; missing when total_purchases is 0.",
        "ratio",
        "two or more channel purchase counts",
    ),
    ProfileFeature(
        "children",
        "Sum of the children columns (kids, teens).",
        "persons",
        "numeric columns named like kid/teen/child",
    ),
    ProfileFeature(
        "household_size",
        "1 + children + 1 when the marital status is a partner level (married, together).",
        "persons",
        "children and a marital-status column",
    ),
    ProfileFeature(
        "campaign_acceptance_rate",
        "Mean of the campaign flags (accepted campaigns / campaigns offered).",
        "ratio",
        "flags named like AcceptedCmp*/campaign/Response",
    ),
    ProfileFeature(
        "complained", "The complaint flag (1 = complained).", "0/1", "a flag named like complain"
    ),
    ProfileFeature(
        "deal_share",
        "Purchases made with a discount / total_purchases, capped at 1 (discount sensitivity).",
        "ratio",
        "a purchase count named like deal/discount and channel counts",
    ),
    ProfileFeature(
        "spend_per_purchase",
        "total_spend / total_purchases: spend per visit (purchase occasion).",
        "currency",
        "spend and purchase counts",
    ),
    ProfileFeature(
        "r_score, f_score, m_score",
        "Quintile scores 1-5 (5 best) of low recency_days, high total_purchases and high "
        "total_spend; ties broken by the customer id.",
        "score",
        "recency, purchase counts and spend",
    ),
    ProfileFeature(
        "rfm_score", "r_score + f_score + m_score (3-15).", "score", "the three RFM scores"
    ),
)


def catalog_entry(feature: str) -> ProfileFeature | None:
    """The catalog entry describing ``feature`` (``spend_share_wines`` -> ``spend_share_<x>``).

    >>> catalog_entry("spend_share_wines").name, catalog_entry("f_score").name
    ('spend_share_<x>', 'r_score, f_score, m_score')
    """
    for item in CATALOG:
        names = [n.strip() for n in item.name.split(",")]
        if feature in names:
            return item
        if "<x>" in item.name and feature.startswith(item.name.split("<")[0]):
            return item
    return None


@dataclass(frozen=True)
class CustomerFeatures:
    """The customer frame with derived features, what fed them, and the quality report."""

    frame: pd.DataFrame  # id, the usable source columns (cleaned) and the derived features
    derived: list[str]  # derived feature names, in catalog order
    inputs: dict[str, list[str]]  # derived feature -> the source columns it used
    quality: pd.DataFrame
    as_of: date
    notes: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    """``"MeatProducts"`` -> ``"meat_products"``."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^0-9a-z]+", "_", s.lower()).strip("_") or "x"


def family_slugs(columns: list[str]) -> dict[str, str]:
    """Short names for a family of columns: the common prefix and suffix removed.

    >>> family_slugs(["MntWines", "MntMeatProducts", "MntGoldProds"])
    {'MntWines': 'wines', 'MntMeatProducts': 'meat_products', 'MntGoldProds': 'gold_prods'}
    >>> family_slugs(["NumWebPurchases", "NumStorePurchases"])
    {'NumWebPurchases': 'web', 'NumStorePurchases': 'store'}
    """
    if len(columns) < 2:
        return {c: slug(c) for c in columns}
    words = [slug(c).split("_") for c in columns]
    lead = _common(words)
    trail = _common([w[::-1] for w in words])
    out = {}
    for c, w in zip(columns, words, strict=True):
        core = w[lead : len(w) - trail] if lead + trail < len(w) else w
        out[c] = "_".join(core)
    if len(set(out.values())) < len(out):
        return {c: slug(c) for c in columns}
    return out


def _common(names: list[list[str]]) -> int:
    """How many leading words every name shares."""
    first = names[0]
    n = 0
    while n < len(first) and all(len(x) > n and x[n] == first[n] for x in names):
        n += 1
    return n


def _age(frame: pd.DataFrame, roles: RoleAssignment, config: ProfileConfig, as_of: date):
    years = roles.columns("birth_year")
    if years:
        born = frame[years[0]]
        return as_of.year - born - (1 if (as_of.month, as_of.day) < (7, 1) else 0), years[:1]
    dates = [c for c in roles.columns("date") if matches(c, "birth_date", config)]
    if dates:
        born = pd.to_datetime(frame[dates[0]])
        days = (pd.Timestamp(as_of) - born).dt.days
        return np.floor(days / 365.2425), dates[:1]
    return None, []


def _since_column(roles: RoleAssignment, config: ProfileConfig) -> str | None:
    dates = [c for c in roles.columns("date") if not matches(c, "birth_date", config)]
    named = [c for c in dates if matches(c, "since", config)]
    if named:
        return named[0]
    return dates[0] if len(dates) == 1 else None


def _check_as_of(as_of: date, since: str, joined: pd.Series) -> None:
    """An as_of on or before every customer-since date leaves no customer with a tenure."""
    first = joined.min()
    if pd.notna(first) and pd.Timestamp(as_of) <= first.normalize():
        raise ConfigError(
            f"as_of {as_of} is on or before the first customer-since date, so no customer had "
            "joined by then and every tenure_days would be negative or zero",
            where=f"column {since!r} runs from {first.date()} to {joined.max().date()}",
            fix=f"choose an as_of (--as-of or [profile] as_of) after {first.date()}, or leave it "
            f"unset to use the day after the latest {since}",
        )


def derive_features(
    roles: RoleAssignment,
    config: ProfileConfig | None = None,
    as_of: date | None = None,
    plausible: tuple[date, date] | None = None,
) -> CustomerFeatures:
    """Derive every catalogued feature the table supports; apply the quality rules first.

    ``as_of`` (default ``config.as_of``, else the day after the latest plausible customer-since
    date, else today) dates age and tenure. ``plausible`` is the window of plausible dates
    (default: that of cleaning's defaults, ``CleaningConfig().plausible_window()``); the dates of
    date columns outside it, birth dates excepted, are set missing and noted.
    """
    config = config or ProfileConfig()
    notes: list[str] = []
    usable = [
        c
        for c in roles.table["column"]
        if roles.table.set_index("column").loc[c, "role"] not in ("constant", "text", "ignored")
    ]
    frame = roles.frame[[roles.id_column, *[c for c in usable if c != roles.id_column]]].copy()
    numbers = [c for r in ("numeric", "spend", "purchases", "birth_year") for c in roles.columns(r)]
    frame, unusable, unusable_notes = mask_unusable_numbers(frame, numbers)
    notes += unusable_notes
    events = [c for c in roles.columns("date") if not matches(c, "birth_date", config)]
    window = plausible or CleaningConfig().plausible_window()
    frame, implausible, implausible_notes = mask_implausible_dates(frame, events, window)
    notes += implausible_notes
    masked = [t for t in (unusable, implausible) if len(t)]  # quality.csv's first rows
    inputs: dict[str, list[str]] = {}
    since = _since_column(roles, config)
    if as_of is None:
        as_of = config.as_of
    if as_of is None:
        if since is not None and frame[since].notna().any():
            as_of = (pd.Timestamp(frame[since].max()) + pd.Timedelta(days=1)).date()
            notes.append(f"as of {as_of}: the day after the latest {since}")
        else:
            as_of = date.today()
            why = "no customer-since date" if since is None else f"{since} has no plausible date"
            notes.append(f"as of {as_of}: today ({why})")
    age, used = _age(frame, roles, config, as_of)
    if age is not None:
        frame["age"], inputs["age"] = age.astype("float64"), used
    if since is not None:
        joined = pd.to_datetime(frame[since])
        tenure = (pd.Timestamp(as_of) - joined).dt.days.astype("float64")
        later = joined.dt.normalize() > pd.Timestamp(as_of)
        if later.any():
            _check_as_of(as_of, since, joined)
            tenure = tenure.mask(later)
            notes.append(
                f"{int(later.sum())} customers joined after as_of {as_of} ({since} up to "
                f"{joined.max().date()}): their tenure_days is missing"
            )
        frame["tenure_days"] = tenure
        inputs["tenure_days"] = [since]
    numeric = roles.columns("numeric")
    for name, key in (("income", "income"), ("recency_days", "recency")):
        found = [c for c in numeric if matches(c, key, config)]
        if found:
            frame[name], inputs[name] = frame[found[0]].astype("float64"), found[:1]
    role_map = {r: roles.columns(r) for r in ("spend", "purchases", "numeric", "flag")}
    frame, quality = apply_quality_rules(frame, config.quality_rules, role_map)
    if masked:
        quality = pd.concat([*masked, quality], ignore_index=True)

    spend = role_map["spend"]
    if spend:
        frame["total_spend"] = frame[spend].sum(axis=1, min_count=1)
        inputs["total_spend"] = spend
        if len(spend) >= 2:
            total = frame["total_spend"].where(frame["total_spend"] > 0)
            for col, s in family_slugs(spend).items():
                frame[f"spend_share_{s}"] = frame[col] / total
                inputs[f"spend_share_{s}"] = [col]
    deals = [c for c in role_map["purchases"] if matches(c, "deals", config)]
    channels = [c for c in role_map["purchases"] if c not in deals]
    if channels:
        frame["total_purchases"] = frame[channels].sum(axis=1, min_count=1)
        inputs["total_purchases"] = channels
        if len(channels) >= 2:
            total = frame["total_purchases"].where(frame["total_purchases"] > 0)
            for col, s in family_slugs(channels).items():
                frame[f"purchase_share_{s}"] = frame[col] / total
                inputs[f"purchase_share_{s}"] = [col]
    # a kids/teens count that is only ever 0 or 1 in this table was read as a flag
    kids = [c for c in [*numeric, *roles.columns("flag")] if matches(c, "children", config)]
    if kids:
        frame["children"] = frame[kids].sum(axis=1, min_count=1)
        inputs["children"] = kids
        marital = [c for c in roles.columns("categorical") if matches(c, "marital", config)]
        if marital:
            partner = (
                frame[marital[0]]
                .astype("string")
                .str.strip()
                .str.lower()
                .isin(config.partner_levels)
            )
            frame["household_size"] = 1.0 + frame["children"] + partner.astype(float)
            inputs["household_size"] = [*kids, marital[0]]
    flags = role_map["flag"]
    campaigns = [c for c in flags if matches(c, "flag_campaign", config)]
    if campaigns:
        frame["campaign_acceptance_rate"] = frame[campaigns].mean(axis=1)
        inputs["campaign_acceptance_rate"] = campaigns
    complaint = [c for c in flags if matches(c, "complaint", config)]
    if complaint:
        frame["complained"], inputs["complained"] = frame[complaint[0]], complaint[:1]
    if deals and channels:
        total = frame["total_purchases"].where(frame["total_purchases"] > 0)
        frame["deal_share"] = (frame[deals[0]] / total).clip(upper=1.0)
        inputs["deal_share"] = [deals[0], *channels]
    if spend and channels:
        total = frame["total_purchases"].where(frame["total_purchases"] > 0)
        frame["spend_per_purchase"] = frame["total_spend"] / total
        inputs["spend_per_purchase"] = [*spend, *channels]
    if {"recency_days", "total_purchases", "total_spend"} <= set(frame.columns):
        for score, col, ascending in (
            ("r_score", "recency_days", False),
            ("f_score", "total_purchases", True),
            ("m_score", "total_spend", True),
        ):
            frame[score] = quintile_scores(frame[col], frame[roles.id_column], ascending)
        frame["rfm_score"] = frame[["r_score", "f_score", "m_score"]].sum(axis=1, min_count=3)
        inputs["rfm_score"] = [*inputs["recency_days"], *channels, *spend]
    else:
        notes.append("rfm_score skipped: needs recency, purchase counts and spend columns")
    for item in CATALOG:
        simple = "<" not in item.name and "," not in item.name
        if simple and item.name not in inputs and item.name != "rfm_score":
            notes.append(f"{item.name} not derived: needs {item.inputs}")
    derived = [c for c in frame.columns if c in inputs or c in ("r_score", "f_score", "m_score")]
    return CustomerFeatures(frame, derived, inputs, quality, as_of, notes)


def quintile_scores(values: pd.Series, ids: pd.Series, ascending: bool = True) -> pd.Series:
    """Scores 1-5 by quintile of ``values`` (5 = highest when ``ascending``); ties by id.

    Missing values get a missing score.

    >>> quintile_scores(pd.Series([5.0, 1, 3, 2, 4]), pd.Series(list("abcde"))).tolist()
    [5.0, 1.0, 3.0, 2.0, 4.0]
    """
    ok = values.notna()
    order = pd.DataFrame({"v": values[ok] if ascending else -values[ok], "id": ids[ok].astype(str)})
    order = order.sort_values(["v", "id"], kind="stable")
    n = len(order)
    ranks = pd.Series(np.arange(n), index=order.index)
    out = pd.Series(np.nan, index=values.index)
    out[ok] = np.floor(ranks.reindex(values.index[ok]) * 5 / max(n, 1)) + 1
    return out


def catalog_markdown() -> str:
    """``docs/profile_features.md``."""
    lines = [
        "# Customer-table features (`custlens profile`)",
        "",
        "*Generated from `src/custlens/profile/derived.py`; do not edit by hand. Regenerate with "
        "`python -m custlens.profile.derived > docs/profile_features.md`.*",
        "",
        "Derived from one row per customer. Which columns feed each feature is decided by the "
        "column roles and the name patterns in `[profile.role_patterns]`; the columns actually "
        "used are written to `feature_catalog.csv` of every profile. A feature whose inputs are "
        "absent is left out and noted, never made up. Quality rules (`quality.csv`) run before "
        "the totals and ratios.",
        "",
        "| feature | definition | unit | needs |",
        "|---|---|---|---|",
    ]
    for f in CATALOG:
        lines.append(f"| `{f.name}` | {f.definition} | {f.unit} | {f.inputs} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(catalog_markdown())
