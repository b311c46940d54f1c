"""Settings, and one person across messengers: link by a one-time code, choose where
notifications go, unlink.

The code is asked for with /link (or a Settings button) in one messenger and sent in the other,
as plain text or ``/link CODE``. The side that typed it sees the answer; the other side is told
through the outbox. After a link or an unlink the conversation goes on as the customer the
account now belongs to.
"""

from __future__ import annotations

import dataclasses

from handlers.context import Ctx, Router
from handlers.menu import menu_buttons
from handlers.screens import Button, Reply, Screen, rows, screen_to_payload
from handlers.texts import t
from shop import linking, outbox
from shop.accounts import AccountRef, Channel
from shop.cart import MAX_LINES
from shop.customers import find_customer

router = Router()

MINUTES = int(linking.CODE_LIFETIME.total_seconds() // 60)
_CHANNELS = "|".join(channel.value for channel in Channel)


def channel_name(lang: str, channel: Channel | str) -> str:
    return t(lang, f"channel.{Channel(channel).value}")


def channel_names(lang: str, accounts: list[AccountRef]) -> str:
    """The messengers' names, always in one order (Telegram before VK), whichever came first."""
    order = list(Channel)
    return ", ".join(
        channel_name(lang, a.channel)
        for a in sorted(accounts, key=lambda a: order.index(a.channel))
    )


@router.action(r"set")
@router.command("settings")
async def show_settings(ctx: Ctx) -> Reply:
    """Language, the linked messengers and where notifications go."""
    if (ctx.state.step or "").startswith("lk:"):
        ctx.state.step = None
    accounts = await linking.linked_accounts(ctx.session, ctx.customer.id)
    chosen = await linking.notify_channel(ctx.session, ctx.customer.id)
    linked = len(accounts) > 1
    notify = (
        ctx.t("settings.notify_chosen", channel=channel_name(ctx.lang, chosen))
        if chosen and linked
        else ctx.t("settings.notify_last")
    )
    accounts_line = ctx.t("settings.accounts", channels=channel_names(ctx.lang, accounts))
    buttons = [[ctx.button("btn.language", "l")]]
    if linked:
        buttons += _linked_buttons(ctx, accounts, chosen)
    else:
        buttons += [[ctx.button("btn.link", "lk")], [ctx.button("btn.link_enter", "lk:enter")]]
    buttons.append([ctx.button("btn.menu", "m")])
    return ctx.screen(ctx.t("settings.title", accounts=accounts_line, notify=notify), *buttons)


def _linked_buttons(ctx: Ctx, accounts: list[AccountRef], chosen: str | None) -> list[list[Button]]:
    """Where to notify (each messenger not chosen yet, or back to the last used), and
    unlinking each other messenger."""
    keyboard: list[list[Button]] = []
    for account in accounts:
        if account.channel.value != chosen:
            name = channel_name(ctx.lang, account.channel)
            keyboard.append([ctx.button("btn.notify_to", f"nt:{account.channel}", channel=name)])
    if chosen:
        keyboard.append([ctx.button("btn.notify_last", "nt:last")])
    for account in accounts:
        if account != ctx.event.account:
            name = channel_name(ctx.lang, account.channel)
            keyboard.append([ctx.button("btn.unlink", f"lk:un:{account.channel}", channel=name)])
    return keyboard


@router.action(r"lk")
async def give_code(ctx: Ctx) -> Reply:
    code = await linking.issue_code(ctx.session, ctx.event.account)
    return ctx.screen(
        ctx.t("link.code", code=code, minutes=MINUTES),
        [ctx.button("btn.settings_back", "set"), ctx.button("btn.menu", "m")],
    )


@router.command("link")
async def link_command(ctx: Ctx) -> Reply:
    """``/link`` gives a code; ``/link CODE`` uses one."""
    argument = ctx.event.text.strip()
    if not argument:
        return await give_code(ctx)
    code = linking.read_code(argument)
    if code is None:
        return await _refused(ctx, linking.Outcome.WRONG)
    return await _redeem(ctx, code)


@router.action(r"lk:enter")
async def ask_for_code(ctx: Ctx) -> Reply:
    ctx.state.step = "lk:code"
    return ctx.screen(ctx.t("link.enter"), [ctx.button("btn.settings_back", "set")])


@router.step("lk:code")
async def answer_code(ctx: Ctx) -> Reply:
    ctx.state.step = None
    code = linking.read_code(ctx.event.text)
    if code is None:
        return await _refused(ctx, linking.Outcome.WRONG)
    return await _redeem(ctx, code)


@router.free_input
async def typed_code(ctx: Ctx) -> Reply | None:
    """Six digits typed on their own are a link code (no product is searched by them)."""
    code = linking.read_code(ctx.event.text)
    return None if code is None else await _redeem(ctx, code)


async def _redeem(ctx: Ctx, code: str) -> Reply:
    result = await linking.redeem_code(ctx.session, ctx.event.account, ctx.customer.id, code)
    if result.outcome is not linking.Outcome.LINKED:
        return await _refused(ctx, result.outcome)
    await _become(ctx)
    accounts = await linking.linked_accounts(ctx.session, ctx.customer.id)
    text = ctx.t("link.done", channels=channel_names(ctx.lang, accounts))
    if result.cart_lines_dropped:
        text += "\n" + ctx.t("link.done_dropped", count=result.cart_lines_dropped, limit=MAX_LINES)
    if result.issuer is not None:
        here = channel_name(ctx.lang, ctx.event.account.channel)
        _tell(ctx, result.issuer, ctx.t("link.other_side", channel=here), ctx.customer.id)
    return ctx.screen(text, *await menu_buttons(ctx))


async def _refused(ctx: Ctx, outcome: linking.Outcome) -> Reply:
    """A polite no; each text takes the blanks it needs (format ignores the others)."""
    here = channel_name(ctx.lang, ctx.event.account.channel)
    text = ctx.t(f"link.{outcome.value}", minutes=MINUTES, channel=here)
    return ctx.screen(text, [ctx.button("btn.settings_back", "set"), ctx.button("btn.menu", "m")])


async def _become(ctx: Ctx) -> None:
    """Go on as the customer this account belongs to now (after a link or an unlink)."""
    now = await find_customer(ctx.session, ctx.event.account)
    assert now is not None
    for item in dataclasses.fields(now):
        setattr(ctx.customer, item.name, getattr(now, item.name))
    if (ctx.state.step or "").startswith("lk:"):
        ctx.state.step = None


def _tell(ctx: Ctx, account: AccountRef, text: str, customer_id: int) -> None:
    """A message to the person's other messenger, sent after this transaction commits."""
    screen = Screen(text, rows([Button(ctx.t("btn.menu"), action="m")]))
    outbox.enqueue(
        ctx.session,
        "screen",
        {"screen": screen_to_payload(screen)},
        customer_id=customer_id,
        recipient=str(account),
    )


@router.action(rf"lk:un:({_CHANNELS})")
async def confirm_unlink(ctx: Ctx, channel: str) -> Reply:
    name = channel_name(ctx.lang, channel)
    return ctx.screen(
        ctx.t("unlink.confirm", channel=name),
        [ctx.button("btn.unlink_yes", f"lk:un:{channel}:yes")],
        [ctx.button("btn.settings_back", "set")],
    )


@router.action(rf"lk:un:({_CHANNELS}):yes")
async def unlink(ctx: Ctx, channel: str) -> Reply:
    accounts = await linking.linked_accounts(ctx.session, ctx.customer.id)
    leaving = next((a for a in accounts if a.channel == channel and a != ctx.event.account), None)
    name = channel_name(ctx.lang, channel)
    if leaving is None:
        return ctx.screen(ctx.t("unlink.alone"), [ctx.button("btn.settings_back", "set")])
    done = await linking.unlink(ctx.session, leaving, ctx.customer.id)
    assert done is not None
    here = channel_name(ctx.lang, ctx.event.account.channel)
    _tell(ctx, leaving, ctx.t("unlink.other_side", channel=here), done.customer_id)
    return ctx.screen(ctx.t("unlink.done", channel=name), *await menu_buttons(ctx))


@router.action(rf"nt:({_CHANNELS}|last)")
async def choose_notifications(ctx: Ctx, choice: str) -> Reply:
    accounts = await linking.linked_accounts(ctx.session, ctx.customer.id)
    if choice == "last":
        await linking.choose_notify_channel(ctx.session, ctx.customer.id, None)
        text = ctx.t("notify.last")
    elif any(a.channel == choice for a in accounts):
        await linking.choose_notify_channel(ctx.session, ctx.customer.id, Channel(choice))
        text = ctx.t("notify.chosen", channel=channel_name(ctx.lang, choice))
    else:
        return ctx.screen(ctx.t("error.not_available"), [ctx.button("btn.settings_back", "set")])
    return ctx.screen(text, [ctx.button("btn.settings_back", "set"), ctx.button("btn.menu", "m")])
