"""Retail barcodes (GTIN): EAN-13, EAN-8 and UPC-A, and whether a code's check digit adds
up. One pure rule, the same as the tablet's (`resources/tablet/js/codes.js`): the LAN
server refuses a code that looks like a retail barcode but whose check digit is wrong,
and asks for a confirmation before it records any other code not in the catalogue.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["ean_13", "upc_a", "ean_8", "bad_check_digit", "other"]
LENGTHS: dict[int, Kind] = {13: "ean_13", 12: "upc_a", 8: "ean_8"}
NAMES = {"ean_13": "EAN-13", "upc_a": "UPC-A", "ean_8": "EAN-8"}


def check_digit(body: str) -> int:
    """The GTIN check digit of `body` (the code without its last digit): weights 3 and 1
    from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def code_kind(code: str) -> Kind:
    """ "ean_13", "upc_a" or "ean_8" for a valid retail code; "bad_check_digit" for 8, 12
    or 13 digits whose check digit is wrong (a mistyped or misread code); "other" for
    anything else (an in-store code, a QR text, a typo like "abc")."""
    if not (code.isascii() and code.isdigit()) or len(code) not in LENGTHS:
        return "other"
    if check_digit(code[:-1]) != int(code[-1]):
        return "bad_check_digit"
    return LENGTHS[len(code)]


def is_valid_gtin(code: str) -> bool:
    return code_kind(code) in NAMES


def problem(code: str) -> str:
    """A sentence for a person about a code whose check digit is wrong, else ""."""
    if code_kind(code) != "bad_check_digit":
        return ""
    name = NAMES[LENGTHS[len(code)]]
    right = check_digit(code[:-1])
    return (
        f"{code} is not a valid {name} barcode: its last digit should be {right}. "
        "Scan it again or check the number you typed."
    )
