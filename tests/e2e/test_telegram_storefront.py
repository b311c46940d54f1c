"""The Telegram storefront: search, deep links, navigation, restarts, photos, commands."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.app import start
from shop.catalog import PAGE_SIZE
from shop.models import Category, Product, ProductPhoto, Variant
from shop.models.catalog import MediaCache
from tests.e2e.conftest import check_out_tote_bag, seen


async def test_search_in_russian_and_english(shop):
    alice = shop.user()
    await alice.send("кружки")
    assert "Нашлось по запросу «кружки»" in alice.screen.text
    await alice.press("Кружка керамическая")
    assert "Кружка керамическая «Утро»" in alice.screen.text
    bob = shop.user("Bob", language_code="en")
    await bob.send("canvas sneakers")
    assert "Found for “canvas sneakers”: 1" in bob.screen.text
    await bob.send("zzzzqqq")
    assert bob.screen.text.startswith("Nothing found for “zzzzqqq”")
    assert [b.text for row in bob.screen.keyboard for b in row] == ["🛍 Catalog", "🏠 Menu"]


async def test_deep_link_opens_the_product(shop):
    async with shop.runtime.sessions() as session:
        product_id = await session.scalar(select(Product.id).where(Product.title == "Худи «Тайга»"))
    alice = shop.user()
    await alice.send(f"/start p_{product_id}")
    assert alice.screen.text.startswith("Худи «Тайга»")
    await alice.send("/start p_999999")
    assert alice.screen.text.startswith("Здравствуйте")
    await alice.send("/start something-else")
    assert alice.screen.text.startswith("Здравствуйте")


async def test_back_navigation_edits_in_place(shop):
    alice = shop.user()
    await alice.send("/catalog")
    catalog_id = alice.screen.message_id
    await alice.press("Одежда")
    await alice.press("Худи")
    assert alice.screen.message_id == catalog_id  # edited, not a new message
    await alice.press("Тайга")  # text -> photo: deleted and sent anew
    assert alice.screen.photo is not None
    await alice.press("« Назад")
    assert alice.screen.text.startswith("Худи и свитшоты")
    await alice.press("« Назад")
    assert alice.screen.text == "Одежда"
    await alice.press("« Назад")
    assert alice.screen.text == "Каталог. Выберите раздел:"
    await alice.press("Меню")
    assert alice.screen.text.startswith("Главное меню")
    assert len([m for m in alice.messages if m.from_bot]) == 1


async def test_pages_of_products(shop):
    async with shop.runtime.sessions() as session, session.begin():
        badges = Category(title="Значки", position=99)
        for n in range(1, PAGE_SIZE + 3):  # two pages: a full one and two more
            badge = Product(category=badges, title=f"Значок №{n}", position=n)
            session.add(Variant(product=badge, sku=f"BADGE-{n}", price=19000, stock=5))
    alice = shop.user()
    await alice.send("/catalog")
    await alice.press("Значки")
    page = alice.screen.message_id

    def products() -> list[str]:
        return [
            b.text.split(" — ")[0] for row in alice.screen.keyboard for b in row if "№" in b.text
        ]

    assert seen(alice.screen.text) == "Значки\nСтраница 1 из 2. Выберите товар:"
    assert products() == [f"Значок №{n}" for n in range(1, PAGE_SIZE + 1)]
    assert ["◀", "1/2", "▶"] in [[b.text for b in row] for row in alice.screen.keyboard]
    await alice.press("▶")
    assert seen(alice.screen.text) == "Значки\nСтраница 2 из 2. Выберите товар:"
    assert products() == [f"Значок №{PAGE_SIZE + 1}", f"Значок №{PAGE_SIZE + 2}"]
    await alice.press("▶")  # past the last page: round to the first
    assert seen(alice.screen.text).startswith("Значки\nСтраница 1 из 2.")
    await alice.press("◀")
    assert products() == [f"Значок №{PAGE_SIZE + 1}", f"Значок №{PAGE_SIZE + 2}"]
    assert alice.screen.message_id == page  # every page edited the same message


async def test_photo_is_uploaded_once_then_sent_by_file_id(shop):
    first, second = shop.user("Аня"), shop.user("Борис")
    for person in (first, second):
        await person.send("термокружка")
        await person.press("Термокружка")
    uploads = [c for c in shop.emu.calls("sendPhoto", token=shop.token) if c.ok]
    assert len(uploads) == 2
    assert uploads[0].uploads == ["photo"] and uploads[1].uploads == []
    assert first.screen.photo == second.screen.photo
    async with shop.runtime.sessions() as session:
        cached = await session.scalar(
            select(MediaCache.remote_id).where(MediaCache.channel == "telegram")
        )
    assert cached == first.screen.photo


async def test_restart_mid_checkout_continues(shop, shop_settings):
    alice = shop.user()
    await check_out_tote_bag(alice)
    await alice.send("Алиса Иванова")
    await shop.runtime.stop()

    shop.runtime = await start(shop_settings())
    await alice.send("8 (900) 123-45-67")
    assert "Как доставить заказ?" in alice.screen.text
    await alice.press("Самовывоз")
    await alice.send("Позвоните за час")
    await alice.press("Без чека на почту")
    assert "Получатель: Алиса Иванова, +79001234567" in alice.screen.text
    await alice.press("Подтвердить заказ")
    assert "оформлен" in alice.screen.text


async def test_commands_are_set_in_both_languages(shop):
    russian = [c["command"] for c in shop.emu.commands(shop.token)]
    english = shop.emu.commands(shop.token, language_code="en")
    assert russian == ["start", "catalog", "cart", "orders", "help"]
    assert english[2] == {"command": "cart", "description": "Cart"}


async def test_a_stale_cached_file_id_is_replaced_by_a_new_upload(shop):
    async with shop.runtime.sessions() as session, session.begin():
        photo_ids = (await session.execute(select(ProductPhoto.id))).scalars().all()
        stale = "AgAD-from-another-bot"
        session.add_all(
            MediaCache(channel="telegram", photo_id=i, remote_id=stale) for i in photo_ids
        )
    alice = shop.user()
    await alice.send("термокружка")
    await alice.press("Термокружка")
    assert alice.screen.photo is not None
    async with shop.runtime.sessions() as session:
        cached = set((await session.execute(select(MediaCache.remote_id))).scalars())
    assert alice.screen.photo in cached


async def test_a_very_long_description_still_fits_the_photo_caption(shop):
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.title == "Плед «Северное сияние»")
            .values(description="Очень тёплый плед. " * 300)
        )
    alice = shop.user()
    await alice.send("плед")
    await alice.press("Плед")
    assert alice.screen.photo is not None
    assert len(alice.screen.text) <= 1024
    assert alice.screen.text.endswith("В наличии")
