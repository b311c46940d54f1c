"""Sending outbox screens to VK chats, with VK's refusals turned into delivery outcomes."""

from __future__ import annotations

import vk_api

from bot.delivery import RetryLater, Unreachable
from bot.vk.calls import FLOOD_CONTROL, TOO_MANY_REQUESTS, UNREACHABLE, call
from bot.vk.render import VkRenderer, random_id_of
from handlers.screens import Screen

CAPTCHA_WAIT = 60.0
# (seconds, whether the whole community is held): "too many requests" is the token's
# per-second limit; flood control is about messages to one person.
FLOOD_WAIT = {TOO_MANY_REQUESTS: (1.0, True), FLOOD_CONTROL: (60.0, False)}


async def send_outbox_screen(
    renderer: VkRenderer, external_id: int, screen: Screen, *, key: str
) -> int:
    """`VkFrontend.send`: the random_id comes from ``key``, so VK drops a repeat of a message
    that went out just before a crash or a lost answer."""
    try:
        return await renderer.send(external_id, screen, random_id=random_id_of(key))
    except vk_api.Captcha as error:
        raise RetryLater(CAPTCHA_WAIT, everyone=True) from error
    except vk_api.ApiError as error:
        if error.code in UNREACHABLE:
            raise Unreachable(str(error)) from error
        if error.code in FLOOD_WAIT:
            seconds, everyone = FLOOD_WAIT[error.code]
            raise RetryLater(seconds, everyone=everyone) from error
        raise


async def edit_card(renderer: VkRenderer, peer_id: int, message_id: int, screen: Screen) -> None:
    """Edit a posted staff card in place by its message id."""
    params = await renderer.content(peer_id, screen)
    params.update(peer_id=peer_id, message_id=message_id)
    await call(renderer.vk, "messages.edit", **params)
