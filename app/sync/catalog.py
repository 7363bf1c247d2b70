"""The product catalog (CSV import) and salesperson management.

Catalog import: a CSV with barcode, name, category and price columns (names mapped like
the POS import), every row checked with its line number, all valid rows upserted in one
writer transaction. Salespeople: name, employee code, PIN (argon2 hash, never stored in
clear) and the zones they serve.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from app.store.models import AuditLog, PairedDevice, Product, Salesperson, SalespersonZone, now
from app.sync.csvio import (
    BARCODE_WORDS,
    CsvRefused,
    cell,
    guess_columns,
    read_csv,
    require_columns,
)
from app.sync.lan.auth import hash_pin
from app.sync.pos import RowError
from app.sync.pos_values import file_decimal_mark, parse_amount
from app.sync.store_protocol import StoreLike, write

log = logging.getLogger(__name__)

_BARCODE = re.compile(r"^[\x21-\x7E]{1,64}$")
CATALOG_FIELDS = ("barcode", "name", "category", "price")
_GUESSES = {  # words looked for in column names, best first (see csvio.guess_columns)
    "barcode": (*BARCODE_WORDS, "code"),
    "name": (
        "name",
        "libelle",
        "designation",
        "title",
        "description",
        "product",
        "produit",
        "_nom_",
    ),
    "category": ("categor", "rayon", "department", "departement", "famil", "group", "type"),
    "price": ("price", "prix", "tarif", "retail", "amount", "montant", "cost"),
}

CatalogError = CsvRefused


@dataclass(frozen=True)
class CatalogRow:
    line: int
    barcode: str
    name: str
    category: str | None  # None: the file has no such column (an update keeps the old one)
    price: float | None


@dataclass
class CatalogResult:
    filename: str
    rows_total: int = 0
    added: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogProgress:
    phase: str  # read | validate | write | done
    done: int
    total: int
    result: CatalogResult | None = None


def guess_catalog_mapping(header: list[str]) -> dict[str, str]:
    return guess_columns(header, _GUESSES)


def validate_catalog(
    rows: list[tuple[int, list[str]]], cols: dict[str, int], width: int
) -> tuple[list[CatalogRow], list[RowError]]:
    good: dict[str, CatalogRow] = {}
    errors: list[RowError] = []
    prices = (cell(f, cols["price"]) for _, f in rows) if "price" in cols else ()
    decimal = file_decimal_mark(prices)
    for line, fields in rows:
        if len(fields) != width:
            errors.append(RowError(line, f"{len(fields)} fields where the header has {width}"))
            continue
        code, name = cell(fields, cols["barcode"]), cell(fields, cols["name"])
        category = cell(fields, cols["category"]) if "category" in cols else None
        try:
            price = (
                parse_amount(cell(fields, cols["price"]), decimal, "price")
                if "price" in cols
                else None
            )
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        if not _BARCODE.match(code):
            errors.append(RowError(line, f"barcode {code!r} is empty or not printable text"))
        elif not name or len(name) > 200:
            errors.append(RowError(line, "name is empty" if not name else "name is too long"))
        elif category is not None and len(category) > 120:
            errors.append(RowError(line, "category is too long"))
        elif price is not None and price < 0:
            errors.append(RowError(line, "price is negative"))
        else:
            good[code] = CatalogRow(line, code, name, category, price)  # last row wins
    return list(good.values()), errors


def import_catalog_csv(
    store: StoreLike, path: str | Path, mapping: dict[str, str], encoding: str = "utf-8"
) -> Iterator[CatalogProgress]:
    """Upsert products from a CSV; mapping {barcode,name[,category][,price]: header}.
    Raises CatalogError for a refused file (nothing written)."""
    yield CatalogProgress("read", 0, 0)
    table = read_csv(path, encoding)
    for need in ("barcode", "name"):
        if not mapping.get(need):
            raise CatalogError(f"choose the column that holds the {need}")
    cols = require_columns(table, {k: v for k, v in mapping.items() if v})
    total = len(table.rows)
    yield CatalogProgress("validate", 0, total)
    rows, errors = validate_catalog(table.rows, cols, len(table.header))
    result = CatalogResult(table.path.name, total, errors=errors)
    yield CatalogProgress("write", 0, len(rows))

    def _upsert(s: Session) -> tuple[int, int]:
        existing: dict[str, Product] = {}
        codes = [r.barcode for r in rows]
        for i in range(0, len(codes), 500):
            q = select(Product).where(Product.barcode.in_(codes[i : i + 500]))
            existing.update((p.barcode, p) for p in s.execute(q).scalars())
        t = now()
        for r in rows:
            old = existing.get(r.barcode)
            if old is None:
                s.add(
                    Product(
                        barcode=r.barcode,
                        name=r.name,
                        category=r.category or "",
                        price=r.price or 0.0,
                        updated_at=t,
                    )
                )
                continue
            # a column the file does not have keeps what the product had
            old.name, old.updated_at = r.name, t
            if r.category is not None:
                old.category = r.category
            if r.price is not None:
                old.price = r.price
        return len(rows) - len(existing), len(existing)

    result.added, result.updated = write(store, _upsert, timeout=600)
    log.info(
        "catalog %s: %s added, %s updated, %s invalid",
        table.path.name,
        result.added,
        result.updated,
        len(errors),
    )
    yield CatalogProgress("done", total, total, result)


def list_products(store: StoreLike, search: str = "", limit: int = 500) -> list[Product]:
    with store.read_session() as s:
        q = select(Product).order_by(Product.category, Product.name).limit(limit)
        if search:
            like = f"%{search}%"
            q = q.where(
                or_(
                    Product.name.ilike(like),
                    Product.barcode.ilike(like),
                    Product.category.ilike(like),
                )
            )
        return list(s.execute(q).scalars())


def get_product(store: StoreLike, barcode: str) -> Product | None:
    with store.read_session() as s:
        return s.get(Product, barcode)


def list_categories(store: StoreLike) -> list[str]:
    with store.read_session() as s:
        q = select(Product.category).where(Product.category != "").distinct()
        return sorted(s.execute(q).scalars())


def count_products(store: StoreLike) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Product)) or 0)


def upsert_product(
    store: StoreLike, barcode: str, name: str, category: str = "", price: float = 0.0
) -> None:
    if not _BARCODE.match(barcode):
        raise ValueError("a barcode is 1 to 64 printable characters without spaces")
    if not name.strip():
        raise ValueError("a product needs a name")
    write(
        store,
        lambda s: s.merge(
            Product(
                barcode=barcode,
                name=name.strip(),
                category=category.strip(),
                price=float(price),
                updated_at=now(),
            )
        ),
    )


# --- salespeople ------------------------------------------------------------------------


@dataclass(frozen=True)
class SalespersonInfo:
    id: int
    name: str
    employee_code: str
    active: bool
    zones: list[str]
    devices: int


class SalespersonError(ValueError):
    """A salesperson change that cannot be made; the message says why."""


def _clean(name: str, code: str) -> tuple[str, str]:
    name, code = name.strip(), code.strip()
    if not name or len(name) > 120:
        raise SalespersonError("a name is 1 to 120 characters")
    if not code or len(code) > 40:
        raise SalespersonError("an employee code is 1 to 40 characters")
    return name, code


def _set_zones(s: Session, sp_id: int, zones: list[str]) -> None:
    s.execute(delete(SalespersonZone).where(SalespersonZone.salesperson_id == sp_id))
    for z in sorted(set(zones)):
        s.add(SalespersonZone(salesperson_id=sp_id, zone=z))


def _check_code_free(s: Session, code: str, other_than: int | None) -> None:
    """Refuse a code another salesperson has, whatever its case (E100 is e100)."""
    rows = s.execute(select(Salesperson.id, Salesperson.name, Salesperson.employee_code))
    for sp_id, name, taken in rows:
        if sp_id != other_than and taken.casefold() == code.casefold():
            same = "" if taken == code else f" as {taken!r} (upper and lower case count the same)"
            raise SalespersonError(
                f"employee code {code!r} is already used by {name}{same}: choose another code"
            )


def create_salesperson(
    store: StoreLike, name: str, employee_code: str, pin: str, zones: list[str]
) -> int:
    name, code = _clean(name, employee_code)
    pin_hash = hash_pin(pin)  # raises PinError (a ValueError) with the rule

    def _create(s: Session) -> int:
        _check_code_free(s, code, None)
        sp = Salesperson(name=name, employee_code=code, pin_hash=pin_hash, active=True)
        s.add(sp)
        s.flush()
        _set_zones(s, sp.id, zones)
        s.add(AuditLog(actor="manager", action="create", target=f"salesperson {sp.id}"))
        return sp.id

    return write(store, _create)


def update_salesperson(
    store: StoreLike,
    sp_id: int,
    *,
    name: str | None = None,
    employee_code: str | None = None,
    pin: str | None = None,
    zones: list[str] | None = None,
    active: bool | None = None,
) -> None:
    """Change what is given; a new PIN or deactivation keeps paired devices unless
    `active=False`, which revokes them."""
    pin_hash = hash_pin(pin) if pin else None

    def _update(s: Session) -> None:
        sp = s.get(Salesperson, sp_id)
        if sp is None:
            raise SalespersonError("no such salesperson")
        n, c = _clean(
            name if name is not None else sp.name,
            employee_code if employee_code is not None else sp.employee_code,
        )
        _check_code_free(s, c, sp_id)
        sp.name, sp.employee_code = n, c
        if pin_hash:
            sp.pin_hash = pin_hash
        if zones is not None:
            _set_zones(s, sp_id, zones)
        if active is not None:
            sp.active = active
            if not active:
                for dev in s.execute(
                    select(PairedDevice).where(
                        PairedDevice.salesperson_id == sp_id, PairedDevice.revoked_at.is_(None)
                    )
                ).scalars():
                    dev.revoked_at = now()
        s.add(AuditLog(actor="manager", action="update", target=f"salesperson {sp_id}"))

    write(store, _update)


def list_salespeople(store: StoreLike, include_inactive: bool = True) -> list[SalespersonInfo]:
    with store.read_session() as s:
        q = select(Salesperson).order_by(Salesperson.name)
        if not include_inactive:
            q = q.where(Salesperson.active.is_(True))
        people = list(s.execute(q).scalars())
        zones: dict[int, list[str]] = {}
        for sp_id, z in s.execute(
            select(SalespersonZone.salesperson_id, SalespersonZone.zone).order_by(
                SalespersonZone.zone
            )
        ):
            zones.setdefault(sp_id, []).append(z)
        devs = dict(
            s.execute(
                select(PairedDevice.salesperson_id, func.count())
                .where(PairedDevice.revoked_at.is_(None))
                .group_by(PairedDevice.salesperson_id)
            ).all()
        )
        return [
            SalespersonInfo(
                p.id, p.name, p.employee_code, p.active, zones.get(p.id, []), int(devs.get(p.id, 0))
            )
            for p in people
        ]
