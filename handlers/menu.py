"""Main menu, help, language and forgetting personal data (Settings: handlers/linking.py)."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.screens import Button, Reply
from shop.cart import cart_count
from shop.customers import forget_personal_data, set_language

router = Router()


async def menu_buttons(ctx: Ctx) -> list[list[Button]]:
    count = await cart_count(ctx.session, ctx.customer.id)
    cart = (
        ctx.button("btn.cart_count", "cart", count=count)
        if count
        else ctx.button("btn.cart", "cart")
    )
    return [
        [ctx.button("btn.catalog", "c"), ctx.button("btn.search", "s")],
        [cart, ctx.button("btn.orders", "o")],
        [ctx.button("btn.help", "h"), ctx.button("btn.settings", "set")],
    ]


@router.action(r"m")
@router.command("menu")
async def show_menu(ctx: Ctx) -> Reply:
    ctx.state.step = None
    return ctx.screen(ctx.t("menu.title"), *await menu_buttons(ctx))


async def greet(ctx: Ctx) -> Reply:
    ctx.state.step = None
    name = ctx.event.display_name or ctx.customer.display_name or "👋"
    return ctx.screen(ctx.t("menu.greeting", name=name), *await menu_buttons(ctx))


@router.action(r"h")
@router.command("help")
async def show_help(ctx: Ctx) -> Reply:
    return ctx.screen(ctx.t("help"), [ctx.button("btn.menu", "m")])


@router.action(r"l")
@router.command("language")
async def choose_language(ctx: Ctx) -> Reply:
    return ctx.screen(
        ctx.t("language.choose"),
        [Button("Русский", action="l:ru"), Button("English", action="l:en")],
        [ctx.button("btn.menu", "m")],
    )


@router.action(r"l:(ru|en)")
async def set_language_to(ctx: Ctx, language: str) -> Reply:
    await set_language(ctx.session, ctx.customer, language)
    return ctx.screen(ctx.t("language.set"), *await menu_buttons(ctx))


@router.command("forget")
async def forget_me(ctx: Ctx) -> Reply:
    await forget_personal_data(ctx.session, ctx.customer)
    return ctx.screen(ctx.t("forget.done"), [ctx.button("btn.menu", "m")])
