"""Waiting until the bot has finished reacting to an update, without sleeps in tests.

An update is settled when all of these hold:

(a) the bot has it: polling - a later getUpdates confirmed it (offset > update_id);
    webhook - the POST was answered with 2xx;
(b) unless ``expect_reply=False``, the bot made a call that reacts to it: any
    send/edit/delete/... in the update's chat, an answer to its callback or
    pre-checkout query, or a new message sent to any chat (a reaction may go
    elsewhere, e.g. a ticket reply to the customer). sendChatAction does not
    count (it announces a reaction, it is not one);
(c) the bot is quiet: no call of it is in flight (long polls excepted) and none
    began or ended for ``quiet_period`` (0.05 s), or ``weak_quiet_period``
    (1.2 s) when the only reaction so far is answerCallbackQuery, which a bot
    sends before the real work when that work is slow (ours: after 1 s).

With ``reactions_in_own_chat`` (many people at once) (b) counts only calls in
the update's own chat or answering its query. (c) stays bot-wide on purpose:
the bot's work between two calls is invisible, and a busy bot is exactly when
that gap grows.

Everything is woken by the bot's own calls, so a test waits exactly as long
as the bot works; ``settle_timeout`` (5 s) bounds it and then an
AssertionError tells which condition failed, with the bot's recent calls.
"""

from __future__ import annotations

import time

from .state import BotState, CallRecord, UpdateRecord, World

_EFFECTS = (
    "send",
    "edit",
    "delete",
    "copy",
    "forward",
    "answer",
    "pin",
    "unpin",
    "create",
    "close",
    "reopen",
    "ban",
    "unban",
    "restrict",
    "promote",
    "approve",
    "decline",
    "stop",
    "leave",
)
_IGNORED = {"getUpdates", "sendChatAction"}


def _creates_message(method: str) -> bool:
    return method.startswith(("send", "copy", "forward")) and method not in _IGNORED


def reaction(world: World, bot: BotState, record: UpdateRecord) -> str | None:
    """ "strong", "weak" (only a callback answer) or None: how the bot has reacted so far."""
    found: str | None = None
    for call in world.calls[record.call_index :]:
        if call.token != bot.token or call.method in _IGNORED or call.fault:
            continue
        by_query = record.query_id is not None and call.query_id == record.query_id
        in_chat = call.chat_id == record.chat_id and call.method.startswith(_EFFECTS)
        elsewhere = _creates_message(call.method) and not world.config.reactions_in_own_chat
        if not (by_query or in_chat or elsewhere):
            continue
        if call.method == "answerCallbackQuery":
            found = "weak"
            continue
        return "strong"
    return found


def recent_calls(world: World, bot: BotState, count: int = 15) -> str:
    mine: list[CallRecord] = [c for c in world.calls if c.token == bot.token]
    shown = [c for c in mine if c.method != "getUpdates"][-count:]
    polls = sum(1 for c in mine if c.method == "getUpdates")
    lines = [repr(c) for c in shown] or ["(no calls)"]
    return "\n".join([f"recent calls of @{bot.user.username} ({polls} getUpdates):", *lines])


async def settle_update(
    world: World,
    bot: BotState,
    record: UpdateRecord,
    *,
    expect_reply: bool = True,
    allow_dropped: bool = False,
    within: float | None = None,
) -> None:
    """Wait until (a), (b) and (c) above hold; AssertionError when they do not in time."""
    config = world.config
    started = time.monotonic()
    deadline = started + (config.settle_timeout if within is None else within)
    while True:
        if record.dropped and not allow_dropped:
            raise AssertionError(
                f"update {record.update_id} ({record.kind}) never reached the bot: "
                f"{record.dropped}\n{recent_calls(world, bot)}"
            )
        now = time.monotonic()
        got = record.confirmed or bool(record.dropped)
        how = reaction(world, bot, record) if expect_reply else "n/a"
        quiet = config.weak_quiet_period if how == "weak" else config.quiet_period
        idle = now - bot.activity.last
        calm = bot.activity.inflight == 0
        if got and how and calm and idle >= quiet:
            return
        if now >= deadline:
            raise AssertionError(_why(world, bot, record, got, how, calm, deadline - started))
        wait = deadline - now
        if got and how and calm:
            wait = min(wait, quiet - idle)
        await bot.activity.wait(wait)


async def settle_bot(world: World, bot: BotState, within: float | None = None) -> None:
    """Wait only for (c): the bot has made no call for the quiet period."""
    config = world.config
    deadline = time.monotonic() + (config.settle_timeout if within is None else within)
    while True:
        now = time.monotonic()
        idle = now - bot.activity.last
        if bot.activity.inflight == 0 and idle >= config.quiet_period:
            return
        if now >= deadline:
            raise AssertionError(
                f"@{bot.user.username} did not go quiet\n{recent_calls(world, bot)}"
            )
        wait = deadline - now
        if bot.activity.inflight == 0:
            wait = min(wait, config.quiet_period - idle)
        await bot.activity.wait(wait)


def _why(
    world: World,
    bot: BotState,
    record: UpdateRecord,
    got: bool,
    how: str | None,
    calm: bool,
    waited: float,
) -> str:
    where = f"webhook {bot.webhook.url}" if bot.webhook else "getUpdates"
    if not got:
        problem = (
            f"the bot did not take update {record.update_id} ({record.kind}) via {where} "
            f"(attempts: {record.attempts}) - is it polling / is the webhook answering?"
        )
    elif not how:
        problem = (
            f"the bot took update {record.update_id} ({record.kind}) but made no call in reply "
            "(pass expect_reply=False if none is expected)"
        )
    else:
        problem = f"the bot kept working ({bot.activity.inflight} calls in flight)"
    return f"settling failed after {waited:.1f}s: {problem}\n{recent_calls(world, bot)}"
