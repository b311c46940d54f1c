"""A YooKassa API v3 emulator served by aiohttp on 127.0.0.1, for the real yookassa SDK."""

from tests.emulators.yookassa.emulator import YooKassaEmulator
from tests.emulators.yookassa.notifications import Delivery
from tests.emulators.yookassa.server import RecordedRequest

__all__ = ["Delivery", "RecordedRequest", "YooKassaEmulator"]
