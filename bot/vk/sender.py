"""Sending outbox screens to VK chats, with VK's refusals turned into delivery outcomes."""

from __future__ import annotations

import vk_api

from bot.delivery import RetryLater, Unreachable
from bot.vk.calls import UNREACHABLE
from bot.vk.render import VkRenderer
from handlers.screens import Screen

FLOOD_WAIT = {6: 1.0, 9: 60.0, 14: 60.0}  # too many requests, flood control, captcha


class VkSender:
    def __init__(self, renderer: VkRenderer) -> None:
        self.renderer = renderer

    async def send(self, external_id: int, screen: Screen) -> None:
        try:
            await self.renderer.send(external_id, screen)
        except vk_api.Captcha as error:
            raise RetryLater(FLOOD_WAIT[14]) from error
        except vk_api.ApiError as error:
            if error.code in UNREACHABLE:
                raise Unreachable(str(error)) from error
            if error.code in FLOOD_WAIT:
                raise RetryLater(FLOOD_WAIT[error.code]) from error
            raise
