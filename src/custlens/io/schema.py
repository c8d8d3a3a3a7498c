"""Column mapping: which source column feeds which canonical column.

Resolution, in order of priority:

1. explicit overrides (``--map customer_id=Kunde`` or ``[mapping.columns]`` in custlens.toml);
   canonical columns listed in ``[mapping] unmapped`` are never mapped automatically;
2. a preset: the one named in ``MappingConfig.preset``, else the first preset (in the order
   ``online_retail``, ``online_retail_ii``, ``simple``) whose columns are all present;
3. synonyms for every canonical column still unmapped, compared after normalising names
   (lower case, without spaces, underscores, hyphens and dots: ``Customer ID`` == ``customer_id``).

A source column feeds at most one canonical column. Two source columns matching the same
canonical name (both by synonym, or one by preset and one by synonym) is an ambiguity and an
error, as is a missing required column (``customer_id``, ``order_ts`` and ``amount`` or
``unit_price``); each error lists the columns found and the exact flag that fixes it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from custlens.config import MappingConfig
from custlens.errors import MappingError
from custlens.io.canonical import CANONICAL_COLUMNS

PRESETS: dict[str, dict[str, str]] = {
    "online_retail": {
        "order_id": "InvoiceNo",
        "product_id": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "order_ts": "InvoiceDate",
        "unit_price": "UnitPrice",
        "customer_id": "CustomerID",
        "country": "Country",
    },
    "online_retail_ii": {
        "order_id": "Invoice",
        "product_id": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "order_ts": "InvoiceDate",
        "unit_price": "Price",
        "customer_id": "Customer ID",
        "country": "Country",
    },
    "simple": {"customer_id": "customer_id", "order_ts": "date", "amount": "amount"},
}

_ID_SUFFIXES = ("", "id", "no", "nr", "num", "number", "code", "key")


def _with_suffixes(bases: Sequence[str]) -> set[str]:
    return {base + suffix for base in bases for suffix in _ID_SUFFIXES}


# canonical -> normalised synonyms (see normalise_name)
SYNONYMS: dict[str, set[str]] = {
    "customer_id": _with_suffixes(
        [
            "customer",
            "client",
            "member",
            "user",
            "account",
            "cust",
            "buyer",
            "shopper",
            "kunde",
            "kunden",
            "master",
        ]
    ),
    "order_id": _with_suffixes(
        ["order", "invoice", "transaction", "txn", "receipt", "basket", "bestellung", "rechnung"]
    ),
    "order_ts": {
        "date",
        "timestamp",
        "ts",
        "orderts",
        "datetime",
        "time",
        "orderdate",
        "invoicedate",
        "orderdatetime",
        "ordertimestamp",
        "ordertime",
        "purchasedate",
        "purchasetime",
        "transactiondate",
        "transactiontime",
        "transactiondatetime",
        "invoicetime",
        "saledate",
        "createdat",
        "datum",
        "bestelldatum",
    },
    "quantity": {"qty", "quantity", "units", "unitssold", "quantityordered", "menge", "anzahl"},
    "unit_price": {
        "price",
        "unitprice",
        "priceeach",
        "itemprice",
        "priceperunit",
        "preis",
        "einzelpreis",
    },
    "amount": {
        "amount",
        "revenue",
        "sales",
        "total",
        "value",
        "spend",
        "totalamount",
        "totalprice",
        "ordervalue",
        "ordertotal",
        "linetotal",
        "salesamount",
        "dollars",
        "umsatz",
        "betrag",
    },
    "product_id": _with_suffixes(
        ["sku", "stockcode", "stock", "product", "item", "article", "artikel"]
    ),
    "description": {
        "description",
        "productname",
        "itemname",
        "productdescription",
        "itemdescription",
        "bezeichnung",
    },
    "category": {"category", "productcategory", "categoryname", "itemcategory", "kategorie"},
    "country": {"country", "countryname", "land"},
    "channel": {"channel", "saleschannel"},
    "discount": {"discount", "rabatt"},
    "campaign": {"campaign", "campaignid", "campaignname"},
}
REQUIRED = ("customer_id", "order_ts")
MONEY = ("amount", "unit_price")


def normalise_name(name: str) -> str:
    """Case-, space-, underscore-, hyphen- and dot-insensitive form of a column name."""
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


@dataclass(frozen=True)
class ColumnMapping:
    """Canonical name -> source column, with how it was decided."""

    columns: dict[str, str]
    preset: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _found(columns: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in columns)


def _map_flag(canonical: str) -> str:
    return f'--map {canonical}=<column> (or {canonical} = "<column>" under [mapping.columns] in custlens.toml)'


def _check_overrides(overrides: dict[str, str], columns: Sequence[str], where: str) -> None:
    for canonical, source in overrides.items():
        if canonical not in CANONICAL_COLUMNS:
            close = difflib.get_close_matches(canonical, CANONICAL_COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MappingError(
                f"Unknown canonical column {canonical!r} in the mapping{hint}",
                where=where,
                fix=f"map one of {', '.join(CANONICAL_COLUMNS)}",
            )
        if source not in columns:
            close = difflib.get_close_matches(source, list(columns), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MappingError(
                f"The mapping {canonical}={source!r} names a column the source does not have{hint}; "
                f"columns found: {_found(columns)}",
                where=where,
                fix=f"use one of the columns found, e.g. --map {canonical}=<column>",
            )
    sources = list(overrides.values())
    twice = sorted({s for s in sources if sources.count(s) > 1})
    if twice:
        raise MappingError(
            f"The mapping uses column(s) {twice} for more than one canonical column",
            where=where,
            fix="map each source column to one canonical column",
        )


def _check_unmapped(unmapped: set[str], overrides: dict[str, str], where: str) -> None:
    unknown = sorted(unmapped - set(CANONICAL_COLUMNS))
    if unknown:
        raise MappingError(
            f"Unknown canonical column(s) {unknown} in mapping.unmapped",
            where=where,
            fix=f"list only canonical columns: {', '.join(CANONICAL_COLUMNS)}",
        )
    both = sorted(unmapped & set(overrides))
    if both:
        raise MappingError(
            f"Column(s) {both} are both mapped and listed in mapping.unmapped",
            where=where,
            fix="either map the column or leave it out, not both",
        )


def resolve_mapping(
    columns: Sequence[str], config: MappingConfig | None = None, *, where: str = "the source"
) -> ColumnMapping:
    """Decide the canonical -> source mapping for a source with these ``columns``."""
    config = config or MappingConfig()
    columns = list(columns)
    overrides = dict(config.columns)
    _check_overrides(overrides, columns, where)
    unmapped = set(config.unmapped)
    _check_unmapped(unmapped, overrides, where)
    notes: list[str] = []
    mapping = dict(overrides)
    preset = config.preset
    if preset is not None:
        if preset not in PRESETS:
            raise MappingError(
                f"Unknown mapping preset {preset!r}",
                where=where,
                fix=f"use one of {', '.join(PRESETS)}, or leave the preset unset to detect it",
            )
        missing = [c for c in PRESETS[preset].values() if c not in columns]
        if missing:
            raise MappingError(
                f"Preset {preset!r} needs column(s) {missing}; columns found: {_found(columns)}",
                where=where,
                fix="choose another preset, or map the columns with --map",
            )
    else:
        preset = next(
            (n for n, p in PRESETS.items() if all(c in columns for c in p.values())), None
        )
    if preset is not None:
        used = set(mapping.values())
        for canonical, source in PRESETS[preset].items():
            if canonical not in mapping and canonical not in unmapped and source not in used:
                mapping[canonical] = source
                used.add(source)
        notes.append(f"column layout: preset {preset!r}")
    used = set(mapping.values())
    for canonical in CANONICAL_COLUMNS:
        if canonical in overrides or canonical in unmapped:
            continue
        matches = [c for c in columns if c not in used and normalise_name(c) in SYNONYMS[canonical]]
        if canonical in mapping:  # mapped by the preset: another candidate makes it ambiguous
            if not matches:
                continue
            matches = [mapping[canonical], *matches]
        if len(matches) > 1:
            raise MappingError(
                f"Columns {matches} could each be {canonical!r}; columns found: {_found(columns)}",
                where=where,
                fix=f"say which one with --map {canonical}=<column>, e.g. --map {canonical}={matches[0]}",
            )
        if matches:
            mapping[canonical] = matches[0]
            used.add(matches[0])
    missing = [c for c in REQUIRED if c not in mapping]
    if not any(m in mapping for m in MONEY):
        missing.append("amount (or unit_price)")
    if missing:
        first = missing[0].split(" ")[0]
        raise MappingError(
            f"No column found for {', '.join(missing)}; columns found: {_found(columns)}",
            where=where,
            fix=f"map it explicitly: {_map_flag(first)}"
            + ("" if len(missing) == 1 else "; repeat --map for each missing column"),
        )
    ordered = {c: mapping[c] for c in CANONICAL_COLUMNS if c in mapping}
    auto = {c: s for c, s in ordered.items() if c not in overrides}
    if overrides:
        notes.append("mapped by you: " + ", ".join(f"{c}={s!r}" for c, s in overrides.items()))
    if auto:
        notes.append("mapped automatically: " + ", ".join(f"{c}={s!r}" for c, s in auto.items()))
    return ColumnMapping(ordered, preset, tuple(notes))
