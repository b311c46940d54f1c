"""answerCallbackQuery: the toast a person sees after pressing an inline button."""

from __future__ import annotations

import time

from .errors import QUERY_TOO_OLD, bad_request
from .limits import CALLBACK_ANSWER_LIMIT
from .registry import Ctx, handles
from .state import CallbackAnswer


@handles("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx) -> bool:
    """A query can be answered once, within the timeout (15 s in Telegram)."""
    query = ctx.bot.callbacks.get(str(ctx.get("callback_query_id")))
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    if time.monotonic() - query.created >= ctx.world.config.callback_timeout:
        raise bad_request(QUERY_TOO_OLD)
    text = ctx.get("text")
    if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    ctx.bot.callback_answers[query.user_id] = CallbackAnswer(
        text=text, show_alert=bool(ctx.get("show_alert")), url=ctx.get("url")
    )
    return True
