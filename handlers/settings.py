"""Settings: the language and whether the shopper wants promotional messages.

Order updates always go out; news and offers only with consent, stored with when and
through which channel it was given or taken back.
"""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import local_time
from handlers.screens import Reply
from shop.customers import marketing_consent, set_marketing_consent

router = Router()


@router.action(r"set")
@router.command("settings")
async def show_settings(ctx: Ctx) -> Reply:
    ctx.state.step = None
    given, at, channel = await marketing_consent(ctx.session, ctx.customer.id)
    if given and at is not None:
        consent = ctx.t("settings.on", date=local_time(at), channel=channel or "—")
    else:
        consent = ctx.t("settings.off")
    toggle = (
        ctx.button("btn.marketing_off", "set:mk:0")
        if given
        else ctx.button("btn.marketing_on", "set:mk:1")
    )
    return ctx.screen(
        ctx.t("settings.title", consent=consent),
        [toggle],
        [ctx.button("btn.language", "l")],
        [ctx.button("btn.menu", "m")],
    )


@router.action(r"set:mk:(0|1)")
async def change_consent(ctx: Ctx, given: str) -> Reply:
    channel = ctx.event.account.channel.value
    await set_marketing_consent(ctx.session, ctx.customer.id, given == "1", channel)
    return await show_settings(ctx)
