"""The mapping screen's choices as data: detected columns, settings and a ``custlens.toml``.

No Streamlit here: the screen (:mod:`custlens.app.mapping`) shows these and turns the user's
choices back into :class:`custlens.config.Settings`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from custlens.config import CleaningConfig, MappingConfig, Settings
from custlens.errors import CustlensError
from custlens.io.schema import PRESETS, SYNONYMS, normalise_name, resolve_mapping

# The canonical columns the screen offers, in order, with their labels.
FIELDS: dict[str, str] = {
    "customer_id": "Customer id",
    "order_id": "Order id",
    "order_ts": "Date",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "amount": "Amount (line total)",
    "product_id": "Product",
    "description": "Description",
    "category": "Category",
    "country": "Country",
}
REQUIRED_FIELDS = ("customer_id", "order_ts")
NOT_MAPPED = "(not used)"

# Cleaning rules the user can switch, with their labels (CleaningConfig field -> label).
RULES: dict[str, str] = {
    "missing_customer": "Drop lines without a customer id",
    "cancellations_and_returns": "Set cancellations and returns apart",
    "nonpositive_price": "Drop zero or negative prices and zero quantities",
    "non_product": "Drop non-product codes (postage, fees...)",
    "exact_duplicates": "Drop exact duplicate lines",
    "offsetting_pairs": "Drop order/cancellation pairs that offset",
}


@dataclass(frozen=True)
class Detection:
    """What custlens would map by itself, and the error it would raise (None when it maps)."""

    columns: dict[str, str | None]  # canonical -> source column (None: not found)
    error: CustlensError | None


def detect(columns: Sequence[str], mapping: MappingConfig | None = None) -> Detection:
    """Detect the mapping the run would use; when it is missing or ambiguous, keep the error
    and a best guess (the first column per canonical name, never one column twice)."""
    try:
        resolved = resolve_mapping(columns, mapping)
    except CustlensError as exc:
        return Detection(_best_guess(columns, mapping or MappingConfig()), exc)
    return Detection({c: resolved.columns.get(c) for c in FIELDS}, None)


def _best_guess(columns: Sequence[str], mapping: MappingConfig) -> dict[str, str | None]:
    guess: dict[str, str | None] = {c: None for c in FIELDS}
    used: set[str] = set()
    for canonical, source in mapping.columns.items():
        if canonical in guess and source in columns:
            guess[canonical] = source
            used.add(source)
    preset = next((p for p in PRESETS.values() if all(c in columns for c in p.values())), {})
    for canonical in FIELDS:
        if guess[canonical] is not None or canonical in mapping.unmapped:
            continue
        candidates = [preset[canonical]] if canonical in preset else []
        candidates += [c for c in columns if normalise_name(c) in SYNONYMS[canonical]]
        free = [c for c in candidates if c not in used]
        if free:
            guess[canonical] = free[0]
            used.add(free[0])
    return guess


def mapping_config(chosen: Mapping[str, str | None]) -> MappingConfig:
    """The user's choice per canonical column: mapped explicitly, or left out."""
    columns = {c: s for c, s in chosen.items() if s}
    unmapped = [c for c, s in chosen.items() if not s]
    return MappingConfig(columns=columns, unmapped=unmapped)


def build_settings(
    base: Settings,
    *,
    chosen: Mapping[str, str | None],
    cleaning_mode: str,
    rules: Mapping[str, bool],
    as_of: date | None,
    analyses: list[str] | None,
) -> Settings:
    """The settings of a run from the screen's choices (a ``ConfigError`` when invalid)."""
    overrides: dict[str, Any] = {
        "mapping": mapping_config(chosen).model_dump(),
        "cleaning.mode": cleaning_mode,
        **{f"cleaning.{rule}": bool(on) for rule, on in rules.items()},
        "analyses": analyses,
    }
    settings = base.with_overrides(**overrides)
    # with_overrides skips None values: clearing the as-of date and choosing every analysis
    # must still win over a custlens.toml that set them
    return settings.model_copy(update={"as_of": as_of, "analyses": analyses})


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def _toml_key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key, ensure_ascii=False)


def settings_toml(settings: Settings) -> str:
    """The mapping, cleaning, as-of date and analyses of ``settings`` as a ``custlens.toml``
    that ``custlens run --config`` reads back to the same choices."""
    lines = ["# custlens.toml written by custlens app", ""]
    if settings.as_of is not None:
        lines.append(f"as_of = {_toml_value(settings.as_of)}")
    if settings.analyses is not None:
        lines.append(f"analyses = {_toml_value(settings.analyses)}")
    lines.append(f"seed = {settings.seed}")
    lines += ["", "[mapping]"]
    if settings.mapping.preset:
        lines.append(f"preset = {_toml_value(settings.mapping.preset)}")
    if settings.mapping.unmapped:
        lines.append(f"unmapped = {_toml_value(settings.mapping.unmapped)}")
    lines += ["", "[mapping.columns]"]
    for canonical, source in settings.mapping.columns.items():
        lines.append(f"{canonical} = {_toml_value(source)}")
    lines += ["", "[cleaning]"]
    defaults = CleaningConfig()
    lines.append(f"mode = {_toml_value(settings.cleaning.mode)}")
    for rule in RULES:
        lines.append(f"{rule} = {_toml_value(getattr(settings.cleaning, rule))}")
    for name in ("date_from", "date_to", "countries"):
        value = getattr(settings.cleaning, name)
        if value != getattr(defaults, name):
            lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
