"""Sending, editing, deleting, copying and forwarding messages.

Each handler checks what Telegram checks (the chat may be written to, the
text and keyboard are within limits, the file exists, the edit changes
something) before it touches the chat, so a refused call changes nothing.
"""

from __future__ import annotations

import copy
import mimetypes
import secrets
import time
from typing import Any

from .errors import NOT_MODIFIED, WRONG_FILE, bad_request
from .formatting import parse_text
from .limits import check_caption, check_inline_keyboard, check_reply_markup, check_text
from .registry import Ctx, handles
from .spec import Upload
from .state import BotState, ChatState, FileRecord, StoredMessage, image_size

MEDIA_KINDS = ("photo", "document", "video", "animation", "audio", "voice", "sticker", "video_note")
CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "contact",
    "location",
    "venue",
    "dice",
    "poll",
    *MEDIA_KINDS,
)
_SEND_MEDIA = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendAudio": "audio",
    "sendVoice": "voice",
    "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}


def now() -> int:
    return int(time.time())


# -- shared pieces --------------------------------------------------------------------


def bot_is_admin(bot: BotState, chat: ChatState) -> bool:
    return chat.members.get(bot.user.id) in ("administrator", "creator")


def message_thread(bot: BotState, chat: ChatState, thread_id: int | None) -> int | None:
    if thread_id is None:
        return None
    if chat.type != "supergroup":
        raise bad_request("message thread not found")
    if chat.is_forum:
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed and not bot_is_admin(bot, chat):
            raise bad_request("TOPIC_CLOSED")
    elif thread_id not in chat.messages:
        raise bad_request("message thread not found")
    return thread_id


def reply_target(ctx: Ctx, chat: ChatState) -> dict[str, Any] | None:
    params = ctx.get("reply_parameters")
    if params is None and ctx.get("reply_to_message_id") is not None:
        params = {
            "message_id": ctx.get("reply_to_message_id"),
            "allow_sending_without_reply": ctx.get("allow_sending_without_reply", False),
        }
    if not params:
        return None
    source = chat if params.get("chat_id") is None else ctx.bot.find_chat(params["chat_id"])
    stored = source.messages.get(params["message_id"])
    if stored is None:
        if params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    target = copy.deepcopy(stored.api)
    target.pop("reply_to_message", None)
    return target


def formatted(
    ctx: Ctx, text: str | None, mode_key: str, entities_key: str
) -> tuple[str, list[dict[str, Any]]]:
    return parse_text(text or "", ctx.get(mode_key), ctx.get(entities_key))


def caption_content(ctx: Ctx, source: dict[str, Any] | None = None) -> dict[str, Any]:
    """caption + caption_entities from the call (or from an InputMedia item)."""
    params = source if source is not None else ctx.params
    caption = params.get("caption")
    if not caption:
        return {}
    text, entities = parse_text(caption, params.get("parse_mode"), params.get("caption_entities"))
    check_caption(text)
    content: dict[str, Any] = {"caption": text} if text else {}
    if entities:
        content["caption_entities"] = entities
    return content


def post_bot_message(
    ctx: Ctx,
    chat: ChatState,
    content: dict[str, Any],
    *,
    invoice: dict[str, Any] | None = None,
    markup: dict[str, Any] | bool | None = True,
    rate: bool = True,
) -> StoredMessage:
    """Validate the common parameters, then store the message the bot sends."""
    bot = ctx.bot
    thread_id = message_thread(bot, chat, ctx.get("message_thread_id"))
    reply = reply_target(ctx, chat)
    reply_markup = ctx.get("reply_markup") if markup is True else markup or None
    check_reply_markup(reply_markup, invoice=invoice is not None)
    if rate:
        ctx.world.limiter.check(bot.token, chat.id, chat.type == "private")
    api: dict[str, Any] = {
        "message_id": chat.next_message_id(),
        "from": bot.user.to_api(),
        "chat": chat.to_api(),
        "date": now(),
    }
    if thread_id is not None:
        api["message_thread_id"] = thread_id
        if chat.is_forum:
            api["is_topic_message"] = True
    if reply is not None:
        api["reply_to_message"] = reply
    api.update(content)
    if ctx.get("protect_content"):
        api["has_protected_content"] = True
    stored = StoredMessage(api=api, from_bot=True, invoice=invoice)
    apply_markup(chat, stored, reply_markup)
    chat.messages[stored.message_id] = stored
    ctx.record.chat_id = chat.id
    return stored


def apply_markup(chat: ChatState, stored: StoredMessage, markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    if "inline_keyboard" in markup:
        if markup["inline_keyboard"]:
            stored.api["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    elif "keyboard" in markup:
        stored.reply_keyboard = markup
        chat.reply_keyboard = markup
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def resolve_file(ctx: Ctx, value: Any, kind: str, param: str) -> FileRecord:
    """An InputFile or a string: a new upload, attach://name, an HTTP URL or a file_id."""
    if isinstance(value, str) and value.startswith("attach://"):
        attached = ctx.files.get(value[len("attach://") :])
        if attached is None:
            raise bad_request(WRONG_FILE)
        value = attached
    if isinstance(value, Upload):
        return store_upload(ctx, value, kind, param)
    if not isinstance(value, str) or not value:
        raise bad_request(WRONG_FILE)
    if value.startswith(("http://", "https://")):
        name = value.rsplit("/", 1)[-1] or None
        record = ctx.bot.files.add(b"", kind, file_name=name)
        record.width, record.height = (800, 600) if kind == "photo" else (0, 0)
        return record
    record = ctx.bot.files.get(value)
    if record is None:
        raise bad_request(WRONG_FILE)
    if (record.kind == "photo") != (kind == "photo") or (record.kind == "sticker") != (
        kind == "sticker"
    ):
        raise bad_request(f"type of file mismatch: can't use file of type {record.kind} as {kind}")
    return record


def store_upload(ctx: Ctx, upload: Upload, kind: str, param: str) -> FileRecord:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if kind == "photo" and image_size(upload.data) is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    mime = upload.content_type
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(upload.filename)[0] or mime
    record = ctx.bot.files.add(upload.data, kind, file_name=upload.filename, mime_type=mime)
    ctx.record.uploads.append(param)
    return record


def media_object(record: FileRecord, kind: str) -> Any:
    """The Bot API object (PhotoSize list, Document, ...) for a stored file."""
    base: dict[str, Any] = {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
    }
    if kind == "photo":
        width, height = (record.width, record.height) if record.width else (800, 600)
        return [{**base, "width": width, "height": height}]
    if kind == "sticker":
        return {
            **base,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    if kind == "voice":
        return {**base, "duration": 3, "mime_type": record.mime_type or "audio/ogg"}
    if kind == "video_note":
        return {**base, "length": 240, "duration": 3}
    named = {**base}
    if record.file_name:
        named["file_name"] = record.file_name
    if record.mime_type:
        named["mime_type"] = record.mime_type
    if kind in ("video", "animation"):
        return {
            **named,
            "width": record.width or 640,
            "height": record.height or 480,
            "duration": 3,
        }
    if kind == "audio":
        return {**named, "duration": 3}
    return named


def public(stored: StoredMessage) -> dict[str, Any]:
    return copy.deepcopy(stored.api)


def media_kind(api: dict[str, Any]) -> str | None:
    return next((kind for kind in MEDIA_KINDS if kind in api), None)


# -- sending --------------------------------------------------------------------------


@handles("sendMessage")
async def send_message(ctx: Ctx) -> dict[str, Any]:
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    text, entities = formatted(ctx, ctx.get("text"), "parse_mode", "entities")
    check_text(text)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    if ctx.get("link_preview_options"):
        content["link_preview_options"] = ctx.get("link_preview_options")
    return public(post_bot_message(ctx, chat, content))


@handles(*_SEND_MEDIA)
async def send_media(ctx: Ctx) -> dict[str, Any]:
    kind = _SEND_MEDIA[ctx.method]
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    content = caption_content(ctx)
    record = resolve_file(ctx, ctx.get(kind), kind, kind)
    content[kind] = media_object(record, kind)
    if kind == "sticker" and ctx.get("emoji"):
        content[kind]["emoji"] = ctx.get("emoji")
    return public(post_bot_message(ctx, chat, content))


@handles("sendMediaGroup")
async def send_media_group(ctx: Ctx) -> list[dict[str, Any]]:
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    items = ctx.get("media")
    if not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media in the album: must be 2-10 items")
    kinds = {item.get("type") for item in items}
    if len(kinds) > 1 and not kinds <= {"photo", "video"}:
        raise bad_request(
            "MEDIA_GROUP_INVALID: documents and audio can't be mixed with other media"
        )
    contents = []
    for i, item in enumerate(items):
        kind = item.get("type")
        if kind not in ("photo", "video", "document", "audio"):
            raise bad_request("can't parse media JSON object")
        content = caption_content(ctx, item)
        record = resolve_file(ctx, item.get("media"), kind, f"media[{i}]")
        content[kind] = media_object(record, kind)
        contents.append(content)
    ctx.world.limiter.check(ctx.bot.token, chat.id, chat.type == "private", count=len(items))
    group_id = str(secrets.randbits(62))
    sent = []
    for content in contents:
        content["media_group_id"] = group_id
        sent.append(public(post_bot_message(ctx, chat, content, markup=None, rate=False)))
    return sent


@handles("sendContact")
async def send_contact(ctx: Ctx) -> dict[str, Any]:
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    contact = {"phone_number": ctx.get("phone_number"), "first_name": ctx.get("first_name")}
    if ctx.get("last_name"):
        contact["last_name"] = ctx.get("last_name")
    return public(post_bot_message(ctx, chat, {"contact": contact}))


@handles("sendLocation")
async def send_location(ctx: Ctx) -> dict[str, Any]:
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    location = {"latitude": ctx.get("latitude"), "longitude": ctx.get("longitude")}
    return public(post_bot_message(ctx, chat, {"location": location}))


@handles("sendChatAction")
async def send_chat_action(ctx: Ctx) -> bool:
    ctx.bot.writable_chat(ctx.get("chat_id"))
    if ctx.get("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


# -- editing --------------------------------------------------------------------------


def edit_target(ctx: Ctx) -> tuple[ChatState, StoredMessage]:
    if ctx.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    if ctx.get("chat_id") is None:
        raise bad_request("chat_id is empty")
    if ctx.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    stored = ctx.bot.message(chat, ctx.get("message_id"), "message to edit not found")
    if not stored.from_bot or stored.invoice is not None:
        raise bad_request("message can't be edited")
    ctx.record.chat_id = chat.id
    return chat, stored


def new_inline_markup(ctx: Ctx) -> dict[str, Any] | None:
    markup = ctx.get("reply_markup")
    if not markup or not markup.get("inline_keyboard"):
        return None
    check_inline_keyboard(markup)
    return {"inline_keyboard": markup["inline_keyboard"]}


def finish_edit(
    stored: StoredMessage,
    changes: dict[str, Any],
    removed: tuple[str, ...],
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    """Apply an edit, refusing one that changes nothing, as Telegram does."""
    new = {k: v for k, v in stored.api.items() if k not in removed and k != "reply_markup"}
    new.update(changes)
    if markup is not None:
        new["reply_markup"] = markup
    old_view = {k: v for k, v in stored.api.items() if k != "edit_date"}
    new_view = {k: v for k, v in new.items() if k != "edit_date"}
    if old_view == new_view:
        raise bad_request(NOT_MODIFIED)
    new["edit_date"] = now()
    stored.api = new
    return public(stored)


@handles("editMessageText")
async def edit_message_text(ctx: Ctx) -> dict[str, Any]:
    _, stored = edit_target(ctx)
    if "text" not in stored.api:
        raise bad_request("there is no text in the message to edit")
    text, entities = formatted(ctx, ctx.get("text"), "parse_mode", "entities")
    check_text(text, edit=True)
    changes: dict[str, Any] = {"text": text}
    if entities:
        changes["entities"] = entities
    if ctx.get("link_preview_options"):
        changes["link_preview_options"] = ctx.get("link_preview_options")
    return finish_edit(stored, changes, ("entities",), new_inline_markup(ctx))


@handles("editMessageCaption")
async def edit_message_caption(ctx: Ctx) -> dict[str, Any]:
    _, stored = edit_target(ctx)
    if media_kind(stored.api) is None:
        raise bad_request("there is no caption in the message to edit")
    changes = caption_content(ctx)
    return finish_edit(stored, changes, ("caption", "caption_entities"), new_inline_markup(ctx))


@handles("editMessageMedia")
async def edit_message_media(ctx: Ctx) -> dict[str, Any]:
    _, stored = edit_target(ctx)
    old_kind = media_kind(stored.api)
    if old_kind is None:
        raise bad_request("there is no media in the message to edit")
    item = ctx.get("media")
    kind = item.get("type")
    if kind not in ("photo", "video", "animation", "audio", "document"):
        raise bad_request("can't parse media JSON object")
    changes = caption_content(ctx, item)
    record = resolve_file(ctx, item.get("media"), kind, "media")
    changes[kind] = media_object(record, kind)
    old_file = _file_id(stored.api.get(old_kind))
    if old_kind == kind and old_file == record.file_id:
        changes[kind] = stored.api[old_kind]
    removed = ("caption", "caption_entities", *MEDIA_KINDS)
    return finish_edit(stored, changes, removed, new_inline_markup(ctx))


def _file_id(media: Any) -> str | None:
    if isinstance(media, list):
        return media[-1]["file_id"] if media else None
    if isinstance(media, dict):
        return media.get("file_id")
    return None


@handles("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx) -> dict[str, Any]:
    _, stored = edit_target(ctx)
    return finish_edit(stored, {}, (), new_inline_markup(ctx))


# -- deleting, copying, forwarding ----------------------------------------------------


@handles("deleteMessage")
async def delete_message(ctx: Ctx) -> bool:
    chat = ctx.bot.find_chat(ctx.get("chat_id"))
    stored = ctx.bot.message(chat, ctx.get("message_id"), "message to delete not found")
    if not stored.from_bot and chat.type != "private" and not bot_is_admin(ctx.bot, chat):
        raise bad_request("message can't be deleted")
    del chat.messages[stored.message_id]
    ctx.record.chat_id = chat.id
    return True


@handles("deleteMessages")
async def delete_messages(ctx: Ctx) -> bool:
    chat = ctx.bot.find_chat(ctx.get("chat_id"))
    for message_id in ctx.get("message_ids"):
        chat.messages.pop(message_id, None)
    ctx.record.chat_id = chat.id
    return True


def _source(ctx: Ctx, missing: str) -> tuple[ChatState, StoredMessage, dict[str, Any]]:
    source_chat = ctx.bot.find_chat(ctx.get("from_chat_id"))
    stored = ctx.bot.message(source_chat, ctx.get("message_id"), missing)
    content = {k: copy.deepcopy(v) for k, v in stored.api.items() if k in CONTENT_KEYS}
    if not content:
        raise bad_request("the message can't be copied")
    return source_chat, stored, content


@handles("copyMessage")
async def copy_message(ctx: Ctx) -> dict[str, Any]:
    _, _, content = _source(ctx, "message to copy not found")
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    if ctx.get("caption") is not None and media_kind(content):
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(caption_content(ctx))
    stored = post_bot_message(ctx, chat, content)
    return {"message_id": stored.message_id}


@handles("forwardMessage")
async def forward_message(ctx: Ctx) -> dict[str, Any]:
    source_chat, original, content = _source(ctx, "message to forward not found")
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    sender = original.api.get("from")
    if source_chat.type == "private" or sender is not None:
        origin = {"type": "user", "date": original.api["date"], "sender_user": sender}
    else:
        origin = {"type": "chat", "date": original.api["date"], "sender_chat": source_chat.to_api()}
    content["forward_origin"] = origin
    return public(post_bot_message(ctx, chat, content, markup=None))
