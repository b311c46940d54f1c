"""The API methods a community bot uses, answering and refusing as VK does.

Each method gets the calling community and the already schema-checked parameters
and returns the `response` value or raises VkError. messages.edit replaces the whole
message: text, attachments and keyboard not passed again are gone, so a bot that
edits a menu in place must send its keyboard again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.emulators.vk.errors import VkError, param_error
from tests.emulators.vk.keyboards import Keyboard, parse_keyboard
from tests.emulators.vk.state import (
    CHAT_PEER_START,
    Attachment,
    Group,
    Inbound,
    Message,
    World,
)

if TYPE_CHECKING:
    from tests.emulators.vk.longpoll import LongPoll
    from tests.emulators.vk.media import Media

MAX_TEXT = 9000
MAX_SNACKBAR = 90
DEDUP_SECONDS = 3600
EDIT_SECONDS = 24 * 3600
USER_FIELDS = {
    "screen_name": lambda u: u.screen_name or f"id{u.id}",
    "domain": lambda u: u.screen_name or f"id{u.id}",
    "sex": lambda u: 0,
    "photo_50": lambda u: "https://vk.ru/images/camera_50.png",
    "photo_100": lambda u: "https://vk.ru/images/camera_100.png",
    "photo_200": lambda u: "https://vk.ru/images/camera_200.png",
}


@dataclass
class Call:
    """One request: who calls and with what."""

    group: Group
    params: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)

    def int(self, name: str) -> int | None:
        value = self.params.get(name, "")
        return int(value) if value.strip() else None

    def flag(self, name: str) -> bool:
        return self.params.get(name, "").strip().lower() in {"1", "true"}

    def ints(self, name: str) -> list[int]:
        return [int(v) for v in self.params.get(name, "").split(",") if v.strip()]


class Methods:
    """Method name -> implementation, over the emulator's world."""

    def __init__(
        self,
        world: World,
        media: Media,
        longpoll: Callable[[Group], LongPoll],
        on_event_answer: Callable[[Inbound, dict[str, Any]], None],
    ) -> None:
        self.world = world
        self.media = media
        self.longpoll = longpoll
        self.on_event_answer = on_event_answer
        self.table: dict[str, Callable[[Call], Any]] = {
            "groups.getById": self.groups_get_by_id,
            "groups.getLongPollServer": self.groups_get_long_poll_server,
            "messages.send": self.messages_send,
            "messages.edit": self.messages_edit,
            "messages.delete": self.messages_delete,
            "messages.sendMessageEventAnswer": self.messages_send_message_event_answer,
            "messages.setActivity": self.messages_set_activity,
            "users.get": self.users_get,
            "photos.getMessagesUploadServer": self.photos_get_messages_upload_server,
            "photos.saveMessagesPhoto": self.photos_save_messages_photo,
            "docs.getMessagesUploadServer": self.docs_get_messages_upload_server,
            "docs.save": self.docs_save,
        }

    # groups

    def _group_object(self, group: Group) -> dict[str, Any]:
        return {
            "id": group.id,
            "name": group.name,
            "screen_name": group.screen_name,
            "is_closed": 0,
            "type": "group",
            "photo_50": "https://vk.ru/images/community_50.png",
            "photo_100": "https://vk.ru/images/community_100.png",
            "photo_200": "https://vk.ru/images/community_200.png",
        }

    def _find_group(self, ref: str) -> Group:
        ref = ref.strip()
        for group in self.world.groups.values():
            if ref in (str(group.id), group.screen_name, f"club{group.id}"):
                return group
        raise param_error(f"group_ids is invalid: {ref!r}")

    def groups_get_by_id(self, call: Call) -> dict[str, Any]:
        refs = [r for r in call.get("group_ids").split(",") if r.strip()]
        if call.get("group_id"):
            refs.append(call.get("group_id"))
        groups = [self._find_group(r) for r in refs] or [call.group]
        return {"groups": [self._group_object(g) for g in groups], "profiles": []}

    def groups_get_long_poll_server(self, call: Call) -> dict[str, str]:
        if call.int("group_id") != call.group.id:
            raise VkError(15, "this token belongs to another community")
        if not call.group.longpoll_enabled:
            raise param_error("longpoll for this group is not enabled")
        return self.longpoll(call.group).server_info()

    # messages

    def _text(self, call: Call) -> str:
        text = call.get("message")
        if len(text) > MAX_TEXT:
            raise VkError(914)
        return text

    def _keyboard(self, call: Call) -> Keyboard | None:
        raw = call.get("keyboard")
        return parse_keyboard(raw) if raw else None

    def _content(self, call: Call) -> tuple[str, Keyboard | None, list[Attachment]]:
        text = self._text(call)
        keyboard = self._keyboard(call)
        attachments = self.media.resolve(call.get("attachment"), call.group.id)
        if not text.strip() and not attachments and not call.get("sticker_id"):
            raise param_error("message is empty or invalid")
        return text, keyboard, attachments

    def _recipients(self, call: Call) -> tuple[list[int], bool]:
        if call.get("peer_ids"):
            return call.ints("peer_ids"), True
        for name in ("peer_id", "user_id"):
            value = call.int(name)
            if value is not None:
                return [value], False
        raise param_error("you should specify peer_id, user_id, domain, chat_id or peer_ids param")

    def _check_recipient(self, group: Group, peer_id: int) -> None:
        if peer_id >= CHAT_PEER_START:
            raise VkError(917)
        user = self.world.users.get(peer_id)
        if user is None or not user.allows_messages:
            raise VkError(901)
        if self.world.flood_limit is not None:
            since = self.world.unixtime() - self.world.flood_window
            times = self.world.sent_times.setdefault((group.id, peer_id), [])
            times[:] = [t for t in times if t > since]
            if len(times) >= self.world.flood_limit:
                raise VkError(9, "too many messages to this person, try later")

    def _send_one(self, call: Call, peer_id: int, content: tuple) -> Message:
        group = call.group
        text, keyboard, attachments = content
        random_id = call.int("random_id") or 0
        now = self.world.unixtime()
        conversation = self.world.conversation(group.id, peer_id)
        if random_id:
            seen = self.world.random_ids.get((group.id, peer_id, random_id))
            if seen and now - seen[1] < DEDUP_SECONDS:
                found = conversation.find(message_id=seen[0])
                if found is not None:
                    return found
        self._check_recipient(group, peer_id)
        message = Message(
            id=group.next_message_id(),
            cmid=conversation.next_cmid(),
            peer_id=peer_id,
            from_id=-group.id,
            text=text,
            date=int(now),
            out=True,
            keyboard=keyboard,
            attachments=attachments,
            payload=call.get("payload") or None,
            random_id=random_id,
        )
        conversation.messages.append(message)
        if keyboard is not None and not keyboard.inline:
            conversation.keyboard = keyboard if keyboard.rows else None
        self.world.sent_times.setdefault((group.id, peer_id), []).append(now)
        if random_id:
            self.world.random_ids[(group.id, peer_id, random_id)] = (message.id, now)
        return message

    def messages_send(self, call: Call) -> Any:
        peers, many = self._recipients(call)
        content = self._content(call)
        if not many:
            return self._send_one(call, peers[0], content).id
        answer = []
        for peer_id in peers:
            try:
                message = self._send_one(call, peer_id, content)
            except VkError as exc:
                answer.append(
                    {"peer_id": peer_id, "error": {"code": exc.code, "description": exc.message}}
                )
            else:
                answer.append(
                    {
                        "peer_id": peer_id,
                        "message_id": message.id,
                        "conversation_message_id": message.cmid,
                    }
                )
        return answer

    def _own_message(self, call: Call, peer_id: int, message_id: int | None, cmid: int | None):
        conversation = self.world.conversations.get((call.group.id, peer_id))
        message = conversation.find(message_id=message_id, cmid=cmid) if conversation else None
        if message is None or message.deleted:
            raise param_error("message_id is invalid: no such message in this conversation")
        return message

    def messages_edit(self, call: Call) -> int:
        peer_id = call.int("peer_id") or 0
        cmid = call.int("conversation_message_id") or call.int("cmid")
        message_id = call.int("message_id")
        if message_id is None and cmid is None:
            raise param_error("message_id or conversation_message_id is undefined")
        message = self._own_message(call, peer_id, message_id, cmid)
        if not message.out:
            raise VkError(920)
        if self.world.unixtime() - message.date > EDIT_SECONDS:
            raise VkError(909)
        text, keyboard, attachments = self._content(call)
        message.text, message.keyboard, message.attachments = text, keyboard, attachments
        message.update_time = int(self.world.unixtime())
        if keyboard is not None and not keyboard.inline:
            conversation = self.world.conversation(call.group.id, peer_id)
            conversation.keyboard = keyboard if keyboard.rows else None
        return 1

    def messages_delete(self, call: Call) -> list[dict[str, Any]]:
        group = call.group
        for_all = call.flag("delete_for_all")
        peer_id = call.int("peer_id")
        targets: list[Message] = []
        cmids = call.ints("cmids")
        if cmids:
            if peer_id is None:
                raise param_error("peer_id is undefined")
            targets = [self._own_message(call, peer_id, None, c) for c in cmids]
        elif call.get("message_ids"):
            for message_id in call.ints("message_ids"):
                found = [
                    c.find(message_id=message_id)
                    for (g, _), c in self.world.conversations.items()
                    if g == group.id
                ]
                message = next((m for m in found if m is not None and not m.deleted), None)
                if message is None:
                    raise param_error(f"message_ids is invalid: {message_id}")
                targets.append(message)
        else:
            raise param_error("message_ids is undefined")
        answer = []
        for message in targets:
            if for_all and (not message.out or self.world.unixtime() - message.date > EDIT_SECONDS):
                raise VkError(924)
        for message in targets:
            message.deleted_for_group = True
            message.deleted = message.deleted or for_all
            answer.append(
                {
                    "peer_id": message.peer_id,
                    "message_id": message.id,
                    "conversation_message_id": message.cmid,
                    "response": 1,
                }
            )
        return answer

    def messages_send_message_event_answer(self, call: Call) -> int:
        event_id = call.get("event_id")
        user_id, peer_id = call.int("user_id"), call.int("peer_id")
        inbound = next(
            (
                i
                for i in self.world.inbound
                if i.answer_id == event_id and i.group_id == call.group.id
            ),
            None,
        )
        if inbound is None or inbound.delivered_at is None or inbound.answered:
            raise param_error("event_id is invalid or already answered")
        obj = inbound.update["object"]
        if obj["user_id"] != user_id or obj["peer_id"] != peer_id:
            raise param_error("user_id and peer_id must be those of the event")
        data: dict[str, Any] = {}
        if call.get("event_data"):
            data = self._event_data(call.get("event_data"))
        inbound.answered = True
        self.on_event_answer(inbound, data)
        return 1

    def messages_set_activity(self, call: Call) -> int:
        """ "typing…" in the person's chat for a few seconds (recorded in the call log)."""
        group_id = call.int("group_id")
        if group_id is not None and group_id != call.group.id:
            raise VkError(15, "Access denied: this token belongs to another community")
        peer_id = call.int("peer_id") or call.int("user_id")
        if peer_id is None:
            raise param_error("peer_id is undefined")
        user = self.world.users.get(peer_id)
        if peer_id >= CHAT_PEER_START or user is None or not user.allows_messages:
            raise VkError(901)
        return 1

    @staticmethod
    def _event_data(text: str) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise param_error("event_data is invalid: not a JSON object")
        kind = data.get("type")
        if kind == "show_snackbar":
            snack = data.get("text")
            if not isinstance(snack, str) or not snack or len(snack) > MAX_SNACKBAR:
                raise param_error(f"event_data is invalid: text of 1..{MAX_SNACKBAR} characters")
        elif kind == "open_link":
            link = data.get("link")
            if not isinstance(link, str) or not link.startswith(("http://", "https://")):
                raise param_error("event_data is invalid: open_link needs an http(s) link")
        elif kind == "open_app":
            if not isinstance(data.get("app_id"), int):
                raise param_error("event_data is invalid: open_app needs an app_id")
        else:
            raise param_error(f"event_data is invalid: unknown type {kind!r}")
        return data

    # users

    def users_get(self, call: Call) -> list[dict[str, Any]]:
        fields = [f.strip() for f in call.get("fields").split(",") if f.strip()]
        answer = []
        for ref in (r.strip() for r in call.get("user_ids").split(",")):
            if not ref:
                continue
            user = next(
                (u for u in self.world.users.values() if ref in (str(u.id), u.screen_name)), None
            )
            if user is None:
                if not ref.lstrip("-").isdigit():
                    raise VkError(113)
                answer.append(
                    {
                        "id": int(ref),
                        "first_name": "DELETED",
                        "last_name": "",
                        "deactivated": "deleted",
                    }
                )
                continue
            item: dict[str, Any] = {
                "id": user.id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "can_access_closed": True,
                "is_closed": False,
            }
            for name in fields:
                if name in USER_FIELDS:
                    item[name] = USER_FIELDS[name](user)
            answer.append(item)
        return answer

    # uploads

    def photos_get_messages_upload_server(self, call: Call) -> dict[str, Any]:
        return {
            "album_id": -3,
            "upload_url": self.media.upload_url("photo", call.group.id),
            "user_id": 0,
            "group_id": call.group.id,
        }

    def photos_save_messages_photo(self, call: Call) -> list[dict[str, Any]]:
        date = int(self.world.unixtime())
        return self.media.save_photo(
            call.group.id, call.get("photo"), call.get("server"), call.get("hash"), date
        )

    def docs_get_messages_upload_server(self, call: Call) -> dict[str, Any]:
        kind = call.get("type", "doc") or "doc"
        if kind != "doc":
            raise param_error(f"type {kind!r} is not emulated (only doc)")
        return {"upload_url": self.media.upload_url("doc", call.group.id)}

    def docs_save(self, call: Call) -> dict[str, Any]:
        date = int(self.world.unixtime())
        return self.media.save_doc(call.group.id, call.get("file"), call.get("title"), date)
