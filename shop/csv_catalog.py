"""The catalog as a CSV file: reading an owner's upload (checked whole), and writing an export.

One row per SKU. Product fields (category, titles, descriptions) repeat on each of its rows;
a SKU already in the shop keeps its product, a new SKU joins the product with the same
category and title (in the file or the shop) or starts a new one. Missing categories are
created. SKUs absent from the file are left alone. An export read back changes nothing.

Reading is pure (`read_upload`); planning against the shop (`plan`) reads the catalog in a
fixed number of queries; `apply` writes in bulk statements, in the caller's transaction.
"""

from __future__ import annotations

import csv
import io
import operator
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import table_of
from shop.errors import ShopError
from shop.models import Category, Product, Variant

MAX_BYTES = 5 * 1024 * 1024
EXPORT_NAME = "catalog.csv"
T = TypeVar("T")
COLUMNS = (
    "sku",
    "category",
    "title",
    "title_en",
    "description",
    "description_en",
    "size",
    "colour",
    "price",
    "stock",
    "hidden",
    "product_hidden",
)
REQUIRED = frozenset({"sku", "category", "title", "price", "stock"})
PRODUCT_FIELDS = (
    "category",
    "title",
    "title_en",
    "description",
    "description_en",
    "product_hidden",
)
VARIANT_FIELDS = ("size", "colour", "price", "stock", "hidden")
PATH_SEPARATOR = " / "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_PRICE = 100_000_000_00
MAX_STOCK = 1_000_000
_SKU = re.compile(r"[A-Za-z0-9А-Яа-яЁё._\-/#]{1,64}")
_PRICE = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?")
_TRUE = {"1", "да", "yes", "true", "y", "д", "+"}
_FALSE = {"", "0", "нет", "no", "false", "n", "н", "-"}
_LIMITS = {"title": 200, "title_en": 200, "description": 4000, "description_en": 4000}
_LIMITS |= {"size": 32, "colour": 32}
_SINGLE_LINE = [name for name in COLUMNS if not name.startswith("description")]


@dataclass(slots=True)
class Row:
    """One checked line of an upload: every value clean and in the shop's units."""

    line: int
    sku: str
    category: str
    title: str
    title_en: str
    description: str
    description_en: str
    size: str
    colour: str
    price: int
    stock: int
    hidden: bool
    product_hidden: bool

    def values(self) -> list[Any]:
        """The row as stored between the preview and the confirmation."""
        return list(_ROW_VALUES(self))  # dataclasses.astuple deep-copies: slow


_ROW_VALUES = operator.attrgetter(*Row.__slots__)


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be imported: its number in the file, a reason code and details."""

    line: int
    reason: str
    detail: str = ""


@dataclass
class Change:
    sku: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class Plan:
    """What an upload would do: rows sorted into new, changed and unchanged, or bad lines."""

    rows: list[Row] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    new: list[Row] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    new_categories: list[str] = field(default_factory=list)
    existing: dict[str, tuple[int, int]] = field(default_factory=dict)
    """SKU -> (variant id, product id) for the SKUs the shop has."""
    product_of: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Row index -> the key of the product it belongs to."""


def is_sku(text: str) -> bool:
    return bool(_SKU.fullmatch(text))


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1251, as spreadsheets save CSV in Russia."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") >= header.count(",") else ","


def parse_price(value: str) -> int | None:
    cleaned = value.replace(" ", "").replace("\u00a0", "").removesuffix("₽")
    match = _PRICE.fullmatch(cleaned)
    if match is None:
        return None
    roubles, kopecks = match.groups()
    price = int(roubles) * 100 + int((kopecks or "0").ljust(2, "0"))
    return price if 0 < price <= MAX_PRICE else None


def format_price(kopecks: int) -> str:
    roubles, rest = divmod(kopecks, 100)
    return f"{roubles},{rest:02d}" if rest else str(roubles)


def _unquote(value: str) -> str:
    """Undo the export's guard against spreadsheet formulas ('=... -> =...)."""
    if value.startswith("'") and value[1:2] in FORMULA_START and value[1:2]:
        return value[1:]
    return value


@lru_cache(maxsize=1)
def _unprintable() -> re.Pattern[str]:
    """Control, format, private-use and surrogate characters (built once, on first use).

    Format characters live in planes 0, 1 and 14 only; the rest are whole known blocks.
    """
    ranges = ["\x00-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff"]
    for code in (*range(0xA0, 0x20000), *range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(code)) == "Cf":
            ranges.append(chr(code))
    return re.compile("[" + "".join(ranges) + "]")


def _printable(value: str, multiline: bool) -> bool:
    found = _unprintable().search(value.replace("\n", "") if multiline else value)
    return found is None


@lru_cache(maxsize=4096)
def _category_path(value: str) -> str | None:
    parts = [" ".join(part.split()) for part in value.split("/")]
    if not parts or any(not part or len(part) > 100 for part in parts) or len(parts) > 5:
        return None
    return sys.intern(PATH_SEPARATOR.join(parts))  # one string per category, not per row


def _flag(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    return False if lowered in _FALSE else None


def _check(line: int, cells: dict[str, str]) -> Row | BadLine:
    """One line's values, each checked; the first problem found names the line."""
    if not _printable(" ".join(cells.values()), multiline=True):
        for name, value in cells.items():
            if not _printable(value, multiline=name.startswith("description")):
                return BadLine(line, "control_chars", name)
    else:
        for name in _SINGLE_LINE:
            if "\n" in cells.get(name, ""):
                return BadLine(line, "control_chars", name)
    sku = cells["sku"].strip()
    if not _SKU.fullmatch(sku):
        return BadLine(line, "bad_sku", sku[:64])
    category = _category_path(cells["category"])
    if category is None:
        return BadLine(line, "bad_category", cells["category"][:100])
    texts = {name: cells.get(name, "").strip() for name in _LIMITS}
    if not texts["title"]:
        return BadLine(line, "no_title")
    for name, limit in _LIMITS.items():
        if len(texts[name]) > limit:
            return BadLine(line, "too_long", name)
    price = parse_price(cells["price"].strip())
    if price is None:
        return BadLine(line, "bad_price", cells["price"][:30])
    stock_text = cells["stock"].strip()
    if not stock_text.isdigit() or int(stock_text) > MAX_STOCK:
        return BadLine(line, "bad_stock", stock_text[:30])
    hidden, product_hidden = _flag(cells.get("hidden", "")), _flag(cells.get("product_hidden", ""))
    if hidden is None or product_hidden is None:
        return BadLine(line, "bad_flag", cells.get("hidden", "") + cells.get("product_hidden", ""))
    return Row(
        line,
        sku,
        category,
        texts["title"],
        texts["title_en"],
        texts["description"],
        texts["description_en"],
        texts["size"],
        texts["colour"],
        price,
        int(stock_text),
        hidden,
        product_hidden,
    )


Progress = Callable[[int], None]


def read_upload(data: bytes, progress: Progress | None = None) -> tuple[list[Row], list[BadLine]]:
    """Every row of the file checked on its own (a file over MAX_BYTES is refused whole).

    ``progress`` is told the number of lines read every 5,000 lines.
    """
    if len(data) > MAX_BYTES:
        raise ShopError("csv_too_big", limit=MAX_BYTES // (1024 * 1024))
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return [], [BadLine(1, "encoding")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [name.strip().lower().lstrip("\ufeff") for name in next(reader)]
    except (StopIteration, csv.Error):
        return [], [BadLine(1, "empty")]
    unknown = [name for name in header if name not in COLUMNS]
    missing = sorted(REQUIRED - set(header))
    if unknown or missing or len(set(header)) != len(header):
        detail = ", ".join(unknown) if unknown else ", ".join(missing)
        return [], [BadLine(1, "unknown_columns" if unknown else "missing_columns", detail)]
    rows: list[Row] = []
    bad: list[BadLine] = []
    seen: dict[str, int] = {}
    last = reader.line_num
    try:
        for record in reader:
            line, last = last + 1, reader.line_num
            if progress is not None and line % 5000 == 0:
                progress(line)
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                bad.append(BadLine(line, "cell_count", f"{len(record)}/{len(header)}"))
                continue
            cells = dict(zip(header, record, strict=True))
            if "'" in record_text(record):
                cells = {k: _unquote(v) for k, v in cells.items()}
            checked = _check(line, cells)
            if isinstance(checked, BadLine):
                bad.append(checked)
            elif checked.sku in seen:
                bad.append(BadLine(line, "duplicate_sku", f"{checked.sku}:{seen[checked.sku]}"))
            else:
                seen[checked.sku] = line
                rows.append(checked)
    except csv.Error as error:
        bad.append(BadLine(last + 1, "broken_quotes", str(error)[:100]))
    if not rows and not bad:
        bad.append(BadLine(1, "empty"))
    return rows, bad


def record_text(record: list[str]) -> str:
    """The first characters of every cell, where the export's apostrophe guard would be."""
    return "".join(cell[:1] for cell in record)


def rows_from_values(stored: Iterable[list[Any]]) -> list[Row]:
    return [Row(*values) for values in stored]


# ---- the shop as it is now ----------------------------------------------------------------


async def _category_paths(session: AsyncSession) -> dict[int, str]:
    rows = (await session.execute(select(Category.id, Category.parent_id, Category.title))).all()
    parent = {cid: pid for cid, pid, _ in rows}
    title = {cid: t for cid, _, t in rows}

    def path(cid: int) -> str:
        parts: list[str] = []
        current: int | None = cid
        while current is not None and len(parts) < 10:
            parts.append(title[current])
            current = parent[current]
        return PATH_SEPARATOR.join(reversed(parts))

    return {cid: path(cid) for cid in title}


_CATALOG = (
    select(
        Variant.id,
        Variant.product_id,
        Variant.sku,
        Product.category_id,
        Product.title,
        Product.title_en,
        Product.description,
        Product.description_en,
        Variant.size,
        Variant.colour,
        Variant.price,
        Variant.stock,
        Variant.hidden,
        Product.hidden,
    )
    .join(Product, Product.id == Variant.product_id)
    .join(Category, Category.id == Product.category_id)
)


_CATALOG_ORDER = (
    Category.position,
    Category.id,
    Product.position,
    Product.id,
    Variant.position,
    Variant.id,
)


async def current_rows(session: AsyncSession) -> tuple[list[Row], dict[str, tuple[int, int]]]:
    """Every SKU in the shop as a Row (line 0), and SKU -> (variant id, product id).

    A product's texts are kept once for all its SKUs (they are the bulk of the memory).
    """
    paths = await _category_paths(session)
    found = await session.execute(_CATALOG.order_by(*_CATALOG_ORDER))
    rows, ids = [], {}
    texts: dict[int, tuple[str, str, str, str]] = {}
    for vid, pid, sku, cid, title, title_en, desc, desc_en, *variant in found:
        size, colour, price, stock, variant_hidden, product_hidden = variant
        shared = texts.setdefault(pid, (title, title_en, desc, desc_en))
        rows.append(
            Row(
                0,
                sku,
                paths[cid],
                *shared,
                size or "",
                colour or "",
                price,
                stock,
                bool(variant_hidden),
                bool(product_hidden),
            )
        )
        ids[sku] = (vid, pid)
    return rows, ids


# ---- planning -------------------------------------------------------------------------------


def _product_values(row: Row) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in PRODUCT_FIELDS)


async def plan(session: AsyncSession, rows: list[Row]) -> Plan:
    """Sort checked rows against the shop; rows of one product that disagree are bad lines."""
    current, ids = await current_rows(session)
    by_sku = {row.sku: row for row in current}
    product_by_name = {(row.category, row.title): ids[row.sku][1] for row in current}
    result = Plan(rows=rows, existing=ids)
    first_of: dict[tuple[str, ...], Row] = {}
    for index, row in enumerate(rows):
        if row.sku in ids:
            key: tuple[str, ...] = ("p", str(ids[row.sku][1]))
        elif (row.category, row.title) in product_by_name:
            key = ("p", str(product_by_name[row.category, row.title]))
        else:
            key = ("n", row.category, row.title)
        result.product_of[index] = key
        first = first_of.setdefault(key, row)
        if first is not row and _product_values(first) != _product_values(row):
            result.bad.append(BadLine(row.line, "product_differs", str(first.line)))
            continue
        old = by_sku.get(row.sku)
        if old is None:
            result.new.append(row)
            continue
        diff = {
            name: (getattr(old, name), getattr(row, name))
            for name in PRODUCT_FIELDS + VARIANT_FIELDS
            if getattr(old, name) != getattr(row, name)
        }
        if diff:
            result.changed.append(Change(row.sku, diff))
        else:
            result.unchanged += 1
    known = set((await _category_paths(session)).values())
    wanted = {
        PATH_SEPARATOR.join(parts[:depth])
        for parts in (path.split(PATH_SEPARATOR) for path in {row.category for row in rows})
        for depth in range(1, len(parts) + 1)
    }
    result.new_categories = sorted(wanted - known)
    return result


# ---- applying -------------------------------------------------------------------------------


async def _ensure_categories(session: AsyncSession, paths: Iterable[str]) -> dict[str, int]:
    """Path -> category id, creating the missing ones level by level."""
    ids = {path: cid for cid, path in (await _category_paths(session)).items()}
    for path in sorted(set(paths), key=lambda p: p.count(PATH_SEPARATOR)):
        parts = path.split(PATH_SEPARATOR)
        for depth in range(1, len(parts) + 1):
            sub = PATH_SEPARATOR.join(parts[:depth])
            if sub in ids:
                continue
            parent = ids.get(PATH_SEPARATOR.join(parts[: depth - 1])) if depth > 1 else None
            ids[sub] = (
                await session.execute(
                    insert(Category)
                    .values(title=parts[depth - 1], parent_id=parent, position=len(ids))
                    .returning(Category.id)
                )
            ).scalar_one()
    return ids


def _product_columns(row: Row, categories: dict[str, int]) -> dict[str, Any]:
    return {
        "category_id": categories[row.category],
        "title": row.title,
        "title_en": row.title_en,
        "description": row.description,
        "description_en": row.description_en,
        "hidden": row.product_hidden,
    }


def _variant_columns(row: Row) -> dict[str, Any]:
    return {
        "size": row.size or None,
        "colour": row.colour or None,
        "price": row.price,
        "stock": row.stock,
        "hidden": row.hidden,
    }


async def apply(session: AsyncSession, planned: Plan, progress: Progress | None = None) -> None:
    """Write a plan without bad lines: new categories, products and SKUs, changed fields.

    A few bulk statements (executemany), all in the caller's transaction.
    """
    assert not planned.bad, "a plan with bad lines is never applied"
    categories = await _ensure_categories(session, (row.category for row in planned.rows))
    product_ids: dict[tuple[str, ...], int] = {}
    new_products: dict[tuple[str, ...], Row] = {}
    changed_products: dict[int, Row] = {}
    changed_skus = {change.sku for change in planned.changed}
    for index, row in enumerate(planned.rows):
        key = planned.product_of[index]
        if key[0] == "p":
            product_ids[key] = int(key[1])
            if row.sku in changed_skus or row.sku not in planned.existing:
                changed_products.setdefault(int(key[1]), row)
        else:
            new_products.setdefault(key, row)
    keys = list(new_products)
    for creating in _chunks(list(enumerate(keys))):
        created = await session.execute(
            insert(Product).returning(Product.id, sort_by_parameter_order=True),
            [
                {**_product_columns(new_products[key], categories), "position": position}
                for position, key in creating
            ],
        )
        product_ids.update(zip((key for _, key in creating), created.scalars(), strict=True))
        _tell(progress, len(creating))
    product_table, variant_table = table_of(Product), table_of(Variant)
    for products in _chunks(list(changed_products.items())):
        await session.execute(
            update(product_table).where(product_table.c.id == bindparam("pid")),
            [{"pid": pid, **_product_columns(row, categories)} for pid, row in products],
        )
        _tell(progress, len(products))
    for variants in _chunks([row for row in planned.rows if row.sku in changed_skus]):
        await session.execute(
            update(variant_table).where(variant_table.c.id == bindparam("vid")),
            [{"vid": planned.existing[row.sku][0], **_variant_columns(row)} for row in variants],
        )
        _tell(progress, len(variants))
    index_of = {id(row): index for index, row in enumerate(planned.rows)}
    for adding in _chunks(planned.new):
        await session.execute(
            insert(variant_table),
            [
                {
                    "product_id": product_ids[planned.product_of[index_of[id(row)]]],
                    "sku": row.sku,
                    "position": row.line,
                    **_variant_columns(row),
                }
                for row in adding
            ],
        )
        _tell(progress, len(adding))


CHUNK = 2000
"""Rows a bulk statement carries: the parameters of the whole file never exist at once."""


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _tell(progress: Progress | None, done: int) -> None:
    if progress is not None:
        progress(done)


# ---- export ---------------------------------------------------------------------------------


def _guard(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _cells(row: Row) -> list[str]:
    return [
        _guard(row.sku),
        _guard(row.category),
        _guard(row.title),
        _guard(row.title_en),
        _guard(row.description),
        _guard(row.description_en),
        _guard(row.size),
        _guard(row.colour),
        format_price(row.price),
        str(row.stock),
        "1" if row.hidden else "0",
        "1" if row.product_hidden else "0",
    ]


async def export(session: AsyncSession) -> bytes:
    """The whole catalog in the import's format: UTF-8 with a BOM, ``;`` between cells.

    Written row by row as the database streams them, never a second copy of the catalog.
    """
    paths = await _category_paths(session)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    found = await session.stream(_CATALOG.order_by(*_CATALOG_ORDER))
    async for _, _, sku, cid, title, title_en, desc, desc_en, size, colour, *rest in found:
        price, stock, variant_hidden, product_hidden = rest
        row = Row(
            0, sku, paths[cid], title, title_en, desc, desc_en, size or "", colour or "",
            price, stock, bool(variant_hidden), bool(product_hidden),
        )  # fmt: skip
        writer.writerow(_cells(row))
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
