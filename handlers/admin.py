"""The owner's catalog administration from a private chat: the /admin menu and quick commands.

Who may do what is checked here on the server for every command and button, whatever the
person was shown: staff may look SKUs up (/find) and count stock (/stock); everything else
is the owner's. Each change is written to the audit log in the same transaction.
"""

from __future__ import annotations

from handlers import (
    admin_categories,
    admin_csv,
    admin_delivery,
    admin_products,
    admin_shop,
)
from handlers.context import Ctx, Router
from handlers.events import EventKind
from handlers.format import money, shorten
from handlers.screens import Button, Reply
from shop import catalog_admin
from shop.models import Role

router = Router()
router.include(admin_csv.router)
router.include(admin_shop.router)
router.include(admin_categories.router)
router.include(admin_delivery.router)
router.include(admin_products.router)

MAX_ARGUMENT = 200


def _args(ctx: Ctx) -> list[str]:
    return ctx.event.text.strip()[:MAX_ARGUMENT].split()


def _usage(ctx: Ctx, key: str) -> Reply:
    return ctx.screen(ctx.t(key), [ctx.button("btn.admin", "adm")])


@router.action(r"adm")
@router.command("admin")
async def show_admin(ctx: Ctx) -> Reply:
    """What this person may do, in their language (shoppers are refused)."""
    role = await ctx.require(Role.STAFF, "admin")
    ctx.state.step = None
    if role is Role.OWNER:
        return ctx.screen(
            ctx.t("admin.menu_owner"),
            [ctx.button("btn.admin_new", "adm:new")],
            [ctx.button("btn.admin_export", "adm:export")],
            [ctx.button("btn.admin_import", "adm:import")],
            [ctx.button("btn.menu", "m")],
        )
    return ctx.screen(ctx.t("admin.menu_staff"), [ctx.button("btn.menu", "m")])


@router.command("price")
async def price_command(ctx: Ctx) -> Reply:
    await ctx.require(Role.OWNER, "price")
    args = _args(ctx)
    price = catalog_admin.parse_price("".join(args[1:])) if len(args) >= 2 else None
    if price is None:
        return _usage(ctx, "admin.price_usage")
    before = await catalog_admin.set_price(ctx.session, ctx.event.account, args[0], price)
    return ctx.screen(
        ctx.t("admin.price_set", sku=args[0], before=money(before), after=money(price)),
        [ctx.button("btn.admin", "adm")],
    )


@router.command("stock")
async def stock_command(ctx: Ctx) -> Reply:
    await ctx.require(Role.STAFF, "stock")
    args = _args(ctx)
    change = catalog_admin.parse_stock("".join(args[1:])) if len(args) >= 2 else None
    if change is None:
        return _usage(ctx, "admin.stock_usage")
    before, after = await catalog_admin.change_stock(
        ctx.session, ctx.event.account, args[0], change
    )
    key = "admin.stock_moved" if change.relative else "admin.stock_set"
    return ctx.screen(
        ctx.t(key, sku=args[0], before=before, after=after), [ctx.button("btn.admin", "adm")]
    )


async def _visibility(ctx: Ctx, hidden: bool) -> Reply:
    await ctx.require(Role.OWNER, "hide" if hidden else "show")
    args = _args(ctx)
    if len(args) != 1:
        return _usage(ctx, "admin.hide_usage" if hidden else "admin.show_usage")
    changed = await catalog_admin.set_hidden(ctx.session, ctx.event.account, args[0], hidden)
    key = ("admin.hidden" if hidden else "admin.shown") if changed else "admin.unchanged"
    return ctx.screen(ctx.t(key, sku=args[0]), [ctx.button("btn.admin", "adm")])


@router.command("hide")
async def hide_command(ctx: Ctx) -> Reply:
    return await _visibility(ctx, hidden=True)


@router.command("show")
async def show_command(ctx: Ctx) -> Reply:
    return await _visibility(ctx, hidden=False)


@router.command("find")
async def find_command(ctx: Ctx) -> Reply:
    await ctx.require(Role.STAFF, "find")
    query = ctx.event.text.strip()[:MAX_ARGUMENT]
    if not any(ch.isalnum() for ch in query):
        return _usage(ctx, "admin.find_usage")
    found = await catalog_admin.find(ctx.session, query)
    if not found:
        return ctx.screen(
            ctx.t("admin.find_none", query=shorten(query, 50)), [ctx.button("btn.admin", "adm")]
        )
    lines = [
        ctx.t(
            "admin.find_line",
            sku=item.sku,
            title=shorten(item.title, 60) + (f" ({item.label})" if item.label else ""),
            price=money(item.price),
            stock=item.stock,
        )
        + (ctx.t("admin.find_hidden") if item.hidden else "")
        for item in found[: catalog_admin.FIND_LIMIT]
    ]
    if len(found) > catalog_admin.FIND_LIMIT:
        lines.append(ctx.t("admin.find_more"))
    text = ctx.t("admin.find_title", query=shorten(query, 50)) + "\n" + "\n".join(lines)
    return ctx.screen(text, [Button(ctx.t("btn.admin"), action="adm")])


@router.free_input
async def attach_photo(ctx: Ctx) -> Reply | None:
    """A photo the owner captions with a SKU joins that product; anyone else's photo is left
    to the rest of the conversation."""
    event = ctx.event
    photos = [item for item in event.media if item.kind == "photo"]
    caption = event.text.strip()
    if event.kind is not EventKind.MEDIA or not photos or len(caption.split()) != 1:
        return None
    if event.place is not None or await ctx.role() is not Role.OWNER:
        return None
    data = await ctx.fetch(photos[-1])
    count = await catalog_admin.add_photo(ctx.session, event.account, caption, data)
    return ctx.screen(
        ctx.t("admin.photo_added", sku=caption, count=count), [ctx.button("btn.admin", "adm")]
    )


@router.command("delete")
async def delete_command(ctx: Ctx) -> Reply:
    """Delete a SKU's product, or hide it while an open order holds it."""
    await ctx.require(Role.OWNER, "delete")
    args = _args(ctx)
    if len(args) != 1:
        return _usage(ctx, "admin.delete_usage")
    deleted = await catalog_admin.delete_product(ctx.session, ctx.event.account, args[0])
    key = "admin.deleted" if deleted else "admin.deleted_hidden"
    return ctx.screen(ctx.t(key, sku=args[0]), [ctx.button("btn.admin", "adm")])


@router.command("edit")
async def edit_command(ctx: Ctx) -> Reply:
    """``/edit SKU FIELD VALUE``: any text of the SKU's product, its size or colour, its
    category (by number)."""
    await ctx.require(Role.OWNER, "edit")
    sku, _, rest = ctx.event.text.strip()[:4200].partition(" ")
    name, _, value = rest.strip().partition(" ")
    if not sku or name.lower() not in catalog_admin.EDITABLE or not value.strip():
        return _usage(ctx, "admin.edit_usage")
    await catalog_admin.edit_field(ctx.session, ctx.event.account, sku, name.lower(), value)
    return ctx.screen(
        ctx.t("admin.edited", sku=sku, field=name.lower()), [ctx.button("btn.admin", "adm")]
    )
