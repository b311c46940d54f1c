"""Product photos on VK: uploaded once through the messages upload server, then re-sent by
their attachment string, cached in ``ProductPhoto.vk_attachment``.
"""

from __future__ import annotations

import asyncio
import io
from collections import OrderedDict
from typing import Any

import vk_api
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.screens import Photo
from shop.catalog import photo_data
from shop.db import create_session_factory
from shop.models import ProductPhoto

REMEMBER = 10_000


async def remember_vk_attachment(session: AsyncSession, photo_id: int, attachment: str) -> None:
    """Cache VK's attachment string for an uploaded photo, so it is uploaded once."""
    await session.execute(
        update(ProductPhoto).where(ProductPhoto.id == photo_id).values(vk_attachment=attachment)
    )


def attachment_string(saved: dict[str, Any]) -> str:
    """``photo{owner}_{id}_{access_key}`` for a photo photos.saveMessagesPhoto returned."""
    text = f"photo{saved['owner_id']}_{saved['id']}"
    return f"{text}_{saved['access_key']}" if saved.get("access_key") else text


class PhotoUploads:
    """Attachment strings for product photos; one upload per photo, also under concurrency."""

    def __init__(self, vk: vk_api.VkApi, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.upload = vk_api.VkUpload(vk)
        self.sessions = sessions
        self.readers = create_session_factory(sessions.kw["bind"], read_only=True)
        self._known: OrderedDict[int, str] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}
        self._unsaved: set[int] = set()

    async def attachment(self, photo: Photo, peer_id: int) -> str:
        """The photo's attachment string, uploading it first if VK has not got it yet.

        A fresh upload is kept in memory; `save_uploads` writes it to the database once the
        message is out, so the shopper does not wait for that write.
        """
        known = self._known.get(photo.id) or photo.vk_attachment
        if known:
            return known
        lock = self._locks.setdefault(photo.id, asyncio.Lock())
        async with lock:
            known = self._known.get(photo.id)
            if known is None:
                async with self.readers() as session:
                    data = await photo_data(session, photo.id)
                name = f"product-{photo.id}.png"
                saved = await asyncio.to_thread(self._upload, data, name, peer_id)
                known = attachment_string(saved)
                self._remember(photo.id, known)
                self._unsaved.add(photo.id)
        self._locks.pop(photo.id, None)
        return known

    async def save_uploads(self) -> None:
        """Write the attachment strings of fresh uploads to ``ProductPhoto.vk_attachment``."""
        fresh = {pid: self._known[pid] for pid in self._unsaved if pid in self._known}
        self._unsaved.clear()
        if not fresh:
            return
        async with self.sessions() as session, session.begin():
            for photo_id, attachment in fresh.items():
                await remember_vk_attachment(session, photo_id, attachment)

    def forget(self, photo: Photo) -> Photo:
        """The cached string was refused (another community's): the next use uploads anew."""
        self._known.pop(photo.id, None)
        self._unsaved.discard(photo.id)
        return Photo(photo.id, photo.telegram_file_id, None)

    def _remember(self, photo_id: int, attachment: str) -> None:
        self._known[photo_id] = attachment
        self._known.move_to_end(photo_id)
        while len(self._known) > REMEMBER:
            self._known.popitem(last=False)

    def _upload(self, data: bytes, filename: str, peer_id: int) -> dict[str, Any]:
        """Blocking: getMessagesUploadServer, POST the file, saveMessagesPhoto."""
        file = io.BytesIO(data)
        file.name = filename
        saved = self.upload.photo_messages(file, peer_id=peer_id)
        return saved[0]
