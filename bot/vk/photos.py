"""Product photos on VK: uploaded once through the messages upload server, then re-sent by
their attachment string, cached in the media cache (`bot.media_cache`).
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import vk_api
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.media_cache import MediaIds
from handlers.screens import Photo
from shop.accounts import Channel
from shop.catalog import photo_data


def attachment_string(saved: dict[str, Any]) -> str:
    """``photo{owner}_{id}_{access_key}`` for a photo photos.saveMessagesPhoto returned."""
    text = f"photo{saved['owner_id']}_{saved['id']}"
    return f"{text}_{saved['access_key']}" if saved.get("access_key") else text


class PhotoUploads:
    """Attachment strings for product photos; one upload per photo, also under concurrency."""

    def __init__(
        self,
        vk: vk_api.VkApi,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
    ) -> None:
        self.upload = vk_api.VkUpload(vk)
        self.readers = readers
        self.ids = MediaIds(Channel.VK.value, sessions, readers)
        self._fresh: dict[int, str] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def attachment(self, photo: Photo, peer_id: int) -> str:
        """The photo's attachment string, uploading it first if VK has not got it yet.

        A fresh upload is kept in memory; `save_uploads` writes it to the database just
        before the message goes (the upload is VK's either way), once per photo.
        """
        known = await self.ids.get(photo.id)
        if known:
            return known
        lock = self._locks.setdefault(photo.id, asyncio.Lock())
        async with lock:
            known = await self.ids.get(photo.id)
            if known is None:
                async with self.readers() as session:
                    data = await photo_data(session, photo.id)
                name = f"product-{photo.id}.png"
                saved = await asyncio.to_thread(self._upload, data, name, peer_id)
                known = attachment_string(saved)
                self.ids.keep(photo.id, known)
                self._fresh[photo.id] = known
        self._locks.pop(photo.id, None)
        return known

    async def save_uploads(self) -> None:
        """Write the attachment strings of fresh uploads to the media cache."""
        fresh, self._fresh = self._fresh, {}
        await self.ids.save(fresh)

    def forget(self, photo: Photo) -> None:
        """The cached string was refused (another community's): the next use uploads anew."""
        self.ids.forget(photo.id)
        self._fresh.pop(photo.id, None)

    def _upload(self, data: bytes, filename: str, peer_id: int) -> dict[str, Any]:
        """Blocking: getMessagesUploadServer, POST the file, saveMessagesPhoto."""
        file = io.BytesIO(data)
        file.name = filename
        saved = self.upload.photo_messages(file, peer_id=peer_id)
        return saved[0]
