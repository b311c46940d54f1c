"""The owner's category tree edits: add, rename (Russian and English), move, hide, order.

Each is one change and one audit row in the caller's transaction; a move that would put a
category inside itself is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop import audit
from shop.accounts import AccountRef
from shop.errors import ShopError
from shop.models import Category, Product

MAX_TITLE = 100
MAX_DEPTH = 5


@dataclass(frozen=True)
class TreeLine:
    id: int
    depth: int
    title: str
    title_en: str
    hidden: bool
    position: int
    products: int


def clean_title(text: str) -> str:
    title = " ".join(text.split())
    if not 1 <= len(title) <= MAX_TITLE or "/" in title:
        raise ShopError("category_bad_title", limit=MAX_TITLE)
    return title


async def tree(session: AsyncSession) -> list[TreeLine]:
    """Every category, hidden ones too, depth-first in the shoppers' order (two queries)."""
    categories = list(await session.scalars(select(Category)))
    counts = dict(
        (
            await session.execute(
                select(Product.category_id, func.count()).group_by(Product.category_id)
            )
        ).all()
    )
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    lines: list[TreeLine] = []

    def walk(parent: int | None, depth: int) -> None:
        for category in sorted(children.get(parent, []), key=lambda c: (c.position, c.id)):
            lines.append(
                TreeLine(
                    category.id,
                    depth,
                    category.title,
                    category.title_en,
                    category.hidden,
                    category.position,
                    counts.get(category.id, 0),
                )
            )
            if depth < MAX_DEPTH * 2:
                walk(category.id, depth + 1)

    walk(None, 0)
    return lines


async def _category(session: AsyncSession, category_id: int) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise ShopError("category_unknown", id=category_id)
    return category


async def add_category(
    session: AsyncSession, actor: AccountRef, title: str, parent_id: int | None, title_en: str = ""
) -> Category:
    if parent_id is not None:
        await _category(session, parent_id)
    position = await session.scalar(
        select(func.coalesce(func.max(Category.position) + 1, 0)).where(
            Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
        )
    )
    category = Category(
        title=clean_title(title),
        title_en=clean_title(title_en) if title_en.strip() else "",
        parent_id=parent_id,
        position=position or 0,
    )
    session.add(category)
    await session.flush()
    await audit.record(
        session,
        actor,
        "category_add",
        f"category:{category.id}",
        None,
        {"title": category.title, "title_en": category.title_en, "parent": parent_id},
    )
    return category


async def change_category(
    session: AsyncSession, actor: AccountRef, category_id: int, **changes: object
) -> Category:
    """Change any of title, title_en, parent_id, hidden, position (checked here)."""
    category = await _category(session, category_id)
    if "title" in changes:
        changes["title"] = clean_title(str(changes["title"]))
    if "title_en" in changes:
        text = str(changes["title_en"])
        changes["title_en"] = clean_title(text) if text.strip() else ""
    if "parent_id" in changes and changes["parent_id"] is not None:
        await _refuse_cycle(session, category_id, int(str(changes["parent_id"])))
    before = {name: getattr(category, name) for name in changes}
    for name, value in changes.items():
        setattr(category, name, value)
    await session.flush()
    await audit.record(
        session, actor, "category_change", f"category:{category.id}", before, dict(changes)
    )
    return category


async def _refuse_cycle(session: AsyncSession, category_id: int, parent_id: int) -> None:
    """A category may not go inside itself or its own subcategories."""
    parents = dict((await session.execute(select(Category.id, Category.parent_id))).all())
    if parent_id not in parents:
        raise ShopError("category_unknown", id=parent_id)
    current: int | None = parent_id
    for _ in range(len(parents) + 1):
        if current is None:
            return
        if current == category_id:
            raise ShopError("category_cycle")
        current = parents.get(current)
