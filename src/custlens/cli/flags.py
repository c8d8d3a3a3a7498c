"""Command-line flags turned into settings and reader options, with clear errors."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custlens.config import Settings, load_settings
from custlens.config.profile import ROLES
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


_HORIZON = re.compile(r"^(\d+)\s*(d|day|days|w|wk|wks|week|weeks)?$")


def parse_compare_to(value: str | None, as_of: str | None) -> date | None:
    """``--compare-to``: a date, before ``--as-of`` when both are given."""
    compare_to = parse_date(value, "--compare-to")
    as_of_date = parse_date(as_of, "--as-of")
    if compare_to is not None and as_of_date is not None and compare_to >= as_of_date:
        raise ConfigError(
            f"--compare-to {compare_to} is not before --as-of {as_of_date}",
            where="--compare-to",
            fix="give an earlier date to compare the segments with",
        )
    return compare_to


def parse_horizon(value: str | None) -> int | None:
    """``90d``, ``90`` or ``90 days`` -> 90; ``39w`` or ``39 weeks`` -> 273 (days)."""
    if value is None:
        return None
    match = _HORIZON.match(value.strip().lower())
    if match is None:
        raise ConfigError(
            f"--horizon {value!r} is not a number of days or weeks",
            where="--horizon",
            fix="write e.g. --horizon 90d or --horizon 39w",
        )
    if int(match.group(1)) < 1:
        raise ConfigError(
            f"--horizon {value!r} is no time at all: the predictions look at least a day ahead",
            where="--horizon",
            fix="choose a positive horizon, e.g. --horizon 90d or --horizon 39w",
        )
    unit = match.group(2) or "d"
    digits = match.group(1)
    days = int(digits) * (7 if unit.startswith("w") else 1) if len(digits) <= 6 else None
    if days is None or days > MAX_HORIZON_DAYS:
        raise ConfigError(
            f"--horizon {value!r} is longer than {MAX_HORIZON_DAYS} days (ten years)",
            where="--horizon",
            fix="choose a horizon of days to a few years, e.g. --horizon 90d or --horizon 52w",
        )
    return days


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


def parse_roles(roles: list[str]) -> dict[str, str]:
    """``--role Income=numeric`` (repeatable) -> ``{"Income": "numeric"}``."""
    parsed: dict[str, str] = {}
    for item in roles:
        column, sep, role = item.rpartition("=")
        if not sep or not column.strip() or not role.strip():
            raise ConfigError(
                f"--role {item!r} is not of the form column=role",
                where="--role",
                fix="write e.g. --role Income=numeric --role Region=categorical",
            )
        if role.strip() not in ROLES:
            raise ConfigError(
                f"--role {item!r}: {role.strip()!r} is not a role",
                where="--role",
                fix=f"use one of {', '.join(ROLES)}",
            )
        parsed[column.strip()] = role.strip()
    return parsed


def settings(config: Path | None, *, maps: list[str], overrides: dict[str, Any]) -> Settings:
    """``custlens.toml`` (or defaults) with the flags applied; ``--map`` adds to the mapping."""
    loaded = load_settings(config, **overrides)
    if maps:
        merged = {**loaded.mapping.columns, **parse_maps(maps)}
        loaded = loaded.with_overrides(**{"mapping.columns": merged})
    return loaded


def check_engine(
    engine: str, *, spark_master: str | None, source: str | None, table: str | None
) -> None:
    """``--engine``/``--spark-master`` and whether SOURCE may be left out (a Spark table)."""
    from custlens.pipeline.engines import check_engine as check

    check(engine, spark_master=spark_master)
    if source is None and not (engine == "spark" and table):
        raise ConfigError(
            "Missing argument SOURCE",
            where="SOURCE",
            fix="pass the order log to analyse (a file, database file or URL); with --engine "
            "spark, --table db.table names a Spark/Hive table instead",
        )


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
