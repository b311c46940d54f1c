"""Catalog CSV import: checking and applying a generated file, on SQLite and PostgreSQL.

    python -m bench.import [--rows 10000 100000] [--only sqlite|postgresql]

Each case runs in a process of its own (so its peak RSS is its own) on a fresh database, as
the owner's upload goes: "check" reads the file whole, plans it against the shop and stores
the parsed rows (the preview); "apply" loads them back, plans again and writes, in one
transaction (the confirmation). Then a second file changing a tenth of the prices is checked
and applied into the filled catalog, and an export read back is timed as the no-op it is.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import time

from sqlalchemy import select

from bench.common import fresh_database
from shop import csv_catalog
from shop.db import create_engine, create_session_factory
from shop.models import CatalogUpload

VARIANTS = 5
SIZES = ("XS", "S", "M", "L", "XL")


def generate(rows: int, bump_every: int = 0) -> bytes:
    """A catalog of ``rows`` SKUs (5 per product, 40 categories in 8 sections); with
    ``bump_every`` every that many SKUs cost 10 roubles more. Every column while that fits
    the upload limit (5 MB), else only the required ones, short."""
    full = rows * 160 < csv_catalog.MAX_BYTES
    lines = [
        ";".join(csv_catalog.COLUMNS if full else ("sku", "category", "title", "price", "stock"))
    ]
    for index in range(rows):
        product = index // VARIANTS
        price = 990 + product % 50 * 100 + (10 if bump_every and index % bump_every == 0 else 0)
        if not full:
            lines.append(f"S{index};C{product % 8}/D{product % 40};P{product};{price};{index % 17}")
            continue
        lines.append(
            ";".join(
                [
                    f"SKU-{index:07d}",
                    f"Раздел {product % 8} / Подраздел {product % 40}",
                    f"Товар номер {product}",
                    f"Product {product}",
                    f"Описание товара {product}: хлопок, удобный крой, сделано в России.",
                    "",
                    SIZES[index % VARIANTS],
                    "чёрный",
                    f"{price},50",
                    str(index % 17),
                    "0",
                    "0",
                ]
            )
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


async def _check(sessions, data: bytes) -> tuple[float, int, csv_catalog.Plan]:
    started = time.perf_counter()
    rows, bad = csv_catalog.read_upload(data)
    assert not bad, bad[:3]
    async with sessions() as session, session.begin():
        planned = await csv_catalog.plan(session, rows)
        assert not planned.bad, planned.bad[:3]
        upload = CatalogUpload(actor="bench:1", rows=[row.values() for row in rows])
        session.add(upload)
        await session.flush()
        upload_id = upload.id
    return time.perf_counter() - started, upload_id, planned


async def _apply(sessions, upload_id: int) -> float:
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        stored = await session.scalar(
            select(CatalogUpload.rows).where(CatalogUpload.id == upload_id)
        )
        planned = await csv_catalog.plan(session, csv_catalog.rows_from_values(stored))
        await csv_catalog.apply(session, planned)
        await session.execute(CatalogUpload.__table__.delete())
    return time.perf_counter() - started


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_case(rows: int, kind: str) -> None:
    async with fresh_database(kind) as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        first = generate(rows)
        check, upload_id, planned = await _check(sessions, first)
        apply = await _apply(sessions, upload_id)
        peak_import = _peak()
        assert len(planned.new) == rows
        changed = generate(rows, bump_every=10)
        check2, upload_id, planned = await _check(sessions, changed)
        apply2 = await _apply(sessions, upload_id)
        assert len(planned.changed) == rows // 10
        started = time.perf_counter()
        async with sessions() as session:
            exported = await csv_catalog.export(session)
            again = await csv_catalog.plan(session, csv_catalog.read_upload(exported)[0])
        round_trip = time.perf_counter() - started
        assert not again.new and not again.changed and again.unchanged == rows
        await engine.dispose()
    peak = _peak()
    print(
        f"{kind:10} {rows:>7} rows ({len(first) / 1e6:.1f} MB): new: check {check:6.2f} s, "
        f"apply {apply:6.2f} s | 10% changed: check {check2:6.2f} s, apply {apply2:6.2f} s | "
        f"export+re-read {round_trip:6.2f} s | peak RSS {peak_import:.0f} MB after the first "
        f"import, {peak:.0f} MB in all",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        rows, kind = args.case.split(":")
        asyncio.run(run_case(int(rows), kind))
        return
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    for rows in args.rows:
        for kind in kinds:
            subprocess.run(
                [sys.executable, "-m", "bench.import", "--case", f"{rows}:{kind}"], check=True
            )


if __name__ == "__main__":
    main()
