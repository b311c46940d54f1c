"""An emulator of the VK API for the real vk_api client, and a person to drive it.

Start `VkEmulator()` and give the bot `emu.api_url` as VK_API_URL; `create_group()`
gives the community id and token; `emu.user(group, ...)` is a person whose `send` and
`press` wait for the bot's reaction and whose `screen` shows its last message.
"""

from tests.emulators.vk.callback import PushAttempt
from tests.emulators.vk.driver import Person, Screen
from tests.emulators.vk.errors import VkError
from tests.emulators.vk.keyboards import Button, Keyboard
from tests.emulators.vk.server import VkEmulator
from tests.emulators.vk.state import Attachment, CallRecord, Group, Inbound, Message, User

__all__ = [
    "Attachment",
    "Button",
    "CallRecord",
    "Group",
    "Inbound",
    "Keyboard",
    "Message",
    "Person",
    "PushAttempt",
    "Screen",
    "User",
    "VkEmulator",
    "VkError",
]
