"""Catalog CSV: French column names guessed, prices read like POS amounts (European
and English formats, an ambiguous price refused unless the file shows its separator)."""

from __future__ import annotations

import pytest

from app.sync.catalog import guess_catalog_mapping, validate_catalog
from app.sync.csvio import mapping_problem

COLS = {"barcode": 0, "name": 1, "price": 2}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["Code-barres", "Libellé", "Rayon", "Prix TTC"],
            ["Code-barres", "Libellé", "Rayon", "Prix TTC"],
        ),
        (["EAN", "Désignation", "Catégorie", "Prix"], ["EAN", "Désignation", "Catégorie", "Prix"]),
        (["Gencod", "Libelle", "Famille", "Tarif"], ["Gencod", "Libelle", "Famille", "Tarif"]),
    ],
)
def test_french_catalog_columns_are_guessed(header: list[str], expected: list[str]) -> None:
    g = guess_catalog_mapping(header)
    assert [g.get(f) for f in ("barcode", "name", "category", "price")] == expected


def test_an_unrecognised_name_column_is_not_guessed() -> None:
    assert "name" not in guess_catalog_mapping(["EAN", "Colonne 2", "Prix"])


def test_prices_in_european_format_and_ambiguous_ones() -> None:
    rows = [(2, ["A1", "Tote", "1.234,50"]), (3, ["B2", "Shoe", "1.234"])]
    good, errors = validate_catalog(rows, COLS, 3)
    assert [(r.barcode, r.price) for r in good] == [("A1", 1234.5), ("B2", 1234.0)]
    assert errors == []
    good, errors = validate_catalog([(2, ["A1", "Tote", "1,234"])], COLS, 3)
    assert good == [] and errors[0].line == 2
    assert errors[0].reason.startswith("price '1,234' is ambiguous (1234 or 1.234?)")


def test_mapping_problem_names_the_missing_or_doubled_column() -> None:
    labels = {"barcode": "Barcode", "name": "Name", "price": "Price"}
    required = ("barcode", "name")
    assert (
        mapping_problem({"barcode": "EAN", "name": None}, labels, required)
        == "choose the column for Name"
    )
    assert mapping_problem({"barcode": "EAN", "name": "EAN"}, labels, required).startswith(
        "Barcode and Name both use the column 'EAN'"
    )
    assert mapping_problem({"barcode": "EAN", "name": "Nom", "price": None}, labels, required) == ""


def test_a_file_without_a_price_column_keeps_known_prices(local_store, tmp_path) -> None:  # noqa: ANN001
    from app.sync.catalog import import_catalog_csv, list_products

    full = tmp_path / "full.csv"
    full.write_text("ean,name,category,price\n111,Sneakers,Shoes,89.90\n222,Scarf,Acc,19.00\n")
    list(
        import_catalog_csv(
            local_store,
            full,
            {"barcode": "ean", "name": "name", "category": "category", "price": "price"},
        )
    )
    names = tmp_path / "names.csv"  # a renaming list: barcodes and names only
    names.write_text("ean,name\n111,Sneakers Pro\n333,Belt\n")
    *_, done = import_catalog_csv(local_store, names, {"barcode": "ean", "name": "name"})
    assert done.result is not None and (done.result.added, done.result.updated) == (1, 1)
    got = {p.barcode: (p.name, p.category, p.price) for p in list_products(local_store)}
    assert got == {
        "111": ("Sneakers Pro", "Shoes", 89.9),  # renamed, its category and price kept
        "222": ("Scarf", "Acc", 19.0),
        "333": ("Belt", "", 0.0),
    }


def test_hand_typed_products_are_checked_in_words() -> None:
    from app.sync.gtin import is_valid_gtin
    from app.sync.product_form import read_product

    assert is_valid_gtin("4006381333931") and is_valid_gtin("96385074")  # EAN-13, EAN-8
    assert is_valid_gtin("036000291452") and not is_valid_gtin("036000291453")  # UPC-A
    p = read_product(" SHOP-42 ", " Scarf ", "Accessories", "1 234,50")
    assert (p.barcode, p.name, p.category, p.price) == ("SHOP-42", "Scarf", "Accessories", 1234.5)
    assert read_product("SHOP-43", "Free sample", "", "").price == 0.0
    for args, words in [
        (("", "x", "", ""), "Type or scan"),
        (("a b", "x", "", ""), "has a space"),
        (("4006381333932", "x", "", ""), "not a valid EAN-13 code"),
        (("SHOP-1", " ", "", ""), "Give the product a name"),
        (("SHOP-1", "x", "", "-3"), "out of range"),
        (("SHOP-1", "x", "", "abc"), "The price 'abc' is not a number."),
    ]:
        with pytest.raises(ValueError, match=words):
            read_product(*args)
