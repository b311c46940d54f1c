"""The VK adapter's pure parts: group events into Events, Screens into keyboards within limits."""

from __future__ import annotations

import json
from typing import Any

from bot.vk.events import parse_update
from bot.vk.keyboards import layout
from bot.vk.render import random_id_for
from handlers.events import EventKind
from handlers.screens import Button, Screen
from shop.accounts import AccountRef, Channel
from tests.emulators.vk.keyboards import parse_keyboard

GROUP = 227_000_001
PERSON = 700_000_001


def message_new(text: str = "", **message: Any) -> dict[str, Any]:
    body = {"from_id": PERSON, "peer_id": PERSON, "id": 5, "text": text, **message}
    client = {"button_actions": ["text", "callback"], "inline_keyboard": True, "lang_id": 3}
    return {
        "type": "message_new",
        "group_id": GROUP,
        "event_id": "e1",
        "object": {"message": body, "client_info": client},
    }


def message_event(payload: object) -> dict[str, Any]:
    obj = {
        "user_id": PERSON,
        "peer_id": PERSON,
        "event_id": "a1",
        "payload": payload,
        "conversation_message_id": 7,
    }
    return {"type": "message_event", "group_id": GROUP, "event_id": "e2", "object": obj}


def test_start_words_buttons_and_links_become_the_start_command() -> None:
    for raw in (
        message_new("Начать"),
        message_new("start"),
        message_new("Начать", payload='{"command":"start"}', ref="p_12"),
        message_new("/start p_12"),
    ):
        update = parse_update(raw, GROUP)
        assert update is not None
        assert (update.event.kind, update.event.command) == (EventKind.COMMAND, "start")
    linked = parse_update(message_new("Начать", payload='{"command":"start"}', ref="p_12"), GROUP)
    assert linked is not None and linked.event.text == "p_12"


def test_a_message_becomes_text_action_or_media_with_who_and_language() -> None:
    text = parse_update(message_new("кеды"), GROUP)
    assert text is not None
    assert (text.event.kind, text.event.text, text.event.update_id) == (
        EventKind.TEXT,
        "кеды",
        "e1",
    )
    assert text.event.account == AccountRef(Channel.VK, PERSON)
    assert (text.event.language_code, text.inline_ok) == ("en", True)
    pressed = parse_update(message_new("🛒 Корзина", payload='{"a":"cart"}'), GROUP)
    assert pressed is not None and (pressed.event.kind, pressed.event.action) == (
        EventKind.ACTION,
        "cart",
    )
    photo = parse_update(message_new("", attachments=[{"type": "photo"}]), GROUP)
    assert photo is not None and photo.event.kind is EventKind.MEDIA
    command = parse_update(message_new("/catalog"), GROUP)
    assert command is not None and command.event.command == "catalog"


def test_chats_other_communities_and_empty_messages_are_not_answered() -> None:
    assert parse_update(message_new("hi", peer_id=2_000_000_001), GROUP) is None
    assert parse_update(message_new("hi", from_id=-5, peer_id=-5), GROUP) is None
    assert parse_update(message_new("hi"), GROUP + 1) is None
    assert parse_update(message_new(""), GROUP) is None
    assert parse_update({"type": "wall_post_new", "group_id": GROUP, "object": {}}, GROUP) is None


def test_a_button_press_carries_its_action_and_a_forged_one_none() -> None:
    update = parse_update(message_event({"a": "p:12"}), GROUP)
    assert update is not None and update.press is not None
    assert (update.event.kind, update.event.action) == (EventKind.ACTION, "p:12")
    assert (update.press.event_id, update.press.cmid) == ("a1", 7)
    for forged in ({"a": 12}, {}, "nonsense", None, [1]):
        update = parse_update(message_event(forged), GROUP)
        assert update is not None and update.event.action == ""


def _buttons(count: int, per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    flat = [Button(f"Товар {n}", action=f"p:{n}") for n in range(count)]
    return tuple(tuple(flat[i : i + per_row]) for i in range(0, count, per_row))


def _parsed(screen: Screen, inline_ok: bool = True) -> Any:
    keyboard = layout(screen, inline_ok).keyboard
    assert keyboard is not None
    return parse_keyboard(keyboard)  # the emulator's check: raises VK's error 911


def test_a_small_screen_gets_inline_callback_buttons() -> None:
    keyboard = _parsed(Screen("Меню", _buttons(6, per_row=2)))
    assert keyboard.inline and {b.type for b in keyboard.buttons} == {"callback"}
    assert json.loads(keyboard.buttons[0].payload) == {"a": "p:0"}


def test_too_many_rows_are_packed_into_six() -> None:
    keyboard = _parsed(Screen("Страница", _buttons(8)))
    assert keyboard.inline and len(keyboard.rows) == 6 and len(keyboard.buttons) == 8


def test_too_many_buttons_fall_back_to_a_one_time_standard_keyboard() -> None:
    keyboard = _parsed(Screen("Товар", _buttons(11, per_row=3)))
    assert not keyboard.inline and keyboard.one_time
    assert {b.type for b in keyboard.buttons} == {"text"} and len(keyboard.buttons) == 11
    assert not _parsed(Screen("Меню", _buttons(2)), inline_ok=False).inline


def test_whatever_the_screen_the_keyboard_is_valid() -> None:
    huge = _parsed(Screen("Всё", _buttons(60, per_row=7)))
    assert len(huge.buttons) <= 40 and huge.buttons[-1].label == "Товар 59"
    odd = Screen(
        "Разное",
        (
            (Button("Очень длинное название кнопки, которое не влезет никуда"),),
            (Button("Сайт", url="https://example.com"), Button("", action="m")),
            (Button("Слишком длинное действие", action="x" * 300),),
        ),
    )
    keyboard = _parsed(odd)
    assert [b.type for b in keyboard.buttons] == ["open_link", "callback"]
    assert layout(Screen("Без кнопок")).keyboard is None


def test_random_ids_are_fixed_by_the_update_and_the_screen() -> None:
    assert random_id_for("e1", 0) == random_id_for("e1", 0)
    assert random_id_for("e1", 0) != random_id_for("e1", 1)
    assert 0 < random_id_for("e2", 3) < 2**31
