"""Support tickets through the emulators: Telegram and VK shoppers complain, staff answer
from the Telegram moderator chat (forum topics or a plain group), replies come back."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from bot.app import start
from shop.models import AuditEntry, Direction, PromoCode, Ticket, TicketMessage, Variant
from shop.models.types import utcnow
from shop.support import tickets
from tests.core.helpers import checkout, fill_cart, new_customer
from tests.e2e.conftest import eventually, seen
from tests.e2e.test_vk_storefront import place_order, tap
from tests.emulators.telegram.driver import tiny_png
from tests.emulators.vk import VkEmulator


async def _rows(runtime, model, *where):
    async with runtime.sessions() as session:
        return list((await session.scalars(select(model).where(*where))).all())


async def test_telegram_and_vk_complaints_answered_from_forum_topics(telegram, shop_settings):
    vk = VkEmulator()
    await vk.start()
    community = vk.create_group(name="Демо-магазин", screen_name="demo_shop")
    token = next(iter(telegram.world.bots))
    group = telegram.group(token, title="Модераторы", forum=True)
    staff = telegram.user(token, first_name="Вера")
    settings = shop_settings(
        vk_group_token=community.token,
        vk_group_id=community.id,
        vk_api_url=vk.api_url,
        moderator_chat=f"telegram:{group.id}",
        staff=f"telegram:{staff.id}",
    )
    runtime = await start(settings)
    try:
        await vk.wait_for_bot(community)
        alice = telegram.user(token, first_name="Алиса")
        bob = vk.user(community, first_name="Боб")
        await alice.send("/start")  # her order is placed by the core: checkout is tested apart
        async with runtime.sessions() as session:
            tote = await session.scalar(select(Variant.id).where(Variant.sku == "DEMO-010-00"))
        customer_id = await new_customer(runtime.sessions, alice.id)
        await fill_cart(runtime.sessions, customer_id, {tote: 1})
        await checkout(runtime.sessions, customer_id)
        await bob.send("Начать")
        await place_order(bob)

        await alice.send("/support")
        await alice.press(
            next(b.text for row in alice.screen.keyboard for b in row if "Заказ №" in b.text)
        )
        await alice.send("Порвалась ручка")
        assert "Обращение №1 открыто" in alice.screen.text
        await tap(bob, "📦 Мои заказы")  # the order just placed, as My orders shows it
        await tap(bob, "🆘 Проблема с этим заказом")
        assert "Заказ №2. Опишите, что случилось" in bob.screen.text
        await bob.send("Не тот цвет", photo=tiny_png())
        assert "Обращение №2 открыто" in bob.screen.text

        await eventually(lambda: len(group.topics) == 2)
        first, second = sorted(group.topics, key=lambda topic: topic.thread_id)
        assert first.name.startswith("🔴 #1 · заказ 1 · Алиса · Telegram")
        assert "· VK" in second.name and "заказ 2" in second.name
        await eventually(
            lambda: any(
                "Обращение #1" in (m.text or "") for m in group.topic(first.thread_id).messages
            )
        )
        card = group.topic(first.thread_id).messages[0]
        assert "Шопер" in card.text and "Порвалась ручка" in card.text
        # the VK shopper's photo reached the topic
        await eventually(lambda: any(m.photo for m in group.topic(second.thread_id).messages))
        await bob.send("чек", document=("check.pdf", b"%PDF-1.4 check"))
        await eventually(lambda: any(m.document for m in group.topic(second.thread_id).messages))

        sent_at = time.perf_counter()
        await staff.send_in(
            group, "Пришлём новую сумку", thread_id=first.thread_id, expect_reply=False
        )
        await alice.wait_for("Пришлём новую сумку")
        print(f"\ntopic -> Telegram shopper: {time.perf_counter() - sent_at:.3f} s")
        await staff.send_in(
            group, "!проверить склад", thread_id=first.thread_id, expect_reply=False
        )
        await staff.send_in(
            group, "Вернём деньги за цвет", thread_id=second.thread_id, expect_reply=False
        )
        await eventually(lambda: any("Вернём деньги" in (m.text or "") for m in bob.messages))
        assert not any("проверить склад" in (m.text or "") for m in alice.messages)
        notes = await _rows(runtime, TicketMessage, TicketMessage.direction == Direction.NOTE)
        assert [n.text for n in notes] == ["проверить склад"]

        # staff photos: copied to Telegram, uploaded to VK
        await staff.send_photo(
            tiny_png(),
            caption="Так и должно быть",
            group=group,
            thread_id=first.thread_id,
            expect_reply=False,
        )
        await eventually(
            lambda: any(m.photo and "Так и должно" in (m.text or "") for m in alice.messages)
        )
        await staff.send_photo(
            tiny_png(),
            caption="Сравните цвет",
            group=group,
            thread_id=second.thread_id,
            expect_reply=False,
        )
        await eventually(
            lambda: any(
                [a.type for a in m.attachments] == ["photo"] and "Сравните цвет" in m.text
                for m in bob.messages
            )
        )
        await staff.send_document(
            b"%PDF-1.4 act",
            "act.pdf",
            caption="Акт возврата",
            group=group,
            thread_id=second.thread_id,
            expect_reply=False,
        )
        await eventually(
            lambda: any(
                [a.type for a in m.attachments] == ["doc"] and "Акт возврата" in m.text
                for m in bob.messages
            )
        )

        # the shopper's follow-up and photo appear in the same topic
        sent_at = time.perf_counter()
        await alice.send("Спасибо!")
        assert "Добавлено к обращению №1" in alice.screen.text
        await eventually(
            lambda: any("Спасибо!" in (m.text or "") for m in group.topic(first.thread_id).messages)
        )
        print(f"Telegram shopper -> topic: {time.perf_counter() - sent_at:.3f} s")
        await alice.send_photo(tiny_png(), caption="вот фото")
        await eventually(lambda: any(m.photo for m in group.topic(first.thread_id).messages))

        await staff.press("🙋 Взять", message=card)
        assert "Ответственный: Вера" in group.topic(first.thread_id).messages[0].text
        outsider = telegram.user(token, first_name="Гость")
        await outsider.send_in(group, "я тоже тут", thread_id=first.thread_id, expect_reply=False)
        await outsider.press("✅ Решено", message=card)
        [ticket] = await _rows(runtime, Ticket, Ticket.id == 1)
        assert ticket.status == "answered"
        assert not any("я тоже тут" in (m.text or "") for m in alice.messages)
        await staff.press("✅ Решено", message=card)
        await alice.wait_for("решено")
        await alice.press("5")
        await alice.send("Быстро помогли")
        [ticket] = await _rows(runtime, Ticket, Ticket.id == 1)
        assert (ticket.status, ticket.rating, ticket.rating_comment) == (
            "resolved",
            5,
            "Быстро помогли",
        )
        assert ticket.first_response_at is not None and ticket.resolved_at is not None
        await eventually(lambda: group.topic(first.thread_id).name.startswith("🟢"))
        audit = await _rows(runtime, AuditEntry, AuditEntry.action == "ticket.resolve")
        assert [a.subject for a in audit] == ["ticket:1"]
        assert vk.warnings == []
    finally:
        await runtime.stop()
        await vk.stop()
    assert telegram.spec_warnings == []


async def test_plain_group_replies_mapped_and_outsiders_ignored(telegram, shop_settings):
    token = next(iter(telegram.world.bots))
    group = telegram.group(token, title="Модераторы", forum=False)
    staff = telegram.user(token, first_name="Вера")
    stranger = telegram.user(token, first_name="Чужой")
    settings = shop_settings(moderator_chat=f"telegram:{group.id}", staff=f"telegram:{staff.id}")
    runtime = await start(settings)
    try:
        alice = telegram.user(token, first_name="Алиса")
        await alice.send("/support")
        await alice.press("Не по заказу")
        await alice.send("Где мой промокод?")
        await eventually(lambda: any("Обращение #1" in (m.text or "") for m in group.messages))
        card = next(m for m in group.messages if "Обращение #1" in (m.text or ""))
        await alice.send("Алло?")
        await eventually(lambda: any("Алло?" in (m.text or "") for m in group.messages))
        relayed = next(m for m in group.messages if "Алло?" in (m.text or ""))

        await staff.send_in(
            group, "Ответ на карточку", reply_to=card.message_id, expect_reply=False
        )
        await alice.wait_for("Ответ на карточку")
        await staff.send_in(
            group, "Ответ на сообщение", reply_to=relayed.message_id, expect_reply=False
        )
        await alice.wait_for("Ответ на сообщение")
        await staff.send_in(group, "просто разговор", expect_reply=False)
        await stranger.send_in(
            group, "я не сотрудник", reply_to=card.message_id, expect_reply=False
        )
        # a forged staff button in a private chat: refused, nothing changed
        await stranger.send("/start")
        await stranger.press_data("sup:done:1", message=stranger.screen)
        await telegram.settle(token)
        [ticket] = await _rows(runtime, Ticket)
        assert ticket.status == "answered" and ticket.resolved_at is None
        texts = [m.text for m in alice.messages if m.from_bot]
        assert not any("разговор" in seen(x) or "не сотрудник" in seen(x) for x in texts)
        staff_lines = await _rows(
            runtime, TicketMessage, TicketMessage.direction == Direction.STAFF
        )
        assert [m.text for m in staff_lines] == ["Ответ на карточку", "Ответ на сообщение"]

        await staff.press("🎁 Компенсация", message=card)
        await staff.press("🎁 −10%", message=card)
        [code] = await _rows(runtime, PromoCode)
        assert (code.customer_id, code.percent, code.reason) == (ticket.customer_id, 10, "ticket:1")
        await alice.wait_for(code.code)
        assert "Просим прощения" in alice.screen.text

        await staff.send_in(group, "/tickets", expect_reply=True)
        assert "#1 · без заказа · Алиса · Telegram · отвечено" in group.screen.text
    finally:
        await runtime.stop()


async def test_pinned_card_deleted_topic_and_removed_bot_are_handled(telegram, shop_settings):
    token = next(iter(telegram.world.bots))
    group = telegram.group(token, title="Модераторы", forum=True)
    staff = telegram.user(token, first_name="Вера")
    owner = telegram.user(token, first_name="Хозяйка")
    settings = shop_settings(
        moderator_chat=f"telegram:{group.id}",
        staff=f"telegram:{staff.id}",
        owners=f"telegram:{owner.id}",
    )
    runtime = await start(settings)
    try:
        await owner.send("/start")
        alice = telegram.user(token, first_name="Алиса")
        await alice.send("/support")
        await alice.press("Не по заказу")
        await alice.send("Не работает оплата")
        await eventually(lambda: len(group.topics) == 1 and group.topics[0].messages)
        [topic] = group.topics
        card = topic.messages[0]
        await group.pin(staff, card)
        await staff.send_in(group, "Смотрим", thread_id=topic.thread_id, expect_reply=False)
        await alice.wait_for("Смотрим")
        await staff.send_in(group, "/saved add Мы уже разбираемся, напишем сегодня")
        assert "Ответ сохранён" in group.screen.text
        await staff.send_in(
            group, "/note звонила в банк", thread_id=topic.thread_id, expect_reply=False
        )
        await staff.send_in(group, "/saved", thread_id=topic.thread_id)
        listing = group.screen
        assert listing.thread_id == topic.thread_id
        await staff.press("Мы уже разбираемся, напишем сегодня", message=listing)
        assert "Черновик для #1" in group.screen.text
        await staff.press("📨 Отправить", message=group.screen)
        await alice.wait_for("Мы уже разбираемся")

        group.delete_topic(topic.thread_id)
        await alice.send("Всё ещё не работает")
        await eventually(
            lambda: any("Всё ещё" in (m.text or "") for t in group.topics for m in t.messages)
        )
        [again] = group.topics
        assert again.thread_id != topic.thread_id and again.name.startswith("🟡 #1")
        texts = [m.text or "" for m in again.messages]
        assert (
            "Обращение #1" in texts[0] and "Тема пересоздана" in texts[1] and "Смотрим" in texts[1]
        )
        await staff.send_in(group, "Исправили", thread_id=again.thread_id, expect_reply=False)
        await alice.wait_for("Исправили")

        group.remove_bot()
        await alice.send("Спасибо")
        await owner.wait_for("Бот не может работать в чате модераторов")
        [ticket] = await _rows(runtime, Ticket)
        assert ticket.thread_id == again.thread_id
        lines = await _rows(runtime, TicketMessage, TicketMessage.ticket_id == 1)
        assert [m.text for m in lines if m.direction != Direction.EVENT] == [
            "Не работает оплата",
            "Смотрим",
            "звонила в банк",
            "Мы уже разбираемся, напишем сегодня",
            "Всё ещё не работает",
            "Исправили",
            "Спасибо",
        ]
    finally:
        await runtime.stop()


async def test_a_group_upgraded_to_a_supergroup_is_followed(telegram, shop_settings):
    token = next(iter(telegram.world.bots))
    basic = telegram.group(token, title="Модераторы", supergroup=False)
    staff = telegram.user(token, first_name="Вера")
    settings = shop_settings(moderator_chat=f"telegram:{basic.id}", staff=f"telegram:{staff.id}")
    runtime = await start(settings)
    try:
        group = await basic.migrate()
        alice = telegram.user(token, first_name="Алиса")
        await alice.send("/support")
        await alice.press("Не по заказу")
        await alice.send("Помогите")
        card = await group.wait_for("Обращение #1")
        async with runtime.sessions() as session, session.begin():  # as the SLA job would
            await tickets.raise_overdue(session, 30, now=utcnow() + timedelta(minutes=45))
        reminder = await group.wait_for("ждёт ответа 45 мин")
        assert reminder.reply_to == card.message_id
        await staff.send_in(group, "Помогаем", reply_to=card, expect_reply=False)
        await alice.wait_for("Помогаем")
    finally:
        await runtime.stop()


async def test_without_topic_rights_the_card_goes_to_the_chat_and_owners_are_told(
    telegram, shop_settings
):
    token = next(iter(telegram.world.bots))
    group = telegram.group(token, title="Модераторы", forum=True, bot_admin=False)
    owner = telegram.user(token, first_name="Хозяйка")
    settings = shop_settings(moderator_chat=f"telegram:{group.id}", owners=f"telegram:{owner.id}")
    runtime = await start(settings)
    try:
        await owner.send("/start")
        alice = telegram.user(token, first_name="Алиса")
        await alice.send("/support")
        await alice.press("Не по заказу")
        await alice.send("Помогите")
        card = await group.wait_for("Обращение #1")
        assert card.thread_id is None and group.topics == []
        await owner.wait_for("Сделайте бота администратором с правом управлять темами")
    finally:
        await runtime.stop()
