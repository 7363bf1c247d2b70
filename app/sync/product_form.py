"""A product typed by hand in the catalogue window: its fields checked and read, with
the problem said in words. Pure functions (the window is `app.ui.product_dialog`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.sync.gtin import LENGTHS, NAMES, code_kind
from app.sync.pos_values import parse_amount

_PRINTABLE = re.compile(r"^[\x21-\x7E]{1,64}$")
MAX_PRICE = 1_000_000.0


@dataclass(frozen=True)
class ProductFields:
    barcode: str
    name: str
    category: str
    price: float


def read_product(barcode: str, name: str, category: str, price: str) -> ProductFields:
    """The fields of a product, or ValueError saying what is wrong (for the manager)."""
    code = barcode.strip()
    if not code:
        raise ValueError("Type or scan the product's barcode.")
    if not _PRINTABLE.match(code):
        raise ValueError(
            f"The barcode “{code}” has a space or a character a barcode cannot hold "
            "(1 to 64 letters, digits or signs)."
        )
    if code_kind(code) == "bad_check_digit":
        kind = NAMES[LENGTHS[len(code)]]
        raise ValueError(
            f"The barcode {code} is not a valid {kind} code: its last digit (the check "
            "digit) does not match. Check for a mistyped digit."
        )
    if not name.strip():
        raise ValueError("Give the product a name (what the tablets show).")
    if len(name.strip()) > 200 or len(category.strip()) > 120:
        raise ValueError("The name is at most 200 characters, the category 120.")
    value = 0.0
    if price.strip():
        try:
            value = parse_amount(price, what="the price")
        except ValueError as exc:
            raise ValueError(str(exc)[0].upper() + str(exc)[1:] + ".") from None
        if value < 0 or value >= MAX_PRICE:
            raise ValueError(f"The price {price.strip()} is out of range (0 to 999,999.99).")
    return ProductFields(code, name.strip(), category.strip(), value)
