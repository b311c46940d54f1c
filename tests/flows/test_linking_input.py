"""Linking's bad input: forged buttons, junk after /link, a code typed mid-checkout."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from handlers.conversation import Conversation
from shop.accounts import Channel
from shop.models import ChannelAccount, Customer, LinkAttempt
from tests.flows.person import Person


async def test_forged_linking_buttons_and_junk_codes_change_nothing(demo):
    alice = Person(Conversation(demo), user_id=11)
    await alice.send("/start")
    for forged in ("lk:un:vk:yes", "lk:un:telegram:yes"):
        await alice.action(forged)
        assert alice.text == "Этот аккаунт ни с чем не связан."
    await alice.action("nt:vk")
    assert alice.text == "Это больше недоступно."
    await alice.action("lk:un:mars:yes")  # not a messenger: no such action
    assert alice.last is not None and alice.last.toast == "Это больше недоступно."
    for junk in ("/link abc", "/link " + "9" * 5000, "/link 12345"):
        await alice.send(junk)
        assert alice.text.startswith("Такого кода нет")
    async with demo() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1
        assert await session.scalar(select(Customer.notify_channel)) is None
        # Junk is not a guess: nothing counts against the account.
        assert await session.scalar(select(func.count()).select_from(LinkAttempt)) == 0


async def test_settings_in_english_and_a_code_given_in_the_other_messenger(demo):
    conversation = Conversation(demo)
    alice = Person(conversation, user_id=12, language_code="en")
    alice_vk = Person(conversation, user_id=12, channel=Channel.VK)
    await alice.send("/start")
    await alice.press("Settings")
    assert alice.text.startswith("Settings.\nLanguage: English.\nMessengers: Telegram.")
    await alice.press("Link another messenger")
    code = re.search(r"Your code: (\d{6})", alice.text)
    assert code, alice.text
    await alice_vk.send("/start")
    await alice_vk.send(code.group(1))
    # The older account (Telegram) keeps its language: the VK side now speaks English.
    assert alice_vk.text.startswith("Done: Telegram, VK are now linked.")
    await alice_vk.send("/settings")
    assert "Messengers: Telegram, VK." in alice_vk.text
    assert "✂️ Unlink Telegram" in alice_vk.buttons
    async with demo() as session:
        owners = set((await session.execute(select(ChannelAccount.customer_id))).scalars())
    assert len(owners) == 1
