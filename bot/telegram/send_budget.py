"""Every Telegram send waits for its place in the send budget (bot/budget.py) first.

Sends are the calls that post a message (send*, copy*, forward*): Telegram's limits are
about messages sent. Edits (a press changing its card in place), answers to a button press,
chat actions and reading calls cost nothing; in a flash sale the edits would otherwise halve
the pace of the first replies. Every send waits for the
bot's place (the one limit no worker can keep alone); only outbox messages wait for their
chat's too. Installed innermost, so that each retry of a send takes a place of its own.

In a process without the sending role a reply's message raises `budget.HandOver` here (the
renderer hands it to the outbox); an invoice cannot wait there and goes within the standby
share.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot import budget, patience

FREE = frozenset({"sendChatAction"})
NOT_HANDED_OVER = frozenset({"sendInvoice"})


def counted(method: TelegramMethod[object]) -> int:
    """How many messages the call sends or edits (0: not a send)."""
    name = method.__api_method__
    if name in FREE or not name.startswith(("send", "copy", "forward")):
        return 0
    several = getattr(method, "media", None) if name == "sendMediaGroup" else None
    several = several or getattr(method, "message_ids", None)
    return len(several) if isinstance(several, list) and several else 1


class SendBudgetMiddleware(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        count = counted(method)  # type: ignore[arg-type]
        if count:
            # A reply answers its person at once (a person cannot outpace it for long); an
            # outbox send waits for its chat, which the replies count toward.
            chat = getattr(method, "chat_id", None)
            outbox = patience.current() is patience.OUTBOX
            buckets = budget.telegram_buckets(bot.id, chat, wait_for_chat=outbox)
            hand_over = not outbox and method.__api_method__ not in NOT_HANDED_OVER
            await budget.take(buckets, count, may_hand_over=hand_over)
        return await make_request(bot, method)

    def __repr__(self) -> str:
        return "SendBudgetMiddleware()"


def install(bot: Bot) -> None:
    bot.session.middleware(SendBudgetMiddleware())
