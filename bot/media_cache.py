"""What each channel calls a product photo it already has (Telegram's file_id, VK's attachment
string), so a photo is uploaded to a channel once; kept in the ``media_cache`` table.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.models.catalog import MediaCache

REMEMBER = 10_000


class MediaIds:
    """One channel's remote ids for photos: in memory, backed by the database."""

    def __init__(
        self,
        channel: str,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
    ) -> None:
        self.channel = channel
        self.sessions = sessions
        self.readers = readers
        self._known: OrderedDict[int, str] = OrderedDict()
        self._refused: set[int] = set()

    async def get(self, photo_id: int) -> str | None:
        known = self._known.get(photo_id)
        if known is not None or photo_id in self._refused:
            return known
        async with self.readers() as session:
            known = await session.scalar(
                select(MediaCache.remote_id).where(
                    MediaCache.channel == self.channel, MediaCache.photo_id == photo_id
                )
            )
        if known is not None:
            self.keep(photo_id, known)
        return known

    def keep(self, photo_id: int, remote_id: str) -> None:
        """Remember ``remote_id`` in this process only (`save` writes it down)."""
        self._known[photo_id] = remote_id
        self._known.move_to_end(photo_id)
        while len(self._known) > REMEMBER:
            self._known.popitem(last=False)

    async def save(self, ids: dict[int, str]) -> None:
        """Remember fresh uploads here and in the database (a newer id replaces an old one)."""
        for photo_id, remote_id in ids.items():
            self.keep(photo_id, remote_id)
            self._refused.discard(photo_id)
        if not ids:
            return
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    delete(MediaCache).where(
                        MediaCache.channel == self.channel, MediaCache.photo_id.in_(ids)
                    )
                )
                session.add_all(
                    MediaCache(channel=self.channel, photo_id=photo_id, remote_id=remote_id)
                    for photo_id, remote_id in ids.items()
                )
        except IntegrityError:
            pass  # another worker saved its own upload of the photo meanwhile: as good

    def forget(self, photo_id: int) -> None:
        """The channel refused the id (another bot's): the next use uploads anew."""
        self._known.pop(photo_id, None)
        self._refused.add(photo_id)
