"""Input no database can store (NUL, lone surrogates) is dropped before it reaches one."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from handlers.events import Event, EventKind, clean_text
from shop.accounts import AccountRef, Channel
from shop.catalog import search_products
from shop.customers import get_or_create_customer
from shop.models import Customer

ACCOUNT = AccountRef(Channel.TELEGRAM, 4242)


def test_an_event_comes_out_without_nul_and_lone_surrogates():
    event = Event(
        ACCOUNT,
        EventKind.COMMAND,
        update_id="7\x00",
        text="фут\x00болка\ud800",
        command="st\x00art",
        action="p:\udfff1",
        phone="+7900\x00",
        display_name="Али\x00са \ud83d\ude00\udc00",
        username="ali\x00ce",
        language_code="ru\x00",
    )
    assert (event.text, event.command, event.action, event.phone) == (
        "футболка",
        "start",
        "p:1",
        "+7900",
    )
    assert (event.display_name, event.username, event.language_code) == ("Алиса 😀", "alice", "ru")
    assert dataclasses.replace(event, display_name="\x00Боб").display_name == "Боб"


def test_clean_text_keeps_clean_text_as_it_is():
    text = "Привет, 🙂\n\tмир"
    assert clean_text(text) is text
    assert clean_text("\x00\ud800") == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("фут\x00болка", "Футболка «Байкал»"),
        ("кру\ud800жка", "Кружка керамическая «Утро»"),
        ("\ud800", None),
        ("\x00", None),
        ("\udfff\x00\ud83d", None),
    ],
)
async def test_search_with_nul_or_lone_surrogate_answers(demo, query, expected):
    async with demo() as session:
        found = await search_products(session, query)
    titles = [item.title for item in found.items]
    assert expected in titles if expected else titles == []


async def test_a_customer_from_such_an_event_is_stored_with_a_clean_name(sessions):
    event = Event(
        ACCOUNT,
        EventKind.TEXT,
        update_id="1",
        text="hi",
        display_name="Али\x00са\ud800",
        username="al\x00ice",
    )
    async with sessions() as session, session.begin():
        await get_or_create_customer(
            session, event.account, display_name=event.display_name, username=event.username
        )
    async with sessions() as session:
        stored = await session.scalar(select(Customer.display_name))
    assert stored == "Алиса"
