"""Rendering neutral Screens with the VK API: keyboards, edits in place, cached photos, snackbars.

A screen that replaces the one a callback button was on edits that message (messages.edit by
conversation_message_id); everything else is sent with a random_id derived from the update, so
a retried update is not shown twice (VK drops a repeated random_id for an hour). Screens that
cannot go out through VK's faults are handed to the outbox with those same keys.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import vk_api
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import hand_over
from bot.vk.calls import call, error_message, gave_up, take_over_rate_limit_errors
from bot.vk.events import ButtonPress
from bot.vk.keyboards import layout
from bot.vk.photos import PhotoUploads
from handlers.screens import Reply, Screen
from shop.accounts import AccountRef, Channel

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
SNACKBAR_LIMIT = 90
REMEMBER_CLIENTS = 10_000
PARAM_ERROR = 100


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def resend_key(update_id: str, index: int) -> str:
    """What names a screen of a reply against repeats: the update and the screen's place."""
    return f"{update_id}/{index}"


def random_id_for(update_id: str, index: int) -> int:
    """A positive int32 fixed by the update and the screen's place in the reply."""
    return random_id_of(resend_key(update_id, index))


def random_id_of(key: str) -> int:
    """A positive int32 fixed by ``key``: every try of one message carries the same one."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


def fresh_random_id() -> int:
    return secrets.randbelow(0x7FFFFFFF) + 1


def _shown(reply: Reply, toast_as_text: bool) -> list[Screen]:
    """The screens VK shows: no "share phone" prompts (VK has no such control), no empty ones;
    a toast goes into the text where there is no button press to show it on."""
    screens = [s for s in reply.screens if s.ask_contact is None and (s.text.strip() or s.photo)]
    if toast_as_text and reply.toast:
        if screens:
            screens[0] = replace(screens[0], text=f"{reply.toast}\n\n{screens[0].text}")
        else:
            screens = [Screen(reply.toast)]
    return screens


def links_in_text(screen: Screen) -> Screen:
    """The screen's link buttons as lines of its text, for an app that shows no inline
    keyboard (a payment link added after the conversation numbered the choices)."""
    links = [button for row in screen.buttons for button in row if button.url]
    if not links:
        return screen
    rows = tuple(kept for row in screen.buttons if (kept := tuple(b for b in row if not b.url)))
    lines = [f"{button.text}: {button.url}" for button in links]
    return replace(screen, text="\n".join([*lines, "", screen.text]), buttons=rows)


class VkRenderer:
    """Shows Replies in private chats of one community."""

    def __init__(
        self,
        vk: vk_api.VkApi,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
    ) -> None:
        self.vk = vk
        take_over_rate_limit_errors(vk)
        self.sessions = sessions
        self.photos = PhotoUploads(vk, sessions, readers)
        self._inline_ok: OrderedDict[int, bool] = OrderedDict()
        self._numbered: set[int] = set()

    def remember_client(self, peer_id: int, inline_ok: bool | None, numbered: bool = False) -> None:
        """Note whether the person's app shows inline callback buttons (from client_info), or
        no inline keyboard at all (its links then go into the text)."""
        if inline_ok is None:
            return
        self._inline_ok[peer_id] = inline_ok
        self._inline_ok.move_to_end(peer_id)
        (self._numbered.add if numbered else self._numbered.discard)(peer_id)
        while len(self._inline_ok) > REMEMBER_CLIENTS:
            forgotten, _ = self._inline_ok.popitem(last=False)
            self._numbered.discard(forgotten)

    async def show(
        self,
        peer_id: int,
        reply: Reply,
        *,
        update_id: str = "",
        origin_cmid: int | None = None,
        toast_as_text: bool = False,
    ) -> None:
        """Send the reply's screens; the first replacing one edits message ``origin_cmid``.

        Screens that still cannot go out once the retries are spent (VK failing, flood
        control) are handed to the outbox, in order, rather than lost.
        """
        shown = _shown(reply, toast_as_text)
        for index, screen in enumerate(shown):
            random_id = random_id_for(update_id, index) if update_id else None
            try:
                if screen.replace and origin_cmid is not None:
                    await self._replace(peer_id, origin_cmid, screen, random_id)
                    origin_cmid = None
                else:
                    await self.send(peer_id, screen, random_id=random_id)
            except Exception as error:
                if not gave_up(error):
                    raise
                keys = [resend_key(update_id, i) if update_id else None for i in range(len(shown))]
                account = AccountRef(Channel.VK, peer_id)
                await hand_over(self.sessions, account, shown[index:], error, keys[index:])
                return

    async def send(self, peer_id: int, screen: Screen, *, random_id: int | None = None) -> int:
        """messages.send; returns the message id. A refused cached photo is uploaded again."""
        params = await self._content(peer_id, screen)
        params["peer_id"] = peer_id
        params["random_id"] = random_id or fresh_random_id()
        # A fresh upload is VK's whether the message goes or not: cached first, so nothing
        # slow comes between this message and the call after it (deleting the old screen).
        await self.photos.save_uploads()
        try:
            return int(await call(self.vk, "messages.send", **params))
        except vk_api.ApiError as error:
            screen = self._without_stale_photo(screen, error)
            params.update(await self._content(peer_id, screen))
            await self.photos.save_uploads()
            return int(await call(self.vk, "messages.send", **params))

    async def typing(self, peer_id: int) -> None:
        """ "typing…" in the person's chat (VK shows it for up to 10 s, or until a message)."""
        await call(self.vk, "messages.setActivity", peer_id=peer_id, type="typing")

    async def answer(self, press: ButtonPress, toast: str | None) -> None:
        """Stop the button's spinner, with the toast as a snackbar; a late answer is dropped."""
        params: dict[str, Any] = {
            "event_id": press.event_id,
            "user_id": press.user_id,
            "peer_id": press.peer_id,
        }
        if toast:
            data = {"type": "show_snackbar", "text": _cut(toast, SNACKBAR_LIMIT)}
            params["event_data"] = json.dumps(data, ensure_ascii=False)
        try:
            await call(self.vk, "messages.sendMessageEventAnswer", **params)
        except Exception as error:  # the spinner stops by itself; the screen is what counts
            if not (isinstance(error, vk_api.ApiError) or gave_up(error)):
                raise
            log.info("could not answer button press %s: %r", press.event_id, error)

    async def _content(self, peer_id: int, screen: Screen) -> dict[str, Any]:
        if peer_id in self._numbered:
            screen = links_in_text(screen)
        params: dict[str, Any] = {}
        if screen.text.strip():
            params["message"] = _cut(screen.text, TEXT_LIMIT)
        keyboard = layout(screen, self._inline_ok.get(peer_id, True)).keyboard
        if keyboard is not None:
            params["keyboard"] = keyboard
        if screen.photo is not None:
            params["attachment"] = await self.photos.attachment(screen.photo, peer_id)
        return params

    def _without_stale_photo(self, screen: Screen, error: vk_api.ApiError) -> Screen:
        """The screen with its cached photo dropped, when VK refused that attachment; else
        the error goes on."""
        stale = (
            screen.photo is not None
            and error.code == PARAM_ERROR
            and "attachment" in error_message(error)
        )
        if not stale:
            raise error
        assert screen.photo is not None
        log.info("photo %s: cached attachment refused; uploading again", screen.photo.id)
        self.photos.forget(screen.photo)
        return screen

    async def _replace(
        self, peer_id: int, cmid: int, screen: Screen, random_id: int | None
    ) -> None:
        """Edit message ``cmid`` into ``screen``; if it cannot be edited, send it anew."""
        if not layout(screen, self._inline_ok.get(peer_id, True)).inline:
            # A standard keyboard lives under the input field, not on a message: the new
            # screen goes out anew and the old message (with its stale buttons) goes.
            await self.send(peer_id, screen, random_id=random_id)
            await self._delete(peer_id, cmid)
            return
        try:
            await self._edit(peer_id, cmid, screen)
        except Exception as error:
            if not (isinstance(error, vk_api.ApiError) or gave_up(error)):
                raise
            log.info("could not edit message %s of %s (%r); sending anew", cmid, peer_id, error)
            await self.send(peer_id, screen, random_id=random_id)

    async def _edit(self, peer_id: int, cmid: int, screen: Screen) -> None:
        params = await self._content(peer_id, screen)
        params.update(peer_id=peer_id, conversation_message_id=cmid)
        try:
            await call(self.vk, "messages.edit", **params)
        except vk_api.ApiError as error:
            screen = self._without_stale_photo(screen, error)
            params.update(await self._content(peer_id, screen))
            await call(self.vk, "messages.edit", **params)
        if screen.photo is not None:
            await self.photos.save_uploads()

    async def _delete(self, peer_id: int, cmid: int) -> None:
        try:
            await call(self.vk, "messages.delete", peer_id=peer_id, cmids=cmid, delete_for_all=1)
        except Exception as error:  # too old to delete for everybody, VK failing: it stays
            if not (isinstance(error, vk_api.ApiError) or gave_up(error)):
                raise
            log.info("could not delete message %s of %s: %r", cmid, peer_id, error)
