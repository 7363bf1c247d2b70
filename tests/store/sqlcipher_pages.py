"""Test helper: decrypt SQLCipher 4 pages ourselves (AES-256-CBC, raw key, default
layout: 4096-byte pages, 80 reserved bytes = 16-byte IV + 64-byte HMAC-SHA512).

Lets tests look at the plaintext bytes that sit in the file, including free and
deleted space that SQL can no longer reach."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE = 4096
RESERVE = 80
WAL_HEADER = 32
FRAME_HEADER = 24


def decrypt_page(page: bytes, key: bytes, first: bool) -> bytes:
    start = 16 if first else 0
    iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(page[start : PAGE - RESERVE]) + dec.finalize()


def decrypted_db(path: Path, key: bytes) -> bytes:
    """Plaintext of every page of the main database file."""
    data = path.read_bytes()
    out = []
    for i in range(0, len(data) - PAGE + 1, PAGE):
        out.append(decrypt_page(data[i : i + PAGE], key, first=(i == 0)))
    return b"".join(out)


def decrypted_wal(path: Path, key: bytes) -> bytes:
    """Plaintext of every frame in a WAL file (empty if there is none)."""
    if not path.exists():
        return b""
    data = path.read_bytes()
    out = []
    pos = WAL_HEADER
    while pos + FRAME_HEADER + PAGE <= len(data):
        pgno = int.from_bytes(data[pos : pos + 4], "big")
        page = data[pos + FRAME_HEADER : pos + FRAME_HEADER + PAGE]
        out.append(decrypt_page(page, key, first=(pgno == 1)))
        pos += FRAME_HEADER + PAGE
    return b"".join(out)
