"""Laying a Screen's buttons out as a VK keyboard, within VK's limits.

An inline keyboard (callback buttons under the message) holds at most 6 rows and 10 buttons.
A screen with more, or a client that cannot show inline buttons, gets a one-time standard
keyboard of text buttons (10 rows, 40 buttons) instead: VK hides it after a press, so no
stale keyboard stays under the input field. Labels are cut to 40 characters (in the
middle), rows to 5.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vk_api.keyboard import VkKeyboard, VkKeyboardColor

from bot.vk.events import action_payload
from handlers.screens import Button, Screen

log = logging.getLogger(__name__)

INLINE_ROWS, INLINE_BUTTONS = 6, 10
STANDARD_ROWS, STANDARD_BUTTONS = 10, 40
PER_ROW = 5
LABEL_LIMIT = 40
PAYLOAD_LIMIT = 255

Rows = list[list[Button]]


@dataclass(frozen=True)
class Layout:
    """The ``keyboard`` parameter for a screen (None: no buttons) and whether it is inline."""

    keyboard: str | None
    inline: bool


def _label(text: str) -> str:
    """The label within VK's 40 characters, cut in the middle: its start (a mark, a number)
    and its end (a price, "sold out") are what a person reads a label by."""
    text = text.strip() or "·"
    if len(text) <= LABEL_LIMIT:
        return text
    head = (LABEL_LIMIT - 1) // 2
    tail = LABEL_LIMIT - 1 - head
    return text[:head].rstrip() + "…" + text[-tail:].lstrip()


def _usable(button: Button) -> bool:
    if button.url:
        return button.url.startswith(("http://", "https://"))
    if button.action and len(action_payload(button.action)) <= PAYLOAD_LIMIT:
        return True
    log.error("dropped a button VK cannot carry: %r", button)
    return False


def _rows(screen: Screen) -> Rows:
    """The screen's usable buttons, rows longer than VK allows split."""
    rows: Rows = []
    for row in screen.buttons:
        buttons = [button for button in row if _usable(button)]
        rows += [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    return rows


def _pack(rows: Rows, max_rows: int) -> Rows:
    """Merge neighbouring short rows (smallest pair first) until at most ``max_rows`` remain."""
    rows = [list(row) for row in rows]
    while len(rows) > max_rows:
        pairs = [
            (len(rows[i]) + len(rows[i + 1]), i)
            for i in range(len(rows) - 1)
            if len(rows[i]) + len(rows[i + 1]) <= PER_ROW
        ]
        if not pairs:
            break
        _, i = min(pairs)
        rows[i : i + 2] = [rows[i] + rows[i + 1]]
    return rows


def _fit(rows: Rows, max_rows: int, max_buttons: int) -> Rows | None:
    if sum(len(row) for row in rows) > max_buttons:
        return None
    packed = _pack(rows, max_rows)
    return packed if len(packed) <= max_rows else None


def _trim(rows: Rows) -> Rows:
    """The last resort for a screen too big for any keyboard: keep the first and last rows."""
    log.warning("a screen has more buttons than a VK keyboard holds; some are left out")
    packed = _pack(rows, STANDARD_ROWS)
    while len(packed) > 1 and (
        len(packed) > STANDARD_ROWS or sum(len(row) for row in packed) > STANDARD_BUTTONS
    ):
        del packed[-2]
    return packed


def _build(rows: Rows, inline: bool) -> str:
    keyboard = VkKeyboard(one_time=not inline, inline=inline)
    for n, row in enumerate(rows):
        if n:
            keyboard.add_line()
        for button in row:
            label = _label(button.text)
            if button.url:
                keyboard.add_openlink_button(label, button.url)
            elif inline:
                keyboard.add_callback_button(
                    label, VkKeyboardColor.SECONDARY, action_payload(button.action or "")
                )
            else:
                keyboard.add_button(
                    label, VkKeyboardColor.SECONDARY, action_payload(button.action or "")
                )
    return keyboard.get_keyboard()


def layout(screen: Screen, inline_ok: bool = True) -> Layout:
    """The keyboard for ``screen``: inline when it fits and the client can show it."""
    rows = _rows(screen)
    if not rows:
        return Layout(None, inline=True)
    if inline_ok:
        fitting = _fit(rows, INLINE_ROWS, INLINE_BUTTONS)
        if fitting is not None:
            return Layout(_build(fitting, inline=True), inline=True)
    standard = _fit(rows, STANDARD_ROWS, STANDARD_BUTTONS) or _trim(rows)
    return Layout(_build(standard, inline=False), inline=False)
