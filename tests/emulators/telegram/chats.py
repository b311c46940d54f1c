"""The bot itself, chats and members, commands, forum topics and files."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import bad_request
from .messages import bot_is_admin, now
from .registry import Ctx, handles
from .state import ChatState, StoredMessage, TopicState, UserState

TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
MAX_FILE_DOWNLOAD = 20 * 1024 * 1024


@handles("getMe")
async def get_me(ctx: Ctx) -> dict[str, Any]:
    return {
        **ctx.bot.user.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@handles("logOut", "close")
async def log_out(ctx: Ctx) -> bool:
    return True


# -- chats and members ----------------------------------------------------------------


@handles("getChat")
async def get_chat(ctx: Ctx) -> dict[str, Any]:
    return ctx.bot.find_chat(ctx.get("chat_id")).full_info()


def member_object(user: UserState, status: str) -> dict[str, Any]:
    """A ChatMember of the given status with the fields aiogram requires."""
    data: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_send_welcome_messages=False,
            can_pin_messages=True,
            can_manage_topics=True,
        )
    elif status == "restricted":
        data.update(is_member=True, until_date=0)
        for right in (
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_react_to_messages",
            "can_edit_tag",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
        ):
            data[right] = False
    elif status == "kicked":
        data["until_date"] = 0
    return data


def _member_user(ctx: Ctx, user_id: int) -> UserState:
    if user_id == ctx.bot.user.id:
        return ctx.bot.user
    user = ctx.world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    return user


def member_status(ctx: Ctx, chat: ChatState, user_id: int) -> str:
    if chat.type == "private":
        if user_id not in (chat.id, ctx.bot.user.id):
            raise bad_request("user not found")
        return (
            "kicked" if user_id == ctx.bot.user.id and chat.id in ctx.bot.blocked_by else "member"
        )
    return chat.members.get(user_id, "left")


@handles("getChatMember")
async def get_chat_member(ctx: Ctx) -> dict[str, Any]:
    chat = ctx.bot.find_chat(ctx.get("chat_id"))
    user = _member_user(ctx, ctx.get("user_id"))
    return member_object(user, member_status(ctx, chat, user.id))


@handles("getChatAdministrators")
async def get_chat_administrators(ctx: Ctx) -> list[dict[str, Any]]:
    chat = ctx.bot.find_chat(ctx.get("chat_id"))
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [
        member_object(_member_user(ctx, user_id), status)
        for user_id, status in chat.members.items()
        if status in ("creator", "administrator")
    ]


@handles("getChatMemberCount")
async def get_chat_member_count(ctx: Ctx) -> int:
    chat = ctx.bot.find_chat(ctx.get("chat_id"))
    if chat.type == "private":
        return 2
    return sum(1 for status in chat.members.values() if status not in ("left", "kicked"))


# -- commands -------------------------------------------------------------------------


def _scope_key(ctx: Ctx) -> str:
    scope = ctx.get("scope") or {"type": "default"}
    if scope.get("type") not in _SCOPES:
        raise bad_request("can't parse bot command scope JSON object")
    if "chat_id" in scope:
        scope = {**scope, "chat_id": ctx.bot.find_chat(scope["chat_id"]).id}
    return json.dumps(scope, sort_keys=True)


def _language(ctx: Ctx) -> str:
    code = ctx.get("language_code") or ""
    if code and not re.match(r"^[a-z]{2}$", code):
        raise bad_request("invalid language code specified")
    return code


@handles("setMyCommands")
async def set_my_commands(ctx: Ctx) -> bool:
    commands = ctx.get("commands")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    for command in commands:
        if not _COMMAND_RE.match(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"]) <= 256:
            raise bad_request("command description must be 1-256 characters")
    key = (_scope_key(ctx), _language(ctx))
    ctx.bot.commands[key] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@handles("getMyCommands")
async def get_my_commands(ctx: Ctx) -> list[dict[str, Any]]:
    return list(ctx.bot.commands.get((_scope_key(ctx), _language(ctx)), []))


@handles("deleteMyCommands")
async def delete_my_commands(ctx: Ctx) -> bool:
    ctx.bot.commands.pop((_scope_key(ctx), _language(ctx)), None)
    return True


# -- forum topics ---------------------------------------------------------------------


def _forum(ctx: Ctx) -> ChatState:
    chat = ctx.bot.writable_chat(ctx.get("chat_id"))
    ctx.record.chat_id = chat.id
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not bot_is_admin(ctx.bot, chat):
        raise bad_request("not enough rights to manage topics")
    return chat


def _topic(ctx: Ctx, chat: ChatState) -> TopicState:
    topic = chat.topics.get(ctx.get("message_thread_id"))
    if topic is None:
        raise bad_request("message thread not found")
    return topic


def _service(ctx: Ctx, chat: ChatState, thread_id: int, content: dict[str, Any]) -> None:
    message_id = thread_id if not chat.topics.get(thread_id) else chat.next_message_id()
    api = {
        "message_id": message_id,
        "from": ctx.bot.user.to_api(),
        "chat": chat.to_api(),
        "date": now(),
        "message_thread_id": thread_id,
        "is_topic_message": True,
        **content,
    }
    chat.messages[message_id] = StoredMessage(api=api, from_bot=True)


@handles("createForumTopic")
async def create_forum_topic(ctx: Ctx) -> dict[str, Any]:
    chat = _forum(ctx)
    name = ctx.get("name")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    color = ctx.get("icon_color", TOPIC_COLORS[0])
    if color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    thread_id = chat.next_message_id()
    created: dict[str, Any] = {"name": name, "icon_color": color}
    if ctx.get("icon_custom_emoji_id"):
        created["icon_custom_emoji_id"] = ctx.get("icon_custom_emoji_id")
    _service(ctx, chat, thread_id, {"forum_topic_created": created})
    topic = TopicState(thread_id, name, color, ctx.get("icon_custom_emoji_id"))
    chat.topics[thread_id] = topic
    return topic.to_api()


@handles("editForumTopic")
async def edit_forum_topic(ctx: Ctx) -> bool:
    chat = _forum(ctx)
    topic = _topic(ctx, chat)
    name = ctx.get("name", topic.name) or topic.name
    emoji = ctx.get("icon_custom_emoji_id", topic.icon_custom_emoji_id)
    if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name, topic.icon_custom_emoji_id = name, emoji
    _service(ctx, chat, topic.thread_id, {"forum_topic_edited": {"name": name}})
    return True


@handles("closeForumTopic", "reopenForumTopic")
async def close_forum_topic(ctx: Ctx) -> bool:
    chat = _forum(ctx)
    topic = _topic(ctx, chat)
    closing = ctx.method == "closeForumTopic"
    if topic.closed == closing:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closing
    event = "forum_topic_closed" if closing else "forum_topic_reopened"
    _service(ctx, chat, topic.thread_id, {event: {}})
    return True


@handles("deleteForumTopic")
async def delete_forum_topic(ctx: Ctx) -> bool:
    chat = _forum(ctx)
    topic = _topic(ctx, chat)
    del chat.topics[topic.thread_id]
    for message_id in [
        m for m, s in chat.messages.items() if s.api.get("message_thread_id") == topic.thread_id
    ]:
        del chat.messages[message_id]
    return True


# -- files ----------------------------------------------------------------------------


@handles("getFile")
async def get_file(ctx: Ctx) -> dict[str, Any]:
    record = ctx.bot.files.get(ctx.get("file_id"))
    if record is None:
        raise bad_request("invalid file_id")
    if record.size > MAX_FILE_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
        "file_path": record.file_path,
    }
