"""Placeholder product photos drawn in pure Python, so the demo shop ships no binary files."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def placeholder_png(rgb: tuple[int, int, int], size: int = 320) -> bytes:
    """A square PNG in ``rgb`` with a lighter diagonal band, distinct per product."""
    light = bytes(min(255, c + 60) for c in rgb)
    base = bytes(rgb)
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            row += light if abs(x - y) < size // 8 else base
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
