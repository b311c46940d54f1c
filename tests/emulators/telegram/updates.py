"""Getting updates to the bot: the queue, getUpdates long polling, webhook setup.

Semantics follow the Bot API: an update stays pending until a getUpdates call
with a higher offset confirms it (or a webhook POST is answered with 2xx); a
negative offset forgets all but the last updates; while a webhook is set,
getUpdates is a 409 conflict; a newer getUpdates terminates an older one.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .errors import bad_request, conflict
from .registry import Ctx, handles
from .state import BotState, PollWaiter, UpdateRecord, WebhookState, World
from .webhook import WebhookDelivery

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def enqueue(
    world: World,
    bot: BotState,
    kind: str,
    body: dict[str, Any],
    *,
    chat_id: int | None,
    query_id: str | None = None,
) -> UpdateRecord:
    """Queue an update for the bot (or note why the bot will never see it)."""
    update_id = bot.next_update_id()
    record = UpdateRecord(
        update_id=update_id,
        kind=kind,
        payload={"update_id": update_id, kind: body},
        chat_id=chat_id,
        query_id=query_id,
        call_index=len(world.calls),
    )
    bot.queue.append(record)
    if bot.webhook is not None and bot.webhook.delivery is not None:
        bot.webhook.delivery.push(record)
    elif bot.poller is not None:
        bot.poller.event.set()
    return record


def _deliverable(bot: BotState) -> list[UpdateRecord]:
    return [record for record in list(bot.queue) if not bot.unwanted(record)]


def drop_pending(bot: BotState, reason: str) -> None:
    for record in bot.queue:
        record.dropped = reason
    bot.queue.clear()
    bot.activity.wake()


@handles("getUpdates")
async def get_updates(ctx: Ctx) -> list[dict[str, Any]]:
    bot, world = ctx.bot, ctx.world
    if bot.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    offset = ctx.get("offset")
    limit = ctx.get("limit", 100)
    limit = limit if 1 <= limit <= 100 else 100
    timeout = max(0, ctx.get("timeout", 0))
    if ctx.get("allowed_updates") is not None:
        bot.allowed_updates = list(ctx.get("allowed_updates"))
    if offset is not None and offset < 0:
        keep = bot.queue[offset:]
        for record in bot.queue[: len(bot.queue) - len(keep)]:
            record.dropped = "forgotten: getUpdates was called with a negative offset"
        bot.queue = list(keep)
        bot.activity.wake()
    elif offset is not None:
        for record in [r for r in bot.queue if r.update_id < offset]:
            bot.confirm(record)
    if bot.poller is not None:
        bot.poller.terminated = True
        bot.poller.event.set()
        bot.poller = None
    if not _deliverable(bot) and timeout > 0 and not world.stopping:
        waiter = PollWaiter()
        bot.poller = waiter
        bot.activity.wake()
        try:
            await asyncio.wait_for(waiter.event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            if bot.poller is waiter:
                bot.poller = None
        if waiter.terminated:
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        if bot.webhook is not None:
            return []
    return [record.payload for record in _deliverable(bot)[:limit]]


@handles("setWebhook")
async def set_webhook(ctx: Ctx) -> bool:
    bot = ctx.bot
    url = ctx.get("url", "")
    if ctx.get("drop_pending_updates"):
        drop_pending(bot, "dropped by setWebhook(drop_pending_updates=True)")
    if not url:
        _remove_webhook(bot)
        return True
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = ctx.get("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = ctx.get("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if ctx.get("allowed_updates") is not None:
        bot.allowed_updates = list(ctx.get("allowed_updates"))
    if bot.webhook is None:
        bot.webhook = WebhookState(url=url)
    bot.webhook.url = url
    bot.webhook.secret_token = secret
    bot.webhook.max_connections = max_connections
    if bot.webhook.delivery is None:
        bot.webhook.delivery = WebhookDelivery(ctx.world, bot)
        for record in list(bot.queue):
            bot.webhook.delivery.push(record)
    if bot.poller is not None:
        bot.poller.event.set()
    return True


def _remove_webhook(bot: BotState) -> None:
    if bot.webhook is not None and bot.webhook.delivery is not None:
        bot.webhook.delivery.stop()
    bot.webhook = None


@handles("deleteWebhook")
async def delete_webhook(ctx: Ctx) -> bool:
    if ctx.get("drop_pending_updates"):
        drop_pending(ctx.bot, "dropped by deleteWebhook(drop_pending_updates=True)")
    _remove_webhook(ctx.bot)
    return True


@handles("getWebhookInfo")
async def get_webhook_info(ctx: Ctx) -> dict[str, Any]:
    return webhook_info(ctx.bot)


def webhook_info(bot: BotState) -> dict[str, Any]:
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.queue),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = "127.0.0.1"
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    if bot.allowed_updates:
        info["allowed_updates"] = list(bot.allowed_updates)
    return info
