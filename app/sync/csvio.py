"""Reading a CSV file that a person chose: refuse what is not a CSV, or not in the
expected encoding, with one line that says what to do; otherwise the header and the
rows with their line numbers in the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
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


def _decode(data: bytes, name: str, encoding: str) -> str:
    head = data[:65536]
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise CsvRefused(f"{name} is not a CSV file: it is {what}")
    if b"\x00" in head:
        raise CsvRefused(f"{name} is not a CSV text file (it contains binary data)")
    enc = encoding.lower().replace("_", "-")
    if enc in ("utf-8", "utf8") and data.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvRefused(
            f"{name} is not {encoding} text (bad byte at line {line}): "
            "save it as 'CSV UTF-8' or choose its encoding"
        ) from None
    except LookupError:
        raise CsvRefused(f"unknown text encoding {encoding!r}") from None


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


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
