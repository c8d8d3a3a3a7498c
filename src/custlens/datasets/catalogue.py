"""The synthetic shop's product catalogue: a gift-and-homeware wholesaler like the UCI shop.

The catalogue is the same for every seed (it is the shop, not the customers): a few hundred
StockCodes with UCI-style upper-case descriptions, eight categories, log-normal prices and a
skewed (Zipf-like) popularity.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

CATALOGUE_SEED = 20101201  # fixed: the shop's range does not change with the customers' seed

# category -> (number of products, median price, sd of log price, item nouns)
CATEGORIES: dict[str, tuple[int, float, float, tuple[str, ...]]] = {
    "Home Decor": (
        70,
        2.95,
        0.65,
        (
            "T-LIGHT HOLDER",
            "CUSHION COVER",
            "PHOTO FRAME",
            "WALL CLOCK",
            "LANTERN",
            "CANDLE",
            "DOORSTOP",
            "MIRROR",
            "VASE",
            "COAT HANGER",
            "DOORMAT",
            "WALL SIGN",
            "STRING LIGHTS",
        ),
    ),
    "Kitchen": (
        50,
        2.10,
        0.60,
        (
            "MUG",
            "TEA TOWEL",
            "CAKE TIN",
            "LUNCH BOX",
            "APRON",
            "JAM JAR",
            "CAKE STAND",
            "BAKING CASES",
            "PAPER NAPKINS",
            "TEAPOT",
            "STORAGE JAR",
            "EGG CUP",
            "OVEN GLOVE",
        ),
    ),
    "Gifts": (
        45,
        3.50,
        0.70,
        (
            "GIFT BOX",
            "KEYRING",
            "TRINKET BOX",
            "PHOTO ALBUM",
            "JEWELLERY STAND",
            "HAND WARMER",
            "HOT WATER BOTTLE",
            "MUSIC BOX",
            "SCENTED SACHET",
            "BUNTING",
            "MONEY BOX",
        ),
    ),
    "Stationery": (
        40,
        0.85,
        0.55,
        (
            "NOTEBOOK",
            "PENCIL SET",
            "GREETING CARD",
            "WRAPPING PAPER",
            "STICKER SHEET",
            "ERASER",
            "NOTEPAD",
            "PEN",
            "ENVELOPE SET",
            "MEMO BOARD",
            "GIFT TAGS",
        ),
    ),
    "Toys": (
        35,
        2.50,
        0.65,
        (
            "SKIPPING ROPE",
            "JIGSAW",
            "PLAYHOUSE",
            "SOFT TOY",
            "SPINNING TOP",
            "PICNIC SET",
            "TEA SET",
            "TOY CAR",
            "PAINTING SET",
            "DOMINOES",
            "SNAKES AND LADDERS",
        ),
    ),
    "Seasonal/Christmas": (
        35,
        1.65,
        0.60,
        (
            "CHRISTMAS BAUBLE",
            "ADVENT CALENDAR",
            "CHRISTMAS DECORATION",
            "STAR GARLAND",
            "SNOW GLOBE",
            "CHRISTMAS STOCKING",
            "REINDEER ORNAMENT",
            "CHRISTMAS CRACKERS",
            "TREE TOPPER",
            "EASTER EGG HUNT KIT",
        ),
    ),
    "Garden": (
        30,
        3.75,
        0.60,
        (
            "WATERING CAN",
            "PLANT POT",
            "BIRD FEEDER",
            "GARDEN KNEELER",
            "WIND CHIME",
            "HERB MARKERS",
            "GARDEN THERMOMETER",
            "FLOWER TROUGH",
            "BIRD HOUSE",
        ),
    ),
    "Bags": (
        35,
        1.95,
        0.55,
        (
            "JUMBO BAG",
            "SHOPPER BAG",
            "LUNCH BAG",
            "CHARLOTTE BAG",
            "TOTE BAG",
            "WASHBAG",
            "PURSE",
            "BEACH BAG",
            "COSMETIC BAG",
            "SHOE BAG",
        ),
    ),
}
_STYLES = (
    "WHITE",
    "RED",
    "PINK",
    "BLUE",
    "GREEN",
    "IVORY",
    "VINTAGE",
    "RETRO",
    "REGENCY",
    "HEART",
    "POLKADOT",
    "SPOTTY",
    "FLORAL",
    "BIRD",
    "OWL",
    "SKULL",
    "STRAWBERRY",
    "PAISLEY",
    "GINGHAM",
    "SPACEBOY",
    "DOLLY GIRL",
    "WOODLAND",
    "ZINC",
    "ENAMEL",
    "GLASS",
    "WOODEN",
    "LACE",
    "SCANDINAVIAN",
    "ROSE",
    "CHERRY",
    "JUMBO",
    "SMALL",
    "LARGE",
    "SET OF 3",
    "PACK OF 12",
)

# Non-product lines (codes from custlens.config.DEFAULT_NON_PRODUCT_CODES).
POSTAGE = ("POST", "POSTAGE")
MANUAL = ("M", "Manual")


@dataclass(frozen=True)
class Catalogue:
    """Products first (index 0..n_products-1), then POST, then M (arrays are aligned)."""

    stock_codes: tuple[str, ...]
    descriptions: tuple[str, ...]
    categories: tuple[str | None, ...]
    prices: np.ndarray  # float64, list price per product (0 for the non-product rows)
    popularity: np.ndarray  # float64, relative popularity per product
    category_index: np.ndarray  # int16, index into category_names per product
    category_names: tuple[str, ...]
    n_products: int

    @property
    def postage_index(self) -> int:
        return self.n_products

    @property
    def manual_index(self) -> int:
        return self.n_products + 1


@lru_cache(maxsize=1)
def build_catalogue() -> Catalogue:
    """The shop's catalogue (deterministic; cached)."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    codes: list[str] = []
    descriptions: list[str] = []
    categories: list[str] = []
    prices: list[float] = []
    cat_index: list[int] = []
    used_codes: set[str] = set()
    used_desc: set[str] = set()
    for ci, (name, (count, median, sd, nouns)) in enumerate(CATEGORIES.items()):
        made = 0
        while made < count:
            style = _STYLES[rng.integers(len(_STYLES))]
            extra = _STYLES[rng.integers(len(_STYLES))] if rng.random() < 0.4 else ""
            noun = nouns[rng.integers(len(nouns))]
            words = [style, extra, noun] if extra and extra != style else [style, noun]
            desc = " ".join(words)
            if desc in used_desc:
                continue
            code = str(int(rng.integers(20000, 90000)))
            if rng.random() < 0.2:
                code += "ABCDLPS"[rng.integers(7)]
            if code in used_codes:
                continue
            price = float(median * np.exp(sd * rng.standard_normal()))
            price = max(0.19, round(price / 0.05) * 0.05)  # shop prices end in .x5/.x0 ...
            if rng.random() < 0.25:
                price = np.floor(price * 10) / 10 + 0.09  # ... or .x9
            price = round(float(price), 2)
            used_desc.add(desc)
            used_codes.add(code)
            codes.append(code)
            descriptions.append(desc)
            categories.append(name)
            prices.append(price)
            cat_index.append(ci)
            made += 1
    n = len(codes)
    order = rng.permutation(n)  # mix the categories, so codes within an invoice are not grouped
    codes = [codes[i] for i in order]
    descriptions = [descriptions[i] for i in order]
    categories = [categories[i] for i in order]
    prices = [prices[i] for i in order]
    cat_index = [cat_index[i] for i in order]
    popularity = 1.0 / np.arange(1, n + 1) ** 0.9
    popularity = popularity[rng.permutation(n)]
    return Catalogue(
        stock_codes=(*codes, POSTAGE[0], MANUAL[0]),
        descriptions=(*descriptions, POSTAGE[1], MANUAL[1]),
        categories=(*categories, None, None),
        prices=np.array([*prices, 0.0, 0.0]),
        popularity=popularity,
        category_index=np.array(cat_index, dtype=np.int16),
        category_names=tuple(CATEGORIES),
        n_products=n,
    )


def catalogue() -> pd.DataFrame:
    """The product catalogue as a table: StockCode, Description, Category, UnitPrice, popularity."""
    cat = build_catalogue()
    n = cat.n_products
    return pd.DataFrame(
        {
            "StockCode": list(cat.stock_codes[:n]),
            "Description": list(cat.descriptions[:n]),
            "Category": list(cat.categories[:n]),
            "UnitPrice": cat.prices[:n],
            "popularity": cat.popularity / cat.popularity.sum(),
        }
    )
