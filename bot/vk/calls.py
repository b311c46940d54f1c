"""Calling the VK API from the event loop: vk_api is blocking, so every call runs in a thread."""

from __future__ import annotations

import asyncio
from typing import Any

import vk_api

# blacklisted the community, disallowed its messages, privacy settings; deleted or banned
UNREACHABLE = frozenset({900, 901, 902, 18})


async def call(vk: vk_api.VkApi, method: str, **params: Any) -> Any:
    """``vk.method(method, params)`` on a worker thread; raises vk_api.ApiError as VK refuses."""
    return await asyncio.to_thread(vk.method, method, params)


def error_code(error: BaseException) -> int | None:
    """The VK error code of an API refusal, None for anything else (network trouble)."""
    return error.code if isinstance(error, vk_api.ApiError) else None


def error_message(error: BaseException) -> str:
    if isinstance(error, vk_api.ApiError):
        return str(error.error.get("error_msg", ""))
    return str(error)
