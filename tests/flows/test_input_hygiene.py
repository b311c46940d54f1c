"""A shopper whose name or words hold a NUL or a lone surrogate is served like anyone else."""

from __future__ import annotations

from sqlalchemy import select

from handlers.conversation import Conversation
from shop.models import Customer
from tests.flows.person import Person


async def test_a_nul_in_the_name_and_the_search_is_dropped(demo):
    alice = Person(Conversation(demo), user_id=303, name="Али\x00са\ud800")
    await alice.send("/start")
    assert alice.text.startswith("Здравствуйте, Алиса!")
    await alice.send("фут\x00болка")
    assert "Нашлось по запросу «футболка»" in alice.text
    await alice.send("\ud800\x00")
    assert alice.text.startswith("Я не нашёл слов для поиска")
    await alice.send("кру\ud800жка")
    assert "Кружка" in alice.buttons[0]
    async with demo() as session:
        assert await session.scalar(select(Customer.display_name)) == "Алиса"
