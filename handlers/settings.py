"""Settings: language, promotional messages, the linked messengers and where notices go.

Order updates always go out; news and offers only with consent, stored with when and
through which channel it was given or taken back.
"""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import local_time
from handlers.linking import channel_name, channel_names, linked_buttons
from handlers.screens import Button, Reply
from shop import linking
from shop.customers import marketing_consent, set_marketing_consent

router = Router()


@router.action(r"set")
@router.command("settings")
async def show_settings(ctx: Ctx) -> Reply:
    if (ctx.state.step or "").startswith("lk:"):
        ctx.state.step = None
    accounts = await linking.linked_accounts(ctx.session, ctx.customer.id)
    chosen = await linking.notify_channel(ctx.session, ctx.customer.id)
    given, at, channel = await marketing_consent(ctx.session, ctx.customer.id)
    linked = len(accounts) > 1
    notify = (
        ctx.t("settings.notify_chosen", channel=channel_name(ctx.lang, chosen))
        if chosen and linked
        else ctx.t("settings.notify_last")
    )
    if given and at is not None:
        consent = ctx.t("settings.on", date=local_time(at), channel=channel or "—")
    else:
        consent = ctx.t("settings.off")
    text = ctx.t(
        "settings.title",
        accounts=ctx.t("settings.accounts", channels=channel_names(ctx.lang, accounts)),
        notify=notify,
        consent=ctx.t("settings.consent", consent=consent),
    )
    toggle = ("btn.marketing_off", "set:mk:0") if given else ("btn.marketing_on", "set:mk:1")
    keyboard: list[list[Button]] = [[ctx.button(*toggle)], [ctx.button("btn.language", "l")]]
    if linked:
        keyboard += linked_buttons(ctx, accounts, chosen)
    else:
        keyboard += [[ctx.button("btn.link", "lk")], [ctx.button("btn.link_enter", "lk:enter")]]
    keyboard.append([ctx.button("btn.menu", "m")])
    return ctx.screen(text, *keyboard)


@router.action(r"set:mk:(0|1)")
async def change_consent(ctx: Ctx, given: str) -> Reply:
    channel = ctx.event.account.channel.value
    await set_marketing_consent(ctx.session, ctx.customer.id, given == "1", channel)
    return await show_settings(ctx)
