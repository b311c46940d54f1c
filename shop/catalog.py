"""Reading the catalog as a shopper sees it: visible categories, pages of products, search.

Every listing is a fixed number of queries whatever its length (no query per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from shop.errors import ShopError
from shop.models import Category, Product, ProductPhoto, Variant
from shop.search import matching_products
from shop.stock import product_shown, variant_shown

PAGE_SIZE = 6


@dataclass(frozen=True)
class ProductSummary:
    id: int
    title: str
    min_price: int
    in_stock: bool


@dataclass(frozen=True)
class ProductPage:
    items: list[ProductSummary]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class CategoryView:
    id: int
    title: str
    parent_id: int | None


_language: BindParameter[str] = bindparam("language", "ru")


def localized(russian: ColumnElement[str], english: ColumnElement[str]) -> ColumnElement[str]:
    """The English text where the shopper reads English and there is one, else the Russian
    (``language`` is a parameter of the statement, "ru" unless given)."""
    return case((and_(_language == "en", english != ""), english), else_=russian)


def _summaries() -> Select[int, str, int, int]:
    """Products with their lowest visible price and total visible stock, one row each."""
    return (
        select(
            Product.id,
            localized(Product.title, Product.title_en),  # type: ignore[arg-type]
            func.min(Variant.price),
            func.sum(Variant.stock),
        )
        .join(Category, Category.id == Product.category_id)
        .join(Variant, Variant.product_id == Product.id)
        .where(variant_shown())
        .group_by(Product.id, Product.title, Product.title_en)
    )


def _summary(row: Sequence[Any]) -> ProductSummary:
    """A ProductSummary from a row that starts with _summaries()' columns."""
    product_id, title, lowest_price, stock = row[:4]
    return ProductSummary(product_id, title, lowest_price or 0, (stock or 0) > 0)


def _page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


_CATEGORIES = (
    select(
        Category.id,
        localized(Category.title, Category.title_en),  # type: ignore[arg-type]
        Category.parent_id,
    )
    .where(Category.hidden.is_(False))
    .order_by(Category.position, Category.id)
)
_TOP_CATEGORIES = _CATEGORIES.where(Category.parent_id.is_(None))
_SUBCATEGORIES = _CATEGORIES.where(Category.parent_id == bindparam("parent_id"))


async def list_categories(
    session: AsyncSession, parent_id: int | None = None, language: str = "ru"
) -> list[CategoryView]:
    """Visible subcategories of ``parent_id`` (the top level when None)."""
    if parent_id is None:
        rows = await session.execute(_TOP_CATEGORIES, {"language": language})
    else:
        rows = await session.execute(_SUBCATEGORIES, {"parent_id": parent_id, "language": language})
    return [CategoryView(*row) for row in rows]


_wanted: BindParameter[int] = bindparam("category_id")
_CATEGORY_AND_CHILDREN = _CATEGORIES.where(
    or_(Category.id == _wanted, Category.parent_id == _wanted)
)


async def open_category(
    session: AsyncSession, category_id: int, language: str = "ru"
) -> tuple[CategoryView, list[CategoryView]]:
    """A visible category and its visible subcategories, in one query; else not_available."""
    found = await session.execute(
        _CATEGORY_AND_CHILDREN, {"category_id": category_id, "language": language}
    )
    rows = [CategoryView(*row) for row in found]
    category = next((row for row in rows if row.id == category_id), None)
    if category is None:
        raise ShopError("not_available")
    return category, [row for row in rows if row.id != category_id]


_PRODUCTS = (
    _summaries()
    .add_columns(func.count().over())
    .where(Product.category_id == bindparam("category_id"))
    .order_by((func.sum(Variant.stock) > 0).desc(), Product.position, Product.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


async def list_products(
    session: AsyncSession,
    category_id: int,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    language: str = "ru",
) -> ProductPage:
    """One page of a category's visible products: in-stock first, then by position.

    The page and the number of products come in one query (a window count); a page past
    the end, rare, costs a second one for the last page."""
    params = {"category_id": category_id, "limit": per_page, "language": language}
    page = max(page, 1)
    found = await session.execute(_PRODUCTS, {**params, "offset": (page - 1) * per_page})
    rows = found.all()
    if not rows and page > 1:
        first = (await session.execute(_PRODUCTS, {**params, "offset": 0})).first()
        page = min(page, _page_count(first[4] if first else 0, per_page))
        found = await session.execute(_PRODUCTS, {**params, "offset": (page - 1) * per_page})
        rows = found.all()
    total = rows[0][4] if rows else 0
    return ProductPage([_summary(row) for row in rows], page, _page_count(total, per_page), total)


async def search_products(
    session: AsyncSession,
    text: str,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    language: str = "ru",
) -> ProductPage:
    """Visible products matching the words of ``text`` (typos forgiven): the most relevant
    first, in stock before sold out among equally relevant ones, then in catalog order."""
    found = await matching_products(session, text)
    if not found:
        return ProductPage([], 1, 1, 0)
    relevance = dict(found)
    found_rows = await session.execute(
        _summaries().where(Product.id.in_(relevance)), {"language": language}
    )
    rows = sorted(found_rows, key=lambda row: (-relevance[row[0]], not (row[3] or 0) > 0, row[0]))
    pages = _page_count(len(rows), per_page)
    page = min(max(page, 1), pages)
    chunk = rows[(page - 1) * per_page : page * per_page]
    return ProductPage([_summary(row) for row in chunk], page, pages, len(rows))


_PRODUCT = (
    select(Product)
    .join(Category, Category.id == Product.category_id)
    .where(Product.id == bindparam("product_id"), product_shown())
    .options(joinedload(Product.variants), joinedload(Product.photos).defer(ProductPhoto.data))
)


async def get_product(session: AsyncSession, product_id: int) -> Product:
    """A visible product with its visible variants and photos loaded; else not_available."""
    found = await session.execute(_PRODUCT, {"product_id": product_id})
    product = found.unique().scalar_one_or_none()
    if product is None or not visible_variants(product):
        raise ShopError("not_available")
    return product


def visible_variants(product: Product) -> list[Variant]:
    return [variant for variant in product.variants if not variant.hidden]


async def photo_data(session: AsyncSession, photo_id: int) -> bytes:
    """The photo's bytes, read only when a front-end must upload it."""
    data = await session.scalar(select(ProductPhoto.data).where(ProductPhoto.id == photo_id))
    if data is None:
        raise ShopError("not_available")
    return data
