"""People's names for greetings and checkout: VK events carry only ids, so ask users.get,
at most once per person every few minutes."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import vk_api

from bot.vk.calls import call

log = logging.getLogger(__name__)

KEEP_SECONDS = 600.0
REMEMBER = 10_000


class DisplayNames:
    def __init__(self, vk: vk_api.VkApi, keep_seconds: float = KEEP_SECONDS) -> None:
        self.vk = vk
        self.keep_seconds = keep_seconds
        self._names: OrderedDict[int, tuple[str, float]] = OrderedDict()

    async def name(self, user_id: int) -> str:
        """ "First Last", or "" when VK does not say (the shop then greets without a name)."""
        cached = self._names.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            people = await call(self.vk, "users.get", user_ids=user_id)
        except (vk_api.VkApiError, OSError) as error:
            log.info("users.get for %s failed: %s", user_id, error)
            return cached[0] if cached else ""
        person = people[0] if people else {}
        name = "" if person.get("deactivated") else _full_name(person)
        self._names[user_id] = (name, now + self.keep_seconds)
        self._names.move_to_end(user_id)
        while len(self._names) > REMEMBER:
            self._names.popitem(last=False)
        return name


def _full_name(person: dict[str, object]) -> str:
    parts = (person.get("first_name"), person.get("last_name"))
    return " ".join(str(part) for part in parts if part)
