"""The owner's category commands: /cats shows the tree with numbers, /cat changes it."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import shorten
from handlers.screens import Reply
from shop import category_admin
from shop.models import Role

router = Router()

MAX_ARGUMENT = 300


def _split_titles(text: str) -> tuple[str, str]:
    """``Русское | English`` -> both; no bar: the Russian one only."""
    russian, _, english = text.partition("|")
    return russian.strip(), english.strip()


@router.command("cats")
async def show_categories(ctx: Ctx) -> Reply:
    await ctx.require(Role.OWNER, "categories")
    lines = [
        "  " * line.depth
        + f"{line.id}. {shorten(line.title, 40)}"
        + (f" / {shorten(line.title_en, 30)}" if line.title_en else "")
        + ctx.t("admin.cat_facts", products=line.products, position=line.position)
        + (ctx.t("admin.find_hidden") if line.hidden else "")
        for line in await category_admin.tree(ctx.session)
    ]
    text = "\n".join([ctx.t("admin.cats_title"), *lines, "", ctx.t("admin.cat_usage")])
    return ctx.screen(text[: ctx.caps.text_length], [ctx.button("btn.admin", "adm")])


@router.command("cat")
async def change_category(ctx: Ctx) -> Reply:
    """``/cat add [PARENT_ID] Title | English``, ``rename ID Title | English``,
    ``move ID PARENT_ID|top``, ``hide ID``, ``show ID``, ``order ID N``."""
    await ctx.require(Role.OWNER, "categories")
    verb, _, rest = ctx.event.text.strip()[:MAX_ARGUMENT].partition(" ")
    first, _, tail = rest.strip().partition(" ")
    number = int(first) if first.isdigit() and len(first) < 10 else None
    actor, session = ctx.event.account, ctx.session
    if verb == "add" and rest.strip():
        title, english = _split_titles(tail if number is not None else rest)
        category = await category_admin.add_category(session, actor, title, number, english)
        return _done(ctx, category.id)
    if number is None:
        return _usage(ctx)
    changes: dict[str, object] | None = None
    if verb == "rename" and tail.strip():
        title, english = _split_titles(tail)
        changes = {"title": title, "title_en": english}
    elif verb == "move" and (tail.strip() == "top" or tail.strip().isdigit()):
        changes = {"parent_id": None if tail.strip() == "top" else int(tail.strip()[:9])}
    elif verb in ("hide", "show") and not tail.strip():
        changes = {"hidden": verb == "hide"}
    elif verb == "order" and tail.strip().isdigit() and len(tail.strip()) < 5:
        changes = {"position": int(tail.strip())}
    if changes is None:
        return _usage(ctx)
    await category_admin.change_category(session, actor, number, **changes)
    return _done(ctx, number)


def _usage(ctx: Ctx) -> Reply:
    return ctx.screen(ctx.t("admin.cat_usage"), [ctx.button("btn.admin", "adm")])


def _done(ctx: Ctx, category_id: int) -> Reply:
    return ctx.screen(ctx.t("admin.cat_done", id=category_id), [ctx.button("btn.admin", "adm")])
