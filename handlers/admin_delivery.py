"""The owner's delivery methods: /delivery lists them and changes one."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import money
from handlers.screens import Reply
from shop import delivery_admin
from shop.catalog_admin import parse_price
from shop.delivery_admin import MethodFields
from shop.models import Role

router = Router()

ADDRESS_WORDS = {"address", "адрес"}
CASH_WORDS = {"cash", "наличные"}
FREE_WORDS = {"0", "free", "бесплатно"}


def _parse(words: list[str]) -> MethodFields | None:
    """``PRICE [address] [cash] Title | English`` (a price of 0 is free)."""
    if len(words) < 2:
        return None
    price = 0 if words[0].lower() in FREE_WORDS else parse_price(words[0])
    if price is None:
        return None
    flags = set()
    rest = words[1:]
    while rest and rest[0].lower() in ADDRESS_WORDS | CASH_WORDS:
        flags.add(rest.pop(0).lower())
    title, _, english = " ".join(rest).partition("|")
    if not title.strip():
        return None
    return MethodFields(
        title=" ".join(title.split()),
        title_en=" ".join(english.split()),
        price=price,
        needs_address=bool(flags & ADDRESS_WORDS),
        cash_on_delivery=bool(flags & CASH_WORDS),
    )


@router.command("delivery")
async def delivery_command(ctx: Ctx) -> Reply:
    """``/delivery`` lists; ``set CODE PRICE [address] [cash] Title | English``;
    ``on CODE``, ``off CODE``."""
    await ctx.require(Role.OWNER, "delivery")
    words = ctx.event.text.strip()[:400].split()
    back = [ctx.button("btn.admin", "adm")]
    if not words:
        methods = await delivery_admin.list_methods(ctx.session)
        lines = [
            ctx.t(
                "admin.delivery_line",
                code=m.code,
                title=m.title + (f" / {m.title_en}" if m.title_en else ""),
                price=money(m.price),
            )
            + (ctx.t("admin.delivery_address") if m.needs_address else "")
            + (ctx.t("admin.delivery_cash") if m.cash_on_delivery else "")
            + ("" if m.active else ctx.t("admin.delivery_off"))
            for m in methods
        ]
        text = "\n".join([ctx.t("admin.delivery_title"), *lines, "", ctx.t("admin.delivery_usage")])
        return ctx.screen(text, back)
    verb = words[0].lower()
    if verb in ("on", "off") and len(words) == 2:
        code = delivery_admin.clean_code(words[1])
        await delivery_admin.set_active(ctx.session, ctx.event.account, code, verb == "on")
        return ctx.screen(ctx.t("admin.delivery_saved", code=code), back)
    fields = _parse(words[2:]) if verb == "set" and len(words) > 3 else None
    if fields is None:
        return ctx.screen(ctx.t("admin.delivery_usage"), back)
    code = delivery_admin.clean_code(words[1])
    await delivery_admin.save_method(ctx.session, ctx.event.account, code, fields)
    return ctx.screen(ctx.t("admin.delivery_saved", code=code), back)
