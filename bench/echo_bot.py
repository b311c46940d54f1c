"""The baseline for bench/updates.py: a bare aiogram echo bot, run as its own process.

TELEGRAM_BOT_TOKEN=... TELEGRAM_API_SERVER=... python -m bench.echo_bot
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

router = Router()


@router.message()
async def echo_handler(message: Message) -> None:
    await message.answer(message.text or "?")


async def main() -> None:
    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_SERVER"])
    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"], session=AiohttpSession(api=api))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await dispatcher.start_polling(bot)


if __name__ == "__main__":
    asyncio.run(main())
