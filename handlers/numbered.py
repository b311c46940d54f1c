"""Choices by number, for a person whose app shows no buttons (the Event's capabilities say
so): a screen's buttons become numbered lines of its text, links stay links, and the number
typed next acts as that button's press.

What each number means is kept in the person's conversation state, in the transaction that
answered, so any worker (or the next run) reads the number the way the person saw it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from handlers.screens import Button, Reply, Screen
from handlers.texts import t
from shop.conversation import State

CHOICES = "menu"
"""Where the state keeps number -> action for the last screens shown."""
NOTHING = "x"  # a label-only button (a page number, a quantity): shown, never numbered
_NUMBER = re.compile(r"\s*(\d{1,3})\s*[.)]?\s*")


def chosen(state: State, text: str) -> str | None:
    """The action of the choice ``text`` names by its number, None if it names none."""
    match = _NUMBER.fullmatch(text)
    choices = state.data.get(CHOICES)
    if match is None or not isinstance(choices, dict):
        return None
    action = choices.get(str(int(match.group(1))))
    return action if isinstance(action, str) else None


def _item(button: Button, choices: dict[str, str]) -> str:
    if button.url:
        return f"{button.text}: {button.url}"
    if not button.action or button.action == NOTHING:
        return button.text
    number = str(len(choices) + 1)
    choices[number] = button.action
    return f"{number}. {button.text}"


def _numbered(screen: Screen, choices: dict[str, str], language: str) -> Screen:
    """The screen with its buttons as lines of text, one line per row."""
    if not screen.buttons:
        return screen
    lines = ["   ".join(_item(button, choices) for button in row) for row in screen.buttons]
    text = "\n".join([screen.text, "", *lines, "", t(language, "numbered.hint")])
    return replace(screen, text=text, buttons=())


def number_choices(reply: Reply, state: State, language: str) -> Reply:
    """The reply with every screen's choices numbered (on from 1 across its screens), and
    the numbers remembered in ``state`` (the last reply's replace the ones before)."""
    choices: dict[str, str] = {}
    screens = [_numbered(screen, choices, language) for screen in reply.screens]
    if choices:
        state.data[CHOICES] = choices
    elif reply.screens:
        state.data.pop(CHOICES, None)
    return Reply(screens, reply.toast)


def forget_choices(state: State) -> None:
    """Numbers shown once mean nothing to a person who now has buttons."""
    state.data.pop(CHOICES, None)
