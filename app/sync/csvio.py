"""Reading a CSV file that a person chose: refuse what is not a CSV, or not in the
expected encoding, with one line that says what to do; otherwise the header and the
rows with their line numbers in the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024 * 1024
_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP file or an Excel workbook (.xlsx): export it as CSV",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file (.xls): export it as CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG picture",
    b"\xff\xd8\xff": "a JPEG picture",
    b"SQLite format": "a database file",
}


_DELIMITERS = ",;\t|"


class CsvRefused(ValueError):
    """The file cannot be read as a CSV table; nothing was imported."""


def shown(name: str) -> str:
    """A column name as a one-line message shows it: a quoted header cell may hold a
    line break or other control characters, which are written as escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)


@dataclass(frozen=True)
class CsvTable:
    path: Path
    sha256: str
    delimiter: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, fields)

    def column(self, name: str) -> int:
        return self.header.index(name)


# byte order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
_WIDE = ("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs2")


def _bom(data: bytes) -> tuple[str, str, int] | None:
    """(codec, label, length) of the byte order mark `data` starts with, if any."""
    for mark, codec, label in _BOMS:
        if data.startswith(mark):
            return codec, label, len(mark)
    return None


def _decode(data: bytes, name: str, encoding: str) -> str:
    """The file's text. A byte order mark says the encoding (Excel's "Unicode text" is
    UTF-16 with one); UTF-16/32 text is decoded before the binary check, since every
    other byte of it is zero."""
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise CsvRefused(f"{name} is not a CSV file: it is {what}")
    enc = encoding.lower().replace("_", "-")
    bom = _bom(data)
    if bom is not None:
        enc, shown_enc, skip = bom
        data, encoding = data[skip:], shown_enc
    elif not enc.startswith(_WIDE) and b"\x00" in data[:65536]:
        raise CsvRefused(f"{name} is not a CSV text file (it contains binary data)")
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if enc.startswith(_WIDE):
            line = data[: exc.start].decode(enc, "replace").count("\n") + 1
        raise CsvRefused(
            f"{name} is not {encoding} text (bad byte at line {line}): "
            "save it as 'CSV UTF-8' or choose its encoding"
        ) from None
    except LookupError:
        raise CsvRefused(f"unknown text encoding {encoding!r}") from None
    if "\x00" in text[:65536]:
        raise CsvRefused(f"{name} is not a CSV text file (it contains binary data)")
    return text


def _widths(sample: str, delim: str) -> list[int]:
    """The number of fields of each non-empty row of `sample` split at `delim`."""
    try:
        rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    except csv.Error:
        return []
    return [len(r) for r in rows if any(f.strip() for f in r)]


def _delimiter(text: str) -> str:
    """The separator among , ; tab | that splits the header (the first non-empty row)
    into the most fields, preferring one that splits most other rows the same way; a
    malformed row does not change the choice, so it is reported by its line."""
    sample = "\n".join(text.splitlines()[:50])
    best, best_key = ",", (False, 1, 0)
    for delim in _DELIMITERS:
        widths = _widths(sample, delim)
        if not widths or widths[0] < 2:
            continue
        same = sum(w == widths[0] for w in widths[1:])
        key = (2 * same >= len(widths) - 1, widths[0], same)
        if key > best_key:
            best, best_key = delim, key
    return best


def read_csv(path: str | Path, encoding: str = "utf-8", max_rows: int | None = None) -> CsvTable:
    """Read a whole CSV file (header on the first non-empty line); raises CsvRefused."""
    p = Path(path)
    name = p.name
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise CsvRefused(f"{name} is not a file")
        if size > MAX_BYTES:
            raise CsvRefused(f"{name} is too large ({size // 2**20} MB; at most 256 MB)")
        data = p.read_bytes()
    except FileNotFoundError:
        raise CsvRefused(f"{name}: no such file") from None
    except OSError as exc:
        raise CsvRefused(f"{name}: cannot read it ({exc.strerror})") from None
    if not data.strip():
        raise CsvRefused(f"{name} is empty")
    text = _decode(data, name, encoding)
    delim = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                continue
            rows.append((line, fields))
            if max_rows is not None and len(rows) >= max_rows:
                break
    except csv.Error as exc:
        raise CsvRefused(f"{name} is not a valid CSV file (line {start}: {exc})") from None
    if header is None or len(header) < 2 or not all(header):
        raise CsvRefused(f"{name} has no header row with at least two named columns")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CsvRefused(f"{name} has duplicate column names: {', '.join(map(shown, dupes))}")
    return CsvTable(p, hashlib.sha256(data).hexdigest(), delim, header, rows)


def require_columns(table: CsvTable, wanted: dict[str, str]) -> dict[str, int]:
    """{field: column index} for a mapping {field: header name}; refuses a missing one."""
    out: dict[str, int] = {}
    for fld, col in wanted.items():
        if col not in table.header:
            raise CsvRefused(
                f"{table.path.name} has no column {col!r} (mapped to {fld}); "
                f"its columns are: {', '.join(map(shown, table.header))}"
            )
        out[fld] = table.header.index(col)
    return out


def cell(fields: list[str], index: int) -> str:
    return fields[index].strip() if index < len(fields) else ""


def _folded(name: str) -> str:
    """'Libellé', 'N° ticket' -> '_libelle_', '_n_ticket_': lower case, no accents, each
    run of other characters one '_', padded so that '_nom_' matches a whole word only."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "_" + re.sub(r"[^a-z0-9]+", "_", plain).strip("_") + "_"


# column-name words that mean a barcode, for every import (POS, catalog)
BARCODE_WORDS = ("barcode", "code_barre", "codebarre", "ean", "gencod", "upc", "gtin", "sku")


def guess_columns(header: list[str], words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """A best guess {field: header name}: for each field in turn, the first of its words
    (in order of preference) found in a column name not taken yet."""
    out: dict[str, str] = {}
    folded = {h: _folded(h) for h in header}
    for fld, wanted in words.items():
        free = [h for h in header if h not in out.values()]
        found = next((h for w in wanted for h in free if w in folded[h]), None)
        if found is not None:
            out[fld] = found
    return out


def mapping_problem(
    chosen: dict[str, str | None], labels: dict[str, str], required: tuple[str, ...]
) -> str:
    """Why a column choice {field: header name or None} cannot be used, in one line for
    the person choosing ('choose the column for Name'); '' when it can."""
    missing = [labels[f] for f in required if not chosen.get(f)]
    if missing:
        return f"choose the column for {missing[0]}"
    used = [c for c in chosen.values() if c]
    twice = next((c for c in used if used.count(c) > 1), None)
    if twice is not None:
        names = " and ".join(labels[f] for f, c in chosen.items() if c == twice)
        return f"{names} both use the column {shown(twice)!r}: choose another for one of them"
    return ""
