"""One Bot API call from request to answer: spec check, behaviour, log.

Shared by the HTTP server and by webhook answers that carry a method, so
both are validated, logged and counted as the bot's activity the same way.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from . import callbacks, chats, messages, payments, updates  # noqa: F401 - they register
from .errors import ApiError, bad_request
from .registry import HANDLERS, Ctx
from .spec import Upload
from .state import BotState, CallRecord, World

_QUERY_PARAMS = ("callback_query_id", "pre_checkout_query_id", "shipping_query_id")


async def call_method(
    world: World,
    bot: BotState,
    raw_method: str,
    raw_params: dict[str, Any],
    uploads: dict[str, Upload],
    *,
    via: str = "http",
) -> tuple[int, dict[str, Any]]:
    """Serve one call; returns the HTTP status and the JSON body Telegram would send."""
    method = world.spec.method_name(raw_method)
    if method is None:
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
    fields = world.spec.fields(method)
    params = dict(raw_params)
    files: dict[str, Upload] = {}
    for name, upload in uploads.items():
        if name in fields:
            params[name] = upload
        else:
            files[name] = upload
    record = CallRecord(
        index=len(world.calls), token=bot.token, method=method, params=params, via=via
    )
    world.calls.append(record)
    long_poll = method == "getUpdates"
    if not long_poll:
        bot.activity.begin()
    try:
        params, warnings = world.spec.validate_call(method, params)
        world.spec_warnings.extend(warnings)
        record.params = params
        _note_target(bot, record)
        handler = HANDLERS.get(method, _known_but_not_emulated)
        result = await handler(Ctx(world, bot, method, params, files, record))
    except ApiError as exc:
        record.error_code = exc.code
        record.description = exc.description
        return exc.code, exc.to_json()
    except asyncio.CancelledError:
        record.description = "cancelled: the client went away"
        raise
    except Exception as exc:  # an emulator bug: answer 500 and make it visible to tests
        record.error_code = 500
        record.description = f"Internal Server Error: {type(exc).__name__}: {exc}"
        world.result_problems.append(f"{method} crashed the emulator: {exc!r}")
        return 500, {"ok": False, "error_code": 500, "description": record.description}
    finally:
        if not long_poll:
            bot.activity.end()
    record.ok = True
    record.result = copy.deepcopy(result)
    returns = world.spec.methods[method]["returns"]
    problems = world.spec.check_value(result, returns, f"{method} result")
    world.result_problems.extend(problems)
    return 200, {"ok": True, "result": result}


def _note_target(bot: BotState, record: CallRecord) -> None:
    """Which chat or query the call is about, so a reaction can be matched to an update."""
    chat_id = record.params.get("chat_id")
    if isinstance(chat_id, int):
        record.chat_id = chat_id
    elif isinstance(chat_id, str):
        name = chat_id.lstrip("@").lower()
        for chat in bot.chats.values():
            if (chat.username or "").lower() == name:
                record.chat_id = chat.id
    for key in _QUERY_PARAMS:
        if key in record.params:
            record.query_id = str(record.params[key])


async def _known_but_not_emulated(ctx: Ctx) -> Any:
    """A real method the emulator has no behaviour for: succeed with a minimal answer."""
    returns = ctx.world.spec.methods[ctx.method]["returns"]
    if returns == ["Boolean"]:
        return True
    value = ctx.world.spec.minimal(returns)
    if value is None:
        raise bad_request("method is not supported by the emulator")
    return value
