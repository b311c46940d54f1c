"""Every word the shop can say exists in every language, with the same blanks to fill."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from handlers.checkout import STEPS
from handlers.texts import CATALOGS, RU
from shop.models import OrderEventKind, OrderStatus

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = sorted(CATALOGS)
NAMESPACES = sorted({key.split(".")[0] for key in RU if "." in key})
_ANY_NAMESPACE = "|".join(NAMESPACES)
KEY_IN_CODE = re.compile(rf"""["']((?:{_ANY_NAMESPACE})\.[a-z_.]+)["']""")


def _keys_in_code() -> set[str]:
    """Text keys written out in the conversation and the front-ends ("checkout.name"...)."""
    found: set[str] = set()
    for folder in ("handlers", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return found


def _blanks(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_are_there():
    assert LANGUAGES == ["en", "ru"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_has_a_text_with_the_same_blanks(lang):
    catalog = CATALOGS[lang]
    assert sorted(set(RU) - set(catalog)) == []
    assert sorted(set(catalog) - set(RU)) == []
    assert [key for key in RU if _blanks(catalog[key]) != _blanks(RU[key])] == []
    assert [key for key, text in catalog.items() if not text.strip()] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_order_status_and_event_kind_has_a_text(lang):
    catalog = CATALOGS[lang]
    assert [s.value for s in OrderStatus if f"status.{s.value}" not in catalog] == []
    assert [k.value for k in OrderEventKind if f"event.{k.value}" not in catalog] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_code_names_has_a_text(lang):
    named = _keys_in_code()
    assert "checkout.email_bad" in named and "btn.no_email" in named  # the scan sees the code
    assert sorted(named - set(CATALOGS[lang])) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_checkout_step_has_its_texts(lang):
    catalog = CATALOGS[lang]
    keys = [step.question for step in STEPS]
    keys += [key for step in STEPS for key in (step.hint, step.contact_question) if key]
    assert [key for key in keys if key not in catalog] == []
