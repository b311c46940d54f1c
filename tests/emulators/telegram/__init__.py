"""An emulator of the Telegram Bot API for end-to-end tests with the real aiogram.

async with running_telegram_emulator() as emu:
    token = emu.create_bot(username="shop_bot")
    bot = emu.make_bot(token)                  # aiogram.Bot pointed at the emulator
    alice = emu.user(token, first_name="Alice")
    await alice.send("/start")                 # returns when the bot's reaction settled
    print(alice.screen.text, alice.screen.buttons)
"""

from __future__ import annotations

from .driver import Group, PaymentResult, Person, running_telegram_emulator, tiny_png
from .emulator import TelegramEmulator
from .limits import RateLimits, Sent, most_in_a_window
from .spec import Spec
from .state import CallRecord
from .views import Button, MessageView, TopicView

__all__ = [
    "Button",
    "CallRecord",
    "Group",
    "MessageView",
    "PaymentResult",
    "Person",
    "RateLimits",
    "Sent",
    "Spec",
    "TelegramEmulator",
    "TopicView",
    "most_in_a_window",
    "running_telegram_emulator",
    "tiny_png",
]
