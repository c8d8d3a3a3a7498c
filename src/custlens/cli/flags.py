"""Command-line flags turned into settings and reader options, with clear errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custlens.config import Settings, load_settings
from custlens.errors import ConfigError

if TYPE_CHECKING:
    from custlens.io.options import ReadOptions

FIGURE_FORMATS = ("png", "svg", "none")
MAX_HORIZON_DAYS = 3660  # ten years
MAX_CUSTOMERS = 20_000_000  # about 600 million order lines


def parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{flag} {value!r} is not a date", where=flag, fix="write the date as YYYY-MM-DD"
        ) from None


def parse_horizon(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().lower().removesuffix("d").removesuffix("days").strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"--horizon {value!r} is not a number of days",
            where="--horizon",
            fix="write e.g. --horizon 90d",
        )
    if len(text) > 6 or int(text) > MAX_HORIZON_DAYS:
        raise ConfigError(
            f"--horizon {value!r} is longer than {MAX_HORIZON_DAYS} days (ten years)",
            where="--horizon",
            fix="choose a horizon of days to a few years, e.g. --horizon 90d or --horizon 365d",
        )
    return int(text)


def parse_analyses(value: str | None) -> list[str] | None:
    """``all`` (or nothing) -> None (every stage), ``rfm`` -> [], else the named analyses."""
    from custlens.pipeline.registry import check_analyses

    if value is None or value.strip() == "all":
        return None
    if value.strip() == "rfm":
        return []
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    check_analyses(chosen)
    return chosen


def parse_maps(maps: list[str]) -> dict[str, str]:
    """``["customer_id=Kunde"]`` -> ``{"customer_id": "Kunde"}``; a canonical column mapped
    twice is an error naming both columns (the last would otherwise win silently)."""
    parsed: dict[str, str] = {}
    for item in maps:
        canonical, sep, column = item.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise ConfigError(
                f"--map {item!r} is not of the form canonical=column",
                where="--map",
                fix="write e.g. --map customer_id=Kunde --map amount=Umsatz",
            )
        key = canonical.strip()
        if key in parsed and parsed[key] != column.strip():
            raise ConfigError(
                f"--map maps {key!r} twice: to {parsed[key]!r} and to {column.strip()!r}",
                where="--map",
                fix=f"keep one --map {key}=<column>",
            )
        parsed[key] = column.strip()
    return parsed


def settings(config: Path | None, *, maps: list[str], overrides: dict[str, Any]) -> Settings:
    """``custlens.toml`` (or defaults) with the flags applied; ``--map`` adds to the mapping."""
    loaded = load_settings(config, **overrides)
    if maps:
        merged = {**loaded.mapping.columns, **parse_maps(maps)}
        loaded = loaded.with_overrides(**{"mapping.columns": merged})
    return loaded


def read_options(**options: Any) -> ReadOptions:
    """The reader options of the flags (imported here: the readers pull in the engine)."""
    from custlens.io.options import ReadOptions

    return ReadOptions(**options)


def check_figures(figures: str) -> None:
    if figures not in FIGURE_FORMATS:
        raise ConfigError(
            f"--figures {figures!r} is not a figure format",
            where="--figures",
            fix="choose png, svg or none",
        )


def check_customers(customers: int) -> None:
    if customers < 1:
        raise ConfigError(
            f"--customers {customers} must be at least 1",
            where="--customers",
            fix="pass a positive number",
        )
    if customers > MAX_CUSTOMERS:
        raise ConfigError(
            f"--customers {customers} is more than {MAX_CUSTOMERS:,} customers",
            where="--customers",
            fix=f"pass at most {MAX_CUSTOMERS:,} (about 30 order lines per customer are written)",
        )
