"""Column mapping: presets, synonyms, overrides and the errors for missing/ambiguous columns."""

from __future__ import annotations

import itertools

import pytest

from custlens.config import MappingConfig
from custlens.errors import MappingError
from custlens.io.canonical import CANONICAL_COLUMNS
from custlens.io.schema import PRESETS, SYNONYMS, normalise_name, resolve_mapping

ONLINE_RETAIL = [
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
    "CustomerID", "Country",
]  # fmt: skip
ONLINE_RETAIL_II = [
    "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
    "Customer ID", "Country",
]  # fmt: skip


def test_online_retail_preset_is_detected() -> None:
    m = resolve_mapping(ONLINE_RETAIL + ["Category"])
    assert m.preset == "online_retail"
    assert m.columns == {
        "customer_id": "CustomerID",
        "order_id": "InvoiceNo",
        "order_ts": "InvoiceDate",
        "product_id": "StockCode",
        "description": "Description",
        "category": "Category",  # not in the preset: found by synonym
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
        "country": "Country",
    }


def test_online_retail_ii_preset_is_detected() -> None:
    m = resolve_mapping(ONLINE_RETAIL_II)
    assert m.preset == "online_retail_ii"
    assert m.columns["customer_id"] == "Customer ID"
    assert m.columns["unit_price"] == "Price"
    assert m.columns["order_id"] == "Invoice"


def test_simple_preset_is_detected() -> None:
    m = resolve_mapping(["customer_id", "date", "amount"])
    assert m.preset == "simple"
    assert m.columns == {"customer_id": "customer_id", "order_ts": "date", "amount": "amount"}


def test_named_preset_with_missing_columns_is_an_error() -> None:
    with pytest.raises(MappingError, match=r"Preset 'online_retail'.*UnitPrice"):
        resolve_mapping(ONLINE_RETAIL_II, MappingConfig(preset="online_retail"))


def test_unknown_preset_is_an_error() -> None:
    with pytest.raises(MappingError, match="Unknown mapping preset 'retail'"):
        resolve_mapping(ONLINE_RETAIL, MappingConfig(preset="retail"))


def test_normalise_name_ignores_case_spaces_underscores() -> None:
    assert normalise_name(" Customer ID ") == "customerid"
    assert normalise_name("customer_id") == "customerid"
    assert normalise_name("Order-Date") == "orderdate"
    assert normalise_name("Unit.Price") == "unitprice"


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (
            ["Client ID", "Order Date", "Revenue"],
            {"customer_id": "Client ID", "order_ts": "Order Date", "amount": "Revenue"},
        ),
        (
            ["member_id", "transaction_no", "timestamp", "qty", "unit_price", "SKU", "category"],
            {
                "customer_id": "member_id",
                "order_id": "transaction_no",
                "order_ts": "timestamp",
                "product_id": "SKU",
                "category": "category",
                "quantity": "qty",
                "unit_price": "unit_price",
            },
        ),
        (
            [
                "cust_id",
                "receipt_number",
                "datetime",
                "units",
                "price",
                "spend",
                "Product Name",
                "country",
            ],
            {
                "customer_id": "cust_id",
                "order_id": "receipt_number",
                "order_ts": "datetime",
                "description": "Product Name",
                "quantity": "units",
                "unit_price": "price",
                "amount": "spend",
                "country": "country",
            },
        ),
        (
            ["Kunde", "Datum", "Umsatz"],
            {"customer_id": "Kunde", "order_ts": "Datum", "amount": "Umsatz"},
        ),
        (
            ["user", "invoice date", "total"],
            {"customer_id": "user", "order_ts": "invoice date", "amount": "total"},
        ),
    ],
)
def test_synonyms(columns: list[str], expected: dict[str, str]) -> None:
    m = resolve_mapping(columns)
    assert m.preset is None
    assert m.columns == expected


def test_synonym_sets_do_not_overlap() -> None:
    for (a, sa), (b, sb) in itertools.combinations(SYNONYMS.items(), 2):
        assert not (sa & sb), f"{a} and {b} share {sa & sb}"
    assert set(SYNONYMS) == set(CANONICAL_COLUMNS)


def test_overrides_win_over_synonyms_and_presets() -> None:
    cfg = MappingConfig(columns={"customer_id": "Kunde", "amount": "Umsatz"})
    m = resolve_mapping(["Kunde", "customer", "date", "Umsatz", "amount"], cfg)
    assert m.columns == {"customer_id": "Kunde", "order_ts": "date", "amount": "Umsatz"}
    # the preset would map CustomerID; the override points customer_id elsewhere
    cfg = MappingConfig(columns={"customer_id": "Country"})
    m = resolve_mapping(ONLINE_RETAIL, cfg)
    assert m.columns["customer_id"] == "Country"
    assert "country" not in m.columns  # a source column feeds one canonical column
    assert m.columns["order_id"] == "InvoiceNo"


def test_override_resolves_an_ambiguity() -> None:
    cfg = MappingConfig(columns={"order_ts": "order_date"})
    m = resolve_mapping(["customer", "date", "order_date", "amount"], cfg)
    assert m.columns["order_ts"] == "order_date"


def test_ambiguous_columns_raise_with_the_flag() -> None:
    with pytest.raises(MappingError) as info:
        resolve_mapping(["customer", "date", "order_date", "amount"])
    text = str(info.value)
    assert "'date'" in text and "'order_date'" in text
    assert "--map order_ts=" in text


def test_missing_required_columns_list_columns_and_flag() -> None:
    with pytest.raises(MappingError) as info:
        resolve_mapping(["Kunde", "Wert", "Zeitpunkt"])
    text = str(info.value)
    assert "order_ts" in text and "amount (or unit_price)" in text
    assert "'Kunde'" in text and "'Wert'" in text and "'Zeitpunkt'" in text
    assert "--map order_ts=<column>" in text


def test_missing_money_column() -> None:
    with pytest.raises(MappingError, match=r"amount \(or unit_price\)") as info:
        resolve_mapping(["customer_id", "date", "quantity"])
    assert "--map amount=<column>" in str(info.value)


def test_unknown_canonical_in_overrides() -> None:
    with pytest.raises(MappingError, match=r"Unknown canonical column 'customer'.*customer_id"):
        resolve_mapping(ONLINE_RETAIL, MappingConfig(columns={"customer": "CustomerID"}))


def test_override_column_that_does_not_exist() -> None:
    with pytest.raises(MappingError) as info:
        resolve_mapping(ONLINE_RETAIL, MappingConfig(columns={"customer_id": "CustomerId"}))
    text = str(info.value)
    assert "'CustomerId'" in text and "did you mean 'CustomerID'" in text


def test_one_source_column_for_two_canonical_columns_is_an_error() -> None:
    cfg = MappingConfig(columns={"unit_price": "UnitPrice", "amount": "UnitPrice"})
    with pytest.raises(MappingError, match="more than one canonical column"):
        resolve_mapping(ONLINE_RETAIL, cfg)


def test_presets_only_use_canonical_names() -> None:
    for preset in PRESETS.values():
        assert set(preset) <= set(CANONICAL_COLUMNS)


def test_a_synonym_rival_to_a_preset_column_is_ambiguous() -> None:
    # the simple preset would take 'date', but 'order_date' is just as plausible
    with pytest.raises(MappingError, match=r"\['date', 'order_date'\] could each be 'order_ts'"):
        resolve_mapping(["customer_id", "order_date", "date", "amount"])
    cfg = MappingConfig(columns={"order_ts": "order_date"})
    m = resolve_mapping(["customer_id", "order_date", "date", "amount"], cfg)
    assert m.columns["order_ts"] == "order_date"


def test_unmapped_columns_are_left_out_of_presets_and_synonyms():
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice"]
    columns += ["CustomerID", "Country", "Category"]
    mapping = resolve_mapping(columns, MappingConfig(unmapped=["country", "category"]))
    assert "country" not in mapping.columns and "category" not in mapping.columns
    assert mapping.columns["customer_id"] == "CustomerID"


def test_unmapped_must_name_canonical_columns_not_also_mapped():
    with pytest.raises(MappingError, match="Unknown canonical"):
        resolve_mapping(["customer", "date", "amount"], MappingConfig(unmapped=["colour"]))
    with pytest.raises(MappingError, match="both mapped and listed"):
        resolve_mapping(
            ["customer", "date", "amount"],
            MappingConfig(columns={"amount": "amount"}, unmapped=["amount"]),
        )
    # leaving out a required column is the usual missing-column error
    with pytest.raises(MappingError, match="No column found for customer_id"):
        resolve_mapping(["customer", "date", "amount"], MappingConfig(unmapped=["customer_id"]))
