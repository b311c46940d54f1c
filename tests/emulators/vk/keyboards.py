"""Bot keyboards: parsed and checked the way VK does before it shows them.

Limits (dev.vk.com, "Keyboard for bots"): a standard keyboard has at most 10 rows and
40 buttons, an inline one at most 6 rows and 10 buttons; at most 5 buttons a row;
location, vkpay and open_app buttons take a whole row; a label is at most 40
characters; a payload is a JSON string of at most 255 characters. Anything else is
error 911 "Keyboard format is invalid".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.emulators.vk.errors import VkError

MAX_ROWS = {False: 10, True: 6}
MAX_BUTTONS = {False: 40, True: 10}
MAX_PER_ROW = 5
MAX_LABEL = 40
MAX_PAYLOAD = 255
BUTTON_TYPES = frozenset({"text", "callback", "open_link", "location", "vkpay", "open_app"})
FULL_WIDTH = frozenset({"location", "vkpay", "open_app"})
LABELLED = frozenset({"text", "callback", "open_link", "open_app"})
COLORED = frozenset({"text", "callback"})
COLORS = frozenset({"primary", "secondary", "negative", "positive", "default"})


@dataclass(frozen=True)
class Button:
    """One button as the person sees it: what it says and what pressing it does."""

    type: str
    label: str
    payload: str | None = None
    color: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Keyboard:
    """A keyboard the bot sent: inline (under a message) or standard (under the input)."""

    rows: tuple[tuple[Button, ...], ...]
    inline: bool = False
    one_time: bool = False

    @property
    def labels(self) -> list[list[str]]:
        return [[button.label for button in row] for row in self.rows]

    @property
    def buttons(self) -> list[Button]:
        return [button for row in self.rows for button in row]

    def find(self, label: str) -> Button | None:
        return next((b for b in self.buttons if b.label == label), None)


def _invalid(detail: str) -> VkError:
    return VkError(911, detail)


def _payload(action: dict[str, Any], where: str) -> str | None:
    payload = action.get("payload")
    if payload is None:
        return None
    if not isinstance(payload, str):
        raise _invalid(f"{where}: payload must be a string")
    if len(payload) > MAX_PAYLOAD:
        raise _invalid(f"{where}: payload is longer than {MAX_PAYLOAD} characters")
    try:
        json.loads(payload)
    except ValueError as exc:
        raise _invalid(f"{where}: payload must be valid JSON") from exc
    return payload


def _label(action: dict[str, Any], kind: str, where: str) -> str:
    if kind == "location":
        return "Отправить своё местоположение"
    if kind == "vkpay":
        return "Оплатить через VK Pay"
    label = action.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _invalid(f"{where}: label is required")
    if len(label) > MAX_LABEL:
        raise _invalid(f"{where}: label is longer than {MAX_LABEL} characters")
    return label


def _button(raw: Any, where: str) -> Button:
    if not isinstance(raw, dict) or not isinstance(raw.get("action"), dict):
        raise _invalid(f"{where}: action is required")
    action = raw["action"]
    kind = action.get("type")
    if kind not in BUTTON_TYPES:
        raise _invalid(f"{where}: unknown action type {kind!r}")
    color = raw.get("color")
    if color is not None and (kind not in COLORED or color not in COLORS):
        raise _invalid(f"{where}: color {color!r} is not allowed here")
    link = action.get("link")
    if kind == "open_link" and not (
        isinstance(link, str) and link.startswith(("http://", "https://"))
    ):
        raise _invalid(f"{where}: open_link needs an http(s) link")
    if kind == "vkpay" and not isinstance(action.get("hash"), str):
        raise _invalid(f"{where}: vkpay needs a hash")
    if kind == "open_app" and not isinstance(action.get("app_id"), int):
        raise _invalid(f"{where}: open_app needs an app_id")
    return Button(kind, _label(action, kind, where), _payload(action, where), color, link)


def parse_keyboard(text: str) -> Keyboard:
    """The keyboard in `text` (the `keyboard` parameter), or error 911."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise _invalid("keyboard is not valid JSON") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("buttons"), list):
        raise _invalid("buttons is required")
    inline = raw.get("inline", False)
    one_time = raw.get("one_time", False)
    if not isinstance(inline, bool) or not isinstance(one_time, bool):
        raise _invalid("inline and one_time must be booleans")
    if inline and one_time:
        raise _invalid("one_time is not allowed for an inline keyboard")
    rows_raw = raw["buttons"]
    if len(rows_raw) > MAX_ROWS[inline]:
        raise _invalid(f"at most {MAX_ROWS[inline]} rows")
    rows: list[tuple[Button, ...]] = []
    for r, row_raw in enumerate(rows_raw):
        if not isinstance(row_raw, list) or not row_raw:
            raise _invalid(f"row {r} must be a non-empty array of buttons")
        if len(row_raw) > MAX_PER_ROW:
            raise _invalid(f"row {r}: at most {MAX_PER_ROW} buttons in a row")
        row = tuple(_button(b, f"button [{r}][{c}]") for c, b in enumerate(row_raw))
        wide = [b.type for b in row if b.type in FULL_WIDTH]
        if wide and len(row) > 1:
            raise _invalid(f"row {r}: a {wide[0]} button takes the whole row")
        rows.append(row)
    total = sum(len(row) for row in rows)
    if total > MAX_BUTTONS[inline]:
        raise _invalid(f"at most {MAX_BUTTONS[inline]} buttons, got {total}")
    return Keyboard(tuple(rows), inline=inline, one_time=one_time)
