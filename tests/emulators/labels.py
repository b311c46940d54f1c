"""Loose button-label matching for the emulator console, the same for Telegram and VK.

A person types part of a label: spaces, case, emoji and "ё" do not matter, and any part
that names one button is enough (`корз` presses "🛒 Корзина"). The drivers keep their own
exact matching; the console resolves what was typed to the exact label first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Categories dropped before comparing: symbols (emoji, ₽, arrows), format characters (the
# zero-width joiner in composed emoji), separators (spaces of every kind).
_DROPPED = ("S", "Z", "Cf", "Cc")
_EMOJI_MARKS = {"\ufe0e", "\ufe0f", "\u20e3"}  # variation selectors, the keycap mark


class LabelError(ValueError):
    """Nothing, or more than one button, matches what was typed (the message lists them)."""

    def __init__(self, message: str, candidates: list[str], *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.candidates = candidates
        self.ambiguous = ambiguous


def normalize(label: str) -> str:
    """The label as compared: no spaces, emoji or symbols, lower case, "ё" read as "е"."""
    kept = []
    for char in unicodedata.normalize("NFC", label):
        if char in _EMOJI_MARKS or unicodedata.category(char).startswith(_DROPPED):
            continue
        kept.append(char)
    return "".join(kept).casefold().replace("ё", "е")


def match_label(typed: str, labels: Iterable[str]) -> str:
    """The one label `typed` names, exactly as the bot wrote it.

    An exact label wins, then one equal after normalizing, then the only one containing
    the typed part, then the only one starting with it. Otherwise LabelError lists the
    candidates (all buttons when nothing matched, the matching ones when several did).
    """
    shown = list(dict.fromkeys(labels))  # in screen order, each label once
    if typed in shown:
        return typed
    key = normalize(typed)
    if not key:
        raise LabelError(f"type part of a button label; buttons: {_listing(shown)}", shown)
    for picked in (
        [label for label in shown if normalize(label) == key],
        [label for label in shown if key in normalize(label)],
    ):
        if len(picked) == 1:
            return picked[0]
        if picked:
            starting = [label for label in picked if normalize(label).startswith(key)]
            if len(starting) == 1:
                return starting[0]
            raise LabelError(
                f"{typed!r} matches several buttons: {_listing(picked)}", picked, ambiguous=True
            )
    if not shown:
        raise LabelError("there are no buttons on the screen", [])
    raise LabelError(f"no button matches {typed!r}; buttons: {_listing(shown)}", shown)


def _listing(labels: list[str]) -> str:
    return ", ".join(f"[{label}]" for label in labels) or "(none)"


def match_on_screen(typed: str, groups: list[list[str]]) -> tuple[int, str]:
    """(which group, label): the first group is what is on screen now (the newest keyboards),
    the others older messages' buttons, newest first, as a person scrolls up to find one.

    What the screen shows wins; a label found only further up is pressed there. Several
    fitting buttons in one place are named; a label found nowhere lists the screen's buttons.
    """
    first_error: LabelError | None = None
    for index, labels in enumerate(groups):
        try:
            return index, match_label(typed, labels)
        except LabelError as error:
            if error.ambiguous:
                raise  # several buttons fit (on the screen, or on the nearest message up)
            first_error = first_error or error
    raise first_error or LabelError("there are no buttons on the screen", [])
