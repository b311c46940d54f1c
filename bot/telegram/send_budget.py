"""Every Telegram send waits for its place in the send budget (bot/budget.py) first.

Sends are the calls that post or change a message (send*, edit*, copy*, forward*) and the
"typing…" chat action; answers to a button press and reading calls cost nothing. Every send
waits for the bot's place (the one limit no worker can keep alone); only outbox messages
wait for their chat's too. Installed innermost, so that each retry of a send takes a place
of its own.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot import budget, patience

NOT_IN_CHAT = frozenset({"sendChatAction"})
"""Counted toward the bot's limit only: no message appears in the chat."""


def counted(method: TelegramMethod[object]) -> int:
    """How many messages the call sends or edits (0: not a send)."""
    name = method.__api_method__
    if not name.startswith(("send", "edit", "copy", "forward")):
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
            # A chat's ~1/s is about new messages: an edit counts toward the bot's limit only.
            # A reply answers its person at once (a person cannot outpace it for long); an
            # outbox send waits for its chat, which the replies count toward.
            name = method.__api_method__
            edit = name.startswith("edit") or name in NOT_IN_CHAT
            chat = None if edit else getattr(method, "chat_id", None)
            outbox = patience.current() is patience.OUTBOX
            buckets = budget.telegram_buckets(bot.id, chat, wait_for_chat=outbox)
            await budget.take(buckets, count)
        return await make_request(bot, method)

    def __repr__(self) -> str:
        return "SendBudgetMiddleware()"


def install(bot: Bot) -> None:
    bot.session.middleware(SendBudgetMiddleware())
